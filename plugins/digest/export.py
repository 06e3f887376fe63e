"""``chatops report --from … --to … [--format csv|xlsx] [--output FILE]``: the full log of a period, for managers.

Every customer message, team reply (sent, pending or failed) and answer made on the
platform, and every action (claims, tags, escalations, resolutions, plugins' actions),
with UTC and local times, in time order: the columns are :data:`.log_rows.COLUMNS`,
described in :mod:`.log_rows`. ``--from``/``--to`` are local days in the team's timezone,
both included.

- CSV: UTF-8, a header row, RFC 4180 quoting (``\\r\\n`` between rows; newlines inside a
  text stay inside its quotes), to ``--output`` or standard output.
- Excel (``--format xlsx``, or an ``--output`` ending in ``.xlsx``): the sheet ``Log``
  (times as real date-times, the header frozen, an autofilter; a period longer than
  Excel's 1,048,576 rows continues on ``Log 2``, …) and ``Summary``: the digest's figures
  for the same window, read in the same database snapshot as the log, so the report says
  what the digest says.

Customer text is hostile data: a CSV text cell that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading
apostrophe (OWASP's advice for CSV injection). In the Excel file every text is written as
a string, never a formula, and such a cell carries Excel's own quote prefix instead, so
its text stays exact and editing it does not turn it into a formula.

Rows are streamed from a server-side cursor and written as they come, so memory does not
grow with the period. On a terminal a progress bar runs on standard error; the last line
says how many rows went where. The file appears only once it is complete (it is written
beside its name and renamed).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs; pyproject's overrides could list it
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from chatops.cli import EXIT_CONFIG, with_database
from chatops.db import Database, DatabaseUnavailable
from chatops.i18n import Translator
from chatops.models import utcnow

from . import cli_support, figures, log_rows
from .figures import Backlog, Durations, Fan, Figures
from .log_rows import COLUMNS, LogRow
from .periods import Window, days_window

FORMATS = ("csv", "xlsx")
#: The years a date may name: anything else is a typo (``20226-12-01``, ``0202-12-01``).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: The longest period one report covers (three years, a leap day included).
MAX_DAYS = 3 * 365 + 1
#: Data rows on one Excel sheet: Excel's 1,048,576 rows less the header.
SHEET_ROWS = 1_048_575
#: Characters an Excel cell holds.
CELL_CHARS = 32_767
#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_START)
#: The two noncharacters XML 1.0 forbids: XlsxWriter writes other control characters as ``_xHHHH_``, not these.
_XML_NONCHARACTERS = str.maketrans({"\ufffe": "\ufffd", "\uffff": "\ufffd"})
#: "Now" for the export: answers count up to it (tests set it, as they set the digest's clock).
clock: Callable[[], datetime] = utcnow

_WIDTHS = {
    "time_utc": 24,
    "time_local": 24,
    "text": 60,
    "author": 22,
    "permalink": 30,
    "tags": 20,
    "conversation_created_utc": 24,
}


class UsageError(Exception):
    """A mistake on the command line, told in one line (exit 2)."""


class OutputFailed(Exception):
    """Writing the report failed (a full disk, a closed pipe): the output's fault, not the database's.

    Raised in place of the ``OSError`` so that the database session it happens in does not
    take it for a lost connection.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Request:
    """What ``chatops report`` was asked for."""

    first: date
    last: date
    format: str
    output: Path | None


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chatops report``."""
    parser = subparsers.add_parser(
        "report",
        help="the full log of a period (every message and action) as CSV or Excel",
        description=(
            "Every customer message, reply and action of the local days --from..--to (both included, "
            "in the team's timezone), in time order, with UTC and local times. The columns are listed "
            "in the README."
        ),
    )
    parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD", help="first local day")
    parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="last local day (included)")
    parser.add_argument(
        "--format", dest="format", default=None, metavar="csv|xlsx", help="csv (default) or xlsx (needs --output)"
    )
    parser.add_argument(
        "--output", "-o", default=None, metavar="FILE", help="write here (CSV: default or '-' is stdout)"
    )
    parser.set_defaults(func=cmd_report)


def parse_request(args: argparse.Namespace, t: Translator) -> Request:
    """Check the arguments; a mistake is a :class:`UsageError` in the team's language."""
    first = _day("--from", args.first, t)
    last = _day("--to", args.last, t)
    if last < first:
        raise UsageError(t("digest.report.to_before_from", first=first.isoformat(), last=last.isoformat()))
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise UsageError(t("digest.report.too_long", days=days, limit=MAX_DAYS))
    # ``-o -`` is standard output, as for most tools.
    output = Path(args.output) if args.output and args.output != "-" else None
    wanted = args.format
    if wanted is None:
        wanted = "xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "csv"
    wanted = wanted.strip().lower()
    if wanted not in FORMATS:
        raise UsageError(t("digest.report.bad_format", value=args.format))
    if wanted == "xlsx" and output is None:
        raise UsageError(t("digest.report.xlsx_needs_output"))
    if output is not None:
        if output.is_dir():
            raise UsageError(t("digest.report.is_directory", path=output))
        directory = output.parent
        if not directory.is_dir():
            raise UsageError(t("digest.report.no_directory", path=output, directory=directory))
    return Request(first, last, wanted, output)


