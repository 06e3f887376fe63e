"""A database that cannot take a write: webhooks answer 503 with Retry-After, nothing is stored, the bot recovers.

The outages are real ones made from outside the bot: another connection holding the
write lock (SQLite ``BEGIN IMMEDIATE`` in a thread, PostgreSQL ``LOCK TABLE``), an
SQLite write-ahead log that the file system refuses to write (``chattr +i``: tests run
as root, for whom ``chmod`` stops nothing), and a PostgreSQL database switched to
read-only transactions, as after a failover to a standby.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, make_url, select
from starlette.applications import Starlette

from chatops.config import normalise_database_url
from chatops.models import Message
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.outages import database_read_only, immutable, write_lock_held_elsewhere
from chatops.web import health_routes

LOCK_TIMEOUT = 1.0
#: The bot's bounded wait plus generous slack for a loaded CI machine; far below the old 30 s.
PROMPT = LOCK_TIMEOUT + 3.0


def _bot(fake_slack: FakeSlack, database_url: str) -> TestBot:
    return TestBot(fake_slack, database_url, config={"database": {"lock_timeout_seconds": LOCK_TIMEOUT}})


async def _messages(bot: TestBot) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_webhook_behind_a_held_write_lock_gets_503_quickly_then_201(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with _bot(fake_slack, database_url) as bot:
        assert bot.http is not None
        payload = bot.comment_payload("Is my parcel lost?")
        async with write_lock_held_elsewhere(database_url):
            started = time.monotonic()
            refused = await bot.webhook(payload)
            waited = time.monotonic() - started
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"].isdigit()
            assert "try again" in refused.json()["error"]
            assert LOCK_TIMEOUT * 0.8 <= waited < PROMPT
            assert (await bot.http.get("/healthz")).status_code == 200
            ready = await bot.http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert await _messages(bot) == 0  # nothing half-stored
        accepted = await bot.webhook(payload)
        assert accepted.status_code == 201, accepted.text
        card = await bot.next_card()  # the delivery worker kept running
        assert "Is my parcel lost?" in card.text
        assert (await bot.http.get("/readyz")).json() == {"status": "ready", "database": "writable"}


async def test_a_webhook_queued_behind_another_waiting_write_still_gets_503_within_the_lock_timeout(
    fake_slack: FakeSlack, database_url: str
) -> None:
    # The configured wait is the whole wait: time in the bot's own write queue counts too.
    # (Before, a request that queued behind a writer stuck on the lock waited for the queue
    # and then the full busy timeout again: twice the configured lock_timeout_seconds.)
    timeout = 2.0
    config = {"database": {"lock_timeout_seconds": timeout}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        async with write_lock_held_elsewhere(database_url):
            first = asyncio.create_task(bot.webhook(bot.comment_payload("First")))
            await asyncio.sleep(timeout / 2)  # the first one is now waiting on the lock
            started = time.monotonic()
            second = await bot.webhook(bot.comment_payload("Second"))
            waited = time.monotonic() - started
            assert (await first).status_code == 503
        assert second.status_code == 503, second.text
        assert waited < timeout + 0.6, f"waited {waited:.1f} s with lock_timeout_seconds = {timeout:g}"
        assert await _messages(bot) == 0


async def test_readyz_reports_a_sqlite_write_lock_held_elsewhere(fake_slack: FakeSlack, tmp_path: Path) -> None:
    # The probe's own bounded wait (2 s), and a reason that names the lock.
    from chatops.testing.fixtures import _migrated_sqlite

    path = tmp_path / "chatops.db"
    await _migrated_sqlite(path)
    url = f"sqlite+aiosqlite:///{path}"
    async with _bot(fake_slack, url) as bot:
        assert bot.http is not None
        async with write_lock_held_elsewhere(url):
            started = time.monotonic()
            ready = await bot.http.get("/readyz")
            assert time.monotonic() - started < 5.0
            assert ready.status_code == 503
            assert "locked" in ready.json()["database"]
        assert (await bot.http.get("/readyz")).status_code == 200


async def test_read_only_database_answers_503_readyz_says_so_and_the_bot_recovers(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with _bot(fake_slack, database_url) as bot:
        assert bot.http is not None and bot.app is not None
        await bot.comment("Before the outage")
        await bot.next_card()
        await bot.idle()
        payload = bot.comment_payload("During the outage")
        async with database_read_only(database_url):
            for _ in range(3):  # every attempt, not only the first
                started = time.monotonic()
                refused = await bot.webhook(payload)
                assert refused.status_code == 503, refused.text
                assert refused.headers["Retry-After"].isdigit()
                assert time.monotonic() - started < PROMPT
            ready = await bot.http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"
            assert ready.json()["database"]
            health = await bot.http.get("/healthz")
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert await _messages(bot) == 1
        accepted = await bot.webhook(payload)
        assert accepted.status_code == 201, accepted.text
        assert "During the outage" in (await bot.next_card()).text
        assert (await bot.http.get("/readyz")).status_code == 200
        assert bot.app.delivery._task is not None and not bot.app.delivery._task.done()


async def test_postgres_server_out_of_reach_is_503_not_500(fake_slack: FakeSlack, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL server outage")
    async with _bot(fake_slack, database_url) as bot:
        assert bot.http is not None and bot.app is not None
        good_engine = bot.app.db.engine
        # The same bot, its database now at an address where nothing listens.
        from chatops.db import Database
        from chatops.sockets import bind

        sock = bind("127.0.0.1", 0)
        port = sock.getsockname()[1]
        sock.close()
        down = Database(
            make_url(normalise_database_url(database_url)).set(port=port).render_as_string(hide_password=False),
            lock_timeout=LOCK_TIMEOUT,
        )
        original, bot.app.db = bot.app.db, down
        bot.app.store.db = down
        try:
            started = time.monotonic()
            refused = await bot.webhook(bot.comment_payload("Anyone there?"))
            assert refused.status_code == 503, refused.text
            assert time.monotonic() - started < PROMPT
            # The web app holds the database it was built with: readiness over the unreachable one.
            health = Starlette(routes=health_routes(down), exception_handlers={})
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=health), base_url="http://bot") as probe:
                assert (await probe.get("/readyz")).status_code == 503
                assert (await probe.get("/healthz")).status_code == 200
        finally:
            bot.app.db = bot.app.store.db = original
            await down.dispose()
        assert bot.app.db.engine is good_engine
        assert (await bot.webhook(bot.comment_payload("Anyone there?"))).status_code == 201


async def _kill_the_bots_connections(bot: TestBot, database_url: str) -> None:
    """Close, from the server's side, every connection the bot holds (a restart or an idle timeout would)."""
    import asyncpg

    url = make_url(normalise_database_url(database_url))
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.database,
        )
    finally:
        await admin.close()


