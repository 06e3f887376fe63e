"""``chatops outbox``: see pending and dead jobs, put dead ones back, and the bot then delivers them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from chatops.cli import main
from chatops.models import Alert, OutboxJob
from chatops.testing.bot import OPS, TestBot
from chatops.testing.fake_slack import FakeSlack


def _config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "C1"\n'
        f"[database]\nurl = {database_url!r}\n",
        encoding="utf-8",
    )
    return path


async def _chatops(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, in its own process, while the bot under test keeps running."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "chatops.cli", "-c", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


async def _main(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """``chatops.cli.main`` in a thread (it runs its own event loop), for the many calls of one scenario."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_dead_card_job_is_listed_retried_and_then_shown(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, database_url)
    async with TestBot(fake_slack, database_url, config={"delivery": {"max_attempts": 1}}) as bot:
        fake_slack.fail_next("chat.postMessage", error="channel_not_found")
        await bot.comment("Please do not lose me")
        await fake_slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok)
        await bot.idle()
        assert bot.cards() == []

        listed = await _chatops(config, "outbox")
        assert listed.returncode == 0, listed.stderr
        header, *rows = listed.stdout.splitlines()
        assert "KIND" in header and "LAST ERROR" in header
        [row] = [r for r in rows if "card.post" in r]
        job_id = int(row.split()[0])
        assert "dead" in row and "1 (webhook)" in row and "Slack: channel_not_found" in row

        _, pending, _ = await _main(capsys, config, "outbox", "--status", "pending")
        assert pending.strip() == "no pending jobs"

        retried = await _chatops(config, "outbox", "retry", str(job_id))
        assert retried.returncode == 0, retried.stderr
        assert retried.stdout.strip() == f"put back 1 job(s), due now: {job_id}"

        card = await bot.next_card()
        assert "Please do not lose me" in card.text
        await bot.idle()
        assert bot.app is not None
        async with bot.app.db.read() as session:
            job = await session.get_one(OutboxJob, job_id)
            alert = await session.scalar(select(Alert).where(Alert.plugin == "chatops"))
        assert (job.status, job.attempts) == ("done", 0)
        assert alert is not None and alert.cleared_at is not None  # what worked clears the alert

        _, again, _ = await _main(capsys, config, "outbox", "retry", str(job_id))
        assert again.strip() == f"job {job_id} is done, not dead: left as it is"
        _, none_dead, _ = await _main(capsys, config, "outbox", "retry", "--all-dead")
        assert none_dead.strip() == "no dead jobs"


async def test_retry_all_dead_puts_every_dead_job_back(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, database_url)
    async with TestBot(fake_slack, database_url, config={"delivery": {"max_attempts": 1}}, deliver=True) as bot:
        fake_slack.fail_next("chat.postMessage", error="channel_not_found", times=2)
        await bot.comment("one", id="one")
        await bot.comment("two", id="two")
        await fake_slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok, count=2)
        await bot.idle()
        _, dead, _ = await _main(capsys, config, "outbox", "--status", "dead")
        assert len([r for r in dead.splitlines() if "card.post" in r and "dead" in r]) == 2
        code, result, _ = await _main(capsys, config, "outbox", "retry", "--all-dead")
        assert code == 0 and result.startswith("put back 2 job(s)")
        await bot.next_card()
        await bot.next_card()
        assert len(bot.cards()) == 2


async def test_an_unknown_job_id_is_one_line_and_exit_2(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Through the console script: the exit code and stderr a shell sees.
    config = _config(tmp_path, database_url)
    result = await _chatops(config, "outbox", "retry", "424242")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == "outbox retry: no job 424242; nothing changed"
    code, listed, _ = await _main(capsys, config, "outbox")
    assert (code, listed.strip()) == (0, "no pending or dead jobs")


async def test_outbox_with_a_config_mistake_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[slack\n", encoding="utf-8")
    result = await _chatops(path, "outbox")
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("config error: ") and "not valid TOML" in line