def _day(option: str, value: str, t: Translator) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(t("digest.report.bad_date", option=option, value=value)) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UsageError(t("digest.report.date_range", option=option, value=value))
    return day


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; one line on standard error says what was written."""
    loaded = cli_support.load(args)
    t = loaded.t
    try:
        request = parse_request(args, t)
        window = days_window(request.first, request.last, loaded.tz, clock())
        sink = _open(request, loaded, window)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    target = str(request.output) if request.output is not None else t("digest.report.stdout")
    try:
        rows, conversations = with_database(loaded.settings, lambda db: write_log(db, sink, window, loaded))
        try:
            sink.finish()
        except OSError as exc:
            raise OutputFailed(exc) from exc
    except OutputFailed as exc:
        if isinstance(exc.error, BrokenPipeError):
            # `chatops report … | head`: the reader has what it wanted. Whatever is still
            # buffered goes nowhere instead of failing again at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sink.abandon()
            return 1
        sink.abandon()
        print(t("digest.report.output_failed", target=target, reason=exc.error.strerror or exc.error), file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        sink.abandon()
        print(f"database: {exc.reason}", file=sys.stderr)
        return 1
    except BaseException:
        sink.abandon()
        raise
    if len(sink.sheets) > 1:
        print(t("digest.report.sheets", limit=SHEET_ROWS + 1, sheets=", ".join(sink.sheets[1:])), file=sys.stderr)
    if sink.clipped:
        print(t("digest.report.clipped", cells=sink.clipped, limit=CELL_CHARS), file=sys.stderr)
    print(t("digest.report.wrote", rows=rows, conversations=conversations, file=target), file=sys.stderr)
    return 0


async def write_log(db: Database, sink: Sink, window: Window, loaded: cli_support.Loaded) -> tuple[int, int]:
    """Stream the window's rows into ``sink`` (and its summary); returns ``(rows, conversations)``.

    One read transaction, so the count, the rows and the summary see the same data (SQLite's
    read transaction is a snapshot; PostgreSQL's is made REPEATABLE READ for it).
    """
    async with db.read() as session:
        if not db.is_sqlite:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        total, conversations = await log_rows.count(session, window)
        written = 0
        with _progress(total) as bar:
            async with contextlib.aclosing(log_rows.stream(session, window, loaded.hours)) as batches:
                async for batch in batches:
                    try:
                        sink.write(batch)
                    except OSError as exc:
                        raise OutputFailed(exc) from exc
                    written += len(batch)
                    bar.update(len(batch))
        if sink.wants_summary:
            current = await figures.window_figures(session, window, loaded.options)
            open_now = await figures.backlog(session, window.as_of, loaded.options)
            try:
                sink.summary(Summary(window, current, open_now, written, conversations, loaded.options.target_seconds))
            except OSError as exc:
                raise OutputFailed(exc) from exc
    return written, conversations


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar on standard error when it is a terminal; silent otherwise (cron, pipes, tests)."""
    bar = tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, disable=not sys.stderr.isatty())
    try:
        yield bar
    finally:
        bar.close()


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

    def write(self, rows: list[LogRow]) -> None: ...

    def summary(self, summary: Summary) -> None: ...

    def finish(self) -> None: ...

    def abandon(self) -> None: ...


def _open(request: Request, loaded: cli_support.Loaded, window: Window) -> Sink:
    """The sink ``request`` asks for, its file opened (a path that cannot be written is a UsageError)."""
    t = loaded.t
    partial = None
    if request.output is not None:
        # Beside the target, so the final rename stays on one file system.
        partial = request.output.with_name(f".{request.output.name}.{os.getpid()}.partial")
        try:
            partial.open("wb").close()
        except OSError as exc:
            raise UsageError(t("digest.report.cannot_write", path=request.output, reason=exc.strerror)) from None
    if request.format == "xlsx":
        assert request.output is not None and partial is not None
        return XlsxLog(request.output, partial, loaded.tz, t, window, SHEET_ROWS)
    if partial is None:
        return CsvLog(None, None, loaded.tz)
    assert request.output is not None
    return CsvLog(request.output, partial, loaded.tz)


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
        self.line(median_key, found.median, fmt=self.log.duration)
        self.line(p90_key, found.p90, fmt=self.log.duration)

    def write(self) -> None:
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
