"""Hostile command lines: ``chatops report`` and ``chatops digest`` against what operations really do.

A database that is missing or older than the code, an output nobody can write, a file name at the
file system's limit, a closed standard output, Ctrl-C in the middle, an absurd ``--as-of``.
Each must end in one line and an exit code, never a traceback, and never leave a partial file.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from digest_kit import MANAGERS, Data

from chatops.cli import main
from chatops.db import Database
from chatops.migrate import upgrade
from chatops_plugins.digest import export

HELSINKI = "Europe/Helsinki"
NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "clock", lambda: NOW)
    for name in list(os.environ):
        if name.startswith("CHATOPS_"):
            monkeypatch.delenv(name)


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "CINBOX"\n'
        f'[team]\ntimezone = "{HELSINKI}"\nlanguage = "en"\n'
        f"[database]\nurl = {url!r}\n"
        '[plugins]\nenabled = ["digest"]\n'
        f'[plugins.digest]\nchannel = "{MANAGERS}"\n',
        encoding="utf-8",
    )
    return path


async def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``chatops -c config *args`` in a thread (it runs its own event loop); exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in ("config.toml", "chatops.db"))


@pytest.fixture
async def some_rows(digest_database: str) -> str:
    db = Database(digest_database)
    try:
        data = Data(db)
        for i in range(5):
            conversation = await data.conversation(datetime(2026, 12, 1, 8, i, tzinfo=UTC), author=f"c{i}")
            await data.reply(conversation, datetime(2026, 12, 1, 9, i, tzinfo=UTC))
    finally:
        await db.dispose()
    return digest_database


@pytest.mark.parametrize("command", ["report", "digest"])
async def test_a_database_without_the_schema_is_one_line_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """SQLite: a database file that has never been upgraded (a typo in the path makes one), and one at the
    core's head without the digest's table (``digest`` enabled after the last ``chatops db upgrade``)."""
    empty = tmp_path / "empty.db"
    core_only = tmp_path / "core-only.db"
    db = Database(f"sqlite+aiosqlite:///{core_only}")
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for path in (empty, core_only):
        config = write_config(tmp_path, f"sqlite+aiosqlite:///{path}")
        args = ["report", "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(out_dir / "r.xlsx")]
        code, _out, err = await run(config, capsys, *(args if command == "report" else ["digest"]))
        assert code == 2, err
        assert one_line(err).startswith("database:")
        assert leftovers(out_dir) == []


async def test_an_output_that_cannot_be_created_is_one_line_exit_2(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/proc takes no new files, not even root's (the tests may run as root, to whom modes mean nothing)."""
    config = write_config(tmp_path, some_rows)
    code, out, err = await run(
        config, capsys, "report", "--from", "2026-12-01", "--to", "2026-12-01", "-o", "/proc/r.csv"
    )
    assert code == 2 and out == ""
    assert "/proc/r.csv" in one_line(err)


async def test_a_file_name_at_the_file_systems_limit_is_written(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, some_rows)
    name = "december-report-" + "x" * (250 - len("december-report-.csv")) + ".csv"
    target = tmp_path / name
    target.write_text("")  # the name itself is fine: the file system takes it
    target.unlink()
    code, _out, err = await run(
        config, capsys, "report", "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(target)
    )
    assert code == 0, err
    assert target.read_text(encoding="utf-8").count("\n") > 5


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
async def test_ctrl_c_in_the_middle_leaves_no_file(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """KeyboardInterrupt while rows are written: exit 130, neither the file nor its partial copy stays."""
    config = write_config(tmp_path, some_rows)
    sink = export.CsvLog if suffix == "csv" else export.XlsxLog

    def interrupted(self: object, rows: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sink, "write", interrupted)
    target = tmp_path / f"r.{suffix}"
    code, _out, _err = await run(
        config, capsys, "report", "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(target)
    )
    assert code == 130
    assert leftovers(tmp_path) == []


async def test_an_existing_report_survives_a_failed_export(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-running last month's export over its file and failing half-way keeps last month's file whole."""
    config = write_config(tmp_path, some_rows)
    target = tmp_path / "r.csv"
    target.write_text("last month's report\n", encoding="utf-8")

    def full(self: object, rows: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.CsvLog, "write", full)
    code, _out, err = await run(
        config, capsys, "report", "--from", "2026-12-01", "--to", "2026-12-01", "-o", str(target)
    )
    assert code == 1
    assert "No space left on device" in one_line(err)
    assert target.read_text(encoding="utf-8") == "last month's report\n"
    assert leftovers(tmp_path) == ["r.csv"]


def test_a_closed_standard_output_is_one_line_not_a_traceback(some_rows: str, tmp_path: Path) -> None:
    """``chatops report … >&-`` (cron with stdout closed): Python's sys.stdout is None then."""
    config = write_config(tmp_path, some_rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    script = (
        "import sys; from chatops.cli import main; "
        f"sys.exit(main(['-c', {str(config)!r}, 'report', '--from', '2026-12-01', '--to', '2026-12-01']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        stdout=None,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        preexec_fn=lambda: os.close(1),
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode != 0
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00", "0001-01-02"])
async def test_an_absurd_as_of_is_one_line_exit_2(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str
) -> None:
    config = write_config(tmp_path, some_rows)
    code, out, err = await run(config, capsys, "digest", "--as-of", as_of)
    assert code == 2, (code, err[-500:])
    assert out == ""
    assert "--as-of" in one_line(err)


@pytest.mark.parametrize(
    ("first", "last"), [("2028-02-29", "2028-02-29"), ("2026-03-29", "2026-03-29"), ("2026-10-25", "2026-10-25")]
)
async def test_leap_and_dst_days_export(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str, last: str
) -> None:
    config = write_config(tmp_path, some_rows)
    code, out, err = await run(config, capsys, "report", "--from", first, "--to", last)
    assert code == 0, err
    assert out.count("\n") == 1, "a header only"


async def test_an_impossible_leap_day_is_one_line(
    some_rows: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, some_rows)
    code, out, err = await run(config, capsys, "report", "--from", "2027-02-29", "--to", "2027-03-01")
    assert code == 2 and out == ""
    assert "2027-02-29" in one_line(err)


def test_chatops_digest_into_a_reader_that_left_says_nothing_misleading(some_rows: str, tmp_path: Path) -> None:
    """``chatops digest | head -0``: the reader is gone before the digest is printed. ``chatops report`` ends
    quietly then (tested in test_digest_export); the digest says "connection: [Errno 32] Broken pipe",
    which sends an operator looking at the database and Slack."""
    config = write_config(tmp_path, some_rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    script = f"import sys; from chatops.cli import main; sys.exit(main(['-c', {str(config)!r}, 'digest']))"
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], stdout=write, stderr=subprocess.PIPE, env=env, timeout=60, check=False
        )
    finally:
        os.close(write)
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    assert "connection" not in err, err
