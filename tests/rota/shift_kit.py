"""What the tests of shift behaviour share: the hand-offs and notices a bot posted, as people read them."""

from __future__ import annotations

from typing import Any

from rota_kit import rota_of_bot

from chatops.slack.card import METADATA_EVENT_TYPE
from chatops.testing.bot import TestBot, block_text
from chatops_plugins.rota import handoff, records


def readable(message: dict[str, Any]) -> str:
    """Everything a person reads in ``message``: its blocks, or its text when it has none."""
    return block_text(message.get("blocks") or []) or message.get("text", "")


def posts(bot: TestBot) -> list[dict[str, Any]]:
    """Top-level messages in the rota's channel that are not cards."""
    channel = rota_of_bot(bot).channel
    return [
        m
        for m in bot.slack.top_level_messages(channel)
        if (m.get("metadata") or {}).get("event_type") != METADATA_EVENT_TYPE
    ]


def handoffs(bot: TestBot) -> list[dict[str, Any]]:
    """The hand-offs posted, oldest first."""
    return [m for m in posts(bot) if "Shift change" in readable(m) or "Vuoronvaihto" in readable(m)]


def gaps(bot: TestBot) -> list[dict[str, Any]]:
    """The "nobody on shift" notices posted, oldest first."""
    return [m for m in posts(bot) if "Nobody is on shift, and the team is open" in readable(m)]


async def tick(bot: TestBot) -> None:
    """One run of the minute job at the bot's clock, and its posts sent."""
    await handoff.tick(rota_of_bot(bot))
    await bot.idle()


async def two_shifts(bot: TestBot) -> None:
    """Anna 08-16 and Jari 16-22 on weekdays, stored in one transaction.

    The minute job runs for real in the background, and must never see the rota half set up.
    """
    bot.person("Anna")
    bot.person("Jari")
    rota = rota_of_bot(bot)
    async with rota.ctx.db.write() as session:
        for start, end, person in ((480, 960, "UANNA"), (960, 1320, "UJARI")):
            await records.add_shift(session, frozenset(range(5)), start, end, (person,), "ULENA", rota.now())
    rota.invalidate()
