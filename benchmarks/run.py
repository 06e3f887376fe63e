"""The benchmarks of the real bot, one command: a table of ratios against baselines run beside it.

    .venv/bin/python benchmarks/run.py [--postgres URL] [--quick] [--only CASE ...] [--burst-baseline]

Each case is a module here with ``async def run(options) -> list[dict]`` returning table rows
(see ``benchmarks/common.py``): acks (button clicks against a bare Bolt app), ingest (the webhook
door against a bare endpoint and one INSERT per request, 16 and 64 connections), overflow (one
inbox channel against three), memory (100,000 open conversations against an empty database) and
burst (10,000 comments in 60 s against a Slack paced at one message per second per channel).
Ours and its baselines run interleaved in the same run and medians are reported; load generators,
and the bot where its memory is measured, run in their own processes. Everything runs on this
machine, over loopback; PostgreSQL cases run when ``--postgres`` (or
``$CHATOPS_TEST_POSTGRES_URL``) names a test database, beside which they make their own.

The machine and its load average (before and after) are printed with the table; a full run
writes benchmarks/results.json. Exit status 1 when a target is missed or a case fails; a case
whose module does not exist is reported as not present. Targets are checked here, never in unit
tests. On 2 CPUs the burst takes about 8 minutes and memory about 4; ``--quick`` (smaller
numbers, fewer rounds: a smoke test, not figures) takes a few minutes in all.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Case modules say ``from common import ...``; the repository root lets them import their siblings by
# package too. Both hold when this file is imported by a test rather than run as a script.
for entry in (str(HERE.parent), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from common import RESULTS, format_table, load_average, machine, write_results  # noqa: E402

#: The cases, in the order they run (the quickest first, so a broken setup shows early).
CASES = ("acks", "ingest", "overflow", "memory", "burst")


async def run_case(name: str, options: argparse.Namespace) -> tuple[str, list[dict[str, Any]], str]:
    """Run one case module: ``(status, rows, detail)``; a module not written yet is ``not present``."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return "not present", [], f"benchmarks/{name}.py does not exist"
        return "failed", [], f"import: {exc}"
    run = getattr(module, "run", None)
    if run is None:
        return "failed", [], f"benchmarks/{name}.py has no run(options)"
    try:
        rows = list(await run(options))
    except Exception as exc:  # one broken case must not hide the others' figures
        traceback.print_exc()
        return "failed", [], f"{type(exc).__name__}: {exc}"
    return "ok", rows, ""


async def main(options: argparse.Namespace) -> int:
    """Run the chosen cases, print the table with the machine and its load, and say whether targets were met."""
    started = time.monotonic()
    about = machine()
    before = load_average()
    print(f"machine: {about['cpus']} CPUs, Python {about['python']}, {about['platform']}")
    print(f"load average before: {' '.join(map(str, before))}" + ("  (quick run)" if options.quick else ""))
    cases: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for name in options.only or CASES:
        case_start = time.monotonic()
        print(f"\n== {name} ...", flush=True)
        # A copy each: cases fill in their own defaults (rounds, clicks) on the options they get.
        status, case_rows, detail = await run_case(name, argparse.Namespace(**vars(options)))
        seconds = round(time.monotonic() - case_start, 1)
        cases[name] = {"status": status, "seconds": seconds, "detail": detail, "load_after": load_average()}
        print(f"== {name}: {status} in {seconds} s" + (f" ({detail})" if detail else ""), flush=True)
        rows.extend(case_rows)
    after = load_average()
    print()
    print(format_table(rows) if rows else "(no rows)")
    print()
    for name, case in cases.items():
        if case["status"] != "ok":
            print(f"{name}: {case['status']}: {case['detail']}")
    print(f"load average after: {' '.join(map(str, after))}; took {time.monotonic() - started:.0f} s")
    missed = [row["case"] for row in rows if not row["met"]]
    failed = [name for name, case in cases.items() if case["status"] == "failed"]
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "machine": about,
        "load_average": {"before": before, "after": after},
        "seconds": round(time.monotonic() - started, 1),
        "cases": cases,
        "rows": rows,
    }
    output = options.output
    if output is None and not options.quick and not options.only:
        output = RESULTS
    if output is not None:
        write_results(document, Path(output))
        print(f"figures written to {output}")
    if missed:
        print("missed targets: " + "; ".join(missed), file=sys.stderr)
    if failed:
        print("failed cases: " + ", ".join(failed), file=sys.stderr)
    return 1 if missed or failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; case modules read them too (``postgres``, ``quick``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CHATOPS_TEST_POSTGRES_URL"),
        help="a PostgreSQL test database's URL (default: $CHATOPS_TEST_POSTGRES_URL); cases make their own beside it",
    )
    parser.add_argument("--quick", action="store_true", help="small numbers and few rounds: a smoke test")
    parser.add_argument("--only", nargs="+", metavar="CASE", help=f"run only these cases (of {', '.join(CASES)})")
    parser.add_argument(
        "--burst-baseline",
        action="store_true",
        help="also run the burst with [crisis] rollups = false as its baseline (about 7 more minutes)",
    )
    parser.add_argument(
        "--output", help="write the figures here (default: benchmarks/results.json on a full run, nowhere otherwise)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
