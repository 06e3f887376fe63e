"""Text length as X counts it: the twitter-text rules (URLs 23, most emoji and CJK characters 2)."""

from __future__ import annotations

from twitter_text import parse_tweet


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (what the 280 limit is measured in)."""
    return int(parse_tweet(text).weightedLength)
