"""The exported log as CSV: UTF-8, a header row, RFC 4180 quoting, formulas neutralised.

A text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe (OWASP's advice for CSV
injection). Written to a file (renamed into place when complete) or to standard output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from .log_rows import COLUMNS, LogRow
from .log_sink import FORMULA_START, Summary

_FORMULA_FIRST = frozenset(FORMULA_START)


def neutralise(text: str) -> str:
    """``text`` made safe for a CSV cell: a leading apostrophe when a spreadsheet would read a formula."""
    return "'" + text if text[:1] in _FORMULA_FIRST else text


def utc_text(at: datetime) -> str:
    """An instant as ISO 8601 UTC with milliseconds: ``2026-12-01T08:00:00.000Z`` (fixed width, sorts as text)."""
    # ``+00:00`` is the last six characters of an aware UTC time's ISO form.
    return at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def local_text(at: datetime, tz: ZoneInfo) -> str:
    """An instant in the team's timezone with its offset: ``2026-12-01T10:00:00.000+02:00``."""
    return at.astimezone(tz).isoformat(timespec="milliseconds")


def seconds_text(value: float | None) -> str:
    """Seconds as a plain number (whole, or to the millisecond); empty for None."""
    if value is None:
        return ""
    rounded = round(value, 3)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.3f}".rstrip("0")


def csv_cells(row: LogRow, tz: ZoneInfo) -> list[str]:
    """A row as CSV cells, in :data:`COLUMNS` order, texts neutralised."""
    at, created = row.at, row.conversation_created
    texts = (row.source, row.author, row.author_id, row.agent, row.text, row.permalink, row.card, row.status)
    return [
        utc_text(at),
        local_text(at, tz),
        row.record,
        str(row.id),
        neutralise(row.kind),
        "" if row.conversation_id is None else str(row.conversation_id),
        *[neutralise(value) if value else "" for value in texts],
        row.delivery or "",
        neutralise(", ".join(row.tags)),
        seconds_text(row.first_response),
        seconds_text(row.first_response_service),
        "" if created is None else utc_text(created),
    ]


class CsvLog:
    """Rows as CSV, to a file (renamed into place when complete) or to standard output."""

    wants_summary = False

    def __init__(self, path: Path | None, partial: Path | None, tz: ZoneInfo) -> None:
        self.path, self.partial, self.tz = path, partial, tz
        self.sheets: list[str] = []
        self.clipped = 0
        self._stdout: io.TextIOWrapper | None = None
        stream: IO[str]
        if partial is not None:
            stream = partial.open("w", encoding="utf-8", newline="")
        else:
            buffer = getattr(sys.stdout, "buffer", None)
            if buffer is None:
                stream = sys.stdout
            else:
                # UTF-8 whatever the terminal's locale says, and the csv module's own line ends.
                sys.stdout.flush()
                stream = self._stdout = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        self.stream = stream
        self.writer = csv.writer(stream)
        self.writer.writerow(COLUMNS)

    def write(self, rows: list[LogRow]) -> None:
        """Write ``rows``."""
        self.writer.writerows(csv_cells(row, self.tz) for row in rows)

    def summary(self, summary: Summary) -> None:
        """A CSV has no summary (the digest's figures follow from its rows)."""

    def finish(self) -> None:
        """Flush; a file is renamed to its name."""
        self._close()
        if self.partial is not None and self.path is not None:
            os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Close; a file's partial copy is removed (standard output keeps what it got)."""
        with contextlib.suppress(OSError):
            self._close()
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._stdout is not None:
            wrapper, self._stdout = self._stdout, None
            try:
                wrapper.flush()
            finally:
                wrapper.detach()  # standard output stays open for whoever prints after us
        elif self.partial is not None:
            self.stream.close()
        else:
            self.stream.flush()
