"""``chatops report --from … --to … [--format csv|xlsx] [--output FILE]``: the full log of a period, for managers.

Every customer message, team reply (sent, pending or failed) and answer made on the
platform, and every action (claims, tags, escalations, resolutions, plugins' actions),
with UTC and local times, in time order: the columns are :data:`.log_rows.COLUMNS`,
described in :mod:`.log_rows`. ``--from``/``--to`` are local days in the team's timezone,
both included.

The formats are :mod:`.log_csv` (UTF-8, RFC 4180, to ``--output`` or standard output) and
:mod:`.log_xlsx` (``--format xlsx``, or an ``--output`` ending in ``.xlsx``: the log, and a
``Summary`` sheet with the digest's figures for the same window, read in the same database
snapshot as the log, so the report says what the digest says). Customer text is hostile
data: neither format lets a cell become a formula.

Rows are streamed from a server-side cursor and written as they come, so memory does not
grow with the period. On a terminal a progress bar runs on standard error; the last line
says how many rows went where. The file appears only once it is complete (it is written
beside its name and renamed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from chatops.cli import EXIT_CONFIG, with_database
from chatops.db import Database, DatabaseUnavailable
from chatops.i18n import Translator
from chatops.models import utcnow

from . import cli_support, figures, log_rows
from .log_csv import CsvLog
from .log_sink import Sink, Summary
from .log_xlsx import CELL_CHARS, SHEET_ROWS, XlsxLog
from .periods import Window, days_window

FORMATS = ("csv", "xlsx")
#: The longest period one report covers (three years, a leap day included).
MAX_DAYS = 3 * 365 + 1
#: "Now" for the export: answers count up to it (tests set it, as they set the digest's clock).
clock: Callable[[], datetime] = utcnow


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
    if not cli_support.FIRST_YEAR <= day.year <= cli_support.LAST_YEAR:
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


def _open(request: Request, loaded: cli_support.Loaded, window: Window) -> Sink:
    """The sink ``request`` asks for, its file opened (a path that cannot be written is a UsageError)."""
    t = loaded.t
    partial = None
    if request.output is not None:
        # Beside the target, so the final rename stays on one file system; a short name of its
        # own, so a target name at the file system's limit still has room for it.
        try:
            handle, name = tempfile.mkstemp(dir=request.output.parent, prefix=".chatops-report-", suffix=".partial")
        except OSError as exc:
            raise UsageError(t("digest.report.cannot_write", path=request.output, reason=exc.strerror)) from None
        os.close(handle)
        partial = Path(name)
    elif sys.stdout is None:
        # Started with standard output closed (`>&-`): nowhere to write the CSV.
        raise UsageError(t("digest.report.no_stdout"))
    if request.format == "xlsx":
        assert request.output is not None and partial is not None
        return XlsxLog(request.output, partial, loaded.tz, t, window, SHEET_ROWS)
    if partial is None:
        return CsvLog(None, None, loaded.tz)
    assert request.output is not None
    return CsvLog(request.output, partial, loaded.tz)
