"""Roll-up cards: a flood of new conversations on one post gathered on one card, every comment listed.

- :mod:`chatops.rollups.detect`: the delivery-worker pass that finds floods among waiting cards;
- :mod:`chatops.rollups.store`: the transactions (gather, open as card, resolve all);
- :mod:`chatops.rollups.delivery`: the job kinds that post the card, its listings and redraws;
- :mod:`chatops.rollups.render`: their Block Kit; :mod:`chatops.rollups.handlers`: the buttons.

``[crisis] rollups = false`` leaves the watch out (one card each, as before); the job kinds and
buttons stay registered so that roll-ups made before still finish and still answer.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.async_app import AsyncApp

from chatops.alerts import Alerts
from chatops.config import Settings
from chatops.db import Database
from chatops.i18n import Translator
from chatops.outbox import JobKinds, OutboxWorker
from chatops.rollups.delivery import RollupDelivery
from chatops.rollups.detect import FloodWatch
from chatops.rollups.handlers import register_rollup_handlers
from chatops.rollups.store import RollupStore
from chatops.rollups.texts import TEXTS


class Rollups:
    """The roll-ups of one bot: built from settings, then registered with the outbox, worker and Bolt."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        t: Translator,
        *,
        inbox_channel: Callable[[str], str],
        source_name: Callable[[str], str],
        wake: Callable[[], None],
        alerts: Alerts,
        channel_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        crisis = settings.crisis
        self.settings = settings
        self.db = db
        self.t = t
        t.add(TEXTS)
        self.store = RollupStore(
            db,
            channel_of=inbox_channel,
            window_seconds=crisis.rollup_window_seconds,
            update_seconds=crisis.rollup_update_seconds,
            # After the cards that keep their own (priority >= own_card_at), before ordinary ones.
            job_priority=max(settings.priority.own_card_at - 1, 1),
            wake=wake,
        )
        self.watch = FloodWatch(db, self.store, crisis, own_card_at=settings.priority.own_card_at)
        self.delivery = RollupDelivery(
            self.store,
            t,
            settings.team.tz,
            source_name,
            open_count=crisis.rollup_open_count,
            alerts=alerts,
            channel_refused=channel_refused,
        )

    def register(self, kinds: JobKinds, worker: OutboxWorker, bolt: AsyncApp) -> None:
        """Register the job kinds and buttons; add the flood watch to the worker when roll-ups are on."""
        self.delivery.register(kinds)
        if self.settings.crisis.rollups:
            worker.add_pass(self.watch)
        register_rollup_handlers(
            bolt, store=self.store, db=self.db, t=self.t, open_count=self.settings.crisis.rollup_open_count
        )


__all__ = ["Rollups"]
