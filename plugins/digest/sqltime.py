"""SQL pieces the digest's figures need that SQLite and PostgreSQL spell differently, giving identical results.

- :class:`epoch_ms`: a stored UTC time as whole milliseconds since 1970 (an integer). SQLite keeps
  ``DateTime`` as text and its ``julianday`` works in whole milliseconds (rounding half up), so
  PostgreSQL's exact ``EXTRACT(EPOCH …)`` is rounded the same way: both give the same integer for
  every stored time, and every duration is a difference of two such integers.
- :class:`json_number`: a number a plugin put in a JSON column (``extra["sentiment_score"]``), or
  NULL when it is missing or not a number (a cast would make PostgreSQL fail on ``"bad"``).
- :class:`binary_text`: text compared byte by byte (``COLLATE BINARY`` / ``COLLATE "C"``), so
  ties broken by a name sort alike whatever the PostgreSQL database's locale.
- :func:`nearest_rank`: the rank of a nearest-rank percentile, in integer arithmetic both
  databases do alike (no ``ceil``: SQLite 3.40 may lack math functions).

:func:`ms_of` is the same rounding in Python, for instants handed to SQL as numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Float, SQLColumnExpression, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

#: 1970-01-01 as a Julian day number, in milliseconds (exactly 2440587.5 days).
_UNIX_EPOCH_JULIAN_MS = 210_866_760_000_000


class epoch_ms(FunctionElement[int]):
    """``epoch_ms(column)``: the stored time as integer milliseconds since 1970-01-01 UTC."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_ms"


@compiles(epoch_ms, "sqlite")
def _epoch_ms_sqlite(element: epoch_ms, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() is SQLite's whole milliseconds divided by 86 400 000; multiplying back and
    # rounding recovers them exactly (the float error is far below half a millisecond).
    column = compiler.process(element.clauses, **kw)
    return f"(CAST(ROUND(julianday({column}) * 86400000.0) AS INTEGER) - {_UNIX_EPOCH_JULIAN_MS})"


@compiles(epoch_ms, "postgresql")
def _epoch_ms_postgresql(element: epoch_ms, compiler: SQLCompiler, **kw: Any) -> str:
    # EXTRACT gives an exact numeric (PostgreSQL 14+); ROUND on numeric rounds half away from
    # zero, which for times after 1970 is SQLite's half up.
    column = compiler.process(element.clauses, **kw)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000) AS BIGINT)"


class json_number(FunctionElement[float]):
    """``json_number(column, "key")``: the number at ``column[key]`` as a float, NULL when absent or not a number.

    ``key`` is a constant of the code (letters, digits, ``_``), written into the SQL as a literal.
    """

    type = Float()
    inherit_cache = True
    name = "json_number"
    # The key is part of the SQL text, so it is part of the statement cache's key too.
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's own class attribute, extended
        *FunctionElement._traverse_internals,
        ("key", InternalTraversal.dp_string),
    ]

    def __init__(self, column: SQLColumnExpression[Any], key: str) -> None:
        if not _JSON_KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a plain JSON key")
        self.key = key
        super().__init__(column)


#: The largest magnitude json_number reads (about a double's): anything larger is not a score.
_DOUBLE_MAX = "1e308"
#: The JSON keys json_number reads: plain names only, so they can be SQL literals.
_JSON_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    path = f"'$.{element.key}'"
    # A number beyond a double (1e400) reads as infinity here: NULL, as on PostgreSQL.
    return (
        f"(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
        f"AND abs(json_extract({column}, {path})) <= {_DOUBLE_MAX} "
        f"THEN CAST(json_extract({column}, {path}) AS REAL) END)"
    )


@compiles(json_number, "postgresql")
def _json_number_postgresql(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    key = f"'{element.key}'"
    # json (not jsonb): json_typeof of a missing key is NULL, and -> of a non-object is NULL.
    # Nested CASEs: PostgreSQL evaluates them in order, so only a JSON number is cast, and only one
    # a double holds (casting 1e400 would fail the whole digest).
    text = f"{column} ->> {key}"
    return (
        f"(CASE WHEN json_typeof({column} -> {key}) = 'number' THEN "
        f"CASE WHEN abs(CAST({text} AS NUMERIC)) <= {_DOUBLE_MAX} THEN CAST({text} AS DOUBLE PRECISION) END END)"
    )


class binary_text(FunctionElement[str]):
    """``binary_text(expression)``: the text with a byte-order collation, for ORDER BY ties."""

    type = String()
    inherit_cache = True
    name = "binary_text"


@compiles(binary_text, "sqlite")
def _binary_text_sqlite(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} COLLATE BINARY)"


@compiles(binary_text, "postgresql")
def _binary_text_postgresql(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


def nearest_rank(count: ColumnElement[int], percent: int) -> ColumnElement[int]:
    """The 1-based rank of the ``percent``-th nearest-rank percentile among ``count`` values: ceil(p·n/100).

    Integer division of non-negative integers truncates on both databases, so
    ``(p·n + 99) // 100`` is the ceiling (SQLAlchemy's ``/`` would be true division).
    """
    return (count * percent + 99) // 100


def ms_of(at: datetime) -> int:
    """``at`` as integer milliseconds since 1970 UTC, rounded as :class:`epoch_ms` rounds (half up)."""
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (micros + 500) // 1000
