"""Webhook ingest against two baselines on the same server settings: a bare endpoint, and one INSERT per request.

    .venv/bin/python benchmarks/ingest.py [--postgres URL] [--quick] [--rounds N] [--comments N]
    (or as the ``ingest`` case of ``benchmarks/run.py``)

Three servers take the same signed webhooks (``X-Chatops-Signature``) from the load generator
(``benchmarks/load.py``, a process of its own), at 16 and 64 connections, on SQLite and, given
``--postgres``, PostgreSQL:

- ours: the real bot (``TestBot``, delivery off, so only the door and the store count), storing
  each message as a conversation, message, audit line and outbox job, answered once committed;
- bare endpoint: the same HMAC check and JSON parsing, answered 201 without storing anything;
- one INSERT per request: the same, plus one INSERT of a row shaped like a message in its own
  transaction, through the bot's own :class:`chatops.db.Database` (SQLAlchemy async; on SQLite the
  same pragmas, WAL, ``BEGIN IMMEDIATE`` and in-process write queue as the bot).

All three are served by uvicorn with the bot's settings (:func:`chatops.server.http_server`), each
on a fresh database, in this process (idle while the load runs). Every round runs each server once,
the order alternating; medians are reported, with every round's figure and the CPU time this
process spent per request (a figure the machine's other load disturbs less than the rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from common import interleaved, load_average, ratio_row
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint, insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatops.db import Database
from chatops.server import http_server, start_serving
from chatops.sockets import bind
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.webhook.signature import SIGNATURE_HEADER, verify
from chatops_plugins.webhook.testing import WEBHOOK_PATH, WEBHOOK_SECRET, WebhookCustomer

HERE = Path(__file__).resolve().parent
BARE = "bare endpoint"
ONE_INSERT = "one INSERT per request"
CONNECTIONS = (16, 64)
TARGET = "≥1.0× one INSERT, ≥0.25× bare"

# -- the baselines ---------------------------------------------------------------------------------

_metadata = MetaData()
#: A row shaped like a stored message (the columns the webhook fills), for the one-INSERT baseline.
baseline_messages = Table(
    "baseline_messages",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("author_name", String(255)),
    Column("author_handle", String(255)),
    Column("text", Text, nullable=False),
    Column("channel_name", String(255)),
    Column("source_created_at", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("extra", JSON, nullable=False),
    UniqueConstraint("source", "external_id"),
)


def _signed_json(body: bytes, header: str | None) -> Any:
    """The bare endpoint's work: the webhook's HMAC check over the raw bytes, then JSON parsing."""
    if not verify(WEBHOOK_SECRET, body, header):
        return None
    return json.loads(body)


def bare_app() -> Starlette:
    """A webhook endpoint that checks the signature, parses the JSON and answers 201, storing nothing."""

    async def receive(request: Request) -> Response:
        data = _signed_json(await request.body(), request.headers.get(SIGNATURE_HEADER))
        if not isinstance(data, dict):
            return JSONResponse({"error": "refused"}, status_code=401)
        return JSONResponse({"status": "stored", "id": data.get("id")}, status_code=201)

    return Starlette(routes=[Route(WEBHOOK_PATH, receive, methods=["POST"])])


def one_insert_app(db: Database) -> Starlette:
    """The bare endpoint plus one INSERT of a message-shaped row, in its own transaction, per request."""
    statement = insert(baseline_messages).returning(baseline_messages.c.id)

    async def receive(request: Request) -> Response:
        data = _signed_json(await request.body(), request.headers.get(SIGNATURE_HEADER))
        if not isinstance(data, dict):
            return JSONResponse({"error": "refused"}, status_code=401)
        author = data.get("author") or {}
        row = {
            "source": "webhook",
            "external_id": str(data["id"]),
            "direction": "inbound",
            "author_name": author.get("name"),
            "author_handle": author.get("handle"),
            "text": str(data["text"]),
            "channel_name": data.get("channel"),
            "source_created_at": datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None,
            "received_at": datetime.now(UTC),
            "extra": {},
        }
        async with db.write() as session:
            row_id = await session.scalar(statement, row)
        return JSONResponse({"status": "stored", "id": row_id}, status_code=201)

    return Starlette(routes=[Route(WEBHOOK_PATH, receive, methods=["POST"])])


@asynccontextmanager
async def serving(web: Starlette) -> AsyncIterator[str]:
    """Serve ``web`` on a free loopback port with the bot's uvicorn settings; yields the webhook URL."""
    # http_server reads only the app's web app and [http] settings: a stand-in gives it ours, so
    # the baselines run on exactly the settings the bot's server uses.
    stand_in = SimpleNamespace(web=web, settings=SimpleNamespace(http=SimpleNamespace(host="127.0.0.1", port=0)))
    server = http_server(stand_in, log_level="warning")  # type: ignore[arg-type]
    sock = bind("127.0.0.1", 0)
    task = await start_serving(server, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
    finally:
        server.should_exit = True
        await task


# -- one measurement -------------------------------------------------------------------------------


async def load(url: str, comments: int, connections: int) -> dict[str, Any]:
    """Run the load generator (its own process) against ``url``; its figures and this process's CPU per request."""
    cpu = time.process_time()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "load.py"),
        url,
        WEBHOOK_SECRET,
        str(comments),
        str(connections),
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the load generator failed")
    result: dict[str, Any] = json.loads(stdout)
    result["server_cpu_ms_per_request"] = round((time.process_time() - cpu) * 1000 / comments, 3)
    if result["failures"]:
        raise RuntimeError(f"{result['failures']} of {comments} webhooks were not answered 201: {result['statuses']}")
    return result


