"""The bot's memory with 100,000 open conversations, against the same bot on an empty database.

A database is seeded straight through bulk INSERTs of the models' tables (not through the
webhook: that would take the whole run): 100,000 open conversations (new, claimed, replied),
each with its customer's message and its card already in Slack, except the last 2,000, whose
cards are pending ``card.post`` jobs (the tail of a flood). The bot then runs in its own process
(``bot_process.py``) with the default settings against the fake Slack paced at one post per
second: delivery, its passes (roll-ups and the banner once they exist) and the card posts run
for a fixed window while its resident memory is sampled from ``/proc/<pid>/status``.

The figure is the peak resident memory (``VmHWM``) over the window, each round on a fresh copy
of the seeded database, interleaved with the same bot on an empty (migrated) database. Target:
≤ 1.5× the empty database's. Why 1.5×: a bot that reads what it needs a page at a time stays
within a few MiB of its empty self (Python, SQLAlchemy, Bolt and the plugins are ~100 MiB);
one that loads every open conversation (100,000 ORM rows, several KiB each) at once doubles or
more. 1.5× leaves room for caches that grow with the work in flight, not with the table.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot_process import BotProcess, settings
from common import interleaved, ratio_row
from sqlalchemy import insert, text

from chatops.db import Database
from chatops.migrate import upgrade
from chatops.models import Conversation, Message, OutboxJob, Status, utcnow
from chatops.store import POST_CARD
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.fixtures import create_test_database, drop_test_database

SECRET = "memory-webhook-secret-0123456789"  # noqa: S105 - a benchmark's own value
CHUNK = 5_000
POSTS = [("Summer sale", "https://example.test/posts/summer-sale"), ("App update", "https://example.test/posts/app")]


async def seed(database_url: str, conversations: int, pending: int) -> None:
    """Bulk-insert ``conversations`` open ones with a message each; the last ``pending`` await their cards."""
    db = Database(database_url)
    now = utcnow()
    statuses = (Status.NEW.value, Status.CLAIMED.value, Status.REPLIED.value)
    try:
        for start in range(0, conversations, CHUNK):
            ids = range(start + 1, min(conversations, start + CHUNK) + 1)
            convs: list[dict[str, Any]] = []
            msgs: list[dict[str, Any]] = []
            jobs: list[dict[str, Any]] = []
            for i in ids:
                carded = i <= conversations - pending
                status = statuses[i % 3]
                at = now - timedelta(seconds=conversations - i)
                title, url = POSTS[i % 2]
                convs.append(
                    {
                        "id": i,
                        "source": "webhook",
                        "thread_id": f"seed-{i}",
                        "channel_name": "Facebook",
                        "context_text": title,
                        "context_url": url,
                        "status": status,
                        "assignee": "UANNA" if status != Status.NEW.value else None,
                        "claimed_at": at if status != Status.NEW.value else None,
                        "first_response_at": at if status == Status.REPLIED.value else None,
                        "last_inbound_at": at,
                        "followup_pending": False,
                        "slack_channel": "CINBOX" if carded else None,
                        "slack_ts": f"{1600000000 + i // 1_000_000}.{i % 1_000_000:06d}" if carded else None,
                        "created_at": at,
                        "updated_at": at,
                        "priority": 0,
                    }
                )
                msgs.append(
                    {
                        "id": i,
                        "conversation_id": i,
                        "source": "webhook",
                        "external_id": f"seed-{i}",
                        "direction": "inbound",
                        "author_id": f"u{i}",
                        "author_name": f"Customer {i}",
                        "author_handle": f"customer{i}",
                        "text": f"seeded comment {i}: where is my order? It has been a week and nobody answers.",
                        "permalink": f"https://example.test/c/{i}",
                        "received_at": at,
                        "hidden": False,
                        "extra": {},
                        "kind": "comment",
                        "delivery_attempts": 0,
                    }
                )
                if not carded:
                    jobs.append(
                        {"kind": POST_CARD, "conversation_id": i, "payload": {}, "due_at": at, "created_at": at}
                    )
            async with db.engine.begin() as conn:
                await conn.execute(insert(Conversation), convs)
                await conn.execute(insert(Message), msgs)
                if jobs:
                    await conn.execute(insert(OutboxJob), jobs)
        if not db.is_sqlite:
            # Explicit ids leave the sequences behind: the bot's own INSERTs would collide.
            async with db.engine.begin() as conn:
                for table in ("conversations", "messages"):
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {conversations})"))
    finally:
        await db.dispose()


class Databases:
    """Fresh copies of two templates (empty and seeded), one per bot run, on SQLite or PostgreSQL."""

    def __init__(self, work: Path, postgres: str | None) -> None:
        self.work = work
        self.postgres = postgres
        self.templates: dict[str, str] = {}
        self.made: list[str] = []
        self._count = 0

    async def template(self, name: str, conversations: int, pending: int) -> None:
        """Make the template ``name``: migrated, then seeded when ``conversations``."""
        if self.postgres:
            url = await create_test_database(self.postgres)
            self.made.append(url)
        else:
            url = f"sqlite+aiosqlite:///{self.work / name}.db"
            db = Database(url)
            try:
                await upgrade(db)
            finally:
                await db.dispose()
        if conversations:
            await seed(url, conversations, pending)
        self.templates[name] = url

    async def copy(self, name: str) -> str:
        """A database of its own for one run, as the template ``name`` is."""
        self._count += 1
        source = self.templates[name]
        if not self.postgres:
            path = self.work / f"run{self._count}.db"
            shutil.copyfile(source.removeprefix("sqlite+aiosqlite:///"), path)
            return f"sqlite+aiosqlite:///{path}"
        base = Database(source)
        try:
            template = base.engine.url.database
            target = f"{template}_r{self._count}"
        finally:
            await base.dispose()
        admin = Database(self.postgres)
        try:
            async with admin.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{template}"'))
        finally:
            await admin.dispose()
        url = source.rsplit("/", 1)[0] + f"/{target}"
        self.made.append(url)
        return url

    async def drop(self) -> None:
        """Drop every PostgreSQL database made (SQLite files go with the work folder)."""
        for url in reversed(self.made):
            await drop_test_database(url)


async def bot_memory(fake: FakeSlack, database_url: str, window: float, work: Path, samples: list[int]) -> float:
    """Run the bot on ``database_url`` for ``window`` seconds; its peak resident memory in MiB."""
    fake.reset()
    config = settings(
        api_url=fake.api_url,
        bot_token=fake.bot_token,
        database_url=database_url,
        plugins={"enabled": ["webhook"], "webhook": {"secret": SECRET}},
    )
    async with BotProcess(config, fake, log=work / "bot.log") as bot:
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            samples.append(bot.memory()["VmRSS"])
            await asyncio.sleep(1.0)
        peak = bot.memory()["VmHWM"]
    return peak / 1024


async def measure(
    label: str, postgres: str | None, conversations: int, pending: int, rounds: int, window: float
) -> dict[str, Any]:
    """Interleaved rounds of the bot on the empty and the seeded database: one table row."""
    with tempfile.TemporaryDirectory(prefix="chatops-memory-") as tmp:
        work = Path(tmp)
        databases = Databases(work, postgres)
        try:
            started = time.monotonic()
            await databases.template("empty", 0, 0)
            await databases.template("seeded", conversations, pending)
            seeding = time.monotonic() - started
            samples: dict[str, list[int]] = {"empty": [], "seeded": []}
            with FakeSlack(post_interval=1.0) as fake:

                async def empty() -> float:
                    return await bot_memory(fake, await databases.copy("empty"), window, work, samples["empty"])

                async def seeded() -> float:
                    return await bot_memory(fake, await databases.copy("seeded"), window, work, samples["seeded"])

                figures = await interleaved({"empty database": empty, "ours": seeded}, rounds)
                posted = len(fake.calls_to("chat.postMessage"))
        finally:
            await databases.drop()
    return ratio_row(
        f"memory, {label}, {conversations:,} open conversations ({pending:,} cards pending), peak RSS",
        "MiB",
        figures.pop("ours"),
        figures,
        target="≤ 1.5× empty database",
        met=lambda ratios: ratios["empty database"] <= 1.5,
        raw={
            "window_s": window,
            "seeding_s": round(seeding, 1),
            "rss_samples_kib": samples,
            "cards_posted_last_run": posted,
        },
    )


async def run(options: argparse.Namespace) -> list[dict[str, Any]]:
    """The memory case on SQLite, and on PostgreSQL when given (``--quick``: 10,000, one round, 5 s)."""
    conversations, pending, rounds, window = (10_000, 200, 1, 5.0) if options.quick else (100_000, 2_000, 3, 15.0)
    rows = [await measure("SQLite", None, conversations, pending, rounds, window)]
    if options.postgres:
        rows.append(await measure("PostgreSQL", options.postgres, conversations, pending, rounds, window))
    return rows
