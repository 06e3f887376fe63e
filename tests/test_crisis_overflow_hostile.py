"""Overflow channels on a bad day: one of them stops taking posts (archived, the bot removed)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from chatops.crisis.overflow import OverflowChannels
from chatops.testing.bot import ESCALATIONS, INBOX, OPS, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack

PACE = 0.2
CONFIG: dict[str, Any] = {
    "slack": {"post_interval_seconds": PACE},
    "delivery": {"max_attempts": 3},
    "crisis": {
        "overflow_channels": ["COVERFLOW1", "CGONE"],
        "overflow_backlog": 3,
        "backlog_check_seconds": 0.02,
        "banner": False,
        "rollups": False,
    },
}


async def test_an_overflow_channel_slack_refuses_does_not_swallow_the_flood(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """CGONE answers channel_not_found: a failing channel is always "ready", yet no card may be lost to it."""
    fake_slack.post_interval = PACE
    fake_slack.strict_channels = True
    for channel, name in ((INBOX, "inbox"), (OPS, "ops"), (ESCALATIONS, "escalations"), ("COVERFLOW1", "overflow-1")):
        fake_slack.add_channel(channel, name)
    async with TestBot(fake_slack, database_url, config=CONFIG, deliver=False) as quiet:
        for i in range(9):
            await quiet.comment(f"The app is down {i}", id=f"down-{i}")
    async with TestBot(fake_slack, database_url, config=CONFIG) as bot:
        deadline = time.monotonic() + 15
        while sum(len(bot.cards(c)) for c in (INBOX, "COVERFLOW1")) < 9:
            assert time.monotonic() < deadline, {c: len(bot.cards(c)) for c in (INBOX, "COVERFLOW1")}
            await asyncio.sleep(0.05)
        await bot.idle()
        texts = " ".join(card.text for c in (INBOX, "COVERFLOW1") for card in bot.cards(c))
        assert all(f"The app is down {i}" in texts for i in range(9))


async def test_a_rollup_sent_to_a_refusing_overflow_channel_is_gathered_again_elsewhere(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roll-up's card goes to CGONE, which refuses it: its comments are gathered again elsewhere, each shown once."""
    real_choose = OverflowChannels.choose
    chosen: list[str] = []

    def first_to_gone(self: OverflowChannels, inbox: str) -> str:
        # The flood watch runs first in the first delivery pass: the roll-up's channel is the first choice.
        chosen.append("CGONE" if not chosen else real_choose(self, inbox))
        return chosen[-1]

    monkeypatch.setattr(OverflowChannels, "choose", first_to_gone)
    fake_slack.post_interval = PACE
    fake_slack.strict_channels = True
    for channel, name in ((INBOX, "inbox"), (OPS, "ops"), (ESCALATIONS, "escalations"), ("COVERFLOW1", "overflow-1")):
        fake_slack.add_channel(channel, name)
    crisis = {
        **CONFIG["crisis"],
        "rollups": True,
        "rollup_per_post": 3,
        "rollup_check_seconds": 0,
        "rollup_update_seconds": 0,
    }
    config = {**CONFIG, "crisis": crisis}
    post = {"text": "Summer sale", "url": "https://shop.example/p/summer"}
    texts = [f"#{i}: the code fails" for i in range(12)]
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        for i, text in enumerate(texts):
            await quiet.comment(text, id=f"sale-{i}", context=post)
    async with TestBot(fake_slack, database_url, config=config) as bot:

        def shown() -> str:
            return "\n".join(
                block_text(m.get("blocks") or []) for c in (INBOX, "COVERFLOW1") for m in fake_slack.messages(c)
            )

        deadline = time.monotonic() + 15
        while not all(text in shown() for text in texts):
            assert time.monotonic() < deadline, shown()
            await asyncio.sleep(0.05)
        await bot.idle()
        listed = "\n".join(
            block_text(m.get("blocks") or [])
            for c in (INBOX, "COVERFLOW1")
            for m in fake_slack.messages(c)
            if m.get("thread_ts") and m.get("thread_ts") != m.get("ts")
        )
        cards = "\n".join(card.text for c in (INBOX, "COVERFLOW1") for card in bot.cards(c))
        for text in texts:
            assert (listed + cards).count(text) == 1, text
        assert chosen[0] == "CGONE" and "CGONE" not in chosen[1:]
        assert any("roll-up card could not be posted" in m.get("text", "") for m in fake_slack.messages(OPS))