class Databases:
    """Fresh databases for each measurement: SQLite files in a temporary folder, or PostgreSQL ones beside ``url``."""

    def __init__(self, postgres: str | None) -> None:
        self.postgres = postgres
        self._folder = tempfile.TemporaryDirectory(prefix="chatops-ingest-bench-")
        self._made: list[str] = []
        self._count = 0

    async def fresh(self, *, migrated: bool) -> str:
        """A new, empty database's URL (PostgreSQL: migrated for the bot when ``migrated``)."""
        self._count += 1
        if self.postgres is None:
            # The bot migrates a new SQLite file itself (database.auto_upgrade_sqlite).
            return f"sqlite+aiosqlite:///{self._folder.name}/{self._count}.db"
        from chatops.testing.fixtures import create_test_database

        self._made.append(await create_test_database(self.postgres, migrate=migrated))
        return self._made[-1]

    async def close(self) -> None:
        """Drop the PostgreSQL databases made, and the SQLite folder."""
        from chatops.testing.fixtures import drop_test_database

        for url in self._made:
            await drop_test_database(url)
        self._folder.cleanup()


async def measure_ours(fake: FakeSlack, databases: Databases, comments: int, connections: int) -> dict[str, Any]:
    """The bot's webhook door and store."""
    fake.reset(directory=True)
    async with TestBot(fake, await databases.fresh(migrated=True), deliver=False, customer=WebhookCustomer) as bot:
        assert bot.http is not None
        return await load(str(bot.http.base_url.join(WEBHOOK_PATH)), comments, connections)


async def measure_bare(comments: int, connections: int) -> dict[str, Any]:
    """The bare endpoint."""
    async with serving(bare_app()) as url:
        return await load(url, comments, connections)


async def measure_one_insert(databases: Databases, comments: int, connections: int) -> dict[str, Any]:
    """One INSERT per request, on a fresh database holding only its table."""
    db = Database(await databases.fresh(migrated=False))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_metadata.create_all)
        async with serving(one_insert_app(db)) as url:
            return await load(url, comments, connections)
    finally:
        await db.dispose()


# -- the case ----------------------------------------------------------------------------------------


