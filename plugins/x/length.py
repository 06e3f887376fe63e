"""Text length as X counts it: the twitter-text rules (URLs 23, most emoji and CJK characters 2).

X measures its 280 limit in *weighted* characters after NFC normalisation: code points in the
Latin, Greek, Cyrillic and general-punctuation ranges weigh 1, everything else 2 (CJK, most
symbols), any URL 23 (the length of its t.co link) and an emoji 2 however many code points it
is made of (skin tones, ZWJ families, flags). twitter-text-parser implements those rules; its
emoji list is Unicode's of 2019, so an emoji sequence newer than that (🧑‍💻, ❤️‍🔥) is counted
by its parts: more than X counts, never less, so a reply refused here is never one X would take.
"""

from __future__ import annotations

from twitter_text import parse_tweet


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (what the 280 limit is measured in)."""
    return int(parse_tweet(_well_formed(text)).weightedLength)


def _well_formed(text: str) -> str:
    """``text`` with any lone UTF-16 surrogate replaced by U+FFFD.

    A JSON body may carry an unpaired ``\\ud800``; the parser cannot encode one and would raise
    in the middle of a reply dialog. X could not post it either, so it counts as the
    replacement character (weight 2) and the text is still measured.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
