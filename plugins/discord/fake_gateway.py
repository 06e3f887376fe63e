"""The gateway side of :class:`~chatops_plugins.discord.testing.FakeDiscord`: sessions over a WebSocket.

What a discord.py client sees (https://discord.com/developers/docs/events/gateway):

- HELLO (op 10) on connect; every heartbeat (op 1) is acknowledged (op 11).
- IDENTIFY (op 2) with the right token and allowed intents starts a session: READY (with
  ``session_id`` and a ``resume_gateway_url`` on the fake) and one GUILD_CREATE per server.
  A wrong token closes with 4004, a privileged intent the application may not use with 4014,
  a bad intents value with 4013, a second IDENTIFY with 4005, anything before it with 4003,
  an unknown opcode with 4001 and undecodable text with 4002.
- Events carry a sequence number per session; a session keeps them, so RESUME (op 6) after a
  dropped connection replays what the client missed and then sends RESUMED. A session that is
  not resumable (the client closed it with 1000/1001, or the test said so) answers RESUME with
  INVALID_SESSION (op 9, ``d: false``), and discord.py identifies again.

Frames are always JSON text: discord.py asks for ``compress=zlib-stream`` but reads text frames too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from .testing import FakeDiscord

# Opcodes.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
#: Every intent Discord defines: bits 0-16, 20-21 (auto moderation) and 24-25 (polls); others close 4013.
KNOWN_INTENTS = (1 << 17) - 1 | 1 << 20 | 1 << 21 | 1 << 24 | 1 << 25

#: Events that need the GUILD_MESSAGES intent when they happen in a server.
MESSAGE_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"})
#: Events that need the GUILDS intent.
GUILD_EVENTS = frozenset(
    {"CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE", "THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE"}
)


@dataclass
class GatewayConnection:
    """One WebSocket connection a client made, for tests to assert on."""

    #: ``/gateway`` or ``/resume-gateway`` (where READY's resume_gateway_url points).
    path: str
    #: The query the client connected with (``v``, ``encoding``, ``compress``).
    query: dict[str, str]
    opened_at: float
    #: "identify" or "resume" once the client sent one.
    kind: str | None = None
    session_id: str | None = None
    intents: int | None = None
    #: READY (after IDENTIFY) or RESUMED (after RESUME) was sent.
    ready: bool = False
    #: The client's RESUME was refused with INVALID_SESSION.
    invalidated: bool = False
    heartbeats: int = 0
    #: Sequence numbers sent again on RESUME.
    replayed: list[int] = field(default_factory=list)
    #: The close code and who closed ("server" or "client"); None while open.
    close_code: int | None = None
    closed_by: str | None = None
    close_reason: str = ""

    @property
    def open(self) -> bool:
        """The connection has not closed yet."""
        return self.close_code is None and self.closed_by is None


class Session:
    """A gateway session: its events in order, and the connection it is on now (if any)."""

    def __init__(self, intents: int, shard: list[int] | None = None) -> None:
        self.id = secrets.token_hex(16)
        self.intents = intents
        #: ``[shard_id, shard_count]`` from IDENTIFY (a sharded client), echoed in READY.
        self.shard = shard
        self.seq = 0
        self.log: list[dict[str, Any]] = []
        self.connection: Connection | None = None
        #: False once the client closed it (1000/1001) or a test invalidated it.
        self.resumable = True

    def wants(self, event: str) -> bool:
        """Whether this session's intents receive ``event`` (server events only: the fake has no DMs)."""
        if event in MESSAGE_EVENTS:
            return bool(self.intents & GUILD_MESSAGES)
        if event in GUILD_EVENTS:
            return bool(self.intents & GUILDS)
        return True