async def run(options: argparse.Namespace) -> list[dict[str, Any]]:
    """The table's ingest rows: each database at 16 and 64 connections."""
    quick = bool(getattr(options, "quick", False))
    rounds = getattr(options, "ingest_rounds", None) or (2 if quick else 5)
    comments = getattr(options, "ingest_comments", None) or (400 if quick else 2000)
    databases: dict[str, str | None] = {} if getattr(options, "postgres_only", False) else {"SQLite": None}
    if getattr(options, "postgres", None):
        databases["PostgreSQL"] = options.postgres
    connection_counts = getattr(options, "connections", None) or CONNECTIONS
    rows: list[dict[str, Any]] = []
    with FakeSlack() as fake:
        for name, postgres in databases.items():
            store = Databases(postgres)
            try:
                for connections in connection_counts:
                    rows.append(await _case(fake, store, name, connections, comments, rounds))
            finally:
                await store.close()
    return rows


async def _case(
    fake: FakeSlack, databases: Databases, name: str, connections: int, comments: int, rounds: int
) -> dict[str, Any]:
    details: dict[str, list[dict[str, Any]]] = {"ours": [], BARE: [], ONE_INSERT: []}

    def kept(variant: str, result: dict[str, Any]) -> float:
        details[variant].append(result)
        return float(result["per_second"])

    variants: dict[str, Callable[[], Awaitable[float]]] = {
        BARE: lambda: _then(measure_bare(comments, connections), lambda r: kept(BARE, r)),
        ONE_INSERT: lambda: _then(measure_one_insert(databases, comments, connections), lambda r: kept(ONE_INSERT, r)),
        "ours": lambda: _then(measure_ours(fake, databases, comments, connections), lambda r: kept("ours", r)),
    }
    load_before = load_average()
    figures = await interleaved(variants, rounds)
    ours = figures.pop("ours")
    row = ratio_row(
        f"ingest, {name}, {connections} connections",
        "webhooks/s",
        ours,
        figures,
        target=TARGET,
        met=lambda r: r[ONE_INSERT] >= 1.0 and r[BARE] >= 0.25,
        raw={
            "comments": comments,
            "load_average": {"before": load_before, "after": load_average()},
            "server_cpu_ms_per_request": {
                variant: [r["server_cpu_ms_per_request"] for r in results] for variant, results in details.items()
            },
            "p95_ms": {variant: [r["p95_ms"] for r in results] for variant, results in details.items()},
        },
    )
    print(_line(row), flush=True)
    return row


async def _then(measurement: Awaitable[dict[str, Any]], keep: Callable[[dict[str, Any]], float]) -> float:
    return keep(await measurement)


def _line(row: dict[str, Any]) -> str:
    ratios = ", ".join(f"{ratio:.2f}× {name}" for name, ratio in row["ratios"].items())
    baselines = ", ".join(f"{name} {value:.0f}/s" for name, value in row["baselines"].items())
    cpu = row["raw"]["server_cpu_ms_per_request"]
    cpu_text = ", ".join(f"{name} {statistics.median(v):.2f}" for name, v in cpu.items())
    return (
        f"{row['case']}: ours {row['ours']:.0f}/s; {baselines}; {ratios}; "
        f"{'met' if row['met'] else 'NOT met'}; server CPU ms/request {cpu_text}; "
        f"load {row['raw']['load_average']['before']} → {row['raw']['load_average']['after']}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options when run on its own."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("CHATOPS_TEST_POSTGRES_URL"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", dest="ingest_rounds", type=int)
    parser.add_argument("--comments", dest="ingest_comments", type=int)
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out even when it is set")
    parser.add_argument("--postgres-only", action="store_true", help="leave SQLite out (needs --postgres)")
    parser.add_argument(
        "--connections", type=int, nargs="+", choices=CONNECTIONS, help="only these connection counts (default: all)"
    )
    options = parser.parse_args(argv)
    if options.sqlite_only:
        options.postgres = None
    return options


if __name__ == "__main__":
    started = load_average()
    print(f"load average before: {started}", flush=True)
    table = asyncio.run(run(parse_args()))
    print(f"load average after: {load_average()}")
    print(json.dumps(table, indent=1, default=str))
