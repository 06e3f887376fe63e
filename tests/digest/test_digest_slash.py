"""``/chatops digest [today|yesterday|week]``: the digest for the asker alone, acknowledged at once (both databases).

The digest follows the acknowledgement through the command's ``response_url``; the fake Slack
does not serve one, so each test gives the command a receiver of its own (the ``callback``
fixture) and reads what reached it. The scheduled digests are off in these tests, so nothing
the background minute job does can show up in the channel.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from digest_kit import MANAGERS, Data, DigestBot

from chatops.testing.bot import INBOX, CallbackReceiver, Person, TestBot, block_text
from chatops.testing.slack_requests import slash_command_body

#: Tuesday 1 December 2026, 12:00 in Helsinki (UTC+2).
TUESDAY_NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
#: Slack's limit for acknowledging a command.
#: The schedule off: no scheduled digest can be posted while these tests run.
NO_SCHEDULE: dict[str, Any] = {"daily": False, "weekly_on": ""}


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def ask(bot: TestBot, person: Person, text: str, response_url: str) -> httpx.Response:
    """``person`` types ``/chatops text`` in the inbox; returns the acknowledgement.

    The digest itself comes later through ``response_url``: that the acknowledgement says
    "Counting…" while the digest arrives separately shows the slow work runs after ``ack()``
    (how fast is for benchmarks, not for a unit test on a shared machine)."""
    assert bot.slack is not None
    body = slash_command_body(
        command="/chatops",
        text=text,
        user_id=person.id,
        user_name=person.name.lower(),
        channel_id=INBOX,
        trigger_id=bot.slack.new_trigger_id(person.id),
        response_url=response_url,
    )
    return await bot.slack_request(body)


async def some_days(bot: TestBot) -> None:
    """Monday 30 November: two conversations, Maija's answered by Anna in 30 min, Piotr's not at all.
    Tuesday 1 December before noon: one, answered by Anna in 5 min."""
    bot.person("Anna")
    assert bot.app is not None
    data = Data(bot.app.db)
    maija = await data.conversation(utc(11, 30, 7), author="maija", name="Maija")
    await data.reply(maija, utc(11, 30, 7, 30), by="UANNA")
    await data.conversation(utc(11, 30, 10), author="piotr", name="Piotr")
    today = await data.conversation(utc(12, 1, 8), author="olli", name="Olli")
    await data.reply(today, utc(12, 1, 8, 5), by="UANNA")


def value(text: str, label: str) -> str:
    """The figure shown under ``label`` (a bold field title) in a digest's text."""
    lines = text.splitlines()
    assert f"*{label}*" in lines, f"no {label!r} in:\n{text}"
    return lines[lines.index(f"*{label}*") + 1]


def nothing_else_posted(bot: TestBot) -> None:
    """No message in any channel and no ephemeral from the Web API: the answer went to the response_url only."""
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.ok] == []
    assert bot.slack.ephemerals() == []
    assert bot.slack.messages(MANAGERS) == []


