"""Overflow channels: during a flood new cards spread over more channels; a card's life stays where it is."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chatops.config import parse_settings
from chatops.slack.preflight import check_slack
from chatops.testing.bot import INBOX, TestBot
from chatops.testing.fake_slack import FakeSlack

PACE = 0.2
OVERFLOW = ["COVERFLOW1", "COVERFLOW2"]
CONFIG: dict[str, Any] = {
    "slack": {"post_interval_seconds": PACE},
    "crisis": {"overflow_channels": OVERFLOW, "overflow_backlog": 3, "backlog_check_seconds": 0.02, "banner": False},
}


async def test_a_flood_spreads_new_cards_while_updates_and_threads_stay_with_the_card(
    fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.post_interval = PACE
    async with TestBot(fake_slack, database_url, config=CONFIG, deliver=False) as quiet:
        for i in range(9):
            await quiet.comment(f"The app is down {i}", id=f"down-{i}", thread_id=f"t-{i}")
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        anna = bot.person("Anna")
        deadline = time.monotonic() + 10
        while sum(len(bot.cards(c)) for c in [INBOX, *OVERFLOW]) < 9:
            assert time.monotonic() < deadline, "not every card was posted"
            await asyncio.sleep(0.02)
        # Three channels' pace instead of one: each took a share of the flood (how much depends on
        # how fast the worker comes back on a busy machine; the last few, fewer than
        # overflow_backlog, wait for the inbox).
        shares = {c: len(bot.cards(c)) for c in [INBOX, *OVERFLOW]}
        assert all(share >= 1 for share in shares.values()) and shares[INBOX] <= 6, shares
        card = bot.cards("COVERFLOW1")[0]
        number = card.text.split("The app is down ")[1][0]
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
        await bot.comment("Still down, any news?", id="follow-up", thread_id=f"t-{number}")
        deadline = time.monotonic() + 5
        while "Still down, any news?" not in card.thread_text():
            assert time.monotonic() < deadline, "the follow-up did not reach the card's thread"
            await asyncio.sleep(0.02)
        await bot.idle()
    updates = [c for c in fake_slack.calls_to("chat.update") if c.ok]
    assert updates and all(c.args["channel"] == "COVERFLOW1" for c in updates)
    threads = [c for c in fake_slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert [c.args["channel"] for c in threads] == ["COVERFLOW1"]
    assert sum(len(fake_slack.top_level_messages(c)) for c in [INBOX, *OVERFLOW]) == 9
    assert fake_slack.rate_limited == 0


async def test_on_a_quiet_day_every_card_stays_in_the_inbox(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = PACE
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        for i in range(2):
            await bot.comment(f"A question {i}", id=f"q-{i}")
        for _ in range(2):
            await bot.next_card()
        await bot.idle()
    assert all(fake_slack.top_level_messages(c) == [] for c in OVERFLOW)


async def test_check_network_names_an_overflow_channel_slack_does_not_know(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("COVERFLOW1", "overflow-1")
    settings = parse_settings(
        {
            "slack": {
                "bot_token": fake_slack.bot_token,
                "app_token": "xapp-test",
                "api_url": fake_slack.api_url,
                "inbox_channel": "COVERFLOW1",
            },
            "crisis": {"overflow_channels": ["COVERFLOW1", "CGONE"]},
            "plugins": {"enabled": []},
        },
        environ={},
    )
    results = {r.subject: r for r in await check_slack(settings)}
    assert results["crisis.overflow_channels[0]"].outcome == "ok"
    gone = results["crisis.overflow_channels[1]"]
    assert gone.outcome == "FAILED" and "Slack knows no channel CGONE" in gone.detail
