"""A Discord-compatible fake over real HTTP and a real WebSocket, for tests without the internet.

:class:`FakeDiscord` is one Starlette app served on 127.0.0.1 by
:class:`chatops.testing.server.ThreadedServer`: Discord's HTTP API under ``/api/v10`` and its
gateway at ``/gateway``. A real discord.py 2.x client connects to it once pointed there
(:func:`point_discord_at`, or the plugin's ``api_url`` / ``gateway_url``) and goes through its own
login, gateway, cache and HTTP code::

    with FakeDiscord(token="t", bot_user_id="900", bot_name="Helper", application_id="901") as fake:
        fake.add_guild("100", "Kahvila")
        fake.add_channel("100", "200", "support")
        aino = fake.user("300", "Aino")
        with point_discord_at(fake):
            ...  # start a discord.Client with token "t"; it sees the server and channel
        fake.post("200", aino, "Where is my order?")  # arrives as MESSAGE_CREATE

The customer's side is :meth:`~FakeDiscord.post`, :meth:`~FakeDiscord.edit` and
:meth:`~FakeDiscord.delete`; what the bot did is in :attr:`~FakeDiscord.sent`,
:attr:`~FakeDiscord.deleted` and :attr:`~FakeDiscord.requests`. Connection trouble is
:meth:`~FakeDiscord.disconnect`, :meth:`~FakeDiscord.request_reconnect` and
:meth:`~FakeDiscord.invalidate_session`; HTTP trouble is :meth:`~FakeDiscord.rate_limit_next` and
:meth:`~FakeDiscord.fail_next`. The gateway's rules are in :mod:`.fake_gateway`, the HTTP API's in
:mod:`.fake_http`, the world's objects and permission rules in :mod:`.fake_world`.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute

from chatops.testing.server import LoopbackFake, ThreadedServer

from .fake_gateway import (
    GUILD_MEMBERS,
    GUILD_PRESENCES,
    HEARTBEAT,
    INVALID_SESSION,
    MESSAGE_CONTENT,
    RECONNECT,
    Gateway,
    GatewayConnection,
    Session,
)
from .fake_http import DeletedMessage, HttpApi, HttpCall, Scripted, SentMessage
from .fake_world import (
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    World,
    iso,
)

__all__ = [
    "DeletedMessage",
    "FakeDiscord",
    "GatewayConnection",
    "HttpCall",
    "SentMessage",
    "point_discord_at",
]

T = TypeVar("T")

#: Application flag: the message-content intent is switched on in the Developer Portal (unverified app).
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19


class FakeDiscord(LoopbackFake):
    """Discord's HTTP API and gateway on 127.0.0.1, holding one bot, its servers, channels and messages."""

    def __init__(
        self,
        *,
        token: str,
        bot_user_id: str = "900000000000000001",
        bot_name: str = "Chatops Bot",
        application_id: str = "900000000000000002",
    ) -> None:
        self.lock = threading.RLock()
        self._initial = (token, bot_user_id, bot_name, application_id)
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.application_id = application_id
        self._server: ThreadedServer | None = None
        self.gateway = Gateway(self)
        self._set_defaults()
        self.http = HttpApi(self)
        self.app = Starlette(
            routes=[
                Mount("/api/v10", routes=self.http.routes()),
                WebSocketRoute("/gateway", self.gateway.endpoint),
                WebSocketRoute("/resume-gateway", self.gateway.endpoint),
            ]
        )

    def _set_defaults(self) -> None:
        token, bot_user_id, bot_name, application_id = self._initial
        #: The bot token the fake accepts (``Authorization: Bot <token>``, IDENTIFY's ``token``).
        self.token = token
        #: The Developer Portal's "Message Content Intent" switch: off, IDENTIFY asking for it gets 4014.
        self.allow_message_content = True
        #: The portal's "Server Members Intent" and "Presence Intent" switches.
        self.allow_members_intent = False
        self.allow_presences_intent = False
        #: HELLO's heartbeat interval; discord.py heartbeats on its own thread at this pace.
        self.heartbeat_interval_ms = 41_250
        #: False: heartbeats go unanswered (a "zombie" connection), and discord.py, once its
        #: ``heartbeat_timeout`` passes without an ACK, drops the connection and resumes.
        self.ack_heartbeats = True
        #: While True, new gateway connections wait before HELLO (see :meth:`held_gateway`).
        self.hold_gateway = False
        self.world = World(bot_user_id=bot_user_id, bot_name=bot_name, application_id=application_id)
        self.identify_count = 0
        self.resume_count = 0
        self.sent: list[SentMessage] = []
        self.deleted: list[DeletedMessage] = []
        self.requests: list[HttpCall] = []
        #: Failures waiting for their request (rate_limit_next, fail_next), first match first.
        self.scripted: list[Scripted] = []
        #: Bot messages by nonce, with when they were made (``enforce_nonce``).
        self.nonces: dict[str, tuple[str, float]] = {}
        #: How long Discord remembers a nonce ("the past few minutes": the exact window is unverified).
        self.nonce_window_seconds = 300.0
        #: POSTs answered with an earlier message because their nonce was seen (nothing new was sent).
        self.deduplicated: list[SentMessage] = []

    # -- lifecycle ------------------------------------------------------------------------------

    def served_app(self) -> Starlette:
        """The HTTP API and the gateway."""
        return self.app

    def before_stop(self) -> None:
        """Close every gateway connection first (1001, not resumable)."""
        self.gateway.close_all(1001, "fake stopping", resumable=False)

    def reset(self) -> None:
        """Back to a world with only the bot: no servers, messages, sessions, records or scripted failures.

        Open gateway connections are closed (1001) and their sessions cannot be resumed.
        """
        self.gateway.reset()
        with self.lock:
            self._set_defaults()

    @property
    def api_url(self) -> str:
        """The HTTP API's base (discord.py's ``Route.BASE``): ``http://127.0.0.1:<port>/api/v10``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The gateway (discord.py's ``DiscordWebSocket.DEFAULT_GATEWAY``): ``ws://127.0.0.1:<port>/gateway``."""
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """Where READY tells the client to resume (a separate path, so tests can see it was used)."""
        return self.base_url.replace("http://", "ws://", 1) + "/resume-gateway"

    # -- the world -------------------------------------------------------------------------------

    def add_guild(self, guild_id: str, name: str) -> dict[str, Any]:
        """Put the bot in a server (``@everyone``, the bot's role, an owner who is not the bot)."""
        with self.lock:
            guild = self.world.add_guild(guild_id, name)

            # The bot joining a server while connected: GUILD_CREATE, shaped per session's intents, without
            # "unavailable" (which marks a server of READY becoming available, not a new one).
            def joined(session: Session, _: Any) -> dict[str, Any]:
                data = self.world.guild_payload(guild, all_members=bool(session.intents & GUILD_MEMBERS))
                del data["unavailable"]
                return data

            self.gateway.dispatch("GUILD_CREATE", {}, shape=joined)
            return {"id": guild.id, "name": guild.name, "owner_id": guild.owner_id, "bot_role_id": guild.bot_role_id}

    def add_channel(self, guild_id: str, channel_id: str, name: str) -> dict[str, Any]:
        """A text channel; connected clients get CHANNEL_CREATE."""
        with self.lock:
            channel = self.world.add_channel(guild_id, channel_id, name)
            payload = self.world.channel_payload(channel)
            self.gateway.dispatch("CHANNEL_CREATE", payload)
            return payload

    def add_thread(self, parent_id: str, thread_id: str, name: str, *, owner_id: str | None = None) -> dict[str, Any]:
        """A public thread under ``parent_id`` (``thread_id`` may be its starter message's id); THREAD_CREATE."""
        with self.lock:
            thread = self.world.add_thread(parent_id, thread_id, name, owner_id=owner_id)
            payload = self.world.channel_payload(thread)
            self.gateway.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
            return payload

    def archive_thread(self, thread_id: str, *, archived: bool = True, locked: bool = False) -> dict[str, Any]:
        """Archive (or unarchive) a thread, as Discord does after a day without messages; THREAD_UPDATE.

        An archived thread is left out of GUILD_CREATE. A message posted in it unarchives it, unless it
        is locked: then the bot's POST is refused (400, code 50083).
        """
        with self.lock:
            thread = self.world.set_archived(thread_id, archived=archived, locked=locked)
            payload = self.world.channel_payload(thread)
            self.gateway.dispatch("THREAD_UPDATE", payload)
            return payload

    def user(self, user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
        """A Discord user (a customer, or another bot with ``bot=True``); returns their user object."""
        with self.lock:
            return self.world.user(user_id, name, bot=bot)

    def set_bot_permissions(
        self,
        channel_id: str,
        manage_messages: bool | None = None,
        *,
        send_messages: bool | None = None,
        read_message_history: bool | None = None,
        view_channel: bool | None = None,
        dispatch: bool = True,
    ) -> None:
        """Allow (True), deny (False) or inherit (None) permissions for the bot in a text channel.

        Done as Discord would: one member overwrite for the bot on the channel (threads inherit it
        from their parent). Connected clients get CHANNEL_UPDATE, so ``channel.permissions_for(guild.me)``
        agrees with what the HTTP side enforces; ``dispatch=False`` changes only what the HTTP side
        enforces (the client's cache goes stale, as when an event was lost). All None removes the overwrite.
        """
        bits = {
            MANAGE_MESSAGES: manage_messages,
            SEND_MESSAGES: send_messages,
            READ_MESSAGE_HISTORY: read_message_history,
            VIEW_CHANNEL: view_channel,
        }
        allow = sum(bit for bit, on in bits.items() if on is True)
        deny = sum(bit for bit, on in bits.items() if on is False)
        with self.lock:
            channel = self.world.set_member_overwrite(channel_id, self.bot_user_id, allow=allow, deny=deny)
            if dispatch:
                self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel))

    def bot_permissions(self, channel_id: str) -> int:
        """The bot's resolved permission bits in a channel or thread (what the HTTP side enforces)."""
        with self.lock:
            return self.world.permissions(channel_id)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """A channel's stored messages, oldest first."""
        with self.lock:
            channel = self.world.channel(channel_id)
            return [self.world.rest_message(channel.messages[i]) for i in sorted(channel.messages)]

    def message(self, message_id: str) -> dict[str, Any] | None:
        """A stored message by id (any channel), or None if there is none (or it was deleted)."""
        with self.lock:
            found = self.world.find_message(message_id)
            return None if found is None else self.world.rest_message(found)

    # -- the customer's side ------------------------------------------------------------------------

    def post(
        self,
        channel_id: str,
        author: dict[str, Any] | str,
        content: str,
        *,
        reply_to: str | None = None,
        message_id: str | None = None,
        attachments: Sequence[str] = (),
        stickers: Sequence[str] = (),
        embeds: Sequence[dict[str, Any]] = (),
        dispatch: bool = True,
    ) -> dict[str, Any]:
        """Someone writes ``content`` in a channel or thread; connected clients get MESSAGE_CREATE.

        ``dispatch=False`` stores it without telling any session: a message written while the bot
        was away, which only ``history()`` finds. ``reply_to`` makes it a reply (type 19).
        ``attachments`` are file names (uploaded files on Discord's CDN), ``stickers`` sticker names,
        ``embeds`` embed objects as Discord sends them (e.g. ``{"type": "rich", "title": "…"}``).
        """
        author_id = author["id"] if isinstance(author, dict) else str(author)
        with self.lock:
            self.unarchive_for_post(channel_id)
            extra: dict[str, Any] = {
                "attachments": [self._attachment(channel_id, name) for name in attachments],
                "sticker_items": [
                    {"id": str(self.world.ids.next()), "name": name, "format_type": 1} for name in stickers
                ],
                "embeds": [dict(e) for e in embeds],
            }
            message = self.world.add_message(
                channel_id, author_id, content, reply_to=reply_to, message_id=message_id, extra=extra
            )
            if dispatch:
                self.dispatch_message("MESSAGE_CREATE", message)
            return self.world.rest_message(message)

    def post_webhook(
        self, channel_id: str, webhook_id: str, name: str, content: str, *, dispatch: bool = True
    ) -> dict[str, Any]:
        """An integration posts through a webhook (an order notifier): a bot-flagged author, ``webhook_id`` set."""
        with self.lock:
            message = self.world.add_message(channel_id, webhook_id, content, webhook_name=name)
            if dispatch:
                self.dispatch_message("MESSAGE_CREATE", message)
            return self.world.rest_message(message)

    def _attachment(self, channel_id: str, filename: str) -> dict[str, Any]:
        """An uploaded file as Discord describes it (the URL points at Discord's CDN, never fetched)."""
        attachment_id = str(self.world.ids.next())
        url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": 1024,
            "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net", 1),
            "content_type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
        }

    def edit(self, channel_id: str, message_id: str, content: str, *, dispatch: bool = True) -> dict[str, Any]:
        """The author edits a message; connected clients get MESSAGE_UPDATE."""
        with self.lock:
            message = self._stored(channel_id, message_id)
            message["content"] = content
            message["edited_timestamp"] = iso(int(time.time() * 1000))
            message["mentions"] = [self.world.user_payload(u) for u in self.world.mentioned_users(content)]
            if dispatch:
                self.dispatch_message("MESSAGE_UPDATE", message)
            return self.world.rest_message(message)

    def delete(self, channel_id: str, message_id: str, *, dispatch: bool = True) -> None:
        """The author (or a moderator) deletes a message; connected clients get MESSAGE_DELETE."""
        with self.lock:
            channel = self.world.channel(channel_id)
            self._stored(channel_id, message_id)
            del channel.messages[int(message_id)]
            if dispatch:
                self.gateway.dispatch(
                    "MESSAGE_DELETE", {"id": str(message_id), "channel_id": channel.id, "guild_id": channel.guild_id}
                )

    def unarchive_for_post(self, channel_id: str) -> None:
        """A message in an archived (not locked) thread brings it back, as on Discord; THREAD_UPDATE."""
        channel = self.world.channel(channel_id)
        if channel.is_thread and channel.archived and not channel.locked:
            self.archive_thread(channel.id, archived=False)

    def delete_bulk(self, channel_id: str, message_ids: list[str], *, dispatch: bool = True) -> None:
        """A moderator purges messages at once; connected clients get one MESSAGE_DELETE_BULK."""
        with self.lock:
            channel = self.world.channel(channel_id)
            for message_id in message_ids:
                self._stored(channel_id, message_id)
            for message_id in message_ids:
                del channel.messages[int(message_id)]
            if dispatch:
                self.gateway.dispatch(
                    "MESSAGE_DELETE_BULK",
                    {"ids": [str(i) for i in message_ids], "channel_id": channel.id, "guild_id": channel.guild_id},
                )

    def _stored(self, channel_id: str, message_id: str) -> dict[str, Any]:
        channel = self.world.channel(channel_id)
        try:
            return channel.messages[int(message_id)]
        except (KeyError, ValueError):
            raise KeyError(f"no message {message_id} in channel {channel_id}") from None

    def dispatch_message(self, event: str, message: dict[str, Any], *, nonce: str | int | None = None) -> None:
        """Send a stored message's event to the sessions (content blanked for those without the intent)."""
        if not self.world.permissions(message["channel_id"]) & VIEW_CHANNEL:
            return  # Discord sends no message events from channels the bot cannot see
        data = self.world.gateway_message(message)
        if nonce is not None:
            data["nonce"] = nonce
        bot_id = self.bot_user_id

        def shape(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
            # Without the MESSAGE_CONTENT intent Discord blanks content, embeds, attachments and
            # components, except in messages the bot wrote or that mention it.
            if session.intents & MESSAGE_CONTENT or payload["author"]["id"] == bot_id:
                return payload
            if any(u["id"] == bot_id for u in payload.get("mentions", [])):
                return payload
            return {**payload, "content": "", "embeds": [], "attachments": [], "components": []}

        self.gateway.dispatch(event, data, shape=shape)

    # -- connection control ---------------------------------------------------------------------------

    @property
    def connections(self) -> list[GatewayConnection]:
        """Every gateway connection made since the last reset, oldest first."""
        with self.lock:
            return list(self.gateway.connections)

    def disconnect(self, code: int = 4000, *, resumable: bool = True, reason: str = "") -> int:
        """Close the open gateway connections with ``code`` (discord.py reconnects on 1001, 4000, …).

        ``resumable=False`` also ends the sessions: the client's RESUME then gets INVALID_SESSION
        and it identifies again, missing whatever happened in between. Returns how many closed.
        """
        return self.gateway.close_all(code, reason, resumable=resumable)

    def request_reconnect(self) -> int:
        """Send RECONNECT (op 7) to the open connections: the client reconnects and resumes."""
        return self.gateway.send_op(RECONNECT, None)

    def invalidate_session(self, *, resumable: bool = False) -> int:
        """Send INVALID_SESSION (op 9) to the open connections; ``resumable=False`` also ends the sessions."""
        if not resumable:
            with self.lock:
                for session in self.gateway.sessions.values():
                    session.resumable = False
        return self.gateway.send_op(INVALID_SESSION, resumable)

    def request_heartbeat(self) -> int:
        """Ask the open connections for an immediate heartbeat (op 1 from the server)."""
        return self.gateway.send_op(HEARTBEAT, None)

    def open_connections(self) -> list[GatewayConnection]:
        """The connections open now."""
        with self.lock:
            return [c for c in self.gateway.connections if c.open]

    @contextlib.contextmanager
    def held_gateway(self) -> Iterator[None]:
        """Within the block, connections are accepted but get no HELLO: the client is certainly away.

        For "while the bot was disconnected" tests: ``disconnect()``, wait until no connection is open,
        post, then leave the block and the client resumes (or identifies) and sees what it missed.
        """
        self.hold_gateway = True
        try:
            yield
        finally:
            self.hold_gateway = False

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a polling bound, like TestBot's waits
        what: str = "the condition",
    ) -> T:
        """Poll ``predicate`` until it returns something truthy (returned), failing the test after ``timeout``.

        Async because the client under test runs on the caller's loop: a blocking wait would stop it.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"FakeDiscord: gave up after {timeout} s waiting for {what}")
            await asyncio.sleep(0.01)

    async def wait_ready(self, count: int = 1, *, timeout: float = 5.0) -> GatewayConnection:  # noqa: ASYNC109
        """Wait until ``count`` connections got READY or RESUMED; return the latest such connection."""

        def ready() -> GatewayConnection | None:
            done = [c for c in self.connections if c.ready]
            return done[-1] if len(done) >= count else None

        return await self.wait_for(ready, timeout=timeout, what=f"{count} ready gateway connection(s)")

    # -- HTTP trouble -------------------------------------------------------------------------------

    def rate_limit_next(
        self,
        *,
        retry_after: float = 0.05,
        method: str | None = None,
        path: str | None = None,
        is_global: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next matching request(s) with 429 and ``retry_after`` seconds, as Discord does.

        ``path`` is a regular expression searched in the path without ``/api/v10``.
        """
        body: dict[str, Any] = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        if not is_global:
            body["code"] = 0
        headers = {
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "global" if is_global else "user",
            # discord.py takes a 429 without Via for a Cloudflare ban and gives up.
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self._script(method, path, 429, body, headers, times)

    def fail_next(
        self,
        status: int,
        *,
        code: int = 0,
        message: str = "Internal Server Error",
        method: str | None = None,
        path: str | None = None,
        errors: dict[str, Any] | None = None,
        times: int = 1,
        after_processing: bool = False,
    ) -> None:
        """Answer the next matching request(s) with ``status`` and Discord's error JSON.

        ``after_processing=True`` first does what the request asks (the message is posted, stored and
        dispatched) and only then answers the failure: the client never learns it worked, as when
        Discord's response is lost. Use 503 for a failure discord.py raises at once (it retries 500,
        502, 504 and 524 itself after sleeping).
        """
        body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            body["errors"] = errors
        self._script(method, path, status, body, {}, times, after_processing=after_processing)

    def _script(
        self,
        method: str | None,
        path: str | None,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str],
        times: int,
        *,
        after_processing: bool = False,
    ) -> None:
        with self.lock:
            self.scripted.append(
                Scripted(
                    method=method.upper() if method else None,
                    path=re.compile(path) if path else None,
                    status=status,
                    body=body,
                    headers=headers,
                    remaining=times,
                    after_processing=after_processing,
                )
            )

    # -- gateway payloads (called by the gateway under the lock) ---------------------------------------

    def allowed_privileged_intents(self) -> int:
        """The privileged intents the application may ask for (the portal's switches)."""
        return (
            (MESSAGE_CONTENT if self.allow_message_content else 0)
            | (GUILD_MEMBERS if self.allow_members_intent else 0)
            | (GUILD_PRESENCES if self.allow_presences_intent else 0)
        )

    def application_flags(self) -> int:
        """The application's flags: GATEWAY_MESSAGE_CONTENT_LIMITED while the portal switch is on."""
        return GATEWAY_MESSAGE_CONTENT_LIMITED if self.allow_message_content else 0

    def ready_payload(self, session: Session) -> dict[str, Any]:
        """READY: the bot user, every server as unavailable (GUILD_CREATE follows), the session."""
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.world.me_payload(),
            "guilds": [{"id": gid, "unavailable": True} for gid in self.world.guilds],
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "session_type": "normal",
            "application": {"id": self.application_id, "flags": self.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        return ready

    def guild_create_payloads(self, session: Session) -> list[dict[str, Any]]:
        """One GUILD_CREATE per server (every member only with the GUILD_MEMBERS intent)."""
        all_members = bool(session.intents & GUILD_MEMBERS)
        return [self.world.guild_payload(g, all_members=all_members) for g in self.world.guilds.values()]

    def members_chunk(self, guild_id: str, nonce: Any) -> dict[str, Any] | None:
        """GUILD_MEMBERS_CHUNK answering REQUEST_GUILD_MEMBERS: every member in one chunk."""
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            return None
        chunk: dict[str, Any] = {
            "guild_id": guild.id,
            "members": [self.world.member_payload(guild, uid) for uid in guild.members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if nonce is not None:
            chunk["nonce"] = nonce
        return chunk


@contextlib.contextmanager
def point_discord_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py (process-wide) at ``fake``: ``Route.BASE`` and ``DEFAULT_GATEWAY``; restored on exit."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
