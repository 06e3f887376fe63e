"""``chatops report --format xlsx``: the same log as the CSV in a workbook Excel opens, and the digest's figures beside it.

The workbook is read back as Excel would, from its XML (zipfile + ElementTree; openpyxl is
not a dependency): the sheets, every cell's value and style, the frozen header, the filter.
The last test derives the digest's headline figures from the exported CSV rows alone and
compares them with :func:`figures.window_figures` for the same window.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from digest_kit import MANAGERS, Data

from chatops.cli import main
from chatops.db import Database
from chatops_plugins.digest import export, figures, log_rows
from chatops_plugins.digest.figures import Options
from chatops_plugins.digest.periods import Window, days_window
from chatops_plugins.rota.config import RotaConfig

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
EXCEL_EPOCH = datetime(1899, 12, 30)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "clock", lambda: NOW)
    for name in list(os.environ):
        if name.startswith("CHATOPS_"):
            monkeypatch.delenv(name)


@pytest.fixture
async def db(digest_database: str) -> Any:
    database = Database(digest_database)
    yield database
    await database.dispose()


def write_config(tmp_path: Path, url: str, *, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    enabled = '["digest", "rota"]' if "[plugins.rota]" in extra else '["digest"]'
    path.write_text(
        '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "CINBOX"\n'
        '[team]\ntimezone = "Europe/Helsinki"\nlanguage = "en"\n'
        f"[database]\nurl = {url!r}\n"
        f"[plugins]\nenabled = {enabled}\n"
        f'[plugins.digest]\nchannel = "{MANAGERS}"\nresponse_target_minutes = 30\n' + extra,
        encoding="utf-8",
    )
    return path


async def report(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config), "report", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- Reading a workbook back ------------------------------------------------------------------------------


class Cell:
    """A cell as stored: its value (text, or number) and whether its style carries Excel's quote prefix."""

    def __init__(self, value: str | float, quoted: bool, style: int) -> None:
        self.value, self.quoted, self.style = value, quoted, style

    def __repr__(self) -> str:
        return f"Cell({self.value!r}{', quoted' if self.quoted else ''})"


def _unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes decoded (``_x005F_`` first stands for an underscore)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _xml(data: bytes) -> ElementTree.Element:
    # The workbook the export just wrote, not data from outside.
    return ElementTree.fromstring(data)  # noqa: S314


