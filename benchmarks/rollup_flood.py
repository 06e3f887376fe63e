"""How many Slack messages a 10,000-comment flood needs with roll-ups, and what the flood watch costs.

Not a timed race against Slack's pace: the bot posts to the fake as fast as it can, and the
figure that matters is the number of ``chat.postMessage`` calls to the inbox channel, each
of which costs about one second there. Every comment's text start is checked to be on a
card or a listing line. Run: ``python benchmarks/rollup_flood.py [--postgres URL] [--comments N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from typing import Any

from chatops.db import Database
from chatops.migrate import upgrade
from chatops.sources import Author, Context, InboundMessage
from chatops.testing.bot import INBOX, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.fixtures import create_test_database, drop_test_database


async def _database(postgres: str | None) -> tuple[str, Any]:
    if postgres:
        url = await create_test_database(postgres)
        return url, lambda: drop_test_database(url)
    path = os.path.join(tempfile.mkdtemp(), "flood.db")
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    return f"sqlite+aiosqlite:///{path}", None


def _comments(count: int, posts: int, urgent_share: float) -> list[InboundMessage]:
    rng = random.Random(12)
    out = []
    for i in range(count):
        post = i % posts
        urgent = rng.random() < urgent_share
        text = f"c{i:05d} {'my lawyer will hear of this' if urgent else 'the app crashes again'} & <!channel>"
        out.append(
            InboundMessage(
                source="webhook",
                external_id=f"flood-{i}",
                thread_id=f"flood-{i}",
                text=text,
                author=Author(name=f"Customer {i}", handle=f"c{i}"),
                context=Context(f"Post {post}", f"https://example.test/p/{post}"),
            )
        )
    return out


async def main(options: argparse.Namespace) -> dict[str, Any]:
    url, drop = await _database(options.postgres)
    config = {
        # Slack's pace and the watch's look scaled down alike (--pace 0.05: twenty times faster).
        "slack": {"post_interval_seconds": options.pace},
        "priority": {"keywords": ["lawyer"]},
        "crisis": {"rollup_check_seconds": options.pace, "rollup_update_seconds": 10 * options.pace},
        "plugins": {"enabled": ["webhook"], "webhook": {"secret": "x" * 32}},
    }
    with FakeSlack() as slack:
        comments = _comments(options.comments, options.posts, options.urgent)
        async with TestBot(slack, url, config=config, plugins=["webhook"]) as bot:
            assert bot.app is not None
            watch = bot.app.rollups.watch
            spent: list[float] = []
            original = watch.gather_floods

            async def timed() -> int:
                started = time.perf_counter()
                try:
                    return await original()
                finally:
                    spent.append(time.perf_counter() - started)

            watch.gather_floods = timed  # type: ignore[method-assign]
            started = time.monotonic()
            # 10,000 in 60 s: 500 every 3 s (the pace here is the machine's, not the clock's).
            for start in range(0, len(comments), 500):
                await bot.app.ingest_many(comments[start : start + 500])
            await bot.idle(timeout=1200)
            elapsed = time.monotonic() - started
            posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
            texts = "\n".join(block_text(m.get("blocks") or []) for m in slack.messages(INBOX))
            missing = [c.text for c in comments if c.text[:6] not in texts]
            top = slack.top_level_messages(INBOX)
            rollups = [m for m in top if "rollup_resolve" in str(m.get("blocks"))]
            own = len(bot.cards())
        if drop:
            await drop()
    quiet = sorted(spent[-20:])
    return {
        "comments": options.comments,
        "posts": options.posts,
        "chat.postMessage": len(posts),
        "own cards": own,
        "roll-up cards": len(rollups),
        "listing messages": len(posts) - own - len(rollups),
        "missing": len(missing),
        "minutes at 1 message/s": round(len(posts) / 60, 1),
        "flood watch passes": len(spent),
        "flood watch max ms": round(max(spent) * 1000, 1),
        "flood watch median ms": round(sorted(spent)[len(spent) // 2] * 1000, 2),
        "flood watch quiet median ms": round(quiet[len(quiet) // 2] * 1000, 2) if quiet else None,
        "wall seconds": round(elapsed, 1),
        "load average": os.getloadavg(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--urgent", type=float, default=0.005)
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between posts to a channel (Slack: ~1)")
    print(asyncio.run(main(parser.parse_args())))
