"""``chatops sandbox [--port 8765] [--no-browser] [--data DIR]``: try chatops in the browser, no Slack app needed.

Binds the page's port first (a port in use is one line naming ``--port``, exit 2),
starts the sandbox (:mod:`chatops.sandbox.runtime`), serves the page
(:mod:`chatops.sandbox.page`), prints one line with its URL, opens the browser, and on
Ctrl-C or SIGTERM stops the page, the bot and the fakes, and removes the temporary data
folder (a folder given with ``--data`` is kept, and used again on the next start).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import Any

from chatops.observability.logs import configure_logging
from chatops.sockets import bind

#: The page's port unless ``--port`` says otherwise.
DEFAULT_PORT = 8765
#: Exit status for a mistake in the command line (a port in use, a data folder that cannot be made).
EXIT_USAGE = 2


def add_parser(subparsers: Any) -> None:
    """Add ``chatops sandbox`` to the ``chatops`` command's sub-commands."""
    parser = subparsers.add_parser(
        "sandbox",
        help="try chatops in the browser: the real bot with a Slack stand-in and customers, all on this computer",
        description="Try chatops in the browser, no Slack or Meta app needed: the real bot, a Slack stand-in and "
        "the customers' side of each source run on 127.0.0.1. Ctrl-C stops it.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the page's port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="keep the database and the channels here, for the next start (default: a temporary folder)",
    )
    parser.set_defaults(func=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Run the sandbox until interrupted; 0 after a clean stop."""
    if not 0 <= args.port <= 65535:
        print(f"chatops sandbox: --port {args.port} is not a port number (0-65535)", file=sys.stderr)
        return EXIT_USAGE
    try:
        sock = bind("127.0.0.1", args.port)
    except OSError as exc:
        print(
            f"chatops sandbox: --port {args.port} cannot be used ({exc.strerror}); choose another, e.g. --port 0",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # Quiet by default (the page shows what happens); --log-level info|debug shows the bot's log.
    configure_logging(getattr(args, "log_level", None) or "warning", getattr(args, "log_format", None) or "text")
    temporary = args.data is None
    try:
        data_dir = Path(tempfile.mkdtemp(prefix="chatops-sandbox-")) if temporary else Path(args.data)
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sock.close()
        print(f"chatops sandbox: --data {args.data}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        # The database and the channels are written there: a folder that cannot be written to
        # is a mistake in the command line, said now rather than as a traceback from the bot.
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        sock.close()
        print(f"chatops sandbox: --data {args.data}: cannot write there ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(sock, data_dir, open_browser=not args.no_browser))
    finally:
        sock.close()
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def can_show_a_browser() -> bool:
    """Whether a graphical browser can open here.

    Without a display (a server over SSH), Python's webbrowser falls back to a text browser
    (lynx, w3m) that would take over the terminal the sandbox prints to: the URL line is enough.
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


async def serve(sock: socket.socket, data_dir: Path, *, open_browser: bool) -> None:
    """Start everything, serve the page on ``sock`` until SIGINT/SIGTERM, then stop everything."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stopping.set)
    try:
        await _serve_until(stopping, sock, data_dir, open_browser=open_browser)
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(stop_signal)


async def _serve_until(stopping: asyncio.Event, sock: socket.socket, data_dir: Path, *, open_browser: bool) -> None:
    from chatops.sandbox.serving import served

    async with served(sock, data_dir) as running:
        if stopping.is_set():
            return
        print(f"chatops sandbox: open {running.url}", flush=True)
        if open_browser and can_show_a_browser():
            # webbrowser may wait for the browser it starts: not on the loop serving the page.
            asyncio.get_running_loop().run_in_executor(None, webbrowser.open, running.url)
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({stop, running.task}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
