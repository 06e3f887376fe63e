"""Overflow channels: how long until a burst of comments all have cards, in one inbox channel or spread over three.

    .venv/bin/python benchmarks/overflow.py [--comments 120] [--pace 1.0] [--rounds 1] [--quick] [--postgres URL]

A burst of comments is stored while delivery is off (so only carding is timed), then the real
bot delivers them against the paced fake Slack, which answers 429 to a second post in a channel
within the pace. Baseline: the inbox channel alone (no ``[crisis] overflow_channels``); ours:
the inbox plus two overflow channels. Runs alternate (baseline, ours, baseline, ours, …) and
the medians are compared. The figure is the seconds from delivery start until the last card is
posted (lower is better); every round also counts 429s, lost and duplicated cards.

Until ``benchmarks/common.py`` exists, the row helpers are local (``_row``, ``_load_average``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chatops.db import Database
from chatops.migrate import upgrade
from chatops.testing.bot import INBOX, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.fixtures import create_test_database, drop_test_database
from chatops_plugins.webhook.testing import WebhookCustomer

OVERFLOW = ["COVERFLOW1", "COVERFLOW2"]
BASELINE = "inbox channel only"


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def _database(postgres: str | None, folder: Path, name: str) -> str:
    if postgres:
        return await create_test_database(postgres)
    url = f"sqlite+aiosqlite:///{folder / name}.db"
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return url


async def _round(fake: FakeSlack, url: str, comments: int, pace: float, overflow: list[str]) -> dict[str, Any]:
    """One burst carded; returns the seconds until the last card, 429s, lost and duplicates."""
    fake.reset()
    fake.post_interval = pace
    config = {
        "slack": {"post_interval_seconds": pace},
        # The banner is the same one message in both runs; off, so only cards are counted. Roll-ups
        # off too: this measures how fast cards go out, not how a flood is gathered (the burst does).
        "crisis": {"overflow_channels": overflow, "banner": False, "rollups": False},
    }
    async with TestBot(fake, url, config=config, deliver=False, customer=WebhookCustomer) as quiet:
        for start in range(0, comments, 50):
            await asyncio.gather(
                *(quiet.comment(f"burst {i}", id=f"burst-{i}") for i in range(start, min(comments, start + 50)))
            )
    channels = [INBOX, *overflow]
    async with TestBot(fake, url, config=config, customer=WebhookCustomer) as bot:
        started = time.monotonic()
        deadline = started + comments * pace * 2 + 60
        while time.monotonic() < deadline:
            if sum(len(bot.cards(c)) for c in channels) >= comments:
                break
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - started
        await bot.idle(timeout=60)
        cards = [m for c in channels for m in bot.cards(c)]
        conversations = [card.conversation_id for card in cards]
    return {
        "seconds": round(seconds, 2),
        "rate_limited": fake.rate_limited,
        "lost": comments - len(set(conversations)),
        "duplicates": len(conversations) - len(set(conversations)),
        "per_channel": {c: len(bot.cards(c)) for c in channels},
    }


async def run(options: argparse.Namespace) -> list[dict[str, Any]]:
    """The benchmark table's row: seconds until a burst is carded, three channels against one."""
    quick = bool(getattr(options, "quick", False))
    # 120 comments: the ratio is what counts, and one channel takes about 1.1 s a card.
    comments = int(getattr(options, "comments", None) or (60 if quick else 120))
    pace = float(getattr(options, "pace", None) or 1.0)
    rounds = int(getattr(options, "rounds", None) or 1)
    postgres = getattr(options, "postgres", None)
    raw: dict[str, list[dict[str, Any]]] = {BASELINE: [], "ours": []}
    load_before = _load_average()
    with tempfile.TemporaryDirectory() as folder, FakeSlack(post_interval=pace) as fake:
        for n in range(rounds):
            for name, overflow in ((BASELINE, []), ("ours", OVERFLOW)):
                url = await _database(postgres, Path(folder), f"{name.split()[0]}-{n}")
                try:
                    raw[name].append(await _round(fake, url, comments, pace, overflow))
                finally:
                    if postgres:
                        await drop_test_database(url)
    ours = statistics.median(r["seconds"] for r in raw["ours"])
    baseline = statistics.median(r["seconds"] for r in raw[BASELINE])
    ratio = ours / baseline
    clean = all(r["lost"] == 0 and r["duplicates"] == 0 for rs in raw.values() for r in rs)
    database = "PostgreSQL" if postgres else "SQLite"
    return [
        {
            "case": f"overflow: {comments} comments carded, {pace:g} s/channel pace, 3 channels, {database}",
            "unit": "s until the last card",
            "ours": ours,
            "baselines": {BASELINE: baseline},
            "ratios": {BASELINE: round(ratio, 3)},
            "target": f"≤0.5× {BASELINE}; nothing lost or duplicated",
            "met": ratio <= 0.5 and clean,
            "rounds": rounds,
            "raw": {**raw, "load_average": {"before": load_before, "after": _load_average()}},
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int)
    parser.add_argument("--pace", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres")
    rows = asyncio.run(run(parser.parse_args()))
    for row in rows:
        print(row["case"], "|", row["unit"], "| ours", row["ours"], "| baselines", row["baselines"])
        print("  ratios", row["ratios"], "| target", row["target"], "| met", row["met"])
        for name, rounds in row["raw"].items():
            print("  ", name, rounds)
    return 0 if all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
