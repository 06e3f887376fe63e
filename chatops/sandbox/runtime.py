"""Starts and stops what ``chatops sandbox`` runs: the fake Slack, the sources' fakes and the real bot.

Everything runs on loopback, in the sandbox's process: the Slack-compatible server
(:class:`~chatops.sandbox.slack_state.SandboxSlack`) and the sources' fakes serve from
threads of their own; the bot is the real :class:`chatops.app.ChatOps` in HTTP mode,
built and served by :class:`chatops.testing.bot.TestBot` (the settings the test-suite
uses, so the sandbox and the tests run the same bot), with SQLite in the data folder
(its schema created or upgraded on start, as ``chatops run`` does for SQLite).

The plugins enabled are every installed plugin that shows a customers' side (the
``chatops_sandbox_sources`` hook) plus the rota and the digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chatops.plugins import discover, new_manager
from chatops.sandbox import people
from chatops.sandbox.scripted_day import CRISIS_KEYWORDS
from chatops.sandbox.slack_state import SandboxSlack
from chatops.sandbox.sources import SandboxSetup, SandboxSource
from chatops.testing.bot import OPS, TestBot

log = logging.getLogger(__name__)

#: Plugins without a customers' side that the sandbox runs when installed: shifts and the managers' digest.
FEATURE_PLUGINS = ("rota", "digest")
#: Sources in the order the customers' pane lists them (others follow, by key).
SOURCE_ORDER = ("webhook", "facebook", "instagram", "x", "discord")
#: The SQLite file in the data folder.
DATABASE_FILE = "chatops.sqlite3"
#: The fake Slack's messages, views and files, kept in the data folder between runs.
SLACK_STATE_FILE = "slack.json"
#: Seconds between saves of the fake Slack's state while running (a crash loses at most this much).
SAVE_INTERVAL = 5.0


def _feature_config() -> dict[str, dict[str, Any]]:
    """Settings of the feature plugins: the lead may change the rota, the digest goes to #chatops-ops."""
    return {
        "rota": {"leads": [people.TEAM[-1].id, people.LEADS_GROUP]},
        "digest": {"channel": OPS},
    }


def find_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """Every installed plugin's customers' side (a plugin that cannot be imported is skipped, with a warning)."""
    pm = new_manager()
    for name, entry_point in discover().items():
        try:
            pm.register(entry_point.load(), name=name)
        except Exception as exc:  # one broken plugin must not keep the sandbox from starting
            log.warning("plugin %s not loaded for the sandbox: %s", name, exc)
    found = [source for provided in pm.hook.chatops_sandbox_sources(setup=setup) for source in provided]
    keys = [source.key for source in found]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValueError(f"two sandbox sources share the key {duplicated[0]!r}")

    def order(source: SandboxSource) -> tuple[int, str]:
        rank = SOURCE_ORDER.index(source.key) if source.key in SOURCE_ORDER else len(SOURCE_ORDER)
        return rank, source.key

    return sorted(found, key=order)


def plugins_config(sources: Sequence[SandboxSource], installed: Sequence[str]) -> dict[str, Any]:
    """``[plugins]``: the sources' plugins and the installed feature plugins, with each one's settings."""
    enabled = list(
        dict.fromkeys([source.plugin for source in sources] + [p for p in FEATURE_PLUGINS if p in installed])
    )
    section: dict[str, Any] = {"enabled": enabled}
    features = _feature_config()
    for plugin in enabled:
        if plugin in features:
            section[plugin] = dict(features[plugin])
    for source in sources:
        section[source.plugin] = {**section.get(source.plugin, {}), **dict(source.config)}
    return section


class Sandbox:
    """The running sandbox: the fake Slack, the sources and the bot (``await start()``, ``await stop()``)."""

    def __init__(self, data_dir: Path, public_url: str) -> None:
        """Describe the sandbox; nothing starts until :meth:`start`.

        Args:
            data_dir: the folder of the SQLite database and the fakes' saved state (must exist).
            public_url: where the page is served (given to plugins, e.g. for calendar links).
        """
        self.data_dir = data_dir
        self.public_url = public_url.rstrip("/")
        #: The Slack-compatible server the bot talks to (and the page reads).
        self.slack = SandboxSlack()
        #: The customers' side of each source, by key, in the page's order.
        self.sources: dict[str, SandboxSource] = {}
        self.bot: TestBot | None = None
        self._started_sources: list[SandboxSource] = []
        self._saving: asyncio.Task[None] | None = None

    @property
    def database_url(self) -> str:
        """The bot's SQLite database in the data folder."""
        return f"sqlite+aiosqlite:///{self.data_dir / DATABASE_FILE}"

    @property
    def bot_url(self) -> str:
        """The bot's base URL (``http://127.0.0.1:<port>``); valid once started."""
        if self.bot is None or self.bot.http is None:
            raise RuntimeError("the sandbox's bot is not running")
        return str(self.bot.http.base_url).rstrip("/")

    async def start(self) -> None:
        """Start the fake Slack, the sources' fakes, then the bot; on a failure, stop what started and raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.slack.restore(self.data_dir / SLACK_STATE_FILE)
        self.slack.start()
        people.register(self.slack)
        setup = SandboxSetup(data_dir=str(self.data_dir), public_url=self.public_url)
        for source in find_sources(setup):
            source.start()
            self._started_sources.append(source)
            self.sources[source.key] = source
        config: Mapping[str, Any] = {
            "plugins": plugins_config(list(self.sources.values()), list(discover())),
            "delivery": {"reconcile_seconds": 2.0},
            # Posts are paced as Slack paces them (about one a second per channel), at twice the
            # rate so that a newcomer's clicks feel quick: a crisis then queues cards as it would in
            # Slack, and the sandbox shows what chatops does about it (roll-ups, urgent cards first).
            "slack": {"post_interval_seconds": 0.5},
            # The crisis button's urgent comments (a refund demanded, a lawyer named) are carded first.
            "priority": {"keywords": list(CRISIS_KEYWORDS)},
        }
        self.bot = TestBot(self.slack, self.database_url, config=config, instance_id="sandbox")
        await self.bot.start()
        self._saving = asyncio.create_task(self._save_now_and_then())
        log.info("sandbox bot on %s with plugins %s", self.bot_url, ", ".join(config["plugins"]["enabled"]))

    async def _save_now_and_then(self) -> None:
        """Save the fake Slack's state every few seconds: a crash must not part the channels from the database."""
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            try:
                await asyncio.to_thread(self.slack.save, self.data_dir / SLACK_STATE_FILE, if_changed=True)
            except OSError as exc:
                log.warning("the sandbox's Slack state could not be saved: %s", exc)

    async def stop(self) -> None:
        """Stop the bot, then the sources' fakes, then the fake Slack (saving its state); each once."""
        if self._saving is not None:
            self._saving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saving
            self._saving = None
        if self.bot is not None:
            bot, self.bot = self.bot, None
            try:
                await bot.stop()
            except Exception:
                log.exception("the sandbox's bot failed to stop")
        while self._started_sources:
            source = self._started_sources.pop()
            try:
                source.stop()
            except Exception:
                log.exception("sandbox source %s failed to stop", source.key)
        if self.slack.running:
            self.slack.stop()
            self.slack.save(self.data_dir / SLACK_STATE_FILE)
