"""The real bot in a process of its own, for the benchmarks that measure it whole (its memory, a burst).

    python benchmarks/bot_process.py SETTINGS_JSON  → prints {"port": …, "pid": …} once it serves

``SETTINGS_JSON`` is the bot's whole configuration as JSON (what config.toml would hold, see
:func:`settings`). The bot serves HTTP on a free loopback port (webhooks, ``/slack/events``)
and delivers to the Slack named there until its standard input closes, then stops cleanly.
Run apart from the benchmark, the bot's resident memory (``/proc/<pid>/status``) is its own,
not the fake Slack's or the load generator's.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from common import process_memory

from chatops.app import ChatOps
from chatops.config import parse_settings
from chatops.server import serve_in_background
from chatops.slack.posting import SUBSCRIBED_EVENT_TYPES
from chatops.sockets import bind
from chatops.testing.fake_slack import FakeSlack


def settings(
    *,
    api_url: str,
    bot_token: str,
    database_url: str,
    plugins: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A production-like configuration against a fake Slack: defaults everywhere but the addresses.

    Delivery, pacing (one post per second per channel) and ``[crisis]`` keep their defaults;
    ``plugins`` is the ``[plugins]`` table (``enabled`` and each plugin's section); ``extra``
    adds sections such as ``[priority]``.
    """
    config: dict[str, Any] = {
        "team": {"timezone": "Europe/Helsinki", "language": "en"},
        "slack": {
            "mode": "http",
            "bot_token": bot_token,
            "signing_secret": "bench-signing-secret",
            "api_url": api_url,
            "inbox_channel": "CINBOX",
            "escalation_channel": "CESCALATE",
            "escalation_leads": ["ULEAD"],
            "ops_channel": "COPS",
        },
        "database": {"url": database_url},
        "http": {"host": "127.0.0.1", "port": 0},
        "plugins": plugins,
    }
    config.update(extra or {})
    return config


async def main(config: dict[str, Any]) -> None:
    """Serve until standard input closes."""
    app = ChatOps(parse_settings(config, environ={}), instance_id="bench")
    await app.start(deliver=True)
    sock = bind("127.0.0.1", 0)
    server, task = await serve_in_background(app, sock)
    print(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}), flush=True)
    # The parent closes our stdin to stop us (also when it dies): no signals, no orphans.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.should_exit = True
    await task
    await app.stop()


class BotProcess:
    """The parent's side: start the bot process on ``config``, hear Slack's events, stop it.

    ``async with BotProcess(config, fake, log=path) as bot:`` serves at ``bot.base_url``; the fake
    Slack sends it ``message_metadata_posted`` as Slack would. The bot's log goes to ``log``.
    """

    def __init__(self, config: dict[str, Any], fake: FakeSlack, *, log: Path) -> None:
        self.config = config
        self.fake = fake
        self.log = log
        self.base_url = ""
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        # A plain descriptor: the child writes its log there, the parent only hands it over.
        log = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                json.dumps(self.config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        finally:
            os.close(log)
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if not line:
            await self.process.wait()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the bot did not start:\n{tail}")
        self.base_url = f"http://127.0.0.1:{json.loads(line)['port']}"
        self.fake.subscribe_events(
            f"{self.base_url}/slack/events",
            self.config["slack"]["signing_secret"],
            metadata_event_types=SUBSCRIBED_EVENT_TYPES,
        )
        return self

    @property
    def pid(self) -> int:
        """The bot's process id."""
        assert self.process is not None
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """The bot's resident memory now and at its peak, in KiB (``VmRSS``, ``VmHWM``)."""
        return process_memory(self.pid)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.fake.unsubscribe_events(f"{self.base_url}/slack/events")
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
