"""What the rota plugin's tests share: a clock the test moves, and the way to the running rota.

The fixtures themselves are in ``conftest.py`` (``rota_bot``, ``rota_database``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatops.testing.bot import TestBot
from chatops.testing.clock import Clock
from chatops_plugins.rota import records
from chatops_plugins.rota.service import Rota, rota_of
from chatops_plugins.rota.timespec import parse_days, parse_time_range

#: The plugins a rota test enables: a source for customers' messages, and the rota.
PLUGINS = ["webhook", "rota"]
#: The lead every test configures: ``bot.person("Lena")`` has this id.
LEAD = "ULENA"
#: ``rota_bot(...)``: an async context manager giving a started TestBot (see conftest.py).
RotaBot = Callable[..., Any]


def rota_of_bot(bot: TestBot) -> Rota:
    """The running rota of ``bot``."""
    assert bot.app is not None
    return rota_of(bot.app.context("rota"))


def clock_of(bot: TestBot) -> Clock:
    """The test clock of ``bot``'s rota."""
    clock = rota_of_bot(bot).clock
    assert isinstance(clock, Clock)
    return clock


async def add_shift(bot: TestBot, days: str, times: str, *people: str) -> int:
    """Store a recurring shift directly (as ``/rota add`` would), for tests about what shifts cause; returns its id."""
    rota = rota_of_bot(bot)
    start, end = parse_time_range(times)
    async with rota.ctx.db.write() as session:
        rule = await records.add_shift(session, parse_days(days), start, end, tuple(people), LEAD, rota.now())
    rota.invalidate()
    return rule.id
