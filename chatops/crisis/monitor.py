"""The backlog monitor: a step of every delivery pass that measures the backlog now and then and acts on it.

Every ``[crisis] backlog_check_seconds`` (5 s) it reads the whole backlog (one indexed
aggregate on the outbox, one on roll-up members), raises or clears the backlog alert, and
keeps the figure the overflow channels go by. Only while the backlog is above the banner's
threshold, or a banner is up, does it read the backlog of each source, at most every
``[crisis] banner_update_seconds``, for the banner of each inbox channel. Between checks a
pass costs one clock read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chatops.alerts import Alerts
from chatops.config import CrisisConfig
from chatops.crisis.backlog import Backlog, measure, measure_by_source
from chatops.crisis.banner import CrisisBanners
from chatops.crisis.texts import TEXTS, format_age
from chatops.db import Database
from chatops.i18n import Translator
from chatops.models import utcnow

log = logging.getLogger(__name__)

#: The backlog alert: raised under the core's name, one at a time.
ALERT_PLUGIN = "chatops"
ALERT_KEY = "crisis:backlog"


class BacklogMonitor:
    """Measures the backlog for the alert, the overflow channels and the banners; :meth:`step` is the pass step."""

    def __init__(
        self,
        db: Database,
        config: CrisisConfig,
        *,
        urgent_at: int,
        alerts: Alerts,
        t: Translator,
        banners: CrisisBanners | None,
        inbox_channel: Callable[[str], str],
    ) -> None:
        self.db = db
        self.config = config
        self.urgent_at = urgent_at
        self.alerts = alerts
        self.t = t
        self.banners = banners
        t.add(TEXTS)
        self.inbox_channel = inbox_channel
        #: The backlog at the last check (the overflow channels read it between checks).
        self.latest = Backlog()
        self._next_check = 0.0
        self._next_banners = 0.0
        #: Unknown after a start: a backlog alert left raised before a restart is cleared once when under.
        self._alert_raised: bool | None = None
        #: Unknown after a start: the banners are read once, in case one was left up.
        self._banner_up = True

    async def step(self) -> None:
        """Run by the worker at the start of every pass; does anything only every few seconds."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.config.backlog_check_seconds
        self.latest = backlog = await measure(self.db, self.urgent_at)
        await self._alert(backlog)
        crisis = self._banner_up or backlog.total > self.config.banner_backlog
        if self.banners is not None and crisis and now >= self._next_banners:
            self._next_banners = now + self.config.banner_update_seconds
            by_channel: dict[str, Backlog] = {}
            for source, found in (await measure_by_source(self.db, self.urgent_at)).items():
                channel = self.inbox_channel(source)
                by_channel[channel] = by_channel.get(channel, Backlog()) + found
            self._banner_up = await self.banners.refresh(by_channel)

    async def _alert(self, backlog: Backlog) -> None:
        age = backlog.age_seconds(utcnow())
        late = age > self.config.backlog_alert_seconds
        if late and not self._alert_raised:
            problem = self.t(
                "crisis.backlog_alert",
                total=backlog.total,
                age=format_age(age),
                limit=format_age(self.config.backlog_alert_seconds),
                urgent=backlog.urgent,
            )
            await self.alerts.raise_once(ALERT_PLUGIN, ALERT_KEY, problem)
            self._alert_raised = True
        elif not late and self._alert_raised is not False:
            await self.alerts.clear(ALERT_PLUGIN, ALERT_KEY)
            self._alert_raised = False


__all__ = ["ALERT_KEY", "ALERT_PLUGIN", "BacklogMonitor"]
