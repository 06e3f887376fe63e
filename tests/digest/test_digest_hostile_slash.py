"""Hostile ``/chatops digest`` requests: replays, forgeries, odd spacing, a huge text, a response_url that fails.

Both databases. The scheduled digests are off, so only the command can post anything.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from digest_kit import DigestBot

from chatops.testing.bot import INBOX, SIGNING_SECRET, CallbackReceiver, TestBot, block_text
from chatops.testing.card_checks import slack_tokens
from chatops.testing.slack_requests import signed_headers, slash_command_body

TUESDAY_NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NO_SCHEDULE: dict[str, Any] = {"daily": False, "weekly_on": ""}


def body(bot: TestBot, text: str, callback: CallbackReceiver) -> str:
    person = bot.person("Lena")
    return slash_command_body(
        command="/chatops",
        text=text,
        user_id=person.id,
        user_name="lena",
        channel_id=INBOX,
        trigger_id=bot.slack.new_trigger_id(person.id),
        response_url=callback.url,
    )


def nothing_posted(bot: TestBot) -> None:
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.ok] == []
    assert bot.slack.ephemerals() == []


async def test_a_replayed_command_is_answered_alike_and_posts_nothing(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    """The same signed request three times (Slack's retry, a proxy's replay): each answered the same way,
    each answer ephemeral to the asker; nothing reaches a channel."""
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        responses = await bot.replay_request(body(bot, "digest today", callback), 3, concurrently=True)
        assert {r.status_code for r in responses} == {200}
        answers = await callback.wait_for(3, timeout=15)
        await asyncio.sleep(0.2)
        nothing_posted(bot)
    assert {a["response_type"] for a in answers} == {"ephemeral"}
    assert len({block_text(a["blocks"]) for a in answers}) == 1


async def test_forged_and_stale_commands_are_refused_and_compute_nothing(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        assert bot.http is not None
        text = body(bot, "digest week", callback)
        unsigned = await bot.http.post(
            "/slack/events", content=text, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        forged = await bot.http.post("/slack/events", content=text, headers=signed_headers("not-the-secret", text))
        stale = await bot.http.post(
            "/slack/events",
            content=text,
            headers=signed_headers(SIGNING_SECRET, text, timestamp=int(time.time()) - 600),
        )
        tampered_headers = signed_headers(SIGNING_SECRET, text)
        tampered = await bot.http.post("/slack/events", content=text.replace("week", "today"), headers=tampered_headers)
        await asyncio.sleep(0.5)
        assert callback.received == []
        nothing_posted(bot)
    for refused in (unsigned, forged, stale, tampered):
        assert refused.status_code == 401, refused.text
        assert "digest" not in refused.text.lower()


async def test_unicode_spacing_and_case_still_name_the_period(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        answers = []
        for text in ("DIGEST\u00a0Today", "\u3000digest\u2003week\u3000", "Digest\ttoday\n"):
            answer = await bot.slack_request(body(bot, text, callback))
            answers.append(answer.text)
        await callback.wait_for(3, timeout=15)
    assert answers == ["Counting today's figures…", "Counting the week's figures…", "Counting today's figures…"]


async def test_a_huge_or_invisible_word_is_quoted_back_short_and_harmless(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        huge = await bot.slack_request(body(bot, "digest " + "<!here>" * 500, callback))
        hidden = await bot.slack_request(body(bot, "digest\u200btoday", callback))
        rtl = await bot.slack_request(body(bot, "digest \u202eyadot", callback))
        await asyncio.sleep(0.3)
        assert callback.received == []
    for answer in (huge, hidden, rtl):
        assert answer.status_code == 200
        assert slack_tokens({"text": answer.text}) == ["#CMANAGERS"], answer.text
        assert len(answer.text) < 1500
        assert "\u200b" not in answer.text and "\u202e" not in answer.text


async def test_a_response_url_that_fails_costs_that_answer_only(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    async with digest_bot(now=TUESDAY_NOON, **NO_SCHEDULE) as bot:
        callback.fail_next(status=500, times=1)
        first = await bot.slack_request(body(bot, "digest", callback))
        await asyncio.sleep(1.0)
        second = await bot.slack_request(body(bot, "digest", callback))
        [answer] = await callback.wait_for(1, timeout=15)
        nothing_posted(bot)
    assert first.status_code == second.status_code == 200
    assert answer["response_type"] == "ephemeral"
