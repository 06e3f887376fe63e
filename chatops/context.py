"""The narrow face a plugin sees: :class:`PluginContext`, one per plugin.

Every hook that works with the running bot receives ``ctx``, the calling plugin's own
context. It holds what a plugin may use and nothing else: its validated settings, the
team's language and timezone, a logger, the database (for its own tables, and for
reading the core's), the conversations it may act on as the bot, the outbox for
paced Slack posts, its scheduled jobs, its operational alerts and small durable state.
Plugins never reach into the bot itself, and never call each other.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chatops.events import bot_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatops.alerts import Alerts
    from chatops.bot_actions import BotActions
    from chatops.db import Database
    from chatops.i18n import Translator
    from chatops.jobs import Job
    from chatops.outbox.plugin import PluginOutbox
    from chatops.scheduler import Scheduler
    from chatops.sources import InboundEvent
    from chatops.store import IngestResult, Store


@dataclass(frozen=True, slots=True)
class Channels:
    """The Slack channels the team configured (ids)."""

    inbox: str
    escalation: str | None
    ops: str | None


class PluginAlerts:
    """A plugin's operational alerts: one ops-channel post per problem until it is cleared."""

    def __init__(self, plugin: str, alerts: Alerts) -> None:
        self._plugin = plugin
        self._alerts = alerts

    async def raise_once(self, key: str, problem: str) -> bool:
        """Post ``problem`` to the ops channel unless the alert ``key`` is already raised; True when posted."""
        return await self._alerts.raise_once(self._plugin, key, problem)

    async def clear(self, *keys: str) -> None:
        """Clear alerts (the problem is gone); the next occurrence is posted again."""
        await self._alerts.clear(self._plugin, *keys)


class PluginState:
    """Small durable strings a plugin keeps (a polling cursor, X's ``since_id``); tables are for the rest."""

    def __init__(self, plugin: str, store: Store) -> None:
        self._plugin = plugin
        self._store = store

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""
        return await self._store.get_state(self._plugin, key)

    async def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        await self._store.set_state(self._plugin, key, value)


class PluginScheduler:
    """Adds a plugin's scheduled jobs; ids are prefixed with the plugin's name so plugins never clash."""

    def __init__(self, plugin: str, scheduler: Scheduler) -> None:
        self._plugin = plugin
        self._scheduler = scheduler

    def job_id(self, name: str) -> str:
        """The scheduler's id of this plugin's job ``name``."""
        return name if name.startswith(f"{self._plugin}:") else f"{self._plugin}:{name}"

    def add(self, job: Job) -> None:
        """Schedule ``job`` (each occurrence runs on one replica, retried within its grace time)."""
        self._scheduler.add(dataclasses.replace(job, id=self.job_id(job.id)))


class PluginContext:
    """What one plugin may use of the running bot (see the module docstring).

    Attributes: ``name`` (the plugin's name), ``config`` (its validated ``[plugins.<name>]``
    model, or None), ``language`` and ``tz`` (the team's), ``t`` (the translator, with every
    plugin's texts), ``log`` (a logger named ``chatops.plugins.<name>``), ``db`` (the
    :class:`~chatops.db.Database`: ``async with ctx.db.write() as session`` for the plugin's
    tables), ``channels``, ``conversations`` (:class:`~chatops.bot_actions.BotActions`, acting
    as ``bot:<name>``), ``outbox`` (:class:`~chatops.outbox.plugin.PluginOutbox`), ``scheduler``,
    ``alerts`` and ``state``; :meth:`audit` writes the plugin's own lines to the audit log.
    """

    def __init__(
        self,
        *,
        name: str,
        config: Any,
        t: Translator,
        tz: ZoneInfo,
        db: Database,
        channels: Channels,
        conversations: BotActions,
        outbox: PluginOutbox,
        scheduler: Scheduler,
        alerts: Alerts,
        store: Store,
        ingest: Callable[[InboundEvent], Awaitable[IngestResult]],
        ingest_many: Callable[[Sequence[InboundEvent]], Awaitable[list[IngestResult]]],
        user_name: Callable[[str | None], Awaitable[str | None]],
        source_name: Callable[[str], str],
        plugin_config: Callable[[str], Any] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.t = t
        self.language = t.language
        self.tz = tz
        self.log = logging.getLogger(f"chatops.plugins.{name}")
        self.db = db
        self.channels = channels
        self.conversations = conversations
        self.outbox = outbox
        self.scheduler = PluginScheduler(name, scheduler)
        self.alerts = PluginAlerts(name, alerts)
        self.state = PluginState(name, store)
        self._store = store
        self._ingest = ingest
        self._ingest_many = ingest_many
        self._user_name = user_name
        self._source_name = source_name
        self._plugin_config = plugin_config or (lambda _name: None)

    @property
    def actor(self) -> str:
        """How the audit log names this plugin acting as the bot: ``bot:<name>``."""
        return bot_actor(self.name)

    async def audit(
        self,
        action: str,
        actor: str,
        *,
        conversation_id: int | None = None,
        session: AsyncSession | None = None,
        **detail: Any,
    ) -> str:
        """Write a line to the audit log as ``<plugin>.<action>``; returns the stored action name.

        ``actor`` is who did it (a Slack user id, or :attr:`actor` for the plugin itself);
        ``detail`` must be JSON. Pass ``session`` (from ``ctx.db.write()``) to write it in the
        same transaction as the change it records. Plugins hear of it as an event once it commits.
        """
        if not action or "." in action:
            raise ValueError(f"audit action {action!r}: a name without dots (it is stored as {self.name}.<action>)")
        stored = f"{self.name}.{action}"
        if session is not None:
            self._store.add_audit(session, conversation_id, actor, stored, **detail)
            return stored
        async with self.db.write() as own:
            self._store.add_audit(own, conversation_id, actor, stored, **detail)
        return stored

    async def ingest(self, event: InboundEvent) -> IngestResult:
        """Store an inbound message, edit or removal from a source (see ``ChatOps.ingest``)."""
        return await self._ingest(event)

    async def ingest_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        """Store a batch of inbound events in one transaction, all or none."""
        return await self._ingest_many(events)

    async def thread_of(self, source: str, external_id: str) -> str | None:
        """The thread (card) of ``source``'s stored message ``external_id``, customer's or answer; None if unknown."""
        return await self._store.thread_of(source, external_id)

    async def user_name(self, user_id: str | None) -> str | None:
        """A Slack user's display name (cached), or None when unknown."""
        return await self._user_name(user_id)

    def plugin_config(self, name: str) -> Any:
        """The validated ``[plugins.<name>]`` of another enabled plugin, or None when it is not enabled.

        For a plugin that builds on another's settings (the digest reads the rota's service
        hours); read it, never change it.
        """
        return self._plugin_config(name)

    def source_name(self, source: str) -> str:
        """A source's display name ("Facebook") for its short name ("facebook")."""
        return self._source_name(source)
