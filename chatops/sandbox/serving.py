"""Serving the sandbox's page next to its bot: start both, serve, stop both (the command and the tests use it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from chatops.sandbox.page import Page
from chatops.sandbox.runtime import Sandbox
from chatops.sandbox.slack_bridge import SlackBridge
from chatops.server import SignalFreeServer, start_serving


@dataclass
class Served:
    """A sandbox serving its page: what :func:`served` yields."""

    sandbox: Sandbox
    bridge: SlackBridge
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def served(sock: socket.socket, data_dir: Path) -> AsyncIterator[Served]:
    """Start the sandbox with its data in ``data_dir`` and serve its page on ``sock``; stop both on leaving."""
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sandbox = Sandbox(data_dir, url)
    try:
        await sandbox.start()
        bridge = SlackBridge(sandbox.slack, sandbox.bot_url, url + "slack/response")
        try:
            page = Page(sandbox, bridge)
            # No logging config of uvicorn's own: its lines go through the process's handler, in chatops' format.
            config = uvicorn.Config(page.app(), log_config=None, log_level="warning", lifespan="off", access_log=False)
            # Signals are the command's: uvicorn's own capture would re-raise SIGTERM before the bot stops.
            server = SignalFreeServer(config)
            task = await start_serving(server, sock)
            try:
                yield Served(sandbox, bridge, url, server, task)
            finally:
                server.should_exit = True
                await task
                await page.aclose()
        finally:
            await bridge.aclose()
    finally:
        await sandbox.stop()
