"""The Discord bot as a source: watched channels' messages in, replies (and, only if allowed, deletes) out.

The work is split by what it does: :mod:`.gateway` is the discord.py client (intents, where it
connects, events forwarded here); :mod:`.messages` decides what is watched, who is a customer and
which card a message joins; :mod:`.catch_up` reads what was missed while disconnected, from the
positions kept in the database; :mod:`.answers` replies (mentions off) and deletes, and turns
Discord's errors into what an admin must do.

The client runs as a task on the bot's own event loop. A gateway that never connects (bad token,
the Message Content intent off, Discord unreachable) is one log line and one ops alert; the rest of
the bot keeps running, and the alert clears when the connection is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import discord

from chatops.sources import (
    Answer,
    Capability,
    MessageRemoved,
    SendError,
    SendResult,
    Source,
    SourceContext,
    Target,
)

from . import answers
from .catch_up import Positions, catch_up
from .config import DiscordConfig
from .gateway import Gateway, point_at
from .messages import card_thread, is_customer_message, is_watched, to_edit, to_inbound
from .words import TEXTS

log = logging.getLogger(__name__)

NAME = "discord"
#: After a failed store of a live message, catch up again this much later (the database may be back).
RETRY_CATCH_UP_SECONDS = 30.0
#: Waits between attempts to log in again after a failure that may pass (network, Discord's 5xx).
RETRY_LOGIN_SECONDS = (5.0, 15.0, 60.0, 300.0)
#: Gateway close codes that no retry can fix: 4004 authentication failed, 4010–4012 bad sharding or
#: API version, 4013 invalid intents, 4014 disallowed (privileged) intents.
FATAL_CLOSE_CODES = frozenset({4004, 4010, 4011, 4012, 4013, 4014})
ALERT_KEYS = ("gateway", "token", "intents")
#: How many of its own deletes the source remembers, to tell them from the author's.
DELETING_MEMORY = 1000


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the gateway is not connected: the alert's key, the sentence for admins, and whether to retry."""

    key: str
    text: str
    retry: bool


def problem_of(exc: BaseException, api_url: str) -> Problem:
    """What a failure of ``client.start()`` means, in one sentence an admin can act on."""
    token = Problem(
        "token",
        "Discord refused the bot token (plugins.discord.token): reset it in the Developer Portal → "
        "Bot and update the setting; Discord messages are not read until then",
        retry=False,
    )
    if isinstance(exc, discord.LoginFailure):
        return token
    if isinstance(exc, discord.ConnectionClosed) and exc.code == 4013:
        # Not a switch in the Developer Portal: the client sent an intents value Discord does not know.
        return Problem(
            "gateway",
            "Discord closed the gateway with code 4013 (invalid intents): the bot asked for intents Discord "
            "does not know, a bug in the Discord plugin or its discord.py version, not a setting; report it "
            "to the bot's maintainers. Discord messages are not read until then",
            retry=False,
        )
    if isinstance(exc, discord.PrivilegedIntentsRequired) or (
        isinstance(exc, discord.ConnectionClosed) and exc.code == 4014
    ):
        return Problem(
            "intents",
            "Discord refused the Message Content intent: switch it on in the Developer Portal → Bot → "
            "Privileged Gateway Intents and restart; Discord messages are not read until then",
            retry=False,
        )
    if isinstance(exc, discord.ConnectionClosed) and exc.code == 4004:
        return token
    if isinstance(exc, discord.ConnectionClosed) and exc.code in FATAL_CLOSE_CODES:
        return Problem("gateway", f"Discord closed the gateway with code {exc.code}: {exc}", retry=False)
    return Problem("gateway", f"cannot connect to Discord ({api_url}): {type(exc).__name__}: {exc}", retry=True)


