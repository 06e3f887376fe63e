"""What the rota costs: comments becoming cards, and ``/rota`` answering, with and without it.

    .venv/bin/python benchmarks/rota.py [--postgres URL] [--comments 100] [--commands 100] [--repeat 5]
        [--assign off|round_robin|least_loaded]

With the rota enabled every new card asks it who is on shift (a decoration), and every new
conversation is assigned to the least-loaded person on shift (an inbound hook reading the
open cards; ``--assign off`` measures the decoration alone). Each measurement is a fresh bot
(HTTP mode, delivery on) against the fake Slack:

- *cards*: ``--comments`` signed webhooks sent 8 at a time; seconds until every card is in
  Slack. Baseline: the same bot without the rota.
- *command*: ``--commands`` ``/rota week`` commands one after another; the median and p95 of
  the signed request's answer. Baseline: the same command answered by the core's "not enabled"
  on a bot without the rota (the cheapest answer a slash command gets).

The rota holds 30 shifts for 12 people over the week and 40 covers and swaps, more than a small
team keeps. Variants alternate within the run (the machine is shared and noisy); medians and
their ratios are printed with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from chatops.testing.bot import INBOX, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.webhook.testing import WebhookCustomer

PEOPLE = [f"UAGENT{i:02d}" for i in range(12)]
LEAD = "ULEAD"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def loadavg() -> str:
    """``/proc/loadavg`` (1, 5 and 15 minute load, running/total tasks)."""
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unavailable"


async def seed_rota(bot: TestBot) -> None:
    """30 shifts round the clock for 12 people, then 40 covers and swaps over the next weeks."""
    from chatops_plugins.rota import records
    from chatops_plugins.rota.service import rota_of

    assert bot.app is not None
    rota = rota_of(bot.app.context("rota"))
    now = datetime.now(UTC)
    async with rota.ctx.db.write() as session:
        for i in range(30):
            day = frozenset({i % 7})
            start = (i * 8 % 24) * 60
            await records.add_shift(
                session, day, start, (start + 8 * 60) % 1440 or 1440, (PEOPLE[i % 12], PEOPLE[(i + 5) % 12]), LEAD, now
            )
        for i in range(20):
            first = now + timedelta(days=i % 14)
            await records.add_cover(
                session,
                PEOPLE[i % 12],
                PEOPLE[(i + 3) % 12],
                first,
                first + timedelta(days=1),
                whole_shifts=True,
                by=LEAD,
                at=now,
            )
            day: date = (now + timedelta(days=i % 10)).date()
            await records.add_swap(session, PEOPLE[i % 12], PEOPLE[(i + 7) % 12], day, by=LEAD, at=now)
    rota.invalidate()


#: ``[plugins.rota] assign`` in the "with" variant (``--assign``).
ASSIGN = {"mode": "least_loaded"}


def config(with_rota: bool) -> dict[str, Any]:
    """The bot's settings: the webhook source, and the rota with routing when ``with_rota``."""
    if not with_rota:
        return {"plugins": {"enabled": ["webhook"]}}
    rota = {"leads": [LEAD], "assign": ASSIGN["mode"], "mention_on_cards": True}
    return {"plugins": {"enabled": ["webhook", "rota"], "rota": rota}}


async def migrated(url: str, with_rota: bool) -> None:
    """Bring a PostgreSQL database to the schema (SQLite files upgrade themselves at start-up)."""
    if url.startswith("sqlite"):
        return
    from chatops.db import Database
    from chatops.migrate import upgrade, upgrade_plugin
    from chatops_plugins.rota import tables

    db = Database(url)
    try:
        await upgrade(db)
        if with_rota:
            await upgrade_plugin(db, "rota", tables.MIGRATIONS)
    finally:
        await db.dispose()