async def test_chatops_digest_yesterday_answers_the_asker_alone_after_an_immediate_ack(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        await some_days(bot)
        lena, jari = bot.person("Lena"), bot.person("Jari")
        answer = await ask(bot, lena, "digest yesterday", callback.url)
        assert answer.status_code == 200
        assert answer.text == "Counting yesterday's figures…"
        [response] = await callback.wait_for(1)
        await asyncio.sleep(0.2)
        assert len(callback.received) == 1
        nothing_else_posted(bot)
        assert bot.ephemerals(jari) == [] and bot.ephemerals(lena) == []
    assert response["response_type"] == "ephemeral"
    text = block_text(response["blocks"])
    assert text.startswith("Daily digest · Mon 30 Nov\n") and "Mon 30 Nov" in response["text"]
    # As of now (12:00 Tuesday): Maija's answered in 30 min, Piotr's not (a breach), none on Sunday.
    assert value(text, "Conversations in") == "2 ▲ +2 (was 0)"
    assert value(text, "Response rate") == "50 % (nothing to compare)"
    assert value(text, "Still unanswered") == "1 ▲ +1 (was 0)"
    assert value(text, "Median") == "30 min (nothing to compare)"
    assert value(text, "Breaches") == "1 ▲ +1 (was 0)"
    assert "• Anna: handled 1 · median first response 30 min" in text.splitlines()
    assert "<@UANNA>" not in text
    assert not any(block.get("type") == "image" for block in response["blocks"]), "no chart in an ephemeral"


async def test_chatops_digest_alone_is_yesterdays_and_today_and_week_are_theirs(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        await some_days(bot)
        lena = bot.person("Lena")
        for text, ack in (
            ("digest", "Counting yesterday's figures…"),
            ("DIGEST Today", "Counting today's figures…"),
            ("  digest   week ", "Counting the week's figures…"),
        ):
            answer = await ask(bot, lena, text, callback.url)
            assert answer.text == ack
        # Each is composed after its own acknowledgement: they may arrive in any order.
        answers = {block_text(r["blocks"]).split(" · ")[0]: block_text(r["blocks"]) for r in await callback.wait_for(3)}
        yesterday, today, week = answers["Daily digest"], answers["Today so far"], answers["Weekly digest"]
        nothing_else_posted(bot)
    assert yesterday.startswith("Daily digest · Mon 30 Nov\n")
    assert value(yesterday, "Conversations in") == "2 ▲ +2 (was 0)"
    # Today until 12:00 against Monday until 12:00: Olli's, answered in 5 min, against Maija's in 30.
    assert today.startswith("Today so far · Tue 1 Dec\nCompared with Mon 30 Nov until 12:00")
    assert value(today, "Conversations in") == "1 → no change"
    assert value(today, "Median") == "5 min ▼ −25 min (was 30 min)"
    assert value(today, "Response rate") == "100 % → no change"
    # The seven days before today: Monday's two.
    assert week.startswith("Weekly digest · 24–30 Nov\n")
    assert value(week, "Conversations in") == "2 ▲ +2 (was 0)"


async def test_chatops_with_anything_but_a_period_answers_with_the_usage(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        lena = bot.person("Lena")
        nonsense = await ask(bot, lena, "digest nonsense", callback.url)
        bare = await ask(bot, lena, "", callback.url)
        helped = await ask(bot, lena, "help", callback.url)
        hostile = await ask(bot, lena, "<!channel> *x*", callback.url)
        await asyncio.sleep(0.3)
        assert callback.received == []
        nothing_else_posted(bot)
    usage = "/chatops digest today"
    assert nonsense.text.startswith("I don't know “nonsense”.\n") and usage in nonsense.text
    assert bare.text.startswith("*/chatops digest* shows the digest to you alone") and usage in bare.text
    assert helped.text == bare.text
    assert f"<#{MANAGERS}>" in bare.text, "the usage says where the chart is"
    assert "<!channel>" not in hostile.text and "&lt;!channel&gt;" in hostile.text


async def test_the_usage_is_in_the_teams_language(digest_bot: DigestBot, callback: CallbackReceiver) -> None:
    async with digest_bot(now=TUESDAY_NOON, language="pl", **NO_SCHEDULE) as bot:
        answer = await ask(bot, bot.person("Lena"), "digest jutro", callback.url)
        working = await ask(bot, bot.person("Lena"), "digest week", callback.url)
        await callback.wait_for(1)
    assert answer.text.startswith("Nie znam słowa „jutro”.\n*/chatops digest* pokazuje podsumowanie tylko tobie")
    assert working.text == "Liczę dane z tygodnia…"


async def test_when_the_digest_cannot_be_read_the_asker_gets_an_apology_not_a_traceback(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        # A real failure of the database under the figures: the table they read is gone.
        async with bot.app.db.write() as session:
            await session.execute(sa.text("ALTER TABLE conversations RENAME TO conversations_away"))
        try:
            answer = await ask(bot, bot.person("Lena"), "digest", callback.url)
            [response] = await callback.wait_for(1)
        finally:
            async with bot.app.db.write() as session:
                await session.execute(sa.text("ALTER TABLE conversations_away RENAME TO conversations"))
        nothing_else_posted(bot)
    assert answer.status_code == 200
    assert response["response_type"] == "ephemeral"
    assert response["text"].startswith("Sorry, the digest could not be put together just now.")
    assert "Traceback" not in response["text"] and "conversations" not in response["text"]
    assert not response.get("blocks")


async def test_an_empty_day_is_answered_plainly(digest_bot: DigestBot, callback: CallbackReceiver) -> None:
    async with digest_bot(now=TUESDAY_NOON + timedelta(days=30), **NO_SCHEDULE) as bot:
        await ask(bot, bot.person("Lena"), "digest", callback.url)
        [response] = await callback.wait_for(1)
    assert response["response_type"] == "ephemeral"
    assert "No customer messages on Wed 30 Dec." in block_text(response["blocks"])
