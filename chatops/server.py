"""Serving a bot: the HTTP server, Socket Mode, and orderly shutdown on one event loop."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn

from chatops.app import ChatOps

log = logging.getLogger(__name__)


def http_server(app: ChatOps, *, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for the bot's web app (not yet serving)."""
    config = uvicorn.Config(
        app.web,
        host=app.settings.http.host,
        port=app.settings.http.port,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        # Slack gives up after 3 s; a request body is never allowed to trickle in for long.
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one; tests use that)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def run(app: ChatOps) -> None:
    """Run the bot until SIGINT/SIGTERM: start, serve HTTP (and Socket Mode), stop."""
    await app.start()
    server = http_server(app)
    socket_mode = None
    try:
        if app.settings.slack.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(app.bolt, app.settings.slack.app_token)
            await socket_mode.connect_async()
            log.info("connected to Slack in Socket Mode")
        log.info("HTTP on %s:%s", app.settings.http.host, app.settings.http.port)
        await server.serve()
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()
        await app.stop()


async def serve_in_background(app: ChatOps, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve the bot's web app on ``sock`` from a task on the running loop (tests, embedding)."""
    server = http_server(app, log_level="warning")
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    return server, task
