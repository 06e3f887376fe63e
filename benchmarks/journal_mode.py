"""What SQLite's rollback journal costs against WAL in webhook ingest, measured side by side.

    .venv/bin/python benchmarks/journal_mode.py [--rounds 6] [--comments 1000] [--concurrency 16]

``database.sqlite_journal_mode = "delete"`` lets the bot answer 503 through a disk that turns
read-only, where WAL's memory-mapped index gets the process killed (SIGBUS). This says what
that costs. The machine is shared, so the two modes alternate round by round (ABBA), each on a
fresh bot and database with the load generator (benchmarks/load.py) in its own process; the
medians and their ratio are printed with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from run import bench_ingest  # benchmarks/ is this script's folder, first on sys.path

from chatops.testing.fake_slack import FakeSlack

MODES = ("wal", "delete")


async def ingest_rate(fake: FakeSlack, mode: str, comments: int, concurrency: int) -> float:
    """Signed webhooks stored per second by a fresh bot on a fresh SQLite file in ``mode``."""
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    config = {"database": {"sqlite_journal_mode": mode}}
    return float((await bench_ingest(fake, url, comments, concurrency, config))["per_second"])


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def main(args: argparse.Namespace) -> None:
    """Alternate the modes, then print the medians and their ratio."""
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    print(f"load average before: {loadavg()}")
    with FakeSlack() as fake:
        for round_ in range(args.rounds):
            for mode in MODES if round_ % 2 == 0 else tuple(reversed(MODES)):
                fake.reset(directory=True)
                rates[mode].append(await ingest_rate(fake, mode, args.comments, args.concurrency))
                print(f"round {round_}: {mode:<6} {rates[mode][-1]:.1f}/s", flush=True)
    print(f"load average after: {loadavg()}")
    wal, delete = (statistics.median(rates[mode]) for mode in MODES)
    print(f"median ingest: wal {wal:.1f}/s, delete {delete:.1f}/s; delete/wal = {delete / wal:.2f}")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
