"""Hostile data through the real paths: customers' texts via the webhook, classifiers' junk in ``messages.extra``.

Everything a customer controls (name, handle, the post's title, the channel name) arrives
through the signed webhook, as in production; tags and classifier marks are written the way
the core and plugins store them. The digest read back through ``/chatops digest`` must ping
nobody, hide no link, stay postable, and a terminal must receive no control character.
Both databases.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from digest_kit import Data, DigestBot, clock_of, digests_of_bot

from chatops.models import Conversation, Direction, Message
from chatops.testing.bot import INBOX, CallbackReceiver, TestBot, block_text
from chatops.testing.card_checks import assert_postable, slack_tokens
from chatops.testing.slack_requests import slash_command_body
from chatops_plugins.digest import render
from chatops_plugins.digest.compose import DigestReport

NO_SCHEDULE: dict[str, Any] = {"daily": False, "weekly_on": ""}
#: Where the fake Slack's permalinks (and so the digest's card links) point.
CARD_LINK = "https://chatops-test.slack.com/archives/"

#: Names, handles, titles a hostile customer sends; each tries to ping, link, format or hide.
HOSTILE = (
    "<!channel> <!here> <!everyone> <@U0BOSS> <#C0SECRET>",
    "<http://evil.example/steal|Click for refund>",
    "*bold* _italic_ ~strike~ `code` ```block``` >quote",
    "\u202eevil\u202c \u2066isolate\u2069 zero\u200bwidth",
    "\x1b[31mred\x1b[0m \x07bell \x9b2J",
    "&lt;!channel&gt; &amp; <<!channel>> <mailto:x@evil.example>",
    "🎉" * 300,
    "x" * 5000,
)


async def ask(bot: TestBot, text: str, callback: CallbackReceiver) -> dict[str, Any]:
    """Lena types ``/chatops text``; returns what reached her response_url."""
    person = bot.person("Lena")
    body = slash_command_body(
        command="/chatops",
        text=text,
        user_id=person.id,
        user_name="lena",
        channel_id=INBOX,
        trigger_id=bot.slack.new_trigger_id(person.id),
        response_url=callback.url,
    )
    answer = await bot.slack_request(body)
    assert answer.status_code == 200
    [response] = await callback.wait_for(1, timeout=15)
    return response


async def conversation_ids(bot: TestBot) -> list[int]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return list((await session.scalars(sa.select(Conversation.id).order_by(Conversation.id))).all())


def assert_harmless(message: dict[str, Any]) -> None:
    """Postable, and every ``<…>`` Slack would act on is a link to one of our cards (its label may be anything)."""
    assert_postable(message)
    for token in slack_tokens(message):
        target = token.split("|", 1)[0]
        assert target.startswith(CARD_LINK), f"customer text made a Slack token: <{token}>"
    # Bidi controls are shown as marks (a C0 control is Slack's to ignore, as on the cards).
    text = block_text(message.get("blocks") or []) + message.get("text", "")
    assert "\u202e" not in text and "\u2066" not in text


async def test_hostile_customers_through_the_webhook_reach_the_digest_harmless(
    digest_bot: DigestBot, callback: CallbackReceiver
) -> None:
    # The core stamps a conversation with the real time it arrives: the digest's clock follows it.
    async with digest_bot(now=datetime.now(UTC), **NO_SCHEDULE) as bot:
        for i, hostile in enumerate(HOSTILE):
            payload = bot.comment_payload(
                f"Message {i}: {hostile}",
                author={"name": hostile[:255], "handle": hostile[:255], "id": f"evil-{i}"},
                context={"text": hostile[:2000]},
                channel=hostile[:255],
                thread_id=f"evil-thread-{i}",
                timestamp=datetime.now(UTC).isoformat(),
            )
            answered = await bot.webhook(payload)
            assert answered.status_code < 300, answered.text
        await bot.idle()
        ids = await conversation_ids(bot)
        assert len(ids) == len(HOSTILE)
        assert bot.app is not None
        data = Data(bot.app.db)
        now = datetime.now(UTC)
        for conversation, hostile in zip(ids, HOSTILE, strict=True):
            # Negative, so each is a candidate for the worst-open list with its link; and a hostile tag.
            await data.tag(conversation, "complaint", now)
            await data.tag(conversation, " ".join(hostile.lower().split())[:50] or "empty", now)
        clock_of(bot).set(datetime.now(UTC) + timedelta(seconds=1))
        response = await ask(bot, "digest today", callback)
        report = await digests_of_bot(bot).report("today", chart=False)
        t = digests_of_bot(bot).ctx.t

    text = block_text(response["blocks"])
    assert text.startswith("Today so far"), text[:200]
    assert_harmless(response)
    assert report.current.conversations == len(HOSTILE)
    assert len(report.backlog.worst_negative) == 3
    # The terminal text of the same report: no escape sequence, no bidi override, lists whole.
    printed = render.digest_text(report, t)
    assert not any(ord(c) < 32 and c != "\n" for c in printed)
    assert not any(0x80 <= ord(c) < 0xA0 for c in printed)
    assert "\u202e" not in printed and "\u2066" not in printed
    assert max(len(line) for line in printed.splitlines()) < 400, "a customer's 5,000 characters on one line"


#: What a classifier (or a broken one) may leave in ``extra``: only the exact string "negative"
#: marks a message negative, and only a JSON number is a score.
JUNK_EXTRAS: tuple[dict[str, Any], ...] = (
    {"sentiment": "negative", "sentiment_score": "-0.99"},  # a score as a string: not a number
    {"sentiment": {"label": "negative"}, "sentiment_score": -0.9},  # a nested object: not "negative"
    {"sentiment": ["negative"], "sentiment_score": True},  # a list; a boolean score
    {"sentiment": "NaN", "sentiment_score": "NaN"},
    {"sentiment": "Negative", "sentiment_score": None},  # another case: not the documented value
    {"sentiment": None, "sentiment_score": {"value": -1}},
    {"sentiment": "negative", "sentiment_score": -1e308},  # huge but a double
    {"sentiment": "negative", "sentiment_score": 1e308},
    {"sentiment": True},
    {"sentiment_score": -0.5},  # a score without the mark: not negative
)


async def test_classifier_junk_in_extra_is_read_as_documented_on_both_databases(digest_bot: DigestBot) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        ids = [
            await data.conversation(now - timedelta(hours=2, minutes=i), author=f"c{i}", name=f"C{i}", extra=extra)
            for i, extra in enumerate(JUNK_EXTRAS)
        ]
        report = await digests_of_bot(bot).report("today", chart=True)
    assert report.current.conversations == len(JUNK_EXTRAS)
    # Marked "negative" exactly: the first, the two huge scores.
    assert report.current.negative == 3
    worst = [item.conversation_id for item in report.backlog.worst_negative]
    # Lowest score first: -1e308; then the unscored one (a string score is no score)... list_limit 3.
    assert worst == [ids[6], ids[7], ids[0]]
    assert [item.score for item in report.backlog.worst_negative] == [-1e308, 1e308, None]


async def test_a_score_beyond_a_double_does_not_stop_every_digest(digest_bot: DigestBot) -> None:
    """A classifier stores an integer score no double holds (a bug, or a hostile plugin): one message's junk
    must cost that score, not every digest (scheduled, /chatops digest, the CLI) from then on."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        await data.conversation(now - timedelta(hours=1), extra={"sentiment": "negative", "sentiment_score": 10**400})
        await data.conversation(now - timedelta(hours=1), author="c2", extra={"sentiment": "negative"})
        report = await digests_of_bot(bot).report("today", chart=False)
    assert report.current.negative == 2
    assert len(report.backlog.worst_negative) == 2


