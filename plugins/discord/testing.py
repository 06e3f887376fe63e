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
:meth:`~FakeDiscord.fail_next`. The gateway's rules are in :mod:`.fake_gateway`, the world's
objects and permission rules in :mod:`.fake_world`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from chatops.testing.server import ThreadedServer

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
from .fake_world import (
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    World,
    iso,
    pings,
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

#: Discord messages are at most this long (for bots; Nitro's 4000 is for people).
MAX_CONTENT = 2000
#: A message nonce is at most 25 characters.
MAX_NONCE = 25
#: Application flag: the message-content intent is switched on in the Developer Portal (unverified app).
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19


@dataclass
class SentMessage:
    """A message the bot posted through ``POST /channels/{id}/messages``."""

    channel_id: str
    message_id: str
    content: str
    #: The ``message_reference`` sent (None for a plain message).
    message_reference: dict[str, Any] | None
    #: The ``allowed_mentions`` sent (None when the request had none: then every mention pings).
    allowed_mentions: dict[str, Any] | None
    #: Who Discord would notify: user ids, ``role:<id>``, ``@everyone`` (see :func:`.fake_world.pings`).
    pings: list[str]
    #: The whole JSON body of the request.
    payload: dict[str, Any]

    @property
    def reply_to(self) -> str | None:
        """The id of the message this one replies to."""
        return None if self.message_reference is None else str(self.message_reference.get("message_id"))


@dataclass
class DeletedMessage:
    """A message the bot deleted through ``DELETE /channels/{id}/messages/{id}``."""

    channel_id: str
    message_id: str
    #: The deleted message as it was.
    message: dict[str, Any]
    #: The ``X-Audit-Log-Reason`` header, if any.
    reason: str | None


@dataclass
class HttpCall:
    """One HTTP request the fake answered."""

    method: str
    #: Path without ``/api/v10``, e.g. ``/channels/200/messages``.
    path: str
    query: dict[str, str]
    body: Any
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class _Scripted:
    method: str | None
    path: re.Pattern[str] | None
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int
    #: Do the request's work, then answer the failure anyway (a response lost on the way back).
    after_processing: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or bool(self.path.search(path)))


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _form_error(field_name: str, code: str, message: str) -> JSONResponse:
    """Discord's 400 "Invalid Form Body" (code 50035) naming one field."""
    return _error(400, 50035, "Invalid Form Body", {field_name: {"_errors": [{"code": code, "message": message}]}})


def _unknown_channel() -> JSONResponse:
    return _error(404, 10003, "Unknown Channel")


def _unknown_message() -> JSONResponse:
    return _error(404, 10008, "Unknown Message")


def _missing_access() -> JSONResponse:
    return _error(403, 50001, "Missing Access")


def _missing_permissions() -> JSONResponse:
    return _error(403, 50013, "Missing Permissions")


