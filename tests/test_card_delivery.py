"""Accepted means shown: cards that always fit, a minimal card when the full one is refused, an ops alert
when even that fails, and Slack failures logged from the first one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from chatops.models import Alert, OutboxJob
from chatops.sources import Author, InboundMessage
from chatops.testing.bot import INBOX, OPS, CallbackReceiver, TestBot
from chatops.testing.card_checks import assert_postable
from chatops.testing.fake_slack import FakeSlack

POLISH = (
    "Dzień dobry, zamówiłam w zeszłym tygodniu żółtą sukienkę w rozmiarze 38 i do dziś nie dotarła. "
    "Czy mogą Państwo sprawdzić, gdzie jest paczka? Źle się dzieje, gdy nikt nie odpowiada na maile. "
)


def polish(length: int) -> str:
    return (POLISH * (length // len(POLISH) + 1))[:length]


async def _job(bot: TestBot, kind: str) -> OutboxJob:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        job = await session.scalar(select(OutboxJob).where(OutboxJob.kind == kind).order_by(OutboxJob.id.desc()))
    assert job is not None
    return job


@pytest.mark.parametrize(
    ("length", "author"),
    [
        (3200, {"name": "N" * 95, "handle": "h", "url": "https://example.test/" + "u" * 79}),
        (2800, {"name": "Anna", "handle": "anna", "url": "https://example.test/" + "u" * 179}),
        (3200, {"name": "Ż" * 255, "handle": "&" * 255, "url": "https://example.test/a"}),
    ],
    ids=["3200-chars-long-name-and-url", "2800-chars-200-char-url", "255-char-name-and-handle"],
)
async def test_a_long_message_with_a_long_author_appears_as_a_card(
    bot: TestBot, length: int, author: dict[str, str]
) -> None:
    text = polish(length)
    await bot.comment(text, author=author)
    card = await bot.next_card()
    assert_postable(card.message)
    assert text[:500] in card.text
    # The author line takes its share of the section: the text is cut where the section is full.
    assert f"of {length} characters" in card.text
    assert "full_text" in card.buttons


async def test_thirty_long_tags_fit_on_the_card(bot: TestBot) -> None:
    await bot.comment("Tag me")
    card = await bot.next_card()
    assert bot.app is not None
    tags = [f"{i:02d}" + "&<" * 31 for i in range(30)]
    await bot.app.workflow.set_tags(card.conversation_id, "UANNA", tags, None)
    await card.wait_for(lambda c: "more" in c.text and "00&amp;&lt;" in str(c.message["blocks"]))
    assert_postable(card.message)
    await bot.idle()
    assert (await _job(bot, "card.update")).status == "done"


async def test_a_message_dated_year_9999_appears_as_a_card(bot: TestBot) -> None:
    assert bot.app is not None
    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    await bot.app.ingest(
        InboundMessage(
            source="webhook", external_id="a", thread_id="a", text="b", author=Author(name="Far"), created_at=far
        )
    )
    card = await bot.next_card()
    assert "9999-12-31 23:59" in card.text


async def test_a_card_slack_refuses_is_posted_as_a_minimal_card(bot: TestBot) -> None:
    bot.slack.fail_next("chat.postMessage", error="invalid_blocks")
    await bot.comment("Refused once <!channel>", author={"name": "Anna Nowak", "handle": "anna"})
    card = await bot.next_card()
    assert "Short form" in card.text and "Refused once &lt;!channel&gt;" in str(card.message["blocks"])
    assert {"claim", "tag", "resolve"} <= set(card.buttons)
    assert card.message["metadata"]["event_payload"]["conversation_id"] == card.conversation_id
    await bot.idle()
    assert (await _job(bot, "card.post")).status == "done"


async def test_a_card_that_cannot_be_drawn_is_posted_as_a_minimal_card(bot: TestBot) -> None:
    assert bot.app is not None

    async def broken(card: Any) -> dict[str, Any]:
        raise OverflowError("date value out of range")

    bot.app.renderer.render_card = broken  # type: ignore[method-assign]
    await bot.comment("Poisoned")
    card = await bot.next_card()
    assert "Short form" in card.text and "Poisoned" in card.text


async def test_a_card_update_slack_refuses_falls_back_to_the_minimal_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Update me")
    card = await bot.next_card()
    bot.slack.fail_next("chat.update", error="msg_blocks_too_long")
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Short form" in c.text and "Claimed by <@UANNA>" in c.text)


async def test_when_even_the_minimal_card_is_refused_the_ops_channel_is_told(bot: TestBot) -> None:
    bot.slack.fail_next("chat.postMessage", error="invalid_blocks", times=2)
    await bot.comment("Nobody sees me & my order", author={"name": "Zofia Żółć", "handle": "zofia"})
    [alert] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok)
    job = await _job(bot, "card.post")
    text = alert.args["text"]
    assert job.status == "dead" and job.last_error == "Slack: invalid_blocks"
    assert f"conversation {job.conversation_id}" in text
    assert "Webhook message from Zofia Żółć" in text and "Nobody sees me &amp; my order" in text
    assert f"`chatops outbox retry {job.id}`" in text
    assert bot.cards(INBOX) == []


async def test_a_card_given_up_on_channel_not_found_is_alerted_and_logged_from_the_first_failure(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatops.delivery")
    async with TestBot(fake_slack, database_url, config={"delivery": {"max_attempts": 3}}) as bot:
        fake_slack.fail_next("chat.postMessage", error="channel_not_found", times=3)
        await bot.comment("Lost in the wrong channel")
        await fake_slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok)
        job = await _job(bot, "card.post")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "chatops.delivery"]
    first = warnings[0].getMessage()
    assert f"outbox job {job.id} (card.post, conversation {job.conversation_id})" in first
    assert "channel_not_found" in first and "attempt 1 of 3" in first
    assert job.status == "dead"


async def test_a_job_that_recovers_says_so(bot: TestBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chatops.delivery")
    bot.slack.fail_next("chat.postMessage", error="internal_error", times=2)
    await bot.comment("Third time lucky")
    await bot.next_card()
    await bot.idle()
    job = await _job(bot, "card.post")
    lines = [r.getMessage() for r in caplog.records]
    assert any(f"outbox job {job.id}" in line and "internal_error" in line for line in lines)
    assert any(f"outbox job {job.id}" in line and "recovered" in line and "2 failed" in line for line in lines)


async def test_a_reply_given_up_is_logged_as_given_up_not_as_recovered(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # The reply's job ends "done" (the card then shows the failure and a Retry button), but for
    # the operator reading the log it failed: it used to say "recovered: done after 1 failed attempt(s)".
    caplog.set_level(logging.INFO, logger="chatops.delivery")
    config = {"delivery": {"max_attempts": 2, "backoff_base_seconds": 0.05}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        callback.fail_next(500, times=2)
        await bot.comment("Anyone there?", reply_url=callback.url)
        card = await bot.next_card()
        await bot.reply(bot.person("Anna"), card, "Yes!")
        await card.wait_for(lambda c: "retry" in c.buttons)
        await bot.idle()
        job = await _job(bot, "answer.send")
    lines = [r.getMessage() for r in caplog.records if f"outbox job {job.id} " in r.getMessage()]
    assert not any("recovered" in line for line in lines), lines
    [given_up] = [line for line in lines if "gave up" in line]
    assert "after 2 attempt(s)" in given_up and "card shows the failure" in given_up


async def test_a_follow_up_that_cannot_be_threaded_is_alerted(fake_slack: FakeSlack, database_url: str) -> None:
    async with TestBot(fake_slack, database_url, config={"delivery": {"max_attempts": 1}}) as bot:
        await bot.comment("First", id="f1", thread_id="t")
        await bot.next_card()
        fake_slack.fail_next("chat.postMessage", error="channel_not_found")
        await bot.comment("Second, never threaded", id="f2", thread_id="t")
        [alert] = await fake_slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok)
        assert "Second, never threaded" in alert.args["text"]
        assert bot.app is not None
        async with bot.app.db.read() as session:
            keys = (await session.scalars(select(Alert.key).where(Alert.plugin == "chatops"))).all()
        assert [k.split(":")[0] for k in keys] == ["message"]


async def test_a_plugin_decoration_slack_would_refuse_is_dropped_and_logged(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from chatops.hookspecs import hookimpl

    class Decorator:
        @hookimpl
        def chatops_card_blocks(self, ctx: Any, card: Any) -> list[dict[str, Any]]:
            return [
                {"type": "section", "block_id": "shift", "text": {"type": "mrkdwn", "text": "On shift: Anna"}},
                {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
                {"type": "section", "block_id": "message", "text": {"type": "mrkdwn", "text": "steals an id"}},
                *({"type": "section", "text": {"type": "mrkdwn", "text": f"filler {i}"}} for i in range(60)),
            ]

    caplog.set_level(logging.WARNING, logger="chatops.slack.card")
    config = {"plugins": {"enabled": ["webhook", "decorator"]}}
    async with TestBot(fake_slack, database_url, config=config, extra_plugins={"decorator": Decorator()}) as bot:
        await bot.comment("Decorate me")
        card = await bot.next_card()
    blocks = card.message["blocks"]
    assert len(blocks) == 50 and blocks[-1]["block_id"] in ("actions", "actions2")
    assert "On shift: Anna" in card.text and "steals an id" not in card.text and "h" * 151 not in card.text
    dropped = [r.getMessage() for r in caplog.records if "decoration block" in r.getMessage()]
    assert any("block 1 dropped" in line and "150" in line for line in dropped)
    assert any("block 2 dropped" in line and "'message'" in line for line in dropped)
    assert any("no room: a message holds 50 blocks" in line for line in dropped)


async def test_bidi_and_zero_width_characters_show_as_marks_and_are_stored_exactly(bot: TestBot) -> None:
    text = "Refund \u202eredro ym\u202c please\u200b\u2066!"
    await bot.comment(text, author={"name": "Eve\u202e", "handle": "eve"}, id="bidi", thread_id="bidi")
    card = await bot.next_card()
    assert "Refund ⟨U+202E⟩redro ym⟨U+202C⟩ please⟨U+200B⟩⟨U+2066⟩!" in card.text
    assert "Eve⟨U+202E⟩" in card.text
    await bot.comment("again \u200f", id="bidi2", thread_id="bidi")
    await card.wait_for(lambda c: "again ⟨U+200F⟩" in c.thread_text())
    shown = card.text + card.thread_text() + str(card.message["text"])
    assert not any(ch in shown for ch in "\u202e\u202c\u200b\u2066\u200f")
    assert bot.app is not None
    async with bot.app.db.read() as session:
        from chatops.models import Message

        stored = await session.scalar(select(Message.text).where(Message.external_id == "bidi"))
    assert stored == text
