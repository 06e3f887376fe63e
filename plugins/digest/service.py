"""The running digest plugin: its config, clock and service hours, and the way to a digest now.

One :class:`Digests` per bot, made on first use by :func:`digests_of`; the scheduled post,
``/chatops digest`` and the tests reach it the same way.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatops.context import PluginContext

from .compose import DigestReport, compose
from .config import DigestConfig
from .figures import Hours, Options
from .periods import Period


def _utcnow() -> datetime:
    return datetime.now(UTC)


def rota_hours(rota_config: Any, tz: ZoneInfo) -> Hours | None:
    """The rota plugin's service hours when it is enabled and they are configured, else None.

    Read through the rota's own config model (``RotaConfig.hours``), never copied: the digest
    counts response time in exactly the hours the rota answers customers by.
    """
    make = getattr(rota_config, "hours", None)
    if make is None:
        return None
    hours: Hours = make(tz)
    return hours if hours.configured else None


def options_of(config: DigestConfig, hours: Hours | None) -> Options:
    """How :mod:`.figures` counts, from ``[plugins.digest]`` and the service hours."""
    return Options(
        target_seconds=config.response_target_minutes * 60,
        negative_tags=config.negative_tags,
        top=config.top,
        list_limit=config.list_limit,
        hours=hours,
    )


#: The clock a new :class:`Digests` starts with. Tests replace it before the bot starts, so that
#: not even the minute job's first run reads the real time.
default_clock: Callable[[], datetime] = _utcnow


class Digests:
    """The digest plugin of one bot."""

    def __init__(self, ctx: PluginContext, clock: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.config: DigestConfig = ctx.config
        #: Tests replace it to move time (scheduled digests, "today").
        self.clock = clock or default_clock

    def now(self) -> datetime:
        """The current time (UTC) by this plugin's clock."""
        return self.clock()

    @property
    def hours(self) -> Hours | None:
        """The rota's service hours, when configured."""
        return rota_hours(self.ctx.plugin_config("rota"), self.ctx.tz)

    @property
    def options(self) -> Options:
        """How figures are counted."""
        return options_of(self.config, self.hours)

    async def report(self, period: Period, *, chart: bool | None = None) -> DigestReport:
        """The digest of ``period`` as it stands now."""
        wanted = self.config.chart if chart is None else chart
        return await compose(self.ctx.db, period, self.now(), self.ctx.tz, self.options, chart=wanted)


_running: weakref.WeakKeyDictionary[PluginContext, Digests] = weakref.WeakKeyDictionary()


def digests_of(ctx: PluginContext) -> Digests:
    """The :class:`Digests` of the bot ``ctx`` belongs to (made on first use; tests set its clock)."""
    found = _running.get(ctx)
    if found is None:
        found = _running[ctx] = Digests(ctx)
    return found
