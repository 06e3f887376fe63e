"""One running bot: settings, plugins, database, Slack, delivery and scheduler, wired together."""

from __future__ import annotations

import inspect
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from chatops.alerts import Alerts
from chatops.cards import CardData, MessageView
from chatops.config import Settings, secret_value
from chatops.db import Database
from chatops.delivery import CardDelivery
from chatops.expiring_cache import ExpiringCache
from chatops.i18n import Translator
from chatops.migrate import ensure_schema
from chatops.outbox import JobKinds, OutboxWorker, Wakeup
from chatops.plugins import load_plugins
from chatops.scheduler import Scheduler
from chatops.slack.card import CardContext, render_card, render_escalation, render_thread_message
from chatops.slack.handlers import register_card_handlers, register_command_fallbacks
from chatops.slack.outage import register_outage_notice
from chatops.slack.posting import SlackPoster, register_post_events
from chatops.slack.rendering import SlackCardRenderer
from chatops.sources import InboundEvent, InboundMessage, MessageEdited, MessageRemoved, Source
from chatops.store import IngestResult, Store
from chatops.web import build_web
from chatops.workflow import Workflow

log = logging.getLogger(__name__)

#: Slack display names: how many are kept, and for how long a found name and a failed look-up count.
USER_NAME_CACHE_SIZE = 5000
USER_NAME_TTL_SECONDS = 3600.0
USER_NAME_FAILURE_TTL_SECONDS = 300.0