class FakeDiscord:
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
        routes = [
            Route("/users/@me", self._endpoint(self._get_me)),
            Route("/users/{user_id}", self._endpoint(self._get_user)),
            Route("/oauth2/applications/@me", self._endpoint(self._get_application)),
            Route("/gateway", self._endpoint(self._get_gateway, auth=False)),
            Route("/gateway/bot", self._endpoint(self._get_gateway_bot)),
            Route("/guilds/{guild_id}", self._endpoint(self._get_guild)),
            Route("/guilds/{guild_id}/channels", self._endpoint(self._get_guild_channels)),
            Route("/guilds/{guild_id}/threads/active", self._endpoint(self._get_active_threads)),
            Route("/channels/{channel_id}", self._endpoint(self._get_channel)),
            Route(
                "/channels/{channel_id}/messages",
                self._endpoint(self._messages),
                methods=["GET", "POST"],
            ),
            Route(
                "/channels/{channel_id}/messages/{message_id}",
                self._endpoint(self._message),
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route("/channels/{channel_id}/typing", self._endpoint(self._typing), methods=["POST"]),
        ]
        self.app = Starlette(
            routes=[
                Mount("/api/v10", routes=routes),
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
        self._scripted: list[_Scripted] = []
        #: Bot messages by nonce, with when they were made (``enforce_nonce``).
        self._nonces: dict[str, tuple[str, float]] = {}
        #: How long Discord remembers a nonce ("the past few minutes": the exact window is unverified).
        self.nonce_window_seconds = 300.0
        #: POSTs answered with an earlier message because their nonce was seen (nothing new was sent).
        self.deduplicated: list[SentMessage] = []

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        """Serve on a free port of 127.0.0.1."""
        self._server = ThreadedServer(self.app)
        self._server.start()
        return self

    def stop(self) -> None:
        """Close every connection and stop serving."""
        if self._server is not None:
            self.gateway.close_all(1001, "fake stopping", resumable=False)
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a world with only the bot: no servers, messages, sessions, records or scripted failures.

        Open gateway connections are closed (1001) and their sessions cannot be resumed.
        """
        self.gateway.reset()
        with self.lock:
            self._set_defaults()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._server.base_url

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
    ) -> None:
        """Allow (True), deny (False) or inherit (None) permissions for the bot in a text channel.

        Done as Discord would: one member overwrite for the bot on the channel (threads inherit it
        from their parent). Connected clients get CHANNEL_UPDATE, so ``channel.permissions_for(guild.me)``
        agrees with what the HTTP side enforces.
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
        dispatch: bool = True,
    ) -> dict[str, Any]:
        """Someone writes ``content`` in a channel or thread; connected clients get MESSAGE_CREATE.

        ``dispatch=False`` stores it without telling any session: a message written while the bot
        was away, which only ``history()`` finds. ``reply_to`` makes it a reply (type 19).
        """
        author_id = author["id"] if isinstance(author, dict) else str(author)
        with self.lock:
            message = self.world.add_message(channel_id, author_id, content, reply_to=reply_to, message_id=message_id)
            if dispatch:
                self._dispatch_message("MESSAGE_CREATE", message)
            return self.world.rest_message(message)

    def edit(self, channel_id: str, message_id: str, content: str, *, dispatch: bool = True) -> dict[str, Any]:
        """The author edits a message; connected clients get MESSAGE_UPDATE."""
        with self.lock:
            message = self._stored(channel_id, message_id)
            message["content"] = content
            message["edited_timestamp"] = iso(int(time.time() * 1000))
            message["mentions"] = [self.world.user_payload(u) for u in self.world.mentioned_users(content)]
            if dispatch:
                self._dispatch_message("MESSAGE_UPDATE", message)
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

    def _dispatch_message(self, event: str, message: dict[str, Any], *, nonce: str | int | None = None) -> None:
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
            self._scripted.append(
                _Scripted(
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

    def _application_flags(self) -> int:
        return GATEWAY_MESSAGE_CONTENT_LIMITED if self.allow_message_content else 0

    def ready_payload(self, session: Session) -> dict[str, Any]:
        """READY: the bot user, every server as unavailable (GUILD_CREATE follows), the session."""
        return {
            "v": 10,
            "user": self.world.me_payload(),
            "guilds": [{"id": gid, "unavailable": True} for gid in self.world.guilds],
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "session_type": "normal",
            "application": {"id": self.application_id, "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }

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

    # -- HTTP ---------------------------------------------------------------------------------------------

    def _endpoint(
        self, handler: Callable[[Request, Any], Awaitable[Response]], *, auth: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: read the body, check the token, play scripted failures, record the call."""

        async def endpoint(request: Request) -> Response:
            path = request.url.path.removeprefix("/api/v10")
            body = await _read_body(request)
            response: Response
            if isinstance(body, _BadBody):
                response = _error(400, 50109, "The request body contains invalid JSON.")
            elif auth and request.headers.get("authorization") != f"Bot {self.token}":
                response = _error(401, 0, "401: Unauthorized")
            else:
                scripted = self._take_scripted(request.method, path)
                if scripted is None:
                    response = await handler(request, body)
                else:
                    if scripted.after_processing:
                        await handler(request, body)
                    response = JSONResponse(scripted.body, status_code=scripted.status, headers=scripted.headers)
            with self.lock:
                self.requests.append(
                    HttpCall(
                        method=request.method,
                        path=path,
                        query=dict(request.query_params),
                        body=None if isinstance(body, _BadBody) else body,
                        status=response.status_code,
                    )
                )
            return response

        return endpoint

    def _take_scripted(self, method: str, path: str) -> _Scripted | None:
        with self.lock:
            for scripted in self._scripted:
                if scripted.matches(method, path):
                    scripted.remaining -= 1
                    if scripted.remaining <= 0:
                        self._scripted.remove(scripted)
                    return scripted
        return None

    async def _get_me(self, request: Request, body: Any) -> Response:
        with self.lock:
            return JSONResponse(self.world.me_payload())

    async def _get_user(self, request: Request, body: Any) -> Response:
        with self.lock:
            user = self.world.users.get(request.path_params["user_id"])
            return JSONResponse(user) if user else _error(404, 10013, "Unknown User")

    async def _get_application(self, request: Request, body: Any) -> Response:
        with self.lock:
            return JSONResponse(
                {
                    "id": self.application_id,
                    "name": self.bot_name,
                    "icon": None,
                    "description": "",
                    "summary": "",
                    "type": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "flags": self._application_flags(),
                    "owner": self.world.user_payload(self.world.owner_id),
                    "team": None,
                    "bot": self.world.user_payload(self.bot_user_id),
                    "approximate_guild_count": len(self.world.guilds),
                    "redirect_uris": [],
                    "interactions_endpoint_url": None,
                }
            )

    async def _get_gateway(self, request: Request, body: Any) -> Response:
        return JSONResponse({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: Request, body: Any) -> Response:
        return JSONResponse(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.identify_count,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_guild(self, request: Request, body: Any) -> Response:
        with self.lock:
            guild = self.world.guilds.get(request.path_params["guild_id"])
            if guild is None:
                return _error(404, 10004, "Unknown Guild")
            data = self.world.guild_payload(guild, all_members=False)
            for key in ("members", "channels", "threads", "voice_states", "presences", "joined_at", "member_count"):
                data.pop(key, None)
            return JSONResponse(data)

    async def _get_guild_channels(self, request: Request, body: Any) -> Response:
        with self.lock:
            guild_id = request.path_params["guild_id"]
            if guild_id not in self.world.guilds:
                return _error(404, 10004, "Unknown Guild")
            return JSONResponse(
                [
                    self.world.channel_payload(c)
                    for c in self.world.channels.values()
                    if c.guild_id == guild_id and not c.is_thread
                ]
            )

    async def _get_active_threads(self, request: Request, body: Any) -> Response:
        with self.lock:
            guild_id = request.path_params["guild_id"]
            if guild_id not in self.world.guilds:
                return _error(404, 10004, "Unknown Guild")
            threads = [
                self.world.channel_payload(c)
                for c in self.world.channels.values()
                if c.guild_id == guild_id and c.is_thread and not c.archived
            ]
            return JSONResponse({"threads": threads, "members": []})

    def _visible_channel(self, channel_id: str) -> Channel | Response:
        """The channel, or the error Discord gives when it is unknown or the bot cannot see it."""
        channel = self.world.channels.get(channel_id)
        if channel is None:
            return _unknown_channel()
        if not self.world.permissions(channel.id) & VIEW_CHANNEL:
            return _missing_access()
        return channel

    async def _get_channel(self, request: Request, body: Any) -> Response:
        with self.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            if isinstance(channel, Response):
                return channel
            return JSONResponse(self.world.channel_payload(channel))

    async def _typing(self, request: Request, body: Any) -> Response:
        with self.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            return channel if isinstance(channel, Response) else Response(status_code=204)

    async def _messages(self, request: Request, body: Any) -> Response:
        if request.method == "POST":
            return self._create_message(request.path_params["channel_id"], body)
        return self._history(request)

    def _history(self, request: Request) -> Response:
        params = request.query_params
        cursors = {k: params[k] for k in ("before", "after", "around") if k in params}
        try:
            limit = int(params.get("limit", "50"))
            values = {k: int(v) for k, v in cursors.items()}
        except ValueError:
            return _form_error(
                "limit" if "limit" in params else next(iter(cursors)), "NUMBER_TYPE_COERCE", "Value is not int."
            )
        if not 1 <= limit <= 100:
            return _form_error("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN", "limit must be 1-100.")
        with self.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            if isinstance(channel, Response):
                return channel
            if not self.world.permissions(channel.id) & READ_MESSAGE_HISTORY:
                # Discord answers an empty list, not an error, without Read Message History.
                return JSONResponse([])
            # Discord uses one cursor: around, then before, then after.
            if "around" in values:
                found = self.world.history(channel.id, limit=limit, around=values["around"])
            elif "before" in values:
                found = self.world.history(channel.id, limit=limit, before=values["before"])
            elif "after" in values:
                found = self.world.history(channel.id, limit=limit, after=values["after"])
            else:
                found = self.world.history(channel.id, limit=limit)
            return JSONResponse(found)

    def _create_message(self, channel_id: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, 50035, "Invalid Form Body")
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            return _form_error("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        content = content or ""
        if len(content) > MAX_CONTENT:
            return _form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
        nonce = body.get("nonce")
        if nonce is not None and (
            isinstance(nonce, bool) or not isinstance(nonce, str | int) or len(str(nonce)) > MAX_NONCE
        ):
            return _form_error("nonce", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_NONCE} or fewer in length.")
        allowed = body.get("allowed_mentions")
        if allowed is not None:
            problem = _check_allowed_mentions(allowed)
            if problem:
                return _form_error("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", problem)
        with self.lock:
            channel = self._visible_channel(channel_id)
            if isinstance(channel, Response):
                return channel
            needed = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
            if not self.world.permissions(channel.id) & needed:
                return _missing_permissions()
            if not content and not body.get("embeds") and not body.get("sticker_ids") and not body.get("attachments"):
                return _error(400, 50006, "Cannot send an empty message")
            if nonce is not None and body.get("enforce_nonce"):
                earlier = self._earlier_with_nonce(str(nonce))
                if earlier is not None:
                    self.deduplicated.append(self._sent_record(channel, earlier, body))
                    return JSONResponse({**self.world.rest_message(earlier), "nonce": nonce})
            reference = body.get("message_reference")
            reply_to: str | None = None
            replied_author: str | None = None
            if reference is not None:
                if not isinstance(reference, dict) or "message_id" not in reference:
                    return _form_error("message_reference", "MODEL_TYPE_CONVERT", "Invalid message reference.")
                target = self.world.find_message(str(reference["message_id"]))
                same_guild = (
                    target is not None and self.world.channel(target["channel_id"]).guild_id == channel.guild_id
                )
                if target is None or not same_guild:
                    if reference.get("fail_if_not_exists", True):
                        return _form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                else:
                    reply_to = target["id"]
                    replied_author = target["author"]["id"]
            message = self.world.add_message(
                channel.id,
                self.bot_user_id,
                content,
                reply_to=reply_to,
                extra={"embeds": list(body.get("embeds") or [])},
            )
            if nonce is not None:
                self._nonces[str(nonce)] = (message["id"], time.monotonic())
            self.sent.append(self._sent_record(channel, message, body, replied_author))
            # Discord sends the bot its own message on the gateway too (with the nonce, as in the answer).
            self._dispatch_message("MESSAGE_CREATE", message, nonce=nonce)
            return JSONResponse({**self.world.rest_message(message), "nonce": nonce})

    def _earlier_with_nonce(self, nonce: str) -> dict[str, Any] | None:
        """The bot's message made with ``nonce`` within the window, if it still exists."""
        seen = self._nonces.get(nonce)
        if seen is None or time.monotonic() - seen[1] > self.nonce_window_seconds:
            return None
        return self.world.find_message(seen[0])

    def _sent_record(
        self, channel: Channel, message: dict[str, Any], body: dict[str, Any], replied_author: str | None = None
    ) -> SentMessage:
        content = str(body.get("content") or "")
        allowed = body.get("allowed_mentions")
        return SentMessage(
            channel_id=channel.id,
            message_id=message["id"],
            content=content,
            message_reference=body.get("message_reference"),
            allowed_mentions=allowed,
            pings=pings(self.world, content, allowed, replied_author),
            payload=body,
        )

    async def _message(self, request: Request, body: Any) -> Response:
        channel_id = request.path_params["channel_id"]
        message_id = request.path_params["message_id"]
        with self.lock:
            channel = self._visible_channel(channel_id)
            if isinstance(channel, Response):
                return channel
            try:
                message = channel.messages.get(int(message_id))
            except ValueError:
                message = None
            if message is None:
                return _unknown_message()
            perms = self.world.permissions(channel.id)
            if request.method == "GET":
                if not perms & READ_MESSAGE_HISTORY:
                    return _missing_permissions()
                return JSONResponse(self.world.rest_message(message))
            own = message["author"]["id"] == self.bot_user_id
            if request.method == "PATCH":
                if not own:
                    return _error(403, 50005, "Cannot edit a message authored by another user")
                content = (body or {}).get("content") if isinstance(body, dict) else None
                if isinstance(content, str):
                    if len(content) > MAX_CONTENT:
                        return _form_error(
                            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
                        )
                    message["content"] = content
                message["edited_timestamp"] = iso(int(time.time() * 1000))
                self._dispatch_message("MESSAGE_UPDATE", message)
                return JSONResponse(self.world.rest_message(message))
            # DELETE: the bot's own messages always; anyone else's only with Manage Messages.
            if not own and not perms & MANAGE_MESSAGES:
                return _missing_permissions()
            del channel.messages[int(message_id)]
            self.deleted.append(
                DeletedMessage(
                    channel_id=channel.id,
                    message_id=message["id"],
                    message=message,
                    reason=request.headers.get("x-audit-log-reason"),
                )
            )
            self.gateway.dispatch(
                "MESSAGE_DELETE", {"id": message["id"], "channel_id": channel.id, "guild_id": channel.guild_id}
            )
            return Response(status_code=204)


class _BadBody:
    """A request body that is not valid JSON."""


async def _read_body(request: Request) -> Any:
    """The JSON body, ``payload_json`` of a multipart body, None when empty, or _BadBody."""
    if request.method in ("GET", "DELETE", "HEAD"):
        return None
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        raw = form.get("payload_json")
        try:
            return json.loads(str(raw)) if raw is not None else {}
        except ValueError:
            return _BadBody()
    raw_bytes = await request.body()
    if not raw_bytes:
        return None
    try:
        return json.loads(raw_bytes)
    except ValueError:
        return _BadBody()


def _check_allowed_mentions(allowed: Any) -> str | None:
    """Discord's checks on ``allowed_mentions``: known parse types, not both ``parse`` and an id list."""
    if not isinstance(allowed, dict):
        return "allowed_mentions must be an object."
    parse = allowed.get("parse") or []
    if not isinstance(parse, list) or any(p not in ("users", "roles", "everyone") for p in parse):
        return "parse may contain only users, roles and everyone."
    if "users" in parse and allowed.get("users"):
        return 'parse:["users"] and users: [ids...] are mutually exclusive.'
    if "roles" in parse and allowed.get("roles"):
        return 'parse:["roles"] and roles: [ids...] are mutually exclusive.'
    return None


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
