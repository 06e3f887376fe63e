"""The exported log as an Excel workbook: the sheet ``Log`` (``Log 2``, … past Excel's row limit) and ``Summary``.

Times are real date-times, the header is frozen, each sheet has an autofilter. Every text is
written as a string, never a formula or a URL; one that starts like a formula carries
Excel's quote prefix, so its text stays exact and editing it does not make it a formula.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from chatops.i18n import Translator

from .figures import Durations, Fan
from .log_rows import COLUMNS, LogRow
from .log_sink import FORMULA_START, Summary
from .periods import Window

#: Data rows on one Excel sheet: Excel's 1,048,576 rows less the header.
SHEET_ROWS = 1_048_575
#: Characters an Excel cell holds.
CELL_CHARS = 32_767
#: The two noncharacters XML 1.0 forbids: XlsxWriter writes other control characters as ``_xHHHH_``, not these.
_XML_NONCHARACTERS = str.maketrans({"\ufffe": "\ufffd", "\uffff": "\ufffd"})

_WIDTHS = {
    "time_utc": 24,
    "time_local": 24,
    "text": 60,
    "author": 22,
    "permalink": 30,
    "tags": 20,
    "conversation_created_utc": 24,
}


class XlsxLog:
    """Rows as an Excel workbook: ``Log`` (``Log 2``, … past Excel's row limit) and ``Summary``.

    XlsxWriter's constant-memory mode writes each row to disk as the next begins, so the
    workbook never holds the log; every text goes through ``write_string`` (never parsed as a
    formula or a URL).
    """

    wants_summary = True

    def __init__(
        self, path: Path, partial: Path, tz: ZoneInfo, t: Translator, window: Window, rows_per_sheet: int
    ) -> None:
        self.path, self.partial, self.tz, self.t, self.window = path, partial, tz, t, window
        self.rows_per_sheet = rows_per_sheet
        self.workbook = Workbook(
            str(partial),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.header = self.workbook.add_format({"bold": True})
        self.when = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
        self.quoted = self.workbook.add_format({"quote_prefix": True})
        self.duration = self.workbook.add_format({"num_format": "[h]:mm:ss"})
        self.share = self.workbook.add_format({"num_format": "0.0%"})
        self.title = self.workbook.add_format({"bold": True, "font_size": 14})
        self.sheets: list[str] = []
        self.clipped = 0
        self.sheet: Worksheet | None = None
        self.row = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._close_sheet()
        name = "Log" if not self.sheets else f"Log {len(self.sheets) + 1}"
        self.sheets.append(name)
        sheet = self.workbook.add_worksheet(name)
        for col, column in enumerate(COLUMNS):
            sheet.set_column(col, col, _WIDTHS.get(column, 14))
        for col, column in enumerate(COLUMNS):
            sheet.write_string(0, col, column, self.header)
        sheet.freeze_panes(1, 0)
        self.sheet, self.row = sheet, 1

    def _close_sheet(self) -> None:
        if self.sheet is not None:
            self.sheet.autofilter(0, 0, max(self.row - 1, 0), len(COLUMNS) - 1)

    def write(self, rows: list[LogRow]) -> None:
        """Write ``rows``, starting a new sheet at Excel's limit."""
        for row in rows:
            if self.row > self.rows_per_sheet:
                self._new_sheet()
            assert self.sheet is not None
            self._write_row(self.sheet, self.row, row)
            self.row += 1

    def _write_row(self, sheet: Worksheet, r: int, row: LogRow) -> None:
        sheet.write_datetime(r, 0, _naive(row.at, UTC), self.when)
        sheet.write_datetime(r, 1, _naive(row.at, self.tz), self.when)
        self._text(sheet, r, 2, row.record)
        sheet.write_number(r, 3, row.id)
        self._text(sheet, r, 4, row.kind)
        if row.conversation_id is not None:
            sheet.write_number(r, 5, row.conversation_id)
        texts = (row.source, row.author, row.author_id, row.agent, row.text, row.permalink, row.card)
        for col, value in enumerate(texts, start=6):
            self._text(sheet, r, col, value)
        self._text(sheet, r, 13, row.status)
        self._text(sheet, r, 14, row.delivery)
        self._text(sheet, r, 15, ", ".join(row.tags))
        if row.first_response is not None:
            sheet.write_number(r, 16, row.first_response)
        if row.first_response_service is not None:
            sheet.write_number(r, 17, row.first_response_service)
        if row.conversation_created is not None:
            sheet.write_datetime(r, 18, _naive(row.conversation_created, UTC), self.when)

    def _text(self, sheet: Worksheet, r: int, c: int, value: str | None) -> None:
        if not value:
            return
        if len(value) > CELL_CHARS:
            value = value[: CELL_CHARS - 1] + "…"
            self.clipped += 1
        quoted = value.startswith(FORMULA_START)
        # Control characters are XlsxWriter's to escape (it writes them as Excel's _xHHHH_, tested).
        sheet.write_string(r, c, value.translate(_XML_NONCHARACTERS), self.quoted if quoted else None)

    def summary(self, summary: Summary) -> None:
        """The Summary sheet: the log's size and the digest's figures for the same window."""
        self._close_sheet()
        self.sheet = None
        _SummarySheet(self, self.workbook.add_worksheet("Summary"), summary).write()

    def finish(self) -> None:
        """Write the workbook and rename it to its name."""
        self._close_sheet()
        self.sheet = None
        self.workbook.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Leave no file behind."""
        self.partial.unlink(missing_ok=True)


class _SummarySheet:
    """Writes the Summary sheet top to bottom (constant-memory mode writes rows in order)."""

    def __init__(self, log: XlsxLog, sheet: Worksheet, summary: Summary) -> None:
        self.log, self.sheet, self.s = log, sheet, summary
        self.t = log.t
        self.row = 0

    def line(self, key: str, *cells: Any, fmt: Format | None = None, **values: Any) -> None:
        """A label (``key`` in the team's language) and its values, each written by its type."""
        self.sheet.write_string(self.row, 0, self.t(key, **values))
        for col, value in enumerate(cells, start=1):
            self.cell(col, value, fmt)
        self.row += 1

    def cell(self, col: int, value: Any, fmt: Format | None = None) -> None:
        """One value: a number, a date-time (local), a duration (seconds), or a text; None reads "none"."""
        sheet, r = self.sheet, self.row
        if value is None:
            sheet.write_string(r, col, self.t("digest.report.summary.none"))
        elif isinstance(value, datetime):
            sheet.write_datetime(r, col, _naive(value, self.log.tz), self.log.when)
        elif isinstance(value, bool):
            sheet.write_boolean(r, col, value)
        elif isinstance(value, int | float):
            if fmt is self.log.duration:
                sheet.write_number(r, col, value / 86400, fmt)
            else:
                sheet.write_number(r, col, value, fmt)
        else:
            self.log._text(sheet, r, col, str(value))

    def durations(self, median_key: str, p90_key: str, found: Durations) -> None:
        """A median and a 90th percentile, each on its line, as Excel durations."""
        self.line(median_key, found.median, fmt=self.log.duration)
        self.line(p90_key, found.p90, fmt=self.log.duration)

    def write(self) -> None:
        """The whole sheet: the window and the log's size, then the digest's figures and its lists."""
        s, t, log, sheet = self.s, self.t, self.log, self.sheet
        f, w = s.figures, s.window
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, 4, 22)
        sheet.write_string(0, 0, t("digest.report.summary.title", first=w.first_day, last=w.last_day), log.title)
        self.row = 2
        self.line("digest.report.summary.timezone", str(log.tz.key))
        self.sheet.write_string(self.row, 0, t("digest.report.summary.period_utc"))
        sheet.write_datetime(self.row, 1, _naive(w.start, UTC), log.when)
        sheet.write_datetime(self.row, 2, _naive(w.end, UTC), log.when)
        self.row += 1
        self.line("digest.report.summary.generated", w.as_of)
        self.line("digest.report.summary.log_rows", s.rows)
        self.line("digest.report.summary.log_conversations", s.conversations)
        self.line("digest.report.summary.log_sheets", ", ".join(log.sheets))
        self.row += 1
        sheet.write_string(self.row, 0, t("digest.report.summary.figures"), log.header)
        self.row += 1
        self.line("digest.report.summary.conversations", f.conversations)
        for source, count in f.by_source:
            self.line("digest.report.summary.from_source", count, source=source)
        self.line("digest.report.summary.messages", f.messages)
        self.line("digest.report.summary.answered", f.answered)
        self.line("digest.report.summary.unanswered", f.unanswered)
        self.line("digest.report.summary.response_rate", f.response_rate, fmt=log.share)
        self.durations("digest.report.summary.first_median", "digest.report.summary.first_p90", f.first_response)
        if f.first_response_service is not None:
            self.durations(
                "digest.report.summary.service_median", "digest.report.summary.service_p90", f.first_response_service
            )
        self.line("digest.report.summary.target", s.target_seconds, fmt=log.duration)
        self.line("digest.report.summary.within_target", f.within_target)
        self.line("digest.report.summary.breaches", f.breaches)
        self.line("digest.report.summary.resolved", f.resolution.count)
        self.line("digest.report.summary.resolution_median", f.resolution.median, fmt=log.duration)
        self.line("digest.report.summary.escalations", f.escalations)
        self.line("digest.report.summary.negative", f.negative)
        self.line("digest.report.summary.negative_share", f.negative_share, fmt=log.share)
        self.line("digest.report.summary.open_now", s.backlog.open)
        oldest = s.backlog.oldest
        self.line("digest.report.summary.oldest_open", oldest.created_at if oldest else None)
        self.row += 1
        self._listing("digest.report.summary.tags", [(name, count) for name, count in f.tags])
        self._listing(
            "digest.report.summary.people",
            [(p.user, p.handled, p.first_answers, _Duration(p.first_response.median)) for p in f.people],
        )
        self._listing(
            "digest.report.summary.fans",
            [(_fan_name(fan), fan.conversations, fan.messages, ", ".join(fan.sources)) for fan in f.fans],
        )

    def _listing(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        self.sheet.write_string(self.row, 0, self.t(key), self.log.header)
        self.row += 1
        if not rows:
            self.cell(0, None)
            self.row += 1
        for cells in rows:
            for col, value in enumerate(cells):
                if isinstance(value, _Duration):
                    self.cell(col, value.seconds, self.log.duration)
                else:
                    self.cell(col, value)
            self.row += 1
        self.row += 1


@dataclass(frozen=True, slots=True)
class _Duration:
    """Seconds to be shown as a duration in a listing."""

    seconds: float | None


def _fan_name(fan: Fan) -> str:
    return f"{fan.name} ({fan.handle})" if fan.handle and fan.handle != fan.name else fan.name


def _naive(at: datetime, tz: ZoneInfo | Any) -> datetime:
    """``at`` as a naive wall-clock time in ``tz`` (Excel's date-times have no zone)."""
    return at.astimezone(tz).replace(tzinfo=None)
