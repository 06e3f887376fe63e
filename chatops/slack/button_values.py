"""The row id a button's ``value`` carries, read so that no click can make the database fail.

Every chatops button names a row (a conversation, a roll-up) by its id, a positive integer
the database stores in 64 bits. Slack signs a click but not what it claims: a value that is no
such id (``"999…9"``, ``"-1"``, ``" 3 "``, ``"1_000"``) is refused here, before a query,
instead of raising ``OverflowError`` (SQLite) or ``DataError`` (PostgreSQL) in the listener.
"""

from __future__ import annotations

import re

#: Decimal digits without sign, spaces or underscores (``int()`` takes all of those).
_DIGITS = re.compile(r"[1-9][0-9]{0,18}")
#: The largest id a BIGINT (and SQLite's INTEGER) holds.
MAX_ROW_ID = 2**63 - 1


def row_id(value: object) -> int | None:
    """``value`` as a row id, or None when it cannot name a row."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None


__all__ = ["MAX_ROW_ID", "row_id"]
