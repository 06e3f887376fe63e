"""How long the bot takes to answer one Facebook webhook batch of many entries, before and after a change.

    .venv/bin/python benchmarks/meta_batch.py --before <git-rev> [--postgres URL] [--entries 400]
        [--posts 400] [--latency 0.1] [--repeat 5]

Meta gives a webhook delivery a few seconds; a batch it redelivers is work done twice. Each
measurement is one fresh bot (HTTP mode, delivery on, as in production) against the fake Slack and
a Graph fake that answers after ``--latency`` seconds, like a real round trip to Meta; one signed
POST of ``--entries`` entries, each with one new comment, spread over ``--posts`` posts.

The machine is shared, so absolute times prove little: the code at ``--before`` (exported with
``git archive`` and put first on ``PYTHONPATH``) and the working tree are measured alternately in
the same run, each in a process of its own, and the ratio of the medians is reported with the load
average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
APP_SECRET = "meta-app-secret-for-benchmarks"  # noqa: S105 - the fake's secret
TOKEN = "EAAG-page-token-for-benchmarks"  # noqa: S105 - the fake's token
PAGE = "1000"


async def measure_once(url: str, entries: int, posts: int, latency: float) -> dict[str, Any]:
    """One fresh bot, one batch: seconds from sending the POST to its answer, and the answer."""
    import chatops
    from chatops.testing.bot import TestBot
    from chatops.testing.fake_slack import FakeSlack
    from chatops_plugins.graph_api.testing import FakeGraph, facebook_comment_change, signed_webhook

    if not url.startswith("sqlite"):
        from chatops.db import Database
        from chatops.migrate import upgrade

        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()
    graph = FakeGraph(access_token=TOKEN, page_id=PAGE)
    inner = graph.app

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        # A real Graph call is a round trip to Meta; the fake answers at once without this.
        if scope["type"] == "http":
            await asyncio.sleep(latency)
        await inner(scope, receive, send)

    graph.app = slow  # type: ignore[assignment]
    with FakeSlack() as slack, graph:
        post_ids = [f"{PAGE}_{i + 1}" for i in range(posts)]
        for i, post_id in enumerate(post_ids):
            graph.add_post(post_id, f"Post number {i}")
        batch = []
        now = int(time.time())
        for i in range(entries):
            change = facebook_comment_change(
                page_id=PAGE,
                comment_id=f"{post_ids[i % posts]}_{90000 + i}",
                post_id=post_ids[i % posts],
                message=f"Comment {i}: milloin avaatte?",
                from_id=str(5000 + i),
                from_name=f"Customer {i}",
            )
            batch.append({"id": PAGE, "time": now, "changes": [change]})
        body, headers = signed_webhook(APP_SECRET, {"object": "page", "entry": batch})
        common = {
            "page_access_token": TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": "verify",
            "graph_api_url": graph.base_url,
            "timeout_seconds": 30,
        }
        config = {"plugins": {"enabled": ["facebook"], "facebook": {**common, "page_id": PAGE}}}
        async with TestBot(slack, url, config=config) as bot:
            assert bot.http is not None
            calls_before = len(graph.calls)
            start = time.perf_counter()
            response = await bot.http.post("/webhooks/facebook", content=body, headers=headers, timeout=600)
            seconds = time.perf_counter() - start
            graph_calls = len(graph.calls) - calls_before
    return {
        "seconds": seconds,
        "status": response.status_code,
        "answer": response.json(),
        "graph_calls": graph_calls,
        "code": str(Path(chatops.__file__).parent),
    }


def export_tree(rev: str, into: Path) -> Path:
    """``rev`` of this repository under ``into``, importable as chatops and chatops_plugins; the path."""
    tree = into / "tree"
    tree.mkdir(parents=True)
    # The revision is the operator's own argument; git and tar are found on PATH like any developer tool.
    git = ["git", "-C", str(REPO), "archive", rev]
    archive = subprocess.run(git, check=True, capture_output=True).stdout  # noqa: S603
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)  # noqa: S603, S607
    packages = into / "packages"
    packages.mkdir()
    (packages / "chatops").symlink_to(tree / "chatops")
    (packages / "chatops_plugins").symlink_to(tree / "plugins")
    return packages


def run_variant(pythonpath: str | None, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a process of its own (so the two variants never share imports)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    command = [sys.executable, __file__, "--one", url, "--entries", str(args.entries), "--posts", str(args.posts)]
    command += ["--latency", str(args.latency)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=900)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    """``/proc/loadavg`` (1, 5 and 15 minute load, running/total tasks)."""
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unavailable"


async def fresh_url(kind: str, postgres: str | None, tmp: Path, tag: str, made: list[str]) -> str:
    """A new empty database for one measurement."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/{tag}.db"
    from chatops.testing.fixtures import create_test_database

    assert postgres is not None
    # Empty: each version migrates it with its own migrations (they differ across a schema change).
    made.append(await create_test_database(postgres, migrate=False))
    return made[-1]


def main(args: argparse.Namespace) -> int:
    """Interleave before/after measurements on each database and print medians and their ratio."""
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        before_path = str(export_tree(args.before, tmp / "before"))
        print(f"load before: {loadavg()}")
        print(f"{args.entries} entries on {args.posts} posts, Graph latency {args.latency * 1000:.0f} ms")
        for kind in kinds:
            made: list[str] = []
            times: dict[str, list[float]] = {"before": [], "after": []}
            calls: dict[str, int] = {}
            for rep in range(args.repeat):
                # Alternate which variant goes first, so a load spike does not favour one.
                order = ["before", "after"] if rep % 2 == 0 else ["after", "before"]
                for variant in order:
                    url = asyncio.run(fresh_url(kind, args.postgres, tmp, f"{variant}{rep}", made))
                    try:
                        result = run_variant(before_path if variant == "before" else None, url, args)
                    finally:
                        if made:
                            from chatops.testing.fixtures import drop_test_database

                            asyncio.run(drop_test_database(made.pop()))
                    stored = result["answer"].get("stored")
                    if result["status"] != 200 or stored != args.entries:
                        raise SystemExit(f"{variant}: {result['status']} {result['answer']}")
                    expected_root = "before" if variant == "before" else str(REPO)
                    assert expected_root in result["code"], result["code"]
                    times[variant].append(result["seconds"])
                    calls[variant] = result["graph_calls"]
            before, after = statistics.median(times["before"]), statistics.median(times["after"])
            print(
                f"{kind:<10} before median {before:7.2f} s ({before / args.entries * 1000:6.1f} ms/entry, "
                f"{calls['before']} Graph calls)  after median {after:7.2f} s "
                f"({after / args.entries * 1000:6.1f} ms/entry, {calls['after']} Graph calls)  "
                f"before/after = {before / after:5.1f}x"
            )
            print(f"           runs before: {[round(t, 2) for t in times['before']]}")
            print(f"           runs after:  {[round(t, 2) for t in times['after']]}")
        print(f"load after:  {loadavg()}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="git revision measured as 'before'")
    parser.add_argument("--postgres", default=os.environ.get("CHATOPS_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--posts", type=int, default=400, help="how many posts the comments are spread over")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the Graph fake takes to answer")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    if options.one:
        print(json.dumps(asyncio.run(measure_once(options.one, options.entries, options.posts, options.latency))))
        sys.exit(0)
    sys.exit(main(options))