async def measure_cards(fake: FakeSlack, url: str, with_rota: bool, comments: int) -> float:
    """Seconds from the first comment sent to the last card in Slack."""
    async with TestBot(fake, url, config=config(with_rota), customer=WebhookCustomer) as bot:
        if with_rota:
            await seed_rota(bot)
        before = len(bot.cards(INBOX))
        start = time.perf_counter()
        queue = list(range(comments))

        async def sender() -> None:
            while queue:
                i = queue.pop()
                await bot.comment(f"Comment {i}: when do you open?", author={"name": f"Customer {i}", "id": f"c{i}"})

        await asyncio.gather(*(sender() for _ in range(8)))
        # Polled gently: the fake Slack shares this event loop with the bot, and reading every card
        # each few milliseconds took the bot's time (80 comments: 6.8 s at 5 ms, growing with the count).
        while len(bot.cards(INBOX)) - before < comments:  # noqa: ASYNC110 - the fake Slack is polled, as tests do
            await asyncio.sleep(0.1)
        return time.perf_counter() - start


async def measure_command(fake: FakeSlack, url: str, with_rota: bool, commands: int) -> list[float]:
    """Seconds each ``/rota week`` took to be answered."""
    async with TestBot(fake, url, config=config(with_rota), customer=WebhookCustomer) as bot:
        if with_rota:
            await seed_rota(bot)
        anna = bot.person("Anna")
        times = []
        for _ in range(commands):
            start = time.perf_counter()
            response = await bot.command(anna, "/rota", "week")
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
        return times


async def fresh_url(kind: str, postgres: str | None, tmp: Path, tag: str, made: list[str]) -> str:
    """A new empty database for one measurement."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/{tag}.db"
    from chatops.testing.fixtures import create_test_database

    assert postgres is not None
    made.append(await create_test_database(postgres, migrate=False))
    return made[-1]


async def interleaved(
    kind: str, postgres: str | None, tmp: Path, repeat: int, run: Callable[[str, bool], Awaitable[Any]]
) -> dict[bool, list[Any]]:
    """``run(url, with_rota)`` ``repeat`` times for each variant, alternating which goes first."""
    from chatops.testing.fixtures import drop_test_database

    results: dict[bool, list[Any]] = {False: [], True: []}
    for rep in range(repeat):
        for with_rota in (False, True) if rep % 2 == 0 else (True, False):
            made: list[str] = []
            url = await fresh_url(kind, postgres, tmp, f"{rep}{with_rota}{time.monotonic_ns()}", made)
            try:
                await migrated(url, with_rota)
                results[with_rota].append(await run(url, with_rota))
            finally:
                for created in made:
                    await drop_test_database(created)
    return results


async def main(args: argparse.Namespace) -> int:
    """Measure both figures on each database and print medians and ratios."""
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    ASSIGN["mode"] = args.assign
    print(f"load before: {loadavg()}; the rota's assign = {args.assign}")
    with tempfile.TemporaryDirectory() as tmpdir, FakeSlack() as fake:
        tmp = Path(tmpdir)
        for kind in kinds:

            async def cards(url: str, with_rota: bool) -> float:
                return await measure_cards(fake, url, with_rota, args.comments)

            async def command(url: str, with_rota: bool) -> list[float]:
                return await measure_command(fake, url, with_rota, args.commands)

            card_times = await interleaved(kind, args.postgres, tmp, args.repeat, cards)
            base, rota = statistics.median(card_times[False]), statistics.median(card_times[True])
            print(
                f"{kind:<10} {args.comments} comments → cards: without rota {base:6.2f} s, with {rota:6.2f} s "
                f"= {rota / base:4.2f}x the time  (runs {[round(t, 2) for t in card_times[False]]} / "
                f"{[round(t, 2) for t in card_times[True]]})"
            )
            answers = await interleaved(kind, args.postgres, tmp, args.repeat, command)
            flat = {variant: [t for run in runs for t in run] for variant, runs in answers.items()}
            for label, p in (("median", 50.0), ("p95", 95.0)):
                base_ms, rota_ms = percentile(flat[False], p) * 1000, percentile(flat[True], p) * 1000
                print(
                    f"{kind:<10} /rota week answer {label}: 'not enabled' {base_ms:6.1f} ms, "
                    f"the week {rota_ms:6.1f} ms = {rota_ms / base_ms:4.2f}x"
                )
    print(f"load after:  {loadavg()}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("CHATOPS_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--comments", type=int, default=100)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--assign", default="least_loaded", choices=["off", "round_robin", "least_loaded"], help="the rota's routing"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args())))