def read_workbook(path: Path) -> tuple[dict[str, list[dict[int, Cell]]], dict[str, ElementTree.Element]]:
    """Every sheet's rows (column index to cell) by name, in tab order, and each sheet's XML root."""
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        workbook = _xml(book.read("xl/workbook.xml"))
        rels = _xml(book.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        styles = _xml(book.read("xl/styles.xml"))
        xfs = styles.find(f"{MAIN}cellXfs")
        assert xfs is not None
        quoted = [xf.get("quotePrefix") == "1" for xf in xfs]
        sheets: dict[str, list[dict[int, Cell]]] = {}
        roots: dict[str, ElementTree.Element] = {}
        for sheet in workbook.iter(f"{MAIN}sheet"):
            target = targets[sheet.get(f"{RELS}id")]
            root = _xml(book.read(f"xl/{target}"))
            name = sheet.get("name") or ""
            roots[name] = root
            sheets[name] = [dict(_cells(row, quoted)) for row in root.iter(f"{MAIN}row")]
    return sheets, roots


def _cells(row: ElementTree.Element, quoted: list[bool]) -> Iterator[tuple[int, Cell]]:
    for cell in row.iter(f"{MAIN}c"):
        ref = cell.get("r") or ""
        letters = re.match(r"[A-Z]+", ref)
        assert letters
        col = 0
        for letter in letters.group():
            col = col * 26 + ord(letter) - 64
        style = int(cell.get("s") or 0)
        if cell.get("t") == "inlineStr":
            value: str | float = _unescape("".join(t.text or "" for t in cell.iter(f"{MAIN}t")))
        else:
            found = cell.find(f"{MAIN}v")
            assert found is not None and found.text is not None
            value = float(found.text)
        yield col - 1, Cell(value, quoted[style], style)


def serial(at: datetime, tz: Any) -> float:
    """An instant as Excel's date-time number, as a wall-clock time in ``tz``."""
    return (at.astimezone(tz).replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86400


def summary_values(rows: list[dict[int, Cell]]) -> dict[str, list[str | float]]:
    """The Summary sheet as label -> the values beside it."""
    found: dict[str, list[str | float]] = {}
    for row in rows:
        if 0 in row and isinstance(row[0].value, str):
            found[row[0].value] = [row[col].value for col in sorted(row) if col > 0]
    return found


# --- The tests ----------------------------------------------------------------------------------------------


async def test_the_workbook_holds_the_csvs_rows_as_typed_cells_and_the_digests_figures(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Data(db)
    one = await data.conversation(utc(2026, 12, 1, 8, 0), name='=HYPERLINK("x")', text="Bell\x07 and _x0041_ stay")
    await data.reply(one, utc(2026, 12, 1, 8, 20), text="-1 is a number here")
    await data.tag(one, "complaint", utc(2026, 12, 1, 8, 21))
    two = await data.conversation(utc(2026, 12, 1, 21, 59, 59), source="facebook", text="Line one\r\nline two")
    await data.escalate(two, utc(2026, 12, 1, 21, 59, 59))
    config = write_config(tmp_path, digest_database)
    workbook = tmp_path / "december.xlsx"

    code, out, err = await report(config, capsys, "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(workbook))
    assert code == 0, err
    assert out == ""
    assert err == f"wrote 9 rows (2 conversations) to {workbook}\n"
    code, csv_text, _ = await report(config, capsys, "--from", "2026-12-01", "--to", "2026-12-01")
    assert code == 0
    csv_rows = list(csv.reader(io.StringIO(csv_text, newline="")))

    sheets, roots = await asyncio.to_thread(read_workbook, workbook)
    assert list(sheets) == ["Log", "Summary"]
    log = sheets["Log"]
    assert len(log) == len(csv_rows) == 10
    assert [log[0][col].value for col in range(len(log_rows.COLUMNS))] == list(log_rows.COLUMNS)
    time_utc, time_local, created = 0, 1, log_rows.COLUMNS.index("conversation_created_utc")
    numeric = {log_rows.COLUMNS.index(name) for name in ("id", "conversation_id", "first_response_seconds")}
    for sheet_row, csv_row in zip(log[1:], csv_rows[1:], strict=True):
        at = datetime.fromisoformat(csv_row[time_utc])
        assert sheet_row[time_utc].value == pytest.approx(serial(at, UTC), abs=1e-9)
        assert sheet_row[time_local].value == pytest.approx(serial(at, HELSINKI), abs=1e-9)
        assert sheet_row[created].value == pytest.approx(serial(datetime.fromisoformat(csv_row[created]), UTC))
        for col, text in enumerate(csv_row):
            if col in (time_utc, time_local, created) or not text:
                assert col in (time_utc, time_local, created) or col not in sheet_row
            elif col in numeric:
                assert sheet_row[col].value == float(text)
            elif text.startswith("'"):
                # The CSV's apostrophe is Excel's quote prefix here: the text itself stays exact.
                assert (sheet_row[col].value, sheet_row[col].quoted) == (text[1:], True)
            else:
                assert (sheet_row[col].value, sheet_row[col].quoted) == (text, False)
    texts = [row[log_rows.COLUMNS.index("text")].value for row in log[1:] if log_rows.COLUMNS.index("text") in row]
    assert "Bell\x07 and _x0041_ stay" in texts and "Line one\r\nline two" in texts and "-1 is a number here" in texts
    view = roots["Log"].find(f"{MAIN}sheetViews/{MAIN}sheetView/{MAIN}pane")
    assert view is not None and (view.get("ySplit"), view.get("state")) == ("1", "frozen")
    autofilter = roots["Log"].find(f"{MAIN}autoFilter")
    assert autofilter is not None and autofilter.get("ref") == "A1:S10"

    summary = summary_values(sheets["Summary"])
    assert summary["Rows in the log"] == [9] and summary["Conversations in the log"] == [2]
    assert summary["Log sheets"] == ["Log"]
    assert summary["Conversations in"] == [2]
    assert summary["… from facebook"] == [1] and summary["… from webhook"] == [1]
    assert summary["Customer messages in"] == [2]
    assert summary["Answered"] == [1] and summary["Still unanswered"] == [1]
    assert summary["Response rate"] == [0.5]
    # 20 minutes, as a duration (days).
    assert summary["First response, median"] == [pytest.approx(20 / 1440)]
    assert summary["Response target"] == [pytest.approx(30 / 1440)]
    assert summary["Escalations"] == [1]
    assert summary["Negative feedback"] == [1]
    assert summary["Period (UTC, end excluded)"] == [
        pytest.approx(serial(utc(2026, 11, 30, 22), UTC)),
        pytest.approx(serial(utc(2026, 12, 1, 22), UTC)),
    ]


async def test_a_log_longer_than_a_sheet_continues_on_the_next_and_says_so(
    db: Database,
    digest_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Excel's limit is 1,048,575 rows under the header; the same code runs with 3.
    monkeypatch.setattr(export, "SHEET_ROWS", 3)
    data = Data(db)
    for n in range(4):
        await data.conversation(utc(2026, 12, 1, 8, n), text=f"question {n}")
    workbook = tmp_path / "long.xlsx"

    code, _out, err = await report(
        write_config(tmp_path, digest_database),
        capsys,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "-o",
        str(workbook),
    )

    assert code == 0, err
    assert err.splitlines() == [
        "the log is longer than one Excel sheet (4 rows): it continues on Log 2, Log 3",
        f"wrote 8 rows (4 conversations) to {workbook}",
    ]
    sheets, roots = await asyncio.to_thread(read_workbook, workbook)
    assert list(sheets) == ["Log", "Log 2", "Log 3", "Summary"]
    assert [len(sheets[name]) for name in ("Log", "Log 2", "Log 3")] == [4, 4, 3]
    assert all(sheets[name][0][0].value == "time_utc" for name in ("Log", "Log 2", "Log 3"))
    texts = [row[10].value for name in ("Log", "Log 2", "Log 3") for row in sheets[name][1:] if 10 in row]
    assert texts == [f"question {n}" for n in range(4)]
    assert summary_values(sheets["Summary"])["Log sheets"] == ["Log, Log 2, Log 3"]
    filters = [roots[name].find(f"{MAIN}autoFilter") for name in ("Log", "Log 2", "Log 3")]
    assert [f.get("ref") if f is not None else None for f in filters] == ["A1:S4", "A1:S4", "A1:S3"]


async def test_a_text_longer_than_an_excel_cell_is_cut_there_and_whole_in_the_csv(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Data(db)
    await data.conversation(utc(2026, 12, 1, 8, 0), text="x" * 40_000)
    # Two characters XML cannot hold at all: replaced in the workbook, exact in the CSV.
    await data.conversation(utc(2026, 12, 1, 8, 1), text="\uffff\ufffe")
    config = write_config(tmp_path, digest_database)
    workbook = tmp_path / "cut.xlsx"

    code, _out, err = await report(config, capsys, "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(workbook))
    assert code == 0, err
    assert err.splitlines()[0] == (
        "1 texts were longer than an Excel cell holds (32767 characters) and were cut; the CSV has them whole"
    )
    sheets, _ = await asyncio.to_thread(read_workbook, workbook)
    assert sheets["Log"][1][10].value == "x" * 32_766 + "…"
    assert sheets["Log"][3][10].value == "\ufffd\ufffd"
    _code, out, _err = await report(config, capsys, "--from", "2026-12-01", "--to", "2026-12-01")
    assert "x" * 40_000 in out and "\uffff\ufffe" in out


def nearest_rank(values: list[float], share: float) -> float | None:
    """The digest's percentile: nearest rank (the median of 1, 2, 3, 4 is 2)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


async def test_the_export_says_the_same_as_the_digest_for_the_same_period(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Conversations, answered, response rate and first response, derived from the CSV alone, equal the digest's."""
    data = Data(db)
    # Monday 2026-12-07, Helsinki (UTC+2); service hours 09:00-17:00 local, Monday to Friday.
    day = utc(2026, 12, 7, 0, 0)
    # Before the period: a comment at 23:59 local the day before, answered after midnight (not the period's).
    early = await data.conversation(utc(2026, 12, 6, 21, 59), text="just before midnight")
    await data.reply(early, utc(2026, 12, 6, 22, 5))
    # A comment just after midnight, answered at 08:30 local (before opening) by a person.
    night = await data.conversation(utc(2026, 12, 6, 22, 0, 1), text="just after midnight")
    await data.reply(night, day + timedelta(hours=6, minutes=30))
    # Follow-ups: only the first answer counts, not the last.
    chatty = await data.conversation(day + timedelta(hours=8), name="Fan", author="fan", text="first")
    await data.follow_up(chatty, day + timedelta(hours=8, minutes=5), name="Fan", author="fan", text="second")
    await data.reply(chatty, day + timedelta(hours=8, minutes=45), by="UBEN")
    await data.reply(chatty, day + timedelta(hours=9), by="UANNA")
    # Answered directly on the platform.
    platform = await data.conversation(day + timedelta(hours=9), source="facebook", text="on facebook")
    await data.answered_on_platform(platform, day + timedelta(hours=9, minutes=2))
    # Only a bot's automatic reply, and a failed reply: unanswered.
    auto = await data.conversation(day + timedelta(hours=10), text="auto only")
    await data.reply(auto, day + timedelta(hours=10, seconds=1), by="bot:rota")
    failed = await data.conversation(day + timedelta(hours=11), text="failed reply")
    await data.reply(failed, day + timedelta(hours=11, minutes=1), delivered=False)
    # Resolved, then reopened by a follow-up; answered after both.
    reopened = await data.conversation(day + timedelta(hours=12), text="resolved too soon")
    await data.resolve(reopened, day + timedelta(hours=12, minutes=10))
    await data.follow_up(reopened, day + timedelta(hours=13), text="still broken")
    await data.reply(reopened, day + timedelta(hours=13, minutes=30))
    # Answered the next week (still before "now"): answered, late.
    slow = await data.conversation(day + timedelta(days=1, hours=15), text="slow one")
    await data.reply(slow, day + timedelta(days=8))
    # Unanswered.
    await data.conversation(day + timedelta(days=2, hours=21, minutes=59, seconds=59), text="last second")
    # After the period.
    after = await data.conversation(day + timedelta(days=2, hours=22), text="next day")
    await data.reply(after, day + timedelta(days=2, hours=22, minutes=1))
    rota = '[plugins.rota]\nleads = ["ULENA"]\n[plugins.rota.service_hours]\n'
    rota += "".join(f'{d} = "09:00-17:00"\n' for d in ("mon", "tue", "wed", "thu", "fri"))
    config = write_config(tmp_path, digest_database, extra=rota)

    code, out, err = await report(config, capsys, "--from", "2026-12-07", "--to", "2026-12-09")
    assert code == 0, err

    window = days_window(datetime(2026, 12, 7).date(), datetime(2026, 12, 9).date(), HELSINKI, NOW)
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    created: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        if row["conversation_id"] and window.start <= _at(row["conversation_created_utc"]) < window.end:
            created[row["conversation_id"]] = (
                row["source"],
                row["first_response_seconds"],
                row["first_response_service_seconds"],
            )
    inbound = [row for row in rows if row["kind"] == "inbound"]
    wall = [float(f) for _, f, _ in created.values() if f]
    service = [float(s) for _, _, s in created.values() if s]
    by_source: dict[str, int] = {}
    for source, _, _ in created.values():
        by_source[source] = by_source.get(source, 0) + 1

    hours = RotaConfig.model_validate(
        {"leads": ["ULENA"], "service_hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}}
    ).hours(HELSINKI)
    async with db.read() as session:
        digest = await figures.window_figures(session, window, Options(target_seconds=30 * 60, hours=hours))

    # The hand count first, so a mistake on both sides cannot agree by accident.
    assert len(created) == 8 and len(wall) == 5
    assert digest.conversations == len(created)
    assert dict(digest.by_source) == by_source
    assert digest.messages == len(inbound) == 10
    assert digest.answered == len(wall)
    assert digest.response_rate == pytest.approx(len(wall) / len(created))
    assert digest.first_response.count == len(wall)
    assert digest.first_response.median == pytest.approx(nearest_rank(wall, 0.5))
    assert digest.first_response.p90 == pytest.approx(nearest_rank(wall, 0.9))
    assert digest.first_response_service is not None
    assert digest.first_response_service.median == pytest.approx(nearest_rank(service, 0.5))
    assert digest.first_response_service.p90 == pytest.approx(nearest_rank(service, 0.9))
    # The export read the window exactly as the digest's figures are read.
    assert isinstance(window, Window) and window.as_of == NOW


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
