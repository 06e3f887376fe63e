"""The hello plugin against the real bot: fake Slack over HTTP, SQLite and PostgreSQL, every hook.

Only ``chatops.testing`` (and the ``chatops`` command) is used: what any plugin author has.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from chatops.cli import main
from chatops.config import ConfigError
from chatops.testing.bot import INBOX, CallbackReceiver, TestBot
from chatops.testing.card_checks import assert_postable
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.webhook.testing import WebhookCustomer

#: The plugins these tests enable: a source for customers' messages, and hello.
PLUGINS = ["webhook", "hello"]
#: ``hello_bot(language=..., **settings)`` from conftest.py: an async context manager giving a started TestBot.
HelloBot = Any


def stats_cli(config_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``chatops hello-stats`` prints (the plugin's CLI command; it runs an event loop of its own)."""
    assert main(["-c", str(config_file), "hello-stats"]) == 0
    return capsys.readouterr().out


def test_db_upgrade_creates_the_table_and_the_cli_reads_it(
    database_url: str, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if database_url.startswith("sqlite"):
        # A fresh file has the core's tables only; PostgreSQL's test database keeps hello's between tests.
        assert main(["-c", str(config_file), "hello-stats"]) == 2
        assert "run `chatops db upgrade`" in capsys.readouterr().err
    assert main(["-c", str(config_file), "db", "upgrade"]) == 0
    assert "plugin hello" in capsys.readouterr().out
    assert stats_cli(config_file, capsys).splitlines()[-1] == "total: 0 replies in 0 conversations"
    assert main(["-c", str(config_file), "plugins"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.split() and line.split()[0] == "hello"]
    assert listed and "listed in plugins.enabled" in listed[0], listed


async def test_each_sent_reply_is_counted_and_shown_on_the_card(
    hello_bot: HelloBot, callback: CallbackReceiver, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with hello_bot() as bot:
        anna = bot.person("Anna")
        await bot.comment("Where is my order?", reply_url=callback.url)
        card = await bot.next_card()
        assert "replies so far" not in card.text

        await bot.reply(anna, card, "It left the warehouse today.")
        await card.wait_for(lambda c: "👋 1 replies so far" in c.text)
        await bot.reply(anna, card, "It arrives tomorrow.")
        await card.wait_for(lambda c: "👋 2 replies so far" in c.text)
        assert_postable(card.message)
        assert [b for b in card.message["blocks"] if b.get("block_id") == "hello_count"]

        assert bot.http is not None
        stats = (await bot.http.get("/hello/stats")).json()
        assert stats["replies"] == {str(card.conversation_id): 2}
        assert stats["total"] == 2
    lines = (await asyncio.to_thread(stats_cli, config_file, capsys)).splitlines()
    assert lines == [f"conversation {card.conversation_id}: 2", "total: 2 replies in 1 conversations"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "👋 Hello, <@UANNA>! The team has sent 0 replies so far."),
        ("fi", "👋 Hei, <@UANNA>! Tiimi on lähettänyt tähän mennessä 0 vastausta."),
        ("pl", "👋 Cześć, <@UANNA>! Zespół wysłał dotąd 0 odpowiedzi."),
    ],
)
async def test_hello_answers_in_the_teams_language(hello_bot: HelloBot, language: str, expected: str) -> None:
    async with hello_bot(language=language) as bot:
        anna = bot.person("Anna")
        answer = await bot.command(anna, "/hello")
    assert answer.status_code == 200
    assert answer.text == expected


async def test_the_greeting_job_posts_through_the_outbox(hello_bot: HelloBot, fake_slack: FakeSlack) -> None:
    # 0.01 minutes: an occurrence every 0.6 s, so the test sees one soon.
    async with hello_bot(greeting_channel="CHELLO", every_minutes=0.01):
        deadline = time.monotonic() + 10
        while not fake_slack.top_level_messages("CHELLO"):
            assert time.monotonic() < deadline, "no greeting was posted"
            await asyncio.sleep(0.05)
        greeting = fake_slack.top_level_messages("CHELLO")[0]
    assert greeting["text"].startswith("👋 Hello, team! A friendly reminder from chatops (")
    # The outbox marks what it posts, so that a post whose answer was lost is found, not repeated.
    assert (greeting.get("metadata") or {}).get("event_type") == "chatops_post"
    assert not fake_slack.top_level_messages(INBOX)


async def test_a_reply_saying_todo_is_refused_and_a_signed_one_is_rewritten(
    hello_bot: HelloBot, callback: CallbackReceiver
) -> None:
    async with hello_bot(signature="Support Squad") as bot:
        anna = bot.person("Anna")
        await bot.comment("Do you ship to Finland?", reply_url=callback.url)
        card = await bot.next_card()

        view = await bot.open_modal(anna, card, "reply")
        sign_block = next(b for b in view["blocks"] if b.get("block_id") == "plugin:hello:sign")
        assert sign_block["element"]["options"][0]["text"]["text"] == "Sign with “Support Squad”"
        refused = await bot.submit(anna, view, {"text": {"text": "Yes, we TODO check the price"}})
        assert refused.json() == {
            "response_action": "errors",
            "errors": {"text": "The reply still says TODO: finish it before sending."},
        }
        await bot.idle()
        assert callback.accepted == []

        view = await bot.open_modal(anna, card, "reply")
        ticked = {"sign": {"type": "checkboxes", "selected_options": [{"value": "sign", "text": {}}]}}
        accepted = await bot.submit(anna, view, {"text": {"text": "Yes, we do."}, "plugin:hello:sign": ticked})
        assert accepted.status_code == 200 and not accepted.text
        [reply] = await callback.wait_for(1)
        assert reply["text"] == "Yes, we do.\n— Support Squad"
        deadline = time.monotonic() + 5
        while not any("signed with “Support Squad”" in e for e in bot.ephemerals(anna)):
            assert time.monotonic() < deadline, bot.ephemerals(anna)
            await asyncio.sleep(0.02)
        await card.wait_for(lambda c: "👋 1 replies so far" in c.text)


async def test_a_customer_saying_hello_gets_a_note_on_the_card(hello_bot: HelloBot) -> None:
    async with hello_bot() as bot:
        await bot.comment("Hello! Is the shop open on Sunday?", id="a-1", thread_id="a")
        waved = await bot.next_card()
        await bot.comment("Where is my parcel?", id="b-1", thread_id="b")
        plain = await bot.next_card()
        deadline = time.monotonic() + 5
        while "👋 The customer said hello." not in waved.thread_text():
            assert time.monotonic() < deadline, waved.thread_text()
            await asyncio.sleep(0.02)
        await bot.idle()
    assert "said hello" not in plain.thread_text()


async def test_start_up_and_shutdown_are_remembered(hello_bot: HelloBot) -> None:
    async with hello_bot() as bot:
        assert bot.http is not None
        first = (await bot.http.get("/hello/stats")).json()
    assert first["started_at"] and first["stopped_at"] is None
    async with hello_bot() as bot:
        assert bot.http is not None
        second = (await bot.http.get("/hello/stats")).json()
    assert second["stopped_at"] is not None
    assert first["started_at"] <= second["stopped_at"] <= second["started_at"]


async def test_an_unknown_setting_is_refused_naming_the_key(fake_slack: FakeSlack, database_url: str) -> None:
    config = {"plugins": {"hello": {"colour": "blue"}}}
    with pytest.raises(ConfigError, match=r"plugins\.hello\.colour"):
        await TestBot(fake_slack, database_url, config=config, customer=WebhookCustomer, plugins=PLUGINS).start()
