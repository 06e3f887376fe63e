"""Delivering one signed Slack interaction several times: one after another, at once, or to two replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack

#: How each replayed interaction is delivered (three copies each time).
MODES = ["one_after_another", "at_once", "at_once_on_two_replicas"]
COPIES = 3


@dataclass
class Replays:
    """The bot under test and how to deliver copies: pass ``**replays.how`` to ``click``/``submit``."""

    bot: TestBot
    how: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def replaying(
    mode: str, fake_slack: FakeSlack, database_url: str, config: Mapping[str, Any] | None = None
) -> AsyncIterator[Replays]:
    """Start the bot (and, for two replicas, a second one on the same database) for ``mode``."""
    async with TestBot(fake_slack, database_url, config=config, instance_id="replica-a") as bot:
        if mode != "at_once_on_two_replicas":
            yield Replays(bot, {"replay": COPIES, "concurrently": mode == "at_once"})
            return
        async with TestBot(fake_slack, database_url, config=config, instance_id="replica-b") as other:
            yield Replays(bot, {"replay": COPIES, "concurrently": True, "to": other})