class Connection:
    """One accepted WebSocket: frames go out in order through a queue drained on the server's loop."""

    def __init__(self, websocket: WebSocket, info: GatewayConnection) -> None:
        self.websocket = websocket
        self.info = info
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.session: Session | None = None

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a frame (from any thread)."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, ("frame", payload))

    def close(self, code: int, reason: str = "") -> None:
        """Queue a close (from any thread): frames queued before it still go out first."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, ("close", (code, reason)))

    async def write_loop(self, on_close: Callable[[int, str], None]) -> None:
        """Send queued frames until a close is queued or the socket fails."""
        while True:
            kind, value = await self.queue.get()
            try:
                if kind == "frame":
                    await self.websocket.send_text(json.dumps(value))
                    continue
                code, reason = value
                on_close(code, reason)
                await self.websocket.close(code=code, reason=reason)
            except (RuntimeError, OSError, WebSocketDisconnect):
                pass  # the client went away first; the reader records how
            return


class Gateway:
    """Sessions and connections, and the WebSocket endpoint that serves them.

    ``owner`` is the :class:`FakeDiscord` (its lock, token, world and settings): the gateway asks
    it for READY's and GUILD_CREATE's data so both sides of the fake show one world.
    """

    def __init__(self, owner: FakeDiscord) -> None:
        self.owner = owner
        self.lock: threading.RLock = owner.lock
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, Session] = {}
        self.live: list[Connection] = []

    # -- dispatch (any thread) -------------------------------------------------------------------

    def dispatch(
        self, event: str, data: dict[str, Any], *, only: Session | None = None, shape: Callable[..., Any] | None = None
    ) -> None:
        """Send ``event`` to every live session (or ``only`` one), numbered and kept for RESUME.

        ``shape(session, data)`` adapts the data per session (e.g. blanking message content
        without the MESSAGE_CONTENT intent).
        """
        with self.lock:
            targets = [only] if only is not None else list(self.sessions.values())
            for session in targets:
                if not session.resumable and session.connection is None:
                    continue
                if not session.wants(event):
                    continue
                session.seq += 1
                frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": shape(session, data) if shape else data}
                session.log.append(frame)
                if session.connection is not None:
                    session.connection.send(frame)

    def close_all(self, code: int, reason: str = "", *, resumable: bool = True) -> int:
        """Close every open connection with ``code``; sessions stay resumable unless told otherwise."""
        with self.lock:
            closing = [c for c in self.live if c.info.open]
            for conn in closing:
                if conn.session is not None and not resumable:
                    conn.session.resumable = False
                conn.close(code, reason)
            if not resumable:
                for session in self.sessions.values():
                    session.resumable = False
            return len(closing)

    def send_op(self, op: int, d: Any) -> int:
        """Send a bare opcode (RECONNECT, INVALID_SESSION, HEARTBEAT) to every open connection."""
        with self.lock:
            conns = [c for c in self.live if c.info.open]
            for conn in conns:
                conn.send({"op": op, "d": d, "s": None, "t": None})
            return len(conns)

    def reset(self) -> None:
        """Forget every session and connection (open ones are closed with 1001, not resumable)."""
        self.close_all(1001, "fake reset", resumable=False)
        with self.lock:
            self.connections.clear()
            self.sessions.clear()

    # -- the WebSocket endpoint (server loop) ---------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        """Serve one client connection until it closes."""
        await websocket.accept()
        info = GatewayConnection(path=websocket.url.path, query=dict(websocket.query_params), opened_at=time.time())
        conn = Connection(websocket, info)
        with self.lock:
            self.connections.append(info)
            self.live.append(conn)

        def server_closed(code: int, reason: str) -> None:
            with self.lock:
                if info.closed_by is None:
                    info.close_code, info.closed_by, info.close_reason = code, "server", reason

        # A held gateway accepts connections but says HELLO only once released, so a test can act
        # while the client is certainly between connections.
        while self.owner.hold_gateway:  # noqa: ASYNC110 - set from the test's thread, not this loop
            await asyncio.sleep(0.01)
        writer = asyncio.create_task(conn.write_loop(server_closed))
        conn.send({"op": HELLO, "d": {"heartbeat_interval": self.owner.heartbeat_interval_ms}, "s": None, "t": None})
        client_code: int | None = None
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    client_code = int(message.get("code") or 1005)
                    break
                raw = message.get("text")
                if raw is None and message.get("bytes") is not None:
                    raw = message["bytes"].decode("utf-8", "replace")
                self._handle(conn, raw or "")
        except (WebSocketDisconnect, RuntimeError) as exc:
            client_code = getattr(exc, "code", None) or 1006
        finally:
            with self.lock:
                if info.closed_by is None:
                    info.close_code, info.closed_by = client_code or 1006, "client"
                session = conn.session
                if session is not None and session.connection is conn:
                    session.connection = None
                    # Discord ends a session the client closes with 1000 or 1001.
                    if info.closed_by == "client" and info.close_code in (1000, 1001):
                        session.resumable = False
                if conn in self.live:
                    self.live.remove(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def _handle(self, conn: Connection, raw: str) -> None:
        try:
            payload = json.loads(raw)
            op = payload["op"]
            data = payload.get("d")
        except (ValueError, TypeError, KeyError):
            conn.close(4002, "Error while decoding payload.")
            return
        if op == HEARTBEAT:
            with self.lock:
                conn.info.heartbeats += 1
                ack = self.owner.ack_heartbeats
            if ack:
                conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            self._identify(conn, data)
        elif op == RESUME:
            self._resume(conn, data)
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE, REQUEST_GUILD_MEMBERS):
            if conn.session is None:
                conn.close(4003, "Not authenticated.")
            elif op == REQUEST_GUILD_MEMBERS:
                self._members_chunk(conn, data)
        else:
            conn.close(4001, "Unknown opcode.")

    def _identify(self, conn: Connection, data: Any) -> None:
        owner = self.owner
        with self.lock:
            if conn.session is not None:
                conn.close(4005, "Already authenticated.")
                return
            if not isinstance(data, dict) or data.get("token") != owner.token:
                conn.close(4004, "Authentication failed.")
                return
            intents = data.get("intents")
            if not isinstance(intents, int) or isinstance(intents, bool) or intents < 0 or intents & ~KNOWN_INTENTS:
                conn.close(4013, "Invalid intent(s).")
                return
            if intents & ~owner.allowed_privileged_intents() & (MESSAGE_CONTENT | GUILD_MEMBERS | GUILD_PRESENCES):
                conn.close(4014, "Disallowed intent(s).")
                return
            shard = data.get("shard")
            if shard is not None and shard != [0, 1]:
                # GET /gateway/bot recommends one shard; anything else is a shard the fake does not serve.
                conn.close(4010, "Invalid shard.")
                return
            session = Session(intents, shard)
            session.connection = conn
            conn.session = session
            self.sessions[session.id] = session
            conn.info.kind, conn.info.session_id, conn.info.intents = "identify", session.id, intents
            owner.identify_count += 1
            self.dispatch("READY", owner.ready_payload(session), only=session)
            for guild_data in owner.guild_create_payloads(session):
                self.dispatch("GUILD_CREATE", guild_data, only=session)
            conn.info.ready = True

    def _resume(self, conn: Connection, data: Any) -> None:
        owner = self.owner
        with self.lock:
            if conn.session is not None:
                conn.close(4005, "Already authenticated.")
                return
            if not isinstance(data, dict) or data.get("token") != owner.token:
                conn.close(4004, "Authentication failed.")
                return
            conn.info.kind = "resume"
            session = self.sessions.get(str(data.get("session_id")))
            seq = data.get("seq")
            if session is None or not session.resumable or not isinstance(seq, int):
                conn.info.invalidated = True
                conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
                return
            if seq > session.seq:
                conn.close(4007, "Invalid seq.")
                return
            if session.connection is not None and session.connection is not conn:
                # Discord drops the older connection of a resumed session.
                session.connection.close(4009, "Session timed out.")
            session.connection = conn
            conn.session = session
            conn.info.session_id, conn.info.intents = session.id, session.intents
            owner.resume_count += 1
            for frame in session.log:
                if frame["s"] > seq:
                    conn.info.replayed.append(frame["s"])
                    conn.send(frame)
            self.dispatch("RESUMED", {}, only=session)
            conn.info.ready = True

    def _members_chunk(self, conn: Connection, data: Any) -> None:
        with self.lock:
            guild_id = str((data or {}).get("guild_id"))
            chunk = self.owner.members_chunk(guild_id, (data or {}).get("nonce"))
            if chunk is not None and conn.session is not None:
                self.dispatch("GUILD_MEMBERS_CHUNK", chunk, only=conn.session)