async def test_extra_that_is_not_an_object_is_no_mark(digest_bot: DigestBot) -> None:
    """``extra`` holding a JSON list, string or number (a plugin's mistake) reads as no mark, on both databases."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        ids = [await data.conversation(now - timedelta(hours=1), author=f"c{i}") for i in range(3)]
        async with bot.app.db.write() as session:
            for conversation, extra in zip(ids, (["negative"], "negative", -1), strict=True):
                await session.execute(
                    sa.update(Message)
                    .where(Message.conversation_id == conversation, Message.direction == Direction.INBOUND.value)
                    .values(extra=extra)
                )
        report = await digests_of_bot(bot).report("today", chart=True)
    assert report.current.conversations == 3
    assert report.current.negative == 0
    assert report.backlog.worst_negative == ()


async def test_a_reply_stamped_before_its_conversation_is_not_a_negative_response_time(digest_bot: DigestBot) -> None:
    """Clock skew between replicas: the reply's sent_at is 30 s before the conversation's created_at.

    A first response cannot be negative; shown as its absolute value ("30 s") it reads as a slow answer.
    """
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        conversation = await data.conversation(now - timedelta(hours=1))
        await data.reply(conversation, now - timedelta(hours=1, seconds=30))
        report = await digests_of_bot(bot).report("today", chart=False)
    assert report.current.answered == 1
    median = report.current.first_response.median
    assert median is not None
    assert median >= 0, f"first response {median} s"


async def test_many_authors_sources_and_tags_in_one_day_stay_within_slacks_limits(digest_bot: DigestBot) -> None:
    """1,500 conversations from 1,500 authors over 40 sources with 300 tags: blocks postable, lists say "more"."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        db = bot.app.db
        start = now - timedelta(hours=10)
        async with db.write() as session:
            for i in range(1500):
                at = start + timedelta(seconds=20 * i)
                conv = Conversation(
                    source=f"source-{i % 40:02d}-" + "ß" * 40,
                    thread_id=f"t-{i}",
                    context_text="<!here> " * 20,
                    status="new",
                    followup_pending=False,
                    created_at=at,
                    updated_at=at,
                    last_inbound_at=at,
                    slack_channel="CINBOX",
                    slack_ts=f"{1700000000 + i}.000100",
                )
                session.add(conv)
                await session.flush()
                session.add(
                    Message(
                        conversation_id=conv.id,
                        source=conv.source,
                        external_id=f"in-{i}",
                        direction=Direction.INBOUND.value,
                        author_id=f"a-{i}",
                        author_name="<!channel>" + "*" * 200,
                        text="?",
                        source_created_at=at,
                        received_at=at,
                        extra={"sentiment": "negative", "sentiment_score": -i / 1500},
                        kind="comment",
                        hidden=False,
                        delivery_attempts=0,
                    )
                )
        data = Data(db)
        for i in range(300):
            await data.tag(1 + i, f"tag-{i:03d}-" + "&" * 30, start + timedelta(hours=1))
        report = await digests_of_bot(bot).report("today", chart=False)
        t = digests_of_bot(bot).ctx.t
    blocks = render.digest_blocks(
        report, t, {i: f"https://chatops-test.slack.com/archives/C/p{i}" for i in range(2000)}
    )
    message = {"text": render.digest_summary(report, t), "blocks": blocks}
    assert_harmless(message)
    assert len(by_source := report.current.by_source) == 40 and sum(n for _s, n in by_source) == 1500
    text = block_text(blocks)
    assert "more" in text
    printed = render.digest_text(report, t)
    assert len(printed.splitlines()) < 200


async def test_the_same_figures_from_concurrent_reads_while_rows_arrive(digest_bot: DigestBot) -> None:
    """Ten digests read at once while conversations are written: none fails, each is self-consistent."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with digest_bot(now=now, **NO_SCHEDULE) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)

        async def write() -> None:
            for i in range(30):
                conversation = await data.conversation(now - timedelta(minutes=60 - i), author=f"w{i}")
                if i % 2:
                    await data.reply(conversation, now - timedelta(minutes=59 - i))

        reports = await asyncio.gather(write(), *(digests_of_bot(bot).report("today", chart=False) for _ in range(10)))
    for report in reports[1:]:
        assert isinstance(report, DigestReport)
        current = report.current
        assert 0 <= current.answered <= current.conversations <= 30
        assert current.first_response.count == current.answered
