"""The crisis banner and the backlog alert: what the team sees in the inbox and the ops channel during a flood."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from chatops.config import ConfigError, parse_settings
from chatops.crisis import CrisisBanners
from chatops.db import Database
from chatops.i18n import Translator
from chatops.models import Alert, Conversation, CrisisBanner, OutboxJob, Rollup, utcnow
from chatops.testing.bot import INBOX, OPS, TestBot
from chatops.testing.fake_slack import FakeSlack

PACE = 0.08
#: A flood the size of a test: more than 4 waiting is a crisis, redrawn every 0.2 s, counted every 20 ms.
CONFIG: dict[str, Any] = {
    "slack": {"post_interval_seconds": PACE},
    "priority": {"keywords": ["refund"]},
    "crisis": {"banner_backlog": 4, "banner_update_seconds": 0.2, "backlog_check_seconds": 0.02},
}


async def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)
    return found


async def store_flood(slack: FakeSlack, database_url: str, count: int, urgent: int = 0) -> None:
    """``count`` comments arrive while no bot delivers (``urgent`` of them ask for a refund)."""
    async with TestBot(slack, database_url, config=CONFIG, deliver=False) as bot:
        for i in range(count):
            text = f"Where is my refund? {i}" if i < urgent else f"The app is down again {i}"
            await bot.comment(text, id=f"flood-{i}")


def banner_messages(slack: FakeSlack) -> list[dict[str, Any]]:
    return [
        m for m in slack.top_level_messages(INBOX) if "comments are waiting" in m["text"] or "rush is over" in m["text"]
    ]


async def test_a_flood_shows_the_banner_first_redraws_it_and_says_when_it_is_over(
    fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.post_interval = PACE
    await store_flood(fake_slack, database_url, 12, urgent=3)
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        [banner] = await wait_until(lambda: banner_messages(fake_slack), what="the banner")
        # Posted before any card: the backlog is as it was when the bot started.
        first = banner.get("history", [{}])[0].get("text") if banner.get("history") else banner["text"]
        assert re.search(
            r"\*Busy inbox: 12 comments are waiting for a card\* \(the oldest for \d+ s; 3 urgent\)", first
        )
        assert "Urgent ones get their cards first" in first
        posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.ok]
        assert posts[0].args["channel"] == INBOX and "Busy inbox" in posts[0].args["text"]
        await wait_until(lambda: "rush is over" in banner_messages(fake_slack)[0]["text"], what="the end")
        await bot.idle()
    [banner] = banner_messages(fake_slack)
    assert "at most 12 waited" in banner["text"]
    redraws = [c for c in fake_slack.calls_to("chat.update") if c.args.get("ts") == banner["ts"]]
    # Redrawn while cards were posted (fewer waiting each time), then once more to say it is over.
    assert len(redraws) >= 2
    waiting = [int(m.group(1)) for c in redraws if (m := re.search(r"(\d+) comments are waiting", c.args["text"]))]
    assert waiting == sorted(waiting, reverse=True) and all(n > 2 for n in waiting)
    assert len(bot.cards()) == 12
    assert fake_slack.rate_limited == 0


async def test_the_banner_is_posted_once_across_a_restart_and_two_replicas(
    fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.post_interval = PACE
    await store_flood(fake_slack, database_url, 14)
    async with TestBot(fake_slack, database_url, config=CONFIG, instance_id="first"):
        await wait_until(lambda: banner_messages(fake_slack), what="the banner")
    # Stopped mid-flood: the next two replicas find the banner in the database, not in their memory.
    assert "comments are waiting" in banner_messages(fake_slack)[0]["text"]
    async with (
        TestBot(fake_slack, database_url, config=CONFIG, instance_id="second") as second,
        TestBot(fake_slack, database_url, config=CONFIG, instance_id="third"),
    ):
        await wait_until(lambda: "rush is over" in banner_messages(fake_slack)[0]["text"], what="the end")
        await second.idle()
    assert len(banner_messages(fake_slack)) == 1
    assert len(second.cards()) == 14


async def test_a_new_flood_after_the_last_one_ended_gets_a_new_banner(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = PACE
    for flood in range(2):
        async with TestBot(fake_slack, database_url, config=CONFIG, deliver=False) as quiet:
            for i in range(7):
                await quiet.comment(f"flood {flood} comment {i}", id=f"f{flood}-{i}")
        async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
            await wait_until(lambda f=flood: len(banner_messages(fake_slack)) == f + 1, what="a banner")
            await wait_until(lambda: all("rush is over" in m["text"] for m in banner_messages(fake_slack)))
            await bot.idle()
    assert len(banner_messages(fake_slack)) == 2


async def test_a_deleted_banner_is_not_posted_again(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = PACE
    await store_flood(fake_slack, database_url, 10)
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        [banner] = await wait_until(lambda: banner_messages(fake_slack), what="the banner")
        await bot.app.slack.chat_delete(channel=INBOX, ts=banner["ts"])  # type: ignore[union-attr]
        await wait_until(lambda: len(bot.cards()) == 10, what="every card")
        await bot.idle()
    assert banner_messages(fake_slack) == []
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if "Busy inbox" in c.args.get("text", "")]) == 1


async def test_comments_on_a_roll_up_not_yet_posted_count_as_waiting(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = PACE
    async with TestBot(fake_slack, database_url, config=CONFIG, deliver=False) as quiet:
        for i in range(10):
            await quiet.comment(f"Summer sale broke {i}", id=f"sale-{i}")
        assert quiet.app is not None
        db = quiet.app.db
        # What the roll-up feature does: six of them gathered on one roll-up, whose card is not posted.
        async with db.write() as session:
            rollup = Rollup(source="webhook", key="https://example.test/c/1", status="open")
            session.add(rollup)
            await session.flush()
            members = (await session.scalars(select(Conversation.id).order_by(Conversation.id).limit(6))).all()
            await session.execute(update(Conversation).where(Conversation.id.in_(members)).values(rollup_id=rollup.id))
            await session.execute(delete(OutboxJob).where(OutboxJob.conversation_id.in_(members)))
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        [banner] = await wait_until(lambda: banner_messages(fake_slack), what="the banner")
        first = banner["history"][0]["text"] if banner.get("history") else banner["text"]
        assert "*Busy inbox: 10 comments are waiting for a card*" in first
        assert "6 of them are gathered on roll-up cards still to be posted" in first
        await wait_until(lambda: len(bot.cards()) == 4, what="the four own cards")
        await bot.idle()
        assert "comments are waiting" in banner_messages(fake_slack)[0]["text"]  # the six still wait
        assert bot.app is not None
        async with bot.app.db.write() as session:
            await session.execute(update(Rollup).values(slack_channel=INBOX, slack_ts="1.000001"))
        await wait_until(lambda: "rush is over" in banner_messages(fake_slack)[0]["text"], what="the end")


async def test_the_backlog_alert_is_raised_when_the_oldest_waits_too_long_and_cleared_when_it_does_not(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = {**CONFIG, "crisis": {**CONFIG["crisis"], "backlog_alert_seconds": 600, "banner": False}}
    fake_slack.post_interval = PACE
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        for i in range(5):
            await quiet.comment(f"Where is my refund? {i}", id=f"late-{i}")
        assert quiet.app is not None
        async with quiet.app.db.write() as session:
            # Slack was away for 20 minutes while these arrived.
            await session.execute(update(OutboxJob).values(created_at=utcnow() - timedelta(minutes=20)))
    async with TestBot(fake_slack, database_url, config=config) as bot:
        [alert] = await wait_until(lambda: fake_slack.top_level_messages(OPS), what="the alert")
        assert "cards are late: 5 comments wait for a card and the oldest has waited 20 min" in alert["text"]
        assert "(the limit is 10 min); 5 urgent ones get their cards first" in alert["text"]
        await wait_until(lambda: len(bot.cards()) == 5, what="every card")
        assert bot.app is not None

        async def cleared() -> bool:
            async with bot.app.db.read() as session:  # type: ignore[union-attr]
                row = await session.scalar(select(Alert).where(Alert.key == "crisis:backlog"))
            return row is not None and row.cleared_at is not None

        deadline = time.monotonic() + 5
        while not await cleared():
            assert time.monotonic() < deadline, "the backlog alert was not cleared"
            await asyncio.sleep(0.02)
        await bot.idle()
    assert len(fake_slack.top_level_messages(OPS)) == 1
    assert banner_messages(fake_slack) == []  # the banner is off in this config


@pytest.mark.parametrize("channel", ["#overflow", "overflow-2", "C1 C2"])
def test_an_overflow_channel_that_is_not_a_channel_id_is_a_config_error_naming_the_key(channel: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(
            {
                "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
                "crisis": {"overflow_channels": ["C2", channel]},
            },
            environ={},
        )
    assert raised.value.key.startswith("crisis.overflow_channels")
    assert "channel ID" in raised.value.problem


@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_the_banner_and_its_end_read_in_each_language_with_every_figure(language: str) -> None:
    settings = parse_settings(
        {
            "team": {"language": language, "timezone": "Europe/Helsinki"},
            "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
            "crisis": {"overflow_channels": ["COVER1", "COVER2"]},
        },
        environ={},
    )
    t = Translator(language)
    banners = CrisisBanners(
        Database("sqlite+aiosqlite://"),
        settings.crisis,
        t,
        settings.team.tz,
        lambda: None,
        overflow_channels=["COVER1"],
    )
    now = utcnow()
    row = CrisisBanner(
        channel="C1",
        generation=1,
        state="active",
        waiting=1234,
        rolled_up=56,
        urgent=78,
        peak=1290,
        oldest_at=now - timedelta(minutes=42),
        started_at=now - timedelta(hours=1),
        updated_at=now,
    )
    text = banners.render(row, now)["text"]
    assert all(figure in text for figure in ("1290", "42 min", "78", "56", "<#COVER1>")), text
    row.state, row.ended_at = "over", now
    over = banners.render(row, now)["text"]
    assert "1290" in over and "{" not in over + text
    assert text != over
