"""``chatops digest``: the digest printed in a terminal, and posted with ``--post`` (both databases).

``chatops.cli.main`` runs its own event loop, so each call runs in a thread; the config file
names the test database and the fake Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from digest_kit import MANAGERS, Data

from chatops.cli import main
from chatops.db import Database
from chatops.testing.bot import block_text
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.digest import cli_support, render, terminal
from chatops_plugins.digest.compose import compose

#: Tuesday 1 December 2026, 08:00 in Helsinki: the digest of Monday 30 November.
AS_OF = "2026-12-01T08:00"
AS_OF_UTC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def write_config(
    tmp_path: Path, database_url: str, fake_slack: FakeSlack, *, enabled: str = '["digest"]', digest: str = ""
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[team]\ntimezone = "Europe/Helsinki"\nlanguage = "en"\n'
        f'[slack]\nbot_token = {fake_slack.bot_token!r}\napp_token = "xapp-1"\n'
        f'api_url = {fake_slack.api_url!r}\ninbox_channel = "CINBOX"\n'
        f"[database]\nurl = {database_url!r}\n"
        f"[plugins]\nenabled = {enabled}\n"
        f"[plugins.digest]\nchannel = {MANAGERS!r}\n{digest}",
        encoding="utf-8",
    )
    return path


async def chatops(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """``chatops -c config args`` in a thread (it runs its own event loop): exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


async def monday(database_url: str) -> None:
    """Monday 30 November in Helsinki: Maija's at 09:00 answered in 30 min by Anna; Piotr's never."""
    db = Database(database_url)
    try:
        data = Data(db)
        maija = await data.conversation(utc(11, 30, 7), author="maija", name="Maija")
        await data.reply(maija, utc(11, 30, 7, 30), by="UANNA")
        await data.conversation(utc(11, 30, 10), author="piotr", name="Piotr")
    finally:
        await db.dispose()


async def expected_text(config: Path, database_url: str) -> str:
    """What the digest of Monday as of Tuesday 08:00 reads as text, by the same config."""
    loaded = cli_support.load(argparse.Namespace(config=str(config)))
    db = Database(database_url)
    try:
        report = await compose(db, "yesterday", AS_OF_UTC, loaded.tz, loaded.options, chart=False)
    finally:
        await db.dispose()
    return render.digest_text(report, loaded.t, source_name=terminal.source_names(loaded.settings))


async def test_chatops_digest_prints_the_digest_as_text(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, digest_database, fake_slack)
    await monday(digest_database)
    code, out, err = await chatops(capsys, config, "digest", "--period", "yesterday", "--as-of", AS_OF)
    assert (code, err) == (0, "")
    assert out == await expected_text(config, digest_database)
    # Hand-computed: Maija's answered in 30 min, Piotr's not; nothing on Sunday.
    assert out.startswith("Daily digest · Mon 30 Nov\nCompared with Sun 29 Nov · figures as of Tue 1 Dec 08:00\n")
    assert re.search(r"\n  Conversations in: +2 ▲ \+2 \(was 0\)\n", out)
    assert re.search(r"\n  Response rate: +50 % \(nothing to compare\)\n", out)
    assert re.search(r"\n  Median: +30 min \(nothing to compare\)\n", out)
    assert "UANNA" in out, "offline, people are shown by their ids"
    assert fake_slack.calls == [], "printing talks to nobody"
    # Without --as-of: now, and yesterday is the default.
    code, out, err = await chatops(capsys, config, "digest")
    assert code == 0 and out.strip() and err == ""


async def test_chatops_digest_post_posts_it_to_the_managers_channel_with_its_chart(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, digest_database, fake_slack)
    fake_slack.add_user("UANNA", name="anna", real_name="Anna", display_name="Anna")
    await monday(digest_database)
    code, out, err = await chatops(capsys, config, "digest", "--as-of", AS_OF, "--post")
    assert (code, err) == (0, "")
    [digest] = [m for m in fake_slack.top_level_messages(MANAGERS) if not m.get("upload")]
    text = block_text(digest["blocks"])
    assert text.startswith("Daily digest · Mon 30 Nov\nCompared with Sun 29 Nov · figures as of Tue 1 Dec 08:00\n")
    assert "*Conversations in*\n2 ▲ +2 (was 0)\n" in text
    assert "• Anna: handled 1 · median first response 30 min" in text.splitlines()
    assert "UANNA" not in text
    [shared] = [m for m in fake_slack.top_level_messages(MANAGERS) if m.get("upload")]
    chart = fake_slack.file(shared["files"][0]["id"])
    assert chart["content"].startswith(b"\x89PNG") and chart["filename"] == "digest-2026-11-30.png"
    permalink = f"{fake_slack.workspace_url}archives/{MANAGERS}/p{digest['ts'].replace('.', '')}"
    assert out.endswith(f"Posted to {MANAGERS}: {permalink}\n")
    assert re.search(r"\n  • Anna: handled 1 · median first response 30 min\n", out), "named as in the post"


async def test_chatops_digest_post_that_slack_refuses_is_one_line(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, digest_database, fake_slack, digest="chart = false\n")
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    code, out, err = await chatops(capsys, config, "digest", "--post")
    assert code == 1
    assert err == "slack: not_in_channel\n"
    assert out.strip(), "the digest is still printed"


async def test_chatops_digest_without_the_plugin_enabled_is_a_one_line_config_error(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, digest_database, fake_slack, enabled="[]")
    code, out, err = await chatops(capsys, config, "digest", "--period", "week")
    assert (code, out) == (2, "")
    assert err == 'config error: plugins.enabled: add "digest" to use the digest and reports\n'


async def test_chatops_digest_with_a_mistake_in_its_config_or_arguments_says_so_in_one_line(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, digest_database, fake_slack)
    code, out, err = await chatops(capsys, config, "digest", "--as-of", "yesterday morning")
    assert (code, out) == (2, "")
    assert err == "config error: --as-of: 'yesterday morning' is not a time like 2026-12-01T08:00\n"
    for absurd in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00", "20226-12-01"):
        code, out, err = await chatops(capsys, config, "digest", "--as-of", absurd)
        assert (code, out) == (2, ""), absurd
        assert err.startswith("config error: --as-of: ") and err.count("\n") == 1, err
    with pytest.raises(SystemExit) as exited:
        await chatops(capsys, config, "digest", "--period", "month")
    assert exited.value.code == 2
    assert "argument --period: invalid choice: 'month'" in capsys.readouterr().err
    bad = write_config(tmp_path, digest_database, fake_slack, digest='daily_at = "8 o\'clock"\n')
    code, out, err = await chatops(capsys, bad, "digest")
    assert (code, out) == (2, "")
    assert err.startswith("config error: plugins.digest.daily_at: ") and err.count("\n") == 1


async def test_a_mistake_in_the_rotas_section_is_one_line_as_when_the_bot_starts(
    digest_database: str, fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The digest counts in the rota's service hours, so it reads the rota's section checked as the bot checks it."""
    rota = '[plugins.rota]\nleads = ["ULENA"]\n[plugins.rota.service_hours]\ntue = "nine to five"\n'
    config = write_config(tmp_path, digest_database, fake_slack, enabled='["digest", "rota"]', digest=rota)
    code, out, err = await chatops(capsys, config, "digest", "--as-of", AS_OF)
    assert (code, out) == (2, "")
    assert err.startswith("config error: plugins.rota.service_hours") and err.count("\n") == 1
