"""One running bot: settings, plugins, database, Slack, delivery and scheduler, wired together.

This module is the only one that sees the whole bot. Everything else receives the
parts it uses, and each plugin receives its own :class:`~chatops.context.PluginContext`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import async_default_handlers
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from chatops.alerts import Alerts
from chatops.bot_actions import BotActions
from chatops.cards import CardData
from chatops.config import Settings, secret_value
from chatops.context import Channels, PluginContext
from chatops.crisis import BacklogMonitor, CrisisBanners, OverflowChannels
from chatops.db import Database
from chatops.delivery import CardDelivery
from chatops.events import EventBus
from chatops.expiring_cache import ExpiringCache
from chatops.hooks import HookRunner
from chatops.i18n import Translator
from chatops.interception import ReplyInterceptors
from chatops.migrate import ensure_schema
from chatops.observability.metrics import Metrics
from chatops.outbox import JobKinds, OutboxWorker, PluginOutbox, Wakeup
from chatops.outbox.plugin import slack_post_kind
from chatops.plugins import PluginFailed, describe_error, enabled_migrations, load_plugins
from chatops.priority import Prioritizer
from chatops.rollups import Rollups
from chatops.scheduler import Scheduler
from chatops.slack.connections import share_connections
from chatops.slack.handlers import register_card_handlers, register_command_fallback
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
#: How long drawing a card waits for the plugins' decorations (``chatops_card_blocks``).
DECORATION_SECONDS = 2.0
#: How long stopping waits for each source and each plugin's shutdown hook.
PLUGIN_STOP_SECONDS = 10.0


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
        #: Enabled plugins in the order of ``[plugins] enabled``: start-up, checks and migrations follow it.
        self.plugin_names: list[str] = list(settings.plugins.enabled)
        self.db = Database(
            settings.database.url,
            echo=settings.database.echo,
            lock_timeout=settings.database.lock_timeout_seconds,
            sqlite_journal_mode=settings.database.sqlite_journal_mode,
        )
        #: This bot's Prometheus metrics (``GET /metrics``), in a registry of its own.
        self.metrics = Metrics(known_kinds=lambda: self.outbox_kinds.kinds)
        self.hooks = HookRunner(self.pm, self.context)
        self.events = EventBus(self._listeners, self._tell)
        self.db.after_commit = self.events.publish
        self.wake = Wakeup()
        self.store = Store(self.db, wake=self.wake, reply_to_us_score=settings.priority.reply_to_us_score)
        self.priority = Prioritizer(settings.priority, self._classifications)
        self.alerts = Alerts(self.store)
        self.sources: dict[str, Source] = {}
        self.workflow = Workflow(self.store, self.sources, self.t, settings.workflow)
        self.slack = AsyncWebClient(
            token=settings.slack.bot_token.get_secret_value(),
            base_url=settings.slack.api_url,
            # First: it sees every answer (slack_sdk stops at the first handler that retries).
            retry_handlers=[self.metrics.rate_limit_counter(), *async_default_handlers()],
        )
        self.bolt = AsyncApp(
            client=self.slack,
            signing_secret=secret_value(settings.slack.signing_secret) or "unused-in-socket-mode",
            request_verification_enabled=settings.slack.mode == "http",
            process_before_response=False,
            # Replaced by a filter that keeps the metadata events of the bot's own posts (register_post_events).
            ignoring_self_events_enabled=False,
        )
        #: The Slack clients' shared connections while the bot runs (chatops.slack.connections).
        self._slack_connections: aiohttp.ClientSession | None = None
        self.poster = SlackPoster(
            self.db, self.slack, reconcile_seconds=settings.delivery.reconcile_seconds, wake=self.wake
        )
        self.outbox_kinds = JobKinds()
        # The core's generic kind: a plugin's post_message (paced, retried, posted once).
        self.outbox_kinds.register(slack_post_kind())
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
            decorations=self._decorations,
        )
        crisis = settings.crisis
        self.banners = (
            CrisisBanners(
                self.db, crisis, self.t, settings.team.tz, self.wake, overflow_channels=crisis.overflow_channels
            )
            if crisis.banner
            else None
        )
        self.backlog = BacklogMonitor(
            self.db,
            crisis,
            urgent_at=settings.priority.own_card_at,
            alerts=self.alerts,
            t=self.t,
            banners=self.banners,
            inbox_channel=self.renderer.inbox_channel,
        )
        self.overflow = OverflowChannels(
            crisis.overflow_channels,
            ready_in=self.delivery.channel_ready_in,
            waiting=lambda: self.backlog.latest.waiting,
            backlog=crisis.overflow_backlog,
        )
        CardDelivery(
            settings,
            self.db,
            self.store,
            self.alerts,
            self.t,
            self.renderer,
            self.sources,
            self.user_name,
            metrics=self.metrics,
            card_channel=self.overflow.choose,
            card_channel_refused=self.overflow.refused,
        ).register(self.outbox_kinds)
        if self.banners is not None:
            self.banners.register(self.outbox_kinds)
        self.delivery.add_pass(self.backlog.step)
        self.scheduler = Scheduler(
            self.db,
            instance_id=self.instance_id,
            alerts=self.alerts,
            t=self.t,
            timezone=settings.team.tz,
            on_run=self.metrics.job_ran,
        )
        #: Display names by Slack user id (bounded; failures kept briefly, names for an hour).
        self.user_names: ExpiringCache[str, str | None] = ExpiringCache(USER_NAME_CACHE_SIZE)
        self._contexts: dict[str, PluginContext] = {}
        self._source_plugin: dict[str, str] = {}
        #: What start() started, so that stop() (or a failed start) stops exactly that, once.
        self._started_plugins: list[str] = []
        self._started_sources: list[Source] = []

        self._add_texts()
        self._add_sources()
        #: Clicks acked whose work waits for a slot: stopping waits for them (chatops.slack.handlers).
        self.clicks = register_card_handlers(
            self.bolt,
            workflow=self.workflow,
            db=self.db,
            t=self.t,
            sources=self.sources,
            allow_new_tags=settings.workflow.allow_new_tags,
            interceptors=ReplyInterceptors(self.hooks, self.plugin_names),
        )
        register_post_events(self.bolt, self.poster)
        #: Roll-up cards for floods (``[crisis] rollups``): job kinds, the worker's flood watch, buttons.
        self.rollups = Rollups(
            settings,
            self.db,
            self.t,
            # A roll-up's card and listings share one channel, chosen like a new card's (overflow too).
            inbox_channel=lambda source: self.overflow.choose(self.renderer.inbox_channel(source)),
            source_name=self.renderer.source_name,
            wake=self.wake,
            alerts=self.alerts,
            channel_refused=self.overflow.refused,
        )
        self.rollups.register(self.outbox_kinds, self.delivery, self.bolt)
        for plugin in self.plugin_names:
            self._set_up(plugin, "chatops_slack_listeners", bolt=self.bolt)
        register_command_fallback(self.bolt, self.t)
        register_outage_notice(self.bolt, self.t)
        for source in self.sources.values():
            for job in source.jobs():
                self.scheduler.add(job)
        for plugin in self.plugin_names:
            for jobs in self._set_up(plugin, "chatops_jobs"):
                for job in jobs:
                    self.context(plugin).scheduler.add(job)
        self.metrics.know_sources(self.sources)
        self.metrics.know_jobs(self.scheduler.jobs)
        self.web: Starlette = build_web(
            bolt=self.bolt,
            db=self.db,
            slack_mode=settings.slack.mode,
            max_body_bytes=settings.http.max_body_bytes,
            routes=self._plugin_routes(),
            metrics=self.metrics,
            serve_metrics=settings.http.metrics,
        )

    # -- plugins ---------------------------------------------------------------

    @property
    def plugin_configs(self) -> Mapping[str, Any]:
        """Every enabled plugin's validated config, by plugin name (for secret masking)."""
        return dict(self._plugin_configs)

    def context(self, plugin: str) -> PluginContext:
        """The context plugin ``plugin`` receives as ``ctx`` (one per plugin, made on first use)."""
        found = self._contexts.get(plugin)
        if found is None:
            found = self._contexts[plugin] = PluginContext(
                name=plugin,
                config=self._plugin_configs.get(plugin),
                t=self.t,
                tz=self.settings.team.tz,
                db=self.db,
                channels=Channels(
                    inbox=self.settings.slack.inbox_channel,
                    escalation=self.settings.slack.escalation_channel,
                    ops=self.settings.slack.ops_channel,
                ),
                conversations=BotActions(plugin, self.workflow, self.store),
                outbox=PluginOutbox(plugin, self.db, self.outbox_kinds, self.wake),
                scheduler=self.scheduler,
                alerts=self.alerts,
                store=self.store,
                ingest=self.ingest,
                ingest_many=self.ingest_many,
                user_name=self.user_name,
                source_name=self.renderer.source_name,
                plugin_config=self._plugin_configs.get,
            )
        return found

    def _set_up(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """Call a set-up hook of one plugin; its error stops the bot as one line naming the plugin and hook."""
        try:
            return self.hooks.call_sync(hook, only=plugin, **kwargs)
        except PluginFailed:
            raise
        except Exception as exc:
            raise PluginFailed(plugin, f"{hook}: {describe_error(exc)}") from exc

    def _add_texts(self) -> None:
        """Every plugin's words, checked now: a missing key or placeholder stops the bot, naming the plugin."""
        for plugin in self.plugin_names:
            for catalog in self._set_up(plugin, "chatops_texts"):
                self._add_catalog(plugin, catalog)

    def _add_catalog(self, plugin: str, catalog: Mapping[str, Mapping[str, str]]) -> None:
        try:
            self.t.add(catalog)
        except ValueError as exc:
            raise PluginFailed(plugin, str(exc)) from None

    def _add_sources(self) -> None:
        for plugin in self.plugin_names:
            for provided in self._set_up(plugin, "chatops_sources"):
                for source in provided:
                    if source.name in self.sources:
                        raise PluginFailed(plugin, f"a second plugin provides the source {source.name!r}")
                    if source.texts:
                        self._add_catalog(plugin, source.texts)
                    source.t = self.t
                    self.sources[source.name] = source
                    self._source_plugin[source.name] = plugin

    def _plugin_routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for source in self.sources.values():
            routes.extend(source.routes())
        for plugin in self.plugin_names:
            for provided in self._set_up(plugin, "chatops_routes"):
                routes.extend(provided)
        return routes

    async def _decorations(self, card: CardData) -> list[Any]:
        """The plugins' blocks for a card, asked of all plugins at once; one that is late is left out.

        Cards are drawn by the outbox worker: a decoration waiting forever would stop every card,
        and one slow plugin must not take the others' decorations with it.
        """
        plugins = self._listeners("chatops_card_blocks")

        async def of(plugin: str) -> list[Any]:
            try:
                async with asyncio.timeout(DECORATION_SECONDS):
                    return list(await self.hooks.call("chatops_card_blocks", only=plugin, isolate=True, card=card))
            except TimeoutError:
                log.warning(
                    "card %s: plugin %s's decoration took longer than %.1fs; drawn without it",
                    card.conversation_id,
                    plugin,
                    DECORATION_SECONDS,
                )
                return []

        found = await asyncio.gather(*(of(plugin) for plugin in plugins))
        return [blocks for per_plugin in found for blocks in per_plugin]

    def _classifications(self, message: InboundMessage) -> list[tuple[str, Any]]:
        """Each classifier plugin's name and answer on ``message``; one that fails is logged and left out.

        A classifier must never cost a customer's comment: the message is stored either way. The
        answers are checked by the Prioritizer, which names the plugin of one it refuses.
        """
        verdicts: list[tuple[str, Any]] = []
        for plugin in self._listeners("chatops_classify"):
            try:
                verdicts.extend(
                    (plugin, v) for v in self.hooks.call_sync("chatops_classify", only=plugin, message=message)
                )
            except Exception:
                log.exception("plugin %s: chatops_classify failed; the message is stored without its verdict", plugin)
        return verdicts

    def _listeners(self, hook: str) -> list[str]:
        """The enabled plugins implementing notification ``hook``, in the order they are enabled."""
        return self.hooks.implementers_in(hook, self.plugin_names)

    async def _tell(self, plugin: str, hook: str, kwargs: dict[str, Any]) -> None:
        await self.hooks.call(hook, only=plugin, isolate=True, **kwargs)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, *, deliver: bool = True) -> None:
        """Check the schema, start the plugins (in the order they are enabled), delivery and the scheduler."""
        await ensure_schema(
            self.db,
            plugins=enabled_migrations(self.pm, self.plugin_names),
            auto_upgrade_sqlite=self.settings.database.auto_upgrade_sqlite,
        )
        self.events.start()
        self._slack_connections = share_connections(self.slack, self.poster.client)
        try:
            await self._start_plugins()
        except BaseException:
            # `chatops run` exits on this error without calling stop(): what started is stopped now,
            # so a plugin's open clients (and the event task) do not outlive a failed start.
            await self._stop_plugins()
            await self._close_slack_connections()
            raise
        if deliver:
            self.delivery.start()
        self.scheduler.start()

    async def _start_plugins(self) -> None:
        for plugin in self.plugin_names:
            try:
                await self.hooks.call("chatops_startup", only=plugin)
            except Exception as exc:
                raise PluginFailed(plugin, f"failed to start: {describe_error(exc)}") from exc
            self._started_plugins.append(plugin)
        for source in self.sources.values():
            plugin = self._source_plugin[source.name]
            try:
                await source.start(self.context(plugin))
            except Exception as exc:
                raise PluginFailed(plugin, f"source {source.name} failed to start: {describe_error(exc)}") from exc
            self._started_sources.append(source)

    async def _stop_plugins(self) -> None:
        """Stop the sources, the events and the plugins that started, in reverse; each once."""
        while self._started_sources:
            source = self._started_sources.pop()
            try:
                async with asyncio.timeout(PLUGIN_STOP_SECONDS):
                    await source.stop()
            except Exception:
                log.exception("source %s failed to stop", source.name)
        await self.events.stop()
        while self._started_plugins:
            plugin = self._started_plugins.pop()
            try:
                # A plugin that never returns from its shutdown must not keep the process from exiting.
                async with asyncio.timeout(PLUGIN_STOP_SECONDS):
                    await self.hooks.call("chatops_shutdown", only=plugin)
            except Exception:
                log.exception("plugin %s failed to stop", plugin)

    async def stop(self) -> None:
        """Stop everything started, in reverse order; a plugin failing to stop does not keep the others running."""
        await self.clicks.drain()  # acked, so Slack will not send them again
        await self.scheduler.shutdown()
        await self.delivery.stop()
        await self._stop_plugins()
        await self.store.drain()  # messages in hand are written before the database closes
        await self.db.dispose()
        await self._close_slack_connections()

    async def _close_slack_connections(self) -> None:
        session, self._slack_connections = self._slack_connections, None
        if session is not None:
            await session.close()

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
        if not event.from_account:
            event = self.priority.annotate(event)
        result = await self.store.ingest(event)
        self._count_inbound(event, result)
        self._tell_inbound(event, result)
        return result

    async def ingest_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        """Store a batch of inbound events in one transaction (all or none), then tell the plugins.

        For sources that receive batches (a Meta webhook carries up to 1,000 changes): the
        results are those :meth:`ingest` gives for each event, at a fraction of the cost.
        """
        events = [
            self.priority.annotate(e) if isinstance(e, InboundMessage) and not e.from_account else e for e in events
        ]
        results = await self.store.ingest_many(events)
        for event, result in zip(events, results, strict=True):
            if isinstance(event, InboundMessage):
                self._count_inbound(event, result)
                self._tell_inbound(event, result)
        return results

    def _count_inbound(self, event: InboundMessage, result: IngestResult) -> None:
        # Customers' messages only: the account's own posts seen through a source are the team's.
        if event.from_account or (result.message_id is None and not result.duplicate):
            return
        self.metrics.message_stored(event.source, duplicate=result.duplicate)

    def _tell_inbound(self, event: InboundMessage, result: IngestResult) -> None:
        # Queued, like events: the source's request is answered without waiting for plugins.
        if not result.duplicate and result.message_id is not None and not event.from_account:
            assert result.conversation_id is not None
            self.events.notify(
                "chatops_inbound", message=event, conversation_id=result.conversation_id, new=result.new_conversation
            )