class DiscordSource(Source):
    """Messages in the watched Discord servers and channels; replies under them, deletes only if allowed."""

    name = NAME
    # Hide is declared so the card can say why it is not offered (Discord only deletes).
    capabilities = frozenset({Capability.REPLY, Capability.HIDE})
    # The card offers Delete, says it cannot be undone, and has no Unhide afterwards.
    hide_deletes = True
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = TEXTS

    def __init__(self, config: DiscordConfig) -> None:
        self.config = config
        self.display_name = config.display_name  # type: ignore[misc]
        self.inbox_channel = config.channel
        self.max_reply_length = config.max_reply_length
        self._ctx: SourceContext | None = None
        self._client: Gateway | None = None
        self._positions: Positions | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        #: A failure no retry fixes (bad token, intent off): answers say so instead of trying.
        self._fatal: Problem | None = None
        self._logged: set[str] = set()
        self._catch_up_lock = asyncio.Lock()
        self._catch_up_wanted = False
        self._catch_up_fresh = False
        self._retry_pending = False
        #: Channels where the last catch-up stopped at ``catch_up_limit``: more is unread there.
        self._unfinished: set[int] = set()
        #: Messages this bot deletes (Hide): their delete event is not "removed by the author".
        self._deleting: OrderedDict[int, None] = OrderedDict()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, ctx: SourceContext) -> None:
        """Point discord.py at the configured endpoints and start the client in the background.

        Returns at once: connecting is the client task's business, and a failure there is reported
        (log line, ops alert) without stopping the bot.
        """
        self._ctx = ctx
        self._positions = Positions(ctx.state)
        self._ready = asyncio.Event()
        self._fatal = None
        point_at(self.config.api_url, self.config.gateway_url)
        self._runner = asyncio.create_task(self._run(), name="discord-gateway")
        self._spawn(self._watch_connect(), "discord-connect-watch")

    async def stop(self) -> None:
        """Close the client and end its tasks."""
        runner, self._runner = self._runner, None
        client = self._client
        for task in list(self._tasks):
            task.cancel()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._client = None

    @property
    def ctx(self) -> SourceContext:
        """The plugin's context (the source must be started)."""
        if self._ctx is None:
            raise RuntimeError("discord source is not started")
        return self._ctx

    @property
    def positions(self) -> Positions:
        """The catch-up positions (the source must be started)."""
        if self._positions is None:
            raise RuntimeError("discord source is not started")
        return self._positions

    @property
    def client(self) -> Gateway | None:
        """The running discord.py client, if any (tests and the answers use it)."""
        return self._client

    async def wait_connected(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until the gateway has been ready once since start; False after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` as a task the source owns (kept referenced, cancelled by :meth:`stop`)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        """Run the client; report a failure once and retry those that may pass, with a growing wait."""
        token = self.config.token.get_secret_value()
        attempt = 0
        while True:
            client = Gateway(self, guild_ready_timeout=self.config.guild_ready_timeout_seconds)
            self._client = client
            try:
                await client.start(token)
                return  # closed by stop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                problem = problem_of(exc, self.config.api_url)
            with contextlib.suppress(Exception):
                await client.close()
            await self._report(problem)
            if not problem.retry:
                self._fatal = problem
                return
            wait = RETRY_LOGIN_SECONDS[min(attempt, len(RETRY_LOGIN_SECONDS) - 1)]
            attempt += 1
            await asyncio.sleep(wait)

    async def _watch_connect(self) -> None:
        """Report a gateway that has not connected within ``connect_timeout_seconds`` (discord.py keeps trying)."""
        try:
            await asyncio.wait_for(self._ready.wait(), self.config.connect_timeout_seconds)
        except TimeoutError:
            if self._fatal is None and not self._logged:
                await self._report(
                    Problem(
                        "gateway",
                        f"Discord's gateway did not connect within {self.config.connect_timeout_seconds:g} s; "
                        "discord.py keeps trying (check the network and plugins.discord.gateway_url)",
                        retry=True,
                    )
                )

    async def _report(self, problem: Problem) -> None:
        """One log line per problem (not one per retry) and one ops alert until it clears."""
        if problem.key not in self._logged:
            self._logged.add(problem.key)
            log.error("discord source not connected: %s", problem.text)
        try:
            await self.ctx.alerts.raise_once(problem.key, problem.text)
        except Exception:
            log.exception("discord: could not raise the ops alert %s", problem.key)

    # -- gateway events (the Listener) -------------------------------------------------------------

    async def gateway_ready(self) -> None:
        """A new session: clear the alerts and catch up on what was missed while away."""
        client = self._client
        if client is not None:
            log.info("discord: connected as %s to %d servers", client.user, len(client.guilds))
        self._ready.set()
        self._logged.clear()
        try:
            await self.ctx.alerts.clear(*ALERT_KEYS)
        except Exception as exc:  # the database may be down; catching up matters more
            log.warning("discord: could not clear the connection alerts: %s", exc)
        await self.catch_up(fresh_cache=True)

    async def gateway_resumed(self) -> None:
        """A resumed session: Discord replays missed events, but catching up costs little and is sure."""
        await self.catch_up()

    async def message_created(self, message: discord.Message) -> None:
        """A live message: store it if it is a watched customer's; on failure, catch up again later."""
        try:
            await self.take(message)
            if message.channel.id in self._unfinished:
                # Older missed messages are still unread there (the last catch-up stopped at its
                # limit): read the next ones now rather than at the next reconnect or retry.
                self._spawn(self.catch_up(), "discord-catch-up")
        except Exception:
            log.exception(
                "discord: storing message %s failed; catching up again in %g s", message.id, RETRY_CATCH_UP_SECONDS
            )
            # Until the catch-up has read it, later messages must not move the position past it.
            self.positions.hold(message.channel.id)
            self._retry_catch_up()

    async def message_edited(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A watched customer's message edited: the card shows the new text."""
        message = payload.message
        # Discord also sends an update when it adds a link preview; the text is then unchanged.
        if message.edited_at is None or not self._wanted(message):
            return
        await self.ctx.ingest(to_edit(NAME, message))

    async def messages_deleted(self, channel_id: int, message_ids: list[int]) -> None:
        """Messages deleted on Discord: stored ones are marked removed (unknown ids are ignored by the core)."""
        channel = self._client.get_channel(channel_id) if self._client is not None else None
        if channel is not None and not is_watched(channel, self.config.guild_ids, self.config.channel_ids):
            return
        for message_id in message_ids:
            if message_id in self._deleting:
                continue  # our own Hide; the core records it as hidden
            await self.ctx.ingest(MessageRemoved(NAME, str(message_id)))

    # -- inbound -----------------------------------------------------------------------------

    def _wanted(self, message: discord.Message) -> bool:
        client = self._client
        own_id = client.user.id if client is not None and client.user is not None else None
        return is_watched(message.channel, self.config.guild_ids, self.config.channel_ids) and is_customer_message(
            message, own_id, ignore_bots=self.config.ignore_bots
        )

    async def take(self, message: discord.Message) -> None:
        """Store ``message`` if it is a watched customer's, on its card; then move its channel's position."""
        if not self._wanted(message):
            return
        ctx = self.ctx

        async def thread_of(external_id: str) -> str | None:
            return await ctx.thread_of(NAME, external_id)

        thread_id = await card_thread(message, thread_of)
        await ctx.ingest(to_inbound(NAME, message, thread_id))
        await self.positions.advance(message.channel.id, message.id)

    async def catch_up(self, *, fresh_cache: bool = False) -> None:
        """Read what was missed in every watched channel; one pass at a time, again if asked meanwhile.

        ``fresh_cache``: the client has just received every server's data (READY), so a channel whose
        newest message is not after its position need not be asked; after a resume it may be stale.
        """
        self._catch_up_wanted = True
        self._catch_up_fresh = fresh_cache
        if self._catch_up_lock.locked():
            return  # the running pass goes round once more
        async with self._catch_up_lock:
            while self._catch_up_wanted:
                self._catch_up_wanted = False
                client = self._client
                if client is None:
                    return
                try:
                    result = await catch_up(
                        client.guilds,
                        self.config.guild_ids,
                        self.config.channel_ids,
                        self.positions,
                        self.take,
                        self.config.catch_up_limit,
                        await self.positions.watching_since(),
                        fresh_cache=self._catch_up_fresh,
                    )
                except Exception as exc:  # e.g. the database refused reading the start position
                    log.warning("discord catch-up failed: %s: %s", type(exc).__name__, exc)
                    self._retry_catch_up()
                    return
                self._unfinished = set(result.unfinished)
                if result.read:
                    log.info("discord catch-up: read %d missed messages", result.read)
                if result.failed or result.unfinished:
                    # Failed channels and those stopped at the limit go on from their positions, which
                    # live messages do not move meanwhile (they are held).
                    self._retry_catch_up()

    def _retry_catch_up(self) -> None:
        """Catch up again in :data:`RETRY_CATCH_UP_SECONDS`, once however many failures asked for it."""
        if self._retry_pending:
            return
        self._retry_pending = True
        self._spawn(self._catch_up_later(), "discord-catch-up-retry")

    async def _catch_up_later(self) -> None:
        await asyncio.sleep(RETRY_CATCH_UP_SECONDS)
        self._retry_pending = False
        await self.catch_up()

    # -- answers -----------------------------------------------------------------------------

    def _answering_client(self) -> discord.Client:
        """The client to answer with, or the SendError saying why there is none."""
        if self._fatal is not None:
            alert = self._fatal.key if self._fatal.key == "token" else None
            raise SendError(self._fatal.text, retryable=True, alert=alert)
        client = self._client
        if client is None or client.http.token is None:
            raise SendError("the bot is not logged in to Discord yet: sending again later", retryable=True)
        return client

    def unavailable_reason(self, capability: Capability, target: Target) -> str | None:
        """Hide (= delete) only when ``allow_delete`` is on and the bot has Manage Messages there."""
        if capability is not Capability.HIDE:
            return None
        if not self.config.allow_delete:
            return self.t("discord.no_hide")
        client = self._client
        if client is None or not client.is_ready():
            return self.t("discord.not_connected")
        # A thread's permissions are its parent channel's.
        channel_id = target.extra.get("watched_channel_id") or target.extra.get("channel_id")
        channel = client.get_channel(int(channel_id)) if channel_id else None
        guild = getattr(channel, "guild", None)
        if channel is None or guild is None or guild.me is None:
            return self.t("discord.no_manage_messages", channel=channel_id)
        if not channel.permissions_for(guild.me).manage_messages:  # type: ignore[union-attr]
            return self.t("discord.no_manage_messages", channel=getattr(channel, "name", channel_id))
        return None

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """A reply under the customer's message, with every mention off."""
        return await answers.send_reply(self._answering_client(), target, answer)

    async def set_hidden(self, target: Target, hidden: bool) -> None:
        """Discord has no hide: hiding deletes the message (only if allowed); it can never be undone."""
        if not hidden:
            raise SendError("Discord has no hide: the message was deleted and cannot be restored", retryable=False)
        reason = self.unavailable_reason(Capability.HIDE, target)
        if reason is not None:
            raise SendError(reason, retryable=False)
        client = self._answering_client()
        message_id = int(target.external_id)
        # Marked before the call: the gateway's MESSAGE_DELETE may arrive before the HTTP answer.
        self._deleting[message_id] = None
        while len(self._deleting) > DELETING_MEMORY:
            self._deleting.popitem(last=False)
        try:
            await answers.delete_message(client, target)
        except BaseException:
            self._deleting.pop(message_id, None)
            raise
