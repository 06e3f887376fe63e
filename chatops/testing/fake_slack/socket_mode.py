"""Socket Mode: ``apps.connections.open`` tickets, the WebSocket endpoint, envelopes out and acks in.

A client that opens a connection with the app-level token gets a single-use
``ws://…/socket-mode/<ticket>`` URL on the fake's own server, Slack's ``hello`` once
connected, and then whatever envelopes a test (or the events part) pushes to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import importlib.util
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket

from chatops.testing.fake_slack.base import FakeSlackBase

#: Path of the Socket Mode WebSocket endpoint; ``apps.connections.open`` returns
#: ``ws://127.0.0.1:PORT/socket-mode/<ticket>``.
SOCKET_MODE_PATH = "/socket-mode"


@dataclass(eq=False)
class SocketConnection:
    """One open Socket Mode WebSocket, served on the fake's own thread and loop."""

    number: int
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready: bool = False

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON text frame (runs on the server loop)."""
        async with self.send_lock:
            await self.websocket.send_text(json.dumps(message))


class SocketMode(FakeSlackBase):
    """The Socket Mode part of the fake."""

    #: Connections opened since :meth:`~FakeSlack.reset`.
    socket_connections_opened: int
    # Open connections outlive reset(): they belong to whoever connected.
    _sockets: list[SocketConnection]
    _socket_tickets: set[str]
    _socket_sent: list[dict[str, Any]]
    _socket_received: list[dict[str, Any]]
    _pending_acks: dict[str, concurrent.futures.Future[dict[str, Any]]]

    def _init_socket_mode(self) -> None:
        """No connection is open yet."""
        self._sockets = []

    def _reset_socket_mode(self) -> None:
        """Forget tickets, recorded frames and the count of connections opened. Lock held."""
        self._socket_tickets = set()
        self._socket_sent = []
        self._socket_received = []
        self._pending_acks = {}
        self.socket_connections_opened = 0

    def _live_sockets(self) -> list[SocketConnection]:
        """Connections that got their ``hello``, oldest first."""
        with self._lock:
            return [c for c in self._sockets if c.ready]

    @property
    def socket_connected(self) -> bool:
        """True while a Socket Mode client is connected (and was sent ``hello``)."""
        return bool(self._live_sockets())

    @property
    def socket_sent(self) -> list[dict[str, Any]]:
        """Every frame sent to Socket Mode clients since :meth:`reset` (``hello`` included), oldest first."""
        with self._lock:
            return copy.deepcopy(self._socket_sent)

    @property
    def socket_received(self) -> list[dict[str, Any]]:
        """Every frame Socket Mode clients sent since :meth:`reset` (acks), oldest first.

        A frame that is not a JSON object is recorded as ``{"raw": text}``.
        """
        with self._lock:
            return copy.deepcopy(self._socket_received)

    async def wait_for_socket(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API; polls, never blocks
        *,
        opened: int = 1,
    ) -> None:
        """Wait until a Socket Mode client is connected and ``opened`` connections were made since reset.

        ``opened=2`` waits for a reconnection (e.g. after :meth:`send_socket_disconnect`).
        Raises AssertionError on timeout.
        """
        deadline = time.monotonic() + timeout
        while not (self.socket_connected and self.socket_connections_opened >= opened):
            if time.monotonic() >= deadline:
                outcomes = [c.error or "ok" for c in self.calls_to("apps.connections.open")]
                no_library = not any(importlib.util.find_spec(name) for name in ("websockets", "wsproto"))
                raise AssertionError(
                    f"FakeSlack: waited {timeout:.1f} s for Socket Mode connection #{opened}; "
                    f"{self.socket_connections_opened} opened, connected={self.socket_connected}, "
                    f"apps.connections.open calls: {outcomes}"
                    + ("; uvicorn has no WebSocket library: install websockets" if no_library else "")
                )
            await asyncio.sleep(0.01)

    async def _socket_send(self, message: dict[str, Any], timeout: float) -> None:  # noqa: ASYNC109
        """Send ``message`` to the newest connected client, from any thread or loop."""
        live = self._live_sockets()
        if not live:
            raise AssertionError("FakeSlack: no Socket Mode client is connected (see wait_for_socket)")
        connection = live[-1]
        with self._lock:
            self._socket_sent.append(copy.deepcopy(message))
        sent = asyncio.run_coroutine_threadsafe(connection.send(message), connection.loop)
        await asyncio.wait_for(asyncio.wrap_future(sent), timeout)

    async def send_socket_envelope(
        self,
        payload: dict[str, Any],
        *,
        type: str = "interactive",
        accepts_response_payload: bool = False,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> dict[str, Any]:
        """Push an envelope to the connected Socket Mode client and return its ack.

        Sends ``{"envelope_id", "type", "payload", "accepts_response_payload"}`` as
        Slack does (``events_api`` envelopes also carry ``retry_attempt`` and
        ``retry_reason``). ``type`` is ``"interactive"`` (block_actions,
        view_submission, shortcuts, block_suggestion), ``"slash_commands"`` or
        ``"events_api"`` (``payload`` is then the ``event_callback`` wrapper). Slack
        sets ``accepts_response_payload`` for slash commands, view submissions and
        block suggestions.

        Returns the ack frame, ``{"envelope_id": ...}`` plus the optional ``payload``
        the app answered with (e.g. ``{"response_action": "errors", ...}``). Raises
        AssertionError when no client is connected, or no ack comes within
        ``timeout`` seconds (Slack would retry the envelope then).
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": copy.deepcopy(payload),
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        ack: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._lock:
            self._pending_acks[envelope_id] = ack
        try:
            await self._socket_send(envelope, timeout)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(ack), timeout)
            except TimeoutError:
                received = self.socket_received[-5:]
                raise AssertionError(
                    f"FakeSlack: no ack for {type} envelope {envelope_id} within {timeout:.1f} s; "
                    f"last frames from the client: {received}"
                ) from None
        finally:
            with self._lock:
                self._pending_acks.pop(envelope_id, None)

    async def send_socket_disconnect(
        self,
        reason: str = "refresh_requested",
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> None:
        """Send Slack's ``{"type": "disconnect", "reason": ...}`` to the connected client.

        Slack sends ``warning`` about 10 s before it closes a connection,
        ``refresh_requested`` when the client should reconnect, and ``link_disabled``
        when Socket Mode was turned off. Clients answer by opening a new connection
        (``apps.connections.open`` again); :meth:`wait_for_socket` with ``opened=``
        waits for it.
        """
        await self._socket_send(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}, timeout
        )

    async def _handle_socket(self, websocket: WebSocket) -> None:
        """Serve one Socket Mode connection: check the ticket, say hello, collect acks."""
        ticket = websocket.path_params["ticket"]
        with self._lock:
            known = ticket in self._socket_tickets
            self._socket_tickets.discard(ticket)  # a ticket opens one connection, as on Slack
        if not known:
            await websocket.close(code=1008)  # before accept: the handshake fails with HTTP 403
            return
        await websocket.accept()
        with self._lock:
            self.socket_connections_opened += 1
            connection = SocketConnection(self.socket_connections_opened, websocket, asyncio.get_running_loop())
            self._sockets.append(connection)
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-fake",
                    "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            self._socket_sent.append(copy.deepcopy(hello))
        try:
            await connection.send(hello)
            with self._lock:
                connection.ready = True
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    frame = json.loads(text)
                except ValueError:
                    frame = None
                if not isinstance(frame, dict):
                    frame = {"raw": text}
                with self._lock:
                    self._socket_received.append(frame)
                    envelope_id = frame.get("envelope_id")
                    ack = self._pending_acks.get(envelope_id) if isinstance(envelope_id, str) else None
                if ack is not None and not ack.done():
                    ack.set_result(copy.deepcopy(frame))
        finally:
            with self._lock:
                connection.ready = False
                if connection in self._sockets:
                    self._sockets.remove(connection)

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """``apps.connections.open``: a single-use WebSocket URL for Socket Mode."""
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        ws_base = "ws://" + self.base_url.removeprefix("http://")
        return {"url": f"{ws_base}{SOCKET_MODE_PATH}/{ticket}"}