class ChatOps:
    """The bot. Build it from validated settings, ``await start()``, serve ``web``, ``await stop()``."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_plugins: Mapping[str, object] | None = None,
        instance_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.instance_id = instance_id or f"{socket.gethostname()}-{os.getpid()}"
        self.t = Translator(settings.team.language)
        self.pm, self._plugin_configs = load_plugins(settings, extra_plugins)
        self.db = Database(
            settings.database.url,
            echo=settings.database.echo,
            lock_timeout=settings.database.lock_timeout_seconds,
            sqlite_journal_mode=settings.database.sqlite_journal_mode,
        )
        self.wake = Wakeup()
        self.store = Store(self.db, wake=self.wake)
        self.alerts = Alerts(self.store)
        self.workflow = Workflow(self)
        self.slack = AsyncWebClient(token=settings.slack.bot_token.get_secret_value(), base_url=settings.slack.api_url)
        self.bolt = AsyncApp(
            client=self.slack,
            signing_secret=secret_value(settings.slack.signing_secret) or "unused-in-socket-mode",
            request_verification_enabled=settings.slack.mode == "http",
            process_before_response=False,
            # Replaced by a filter that keeps the metadata events of the bot's own posts (register_post_events).
            ignoring_self_events_enabled=False,
        )
        self.sources: dict[str, Source] = {}
        for provided in self.pm.hook.chatops_sources(app=self):
            for source in provided:
                if source.name in self.sources:
                    raise ValueError(f"two plugins provide the source {source.name!r}")
                if source.texts:
                    self.t.add(source.texts)
                source.t = self.t
                self.sources[source.name] = source
        register_card_handlers(self, self.bolt)
        self.poster = SlackPoster(
            self.db, self.slack, reconcile_seconds=settings.delivery.reconcile_seconds, wake=self.wake
        )
        self.outbox_kinds = JobKinds()
        self.delivery = OutboxWorker(
            self.db,
            self.outbox_kinds,
            config=settings.delivery,
            post_interval=settings.slack.post_interval_seconds,
            poster=self.poster,
            client=self.slack,
            alerts=self.alerts,
            t=self.t,
            wakeup=self.wake,
            instance_id=self.instance_id,
        )
        self.renderer = SlackCardRenderer(
            settings,
            self.t,
            self.sources,
            availability=self.workflow.availability,
            decorations=lambda card: self.call_hook("chatops_card_blocks", app=self, card=card),
        )
        CardDelivery(
            settings, self.db, self.store, self.alerts, self.t, self.renderer, self.sources, self.user_name
        ).register(self.outbox_kinds)
        register_post_events(self.bolt, self.poster)
        self.pm.hook.chatops_slack_listeners(app=self, bolt=self.bolt)
        register_command_fallbacks(self, self.bolt)
        register_outage_notice(self.bolt, self.t)
        self.scheduler = Scheduler(
            self.db, instance_id=self.instance_id, alerts=self.alerts, t=self.t, timezone=settings.team.tz
        )
        for source in self.sources.values():
            for job in source.jobs():
                self.scheduler.add(job)
        for jobs in self.pm.hook.chatops_jobs(app=self):
            for job in jobs:
                self.scheduler.add(job)
        self.web: Starlette = build_web(self)
        #: Display names by Slack user id (bounded; failures kept briefly, names for an hour).
        self.user_names: ExpiringCache[str, str | None] = ExpiringCache(USER_NAME_CACHE_SIZE)

    # -- plugins ---------------------------------------------------------------

    @property
    def plugin_configs(self) -> Mapping[str, Any]:
        """Every enabled plugin's validated config, by plugin name (for secret masking)."""
        return dict(self._plugin_configs)

    def plugin_config(self, name: str) -> Any:
        """The validated ``[plugins.<name>]`` model of an enabled plugin (None if it takes none)."""
        return self._plugin_configs.get(name)

    async def call_hook(self, name: str, **kwargs: Any) -> list[Any]:
        """Call a notification hook, awaiting implementations that are coroutines; errors are logged."""
        results = []
        for impl in getattr(self.pm.hook, name).get_hookimpls():
            try:
                result = impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
                if inspect.isawaitable(result):
                    result = await result
                results.append(result)
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, name)
        return results

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, *, deliver: bool = True) -> None:
        """Check the schema, start sources, delivery and the scheduler."""
        await ensure_schema(self.db, auto_upgrade_sqlite=self.settings.database.auto_upgrade_sqlite)
        for source in self.sources.values():
            await source.start(self)
        if deliver:
            self.delivery.start()
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop everything started, in reverse order."""
        await self.scheduler.shutdown()
        await self.delivery.stop()
        for source in self.sources.values():
            try:
                await source.stop()
            except Exception:
                log.exception("source %s failed to stop", source.name)
        await self.call_hook("chatops_shutdown", app=self)
        await self.db.dispose()

    async def user_name(self, user_id: str | None) -> str | None:
        """A Slack user's display name (cached; None when unknown or not allowed to look up)."""
        if not user_id:
            return None
        found, cached = self.user_names.get(user_id)
        if found:
            return cached
        name = None
        try:
            response = await self.slack.users_info(user=user_id)
            profile = response["user"].get("profile", {})
            name = profile.get("display_name") or profile.get("real_name") or response["user"].get("name")
        except Exception as exc:  # names are a courtesy; never block a send on them
            log.info("users.info for %s failed: %s", user_id, type(exc).__name__)
        self.user_names.put(user_id, name, USER_NAME_TTL_SECONDS if name else USER_NAME_FAILURE_TTL_SECONDS)
        return name

    # -- inbound ---------------------------------------------------------------------

    async def ingest(self, event: InboundEvent) -> IngestResult:
        """Store an inbound event from a source and tell the plugins.

        Duplicates come back with ``duplicate=True``; an edit or removal of a message never
        stored comes back with ``conversation_id=None``.
        """
        if isinstance(event, MessageEdited):
            return await self.store.apply_edit(event)
        if isinstance(event, MessageRemoved):
            return await self.store.apply_removal(event)
        assert isinstance(event, InboundMessage)
        result = await self.store.ingest(event)
        await self._tell_inbound(event, result)
        return result

    async def ingest_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        """Store a batch of inbound events in one transaction (all or none), then tell the plugins.

        For sources that receive batches (a Meta webhook carries up to 1,000 changes): the
        results are those :meth:`ingest` gives for each event, at a fraction of the cost.
        """
        results = await self.store.ingest_many(events)
        for event, result in zip(events, results, strict=True):
            if isinstance(event, InboundMessage):
                await self._tell_inbound(event, result)
        return results

    async def _tell_inbound(self, event: InboundMessage, result: IngestResult) -> None:
        if not result.duplicate and result.message_id is not None and not event.from_account:
            assert result.conversation_id is not None
            await self.call_hook(
                "chatops_inbound",
                app=self,
                message=event,
                conversation_id=result.conversation_id,
                new=result.new_conversation,
            )

    # -- rendering (used by delivery) ------------------------------------------------

    def inbox_channel(self, source: str) -> str:
        """The Slack channel where a source's cards go."""
        found = self.sources.get(source)
        return (found.inbox_channel if found else None) or self.settings.slack.inbox_channel

    def card_context(self, card: CardData | None, source: str) -> CardContext:
        """Words, timezone and the source's abilities for rendering."""
        found = self.sources.get(source)
        return CardContext(
            t=self.t,
            tz=self.settings.team.tz,
            source_name=found.display_name if found else source,
            capabilities=self.workflow.availability(card) if card is not None else {},
        )

    async def render_card(self, card: CardData) -> dict[str, Any]:
        """Card arguments for chat.postMessage / chat.update, with plugins' decorations."""
        extra: list[dict[str, Any]] = []
        for blocks in await self.call_hook("chatops_card_blocks", app=self, card=card):
            extra.extend(blocks or [])
        return render_card(card, self.card_context(card, card.source), extra)

    def render_thread_message(self, message: MessageView, source: str, note: str | None) -> dict[str, Any]:
        """A thread post under a card."""
        return render_thread_message(message, self.card_context(None, source), note)

    def render_escalation(self, card: CardData, user: str, reason: str, card_url: str | None) -> dict[str, Any]:
        """The escalation channel post."""
        return render_escalation(
            card,
            self.card_context(None, card.source),
            user=user,
            reason=reason,
            leads=self.settings.slack.escalation_leads,
            card_url=card_url,
        )
