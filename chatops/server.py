"""Serving a bot: the HTTP server, Socket Mode, and orderly shutdown on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import aiohttp
import uvicorn
from slack_sdk.errors import SlackApiError

from chatops.app import ChatOps
from chatops.config import ConfigError, secret_value

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger(__name__)


def http_server(app: ChatOps, *, log_level: str | None = None) -> uvicorn.Server:
    """A uvicorn server for the bot's web app (not yet serving).

    uvicorn configures no logging of its own (``log_config=None``): its records go to the
    process's handlers in chatops' format (``chatops.observability.logs``). ``log_level``
    sets its loggers' level; None leaves them at the root logger's.
    """
    config = uvicorn.Config(
        app.web,
        host=app.settings.http.host,
        port=app.settings.http.port,
        log_config=None,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        timeout_keep_alive=5,  # seconds an idle keep-alive connection stays open
    )
    return SignalFreeServer(config)


class SignalFreeServer(uvicorn.Server):
    """uvicorn's server without its own signal capture.

    uvicorn re-raises a captured SIGTERM once it has stopped serving, which kills the
    process before the bot can stop its delivery worker and close the database;
    ``run`` (and ``chatops sandbox``) install their own handlers instead.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def connect_socket_mode(app: ChatOps, *, connect_timeout: float = 30.0) -> AsyncSocketModeHandler:
    """Connect the bot's Bolt app to Slack in Socket Mode; ``close_async()`` the result when done.

    Uses the app-level token (``slack.app_token``) and the bot's own Web API client,
    so ``apps.connections.open`` goes to ``slack.api_url``. slack_sdk's own first
    connect logs failures and retries forever, which would leave the bot silently
    offline; here Slack refusing the token raises :class:`~chatops.config.ConfigError`
    naming ``slack.app_token``, and a WebSocket that cannot be opened within
    ``connect_timeout`` seconds raises :class:`ConnectionError`. Once connected,
    slack_sdk reconnects on its own (Slack's ``disconnect`` messages, dropped
    connections).
    """
    from chatops.observability.slack_acks import TimedSocketModeHandler

    handler = TimedSocketModeHandler(
        app.bolt, secret_value(app.settings.slack.app_token), observe=app.metrics.slack_acked
    )
    try:
        try:
            # Ask for the first WebSocket URL here, so a bad token fails instead of retrying.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionError(
                f"cannot reach Slack at {app.settings.slack.api_url} for Socket Mode: {exc}"
            ) from None
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            raise ConfigError(
                "slack.app_token",
                f"Slack refused it for Socket Mode (apps.connections.open: {error or exc}); "
                "use the app-level token (xapp-…) with the connections:write scope",
            ) from exc
        try:
            await asyncio.wait_for(handler.connect_async(), connect_timeout)
        except TimeoutError:
            raise ConnectionError(
                f"Socket Mode: no WebSocket connection to Slack within {connect_timeout:g} s "
                "(apps.connections.open succeeded; see the log for the connection errors)"
            ) from None
    except BaseException:
        await handler.close_async()
        raise
    return handler


async def run(app: ChatOps) -> None:
    """Run the bot until SIGINT/SIGTERM: start, serve HTTP (and Socket Mode), stop."""
    await app.start()
    server = http_server(app)
    socket_mode = None
    try:
        if app.settings.slack.mode == "socket":
            socket_mode = await connect_socket_mode(app)
            log.info("connected to Slack in Socket Mode")
        log.info("HTTP on %s:%s", app.settings.http.host, app.settings.http.port)
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            # First signal: finish requests in hand and stop; a second one forces the exit.
            loop.add_signal_handler(stop_signal, server.handle_exit, stop_signal, None)
        await server.serve()
        log.info("stopping")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()
        await app.stop()


async def serve_in_background(app: ChatOps, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve the bot's web app on ``sock`` from a task on the running loop (tests, embedding)."""
    server = http_server(app, log_level="warning")
    return server, await start_serving(server, sock)


async def start_serving(server: uvicorn.Server, sock: socket.socket) -> asyncio.Task[None]:
    """Serve ``server`` on ``sock`` from a task on the running loop; return the task once it accepts connections.

    A server that stops before it started (a bad socket, a failing app) raises here instead
    of leaving the caller waiting.
    """
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the HTTP server stopped before it started")
        await asyncio.sleep(0.005)
    return task
