"""Where the exported log goes: what a format (CSV, Excel) does with rows, and the summary one may add.

Shared by :mod:`.export` (the command) and the formats, :mod:`.log_csv` and :mod:`.log_xlsx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .figures import Backlog, Figures
from .log_rows import LogRow
from .periods import Window

#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Summary:
    """What the Excel file's Summary sheet shows: the digest's figures of the window, and the log's size."""

    window: Window
    figures: Figures
    backlog: Backlog
    rows: int
    conversations: int
    target_seconds: int


class Sink(Protocol):
    """Where rows go: a CSV stream or an Excel file."""

    wants_summary: bool
    sheets: list[str]
    clipped: int

    def write(self, rows: list[LogRow]) -> None:
        """Write ``rows``, in order."""

    def summary(self, summary: Summary) -> None:
        """Add the digest's figures of the window, when the format has room for them."""

    def finish(self) -> None:
        """Complete the output (a file appears under its name only now)."""

    def abandon(self) -> None:
        """Give up: leave no partial file behind."""
