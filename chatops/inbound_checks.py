"""Checks every source applies to values arriving from outside: believable times, visible text.

They live in the core so that the webhook, Facebook and Instagram sources answer the same
input the same way. A time outside :data:`EARLIEST` .. now + :data:`FUTURE_TOLERANCE` cannot be
a message's real time (Python cannot even render some of them: year 9999 at UTC-14 is past
``datetime.max``), and a text made only of invisible characters gives the team nothing to read.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

#: No platform chatops reads existed before this; older times are corrupt, not history.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of our clock a sender's clock may run (skew, a local time labelled UTC, Meta's
#: own clocks). Times within it are taken as "now": a message cannot be written after it arrived.
FUTURE_TOLERANCE = timedelta(days=1)

#: Characters that draw nothing although they are not format or space characters: the Hangul
#: fillers, the blank Braille pattern, the combining grapheme joiner and the variation selectors.
_BLANK_LETTERS = re.compile("[\u115f\u1160\u3164\uffa0\u2800\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
#: Unicode categories that never draw a glyph: controls, format (zero-width, bidi, BOM), separators,
#: unassigned and surrogate code points.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp"})


class TimeOutOfRange(ValueError):
    """A time no message can have; ``str()`` says the accepted range."""


def time_range_text() -> str:
    """The accepted range, as error messages state it."""
    return f"must be between {EARLIEST:%Y-%m-%d} and {FUTURE_TOLERANCE.days} day from now"


def believable_time(moment: datetime, now: datetime | None = None) -> datetime:
    """``moment`` in UTC, with a slightly future time taken as ``now``; TimeOutOfRange outside the range.

    Converting to UTC is done here, under the check, because it is what overflows for times at the
    edges of ``datetime``'s range.
    """
    now = now or datetime.now(UTC)
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise TimeOutOfRange(time_range_text()) from None
    if utc < EARLIEST or utc > now + FUTURE_TOLERANCE:
        raise TimeOutOfRange(time_range_text())
    return min(utc, now)


def believable_or_none(moment: datetime | None) -> datetime | None:
    """:func:`believable_time`, or None for a missing or impossible time (the caller falls back).

    For sources that must not refuse a message over its time (Meta redelivers a refused batch
    for hours): they show the arrival time instead.
    """
    if moment is None:
        return None
    try:
        return believable_time(moment)
    except TimeOutOfRange:
        return None


def has_visible_text(text: str) -> bool:
    """True when ``text`` has at least one character that draws something on screen."""
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES or _BLANK_LETTERS.match(char):
            continue
        return True
    return False


#: Characters no text column takes: lone surrogates (not text at all) and U+0000 (PostgreSQL refuses it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def replace_unstorable(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate and U+0000 in its strings (keys too) replaced by U+FFFD.

    Both are legal in JSON, so any sender (a platform, Slack, a replayed request) can deliver
    them; replaced, the text is still stored and shown rather than failing the transaction.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [replace_unstorable(item) for item in value]
    if isinstance(value, dict):
        return {replace_unstorable(k): replace_unstorable(v) for k, v in value.items()}
    return value