@pytest.mark.parametrize("idle", [True, False], ids=["idle connection", "connection used a moment ago"])
async def test_a_pooled_connection_the_server_closed_is_replaced(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL connections")
    import chatops.db

    # Pinged before use when idle longer than this: 0 stands for "idle long enough", without waiting.
    monkeypatch.setattr(chatops.db, "PING_AFTER_IDLE_SECONDS", 0.0 if idle else 3600.0)
    async with _bot(fake_slack, database_url) as bot:
        assert (await bot.webhook(bot.comment_payload("First", id="first"))).status_code == 201
        await bot.idle()
        await _kill_the_bots_connections(bot, database_url)
        answer = await bot.webhook(bot.comment_payload("Second", id="second"))
        if idle:
            assert answer.status_code == 201, answer.text  # the ping found it dead: another one, unnoticed
        else:
            # Not pinged (it had just worked): the write fails as an outage, never a 500 and never lost...
            assert answer.status_code == 503, answer.text
            assert answer.headers.get("Retry-After")
            # ...and the pool has let the dead connection go: the sender's retry is stored.
            answer = await bot.webhook(bot.comment_payload("Second", id="second"))
            assert answer.status_code == 201, answer.text
        assert await _messages(bot) == 2


async def test_a_click_during_an_outage_tells_the_person_it_was_not_saved(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with _bot(fake_slack, database_url) as bot:
        anna = bot.person("Anna")
        await bot.comment("Please call me back")
        card = await bot.next_card()
        await bot.idle()
        async with write_lock_held_elsewhere(database_url):
            await bot.click(anna, card, "claim")
            await fake_slack.wait_for("chat.postEphemeral", lambda c: c.ok, timeout=PROMPT + 2)
        assert any("could not be saved" in text and "try again" in text for text in bot.ephemerals(anna))
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "<@UANNA>" in c.text)


async def test_with_a_rollback_journal_a_wholly_read_only_sqlite_database_answers_503(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # Every file of the database unwritable. In WAL mode this kills the process (SIGBUS on the
    # memory-mapped -shm index, reproduced with `chatops run`); with sqlite_journal_mode =
    # "delete" there is no shared memory and the bot answers 503 through it and recovers.
    from chatops.testing.fixtures import _migrated_sqlite

    path = tmp_path / "chatops.db"
    await _migrated_sqlite(path)
    config = {"database": {"lock_timeout_seconds": LOCK_TIMEOUT, "sqlite_journal_mode": "delete"}}
    async with TestBot(fake_slack, f"sqlite+aiosqlite:///{path}", config=config) as bot:
        assert bot.http is not None
        await bot.comment("Before the outage")
        await bot.next_card()
        await bot.idle()
        files = sorted(await asyncio.to_thread(lambda: list(tmp_path.glob("chatops.db*"))))
        assert files == [path]  # no -wal, no -shm
        payload = bot.comment_payload("During the outage")
        with immutable(path):
            refused = await bot.webhook(payload)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"].isdigit()
            assert (await bot.http.get("/readyz")).status_code == 503
            assert (await bot.http.get("/healthz")).status_code == 200
        assert await _messages(bot) == 1
        assert (await bot.webhook(payload)).status_code == 201
        assert "During the outage" in (await bot.next_card()).text
        assert (await bot.http.get("/readyz")).status_code == 200


async def test_a_reply_sent_during_an_outage_is_not_lost_silently(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    async with _bot(fake_slack, database_url) as bot:
        anna = bot.person("Anna")
        await bot.comment("Where is my order?", reply_url=callback.url)
        card = await bot.next_card()
        await bot.idle()
        view = await bot.open_modal(anna, card, "reply")
        async with write_lock_held_elsewhere(database_url):
            submitted = await bot.submit(anna, view, {"text": {"text": "It ships today"}})
            assert submitted.status_code == 200, submitted.text
            if database_url.startswith("sqlite"):
                # SQLite lets the card be read, so the modal closed; the answer could not be stored.
                # A modal has no channel: the person hears it from the app in a direct message.
                told = await fake_slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == anna.id)
                assert told[-1].ok, told[-1].response
                assert "could not be saved" in told[-1].args["text"]
            else:
                # PostgreSQL's lock blocks even reading the card: the modal stays open, saying why.
                answer = submitted.json()
                assert answer["response_action"] == "errors"
                assert "could not be saved" in next(iter(answer["errors"].values()))
        assert callback.received == []
        again = await bot.submit(anna, view, {"text": {"text": "It ships today"}})
        assert again.status_code == 200, again.text
        replies = await callback.wait_for(1)
        assert replies[0]["text"] == "It ships today"


async def test_connections_opened_while_the_sqlite_log_was_read_only_are_not_written_with_after(
    tmp_path: Path, _sqlite_template: Path
) -> None:
    # SQLite opens a file it may not write read-only and keeps it so: readers that opened pooled
    # connections during the outage must not hand them to the first writers after it.
    import shutil

    from sqlalchemy import text

    from chatops.db import Database

    path = tmp_path / "chatops.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)

    async def read_for_a_while() -> None:
        async with db.read() as session:
            await session.execute(text("SELECT count(*) FROM conversations"))
            await asyncio.sleep(0.1)  # held, so that the others open connections of their own

    try:
        await db.ping()  # the write-ahead log exists before the outage
        async with database_read_only(url):
            await asyncio.gather(*(read_for_a_while() for _ in range(4)))
        for n in range(6):  # every pooled connection in turn
            async with db.write() as session:
                await session.execute(
                    text("INSERT INTO source_state (plugin, key, value, updated_at) VALUES ('t', :k, 'v', '2026')"),
                    {"k": str(n)},
                )
    finally:
        await db.dispose()
