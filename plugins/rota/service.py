"""The running rota for one bot: its settings, service hours, clock and the schedule, cached.

Every part of the plugin (``/rota``, hand-offs, routing, the calendar) asks one
:class:`Rota` for "now" and for the current :class:`~.schedule.Schedule`, so tests move
time for all of them at once (``rota.clock``) and nothing sleeps for a shift change.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from . import tables
from .config import RotaConfig
from .schedule import Schedule

if TYPE_CHECKING:
    from chatops.context import PluginContext

#: Seconds another replica's change may take to show in this one's cached schedule.
SCHEDULE_TTL_SECONDS = 30.0
#: How long after a cover or swap is over the schedule still reads it.
CHANGES_LOOKBACK = timedelta(days=16)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Rota:
    """One bot's rota: ``ctx``, ``config``, ``hours`` (service hours), ``clock`` and the schedule."""

    def __init__(self, ctx: PluginContext, clock: Callable[[], datetime] = _utcnow) -> None:
        self.ctx = ctx
        self.config: RotaConfig = ctx.config if isinstance(ctx.config, RotaConfig) else RotaConfig()
        self.hours = self.config.hours(ctx.tz)
        self.clock = clock
        self._cached: tuple[float, datetime, Schedule] | None = None

    @property
    def channel(self) -> str:
        """Where hand-offs, notices and change confirmations are posted."""
        return self.config.channel or self.ctx.channels.inbox

    def now(self) -> datetime:
        """The current time (UTC), from :attr:`clock`."""
        return self.clock().astimezone(UTC)

    async def schedule(self, *, fresh: bool = False) -> Schedule:
        """The rota as stored, cached for :data:`SCHEDULE_TTL_SECONDS` (``fresh`` reads it now).

        Covers and swaps over for more than :data:`CHANGES_LOOKBACK` are left out: nothing
        looks that far back (the calendar 14 days, the hand-off 8), and a rota used for years
        would otherwise read every cover it ever had on every minute's tick.
        """
        since = self.now() - CHANGES_LOOKBACK
        cached = self._cached
        if (
            not fresh
            and cached
            and time.monotonic() - cached[0] < SCHEDULE_TTL_SECONDS
            # A clock set back (tests) may need changes the cached copy left out.
            and cached[1] <= since
        ):
            return cached[2]
        async with self.ctx.db.read() as session:
            rules = await tables.active_rules(session)
            changes = await tables.active_changes(session, since=since)
        found = Schedule(tuple(rules), tuple(changes), self.ctx.tz)
        self._cached = (time.monotonic(), since, found)
        return found

    def invalidate(self) -> None:
        """Forget the cached schedule (this replica just changed the rota)."""
        self._cached = None


_running: weakref.WeakKeyDictionary[PluginContext, Rota] = weakref.WeakKeyDictionary()


def rota_of(ctx: PluginContext) -> Rota:
    """The :class:`Rota` of the bot ``ctx`` belongs to (made on first use; tests set its clock)."""
    found = _running.get(ctx)
    if found is None:
        found = _running[ctx] = Rota(ctx)
    return found
