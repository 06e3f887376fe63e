"""Load generator for the ingest benchmark, run as its own process so it does not share the bot's CPU.

    python benchmarks/load.py URL SECRET COUNT CONCURRENCY  → one JSON line of results on stdout

POSTs COUNT signed webhook messages with CONCURRENCY connections to URL (loopback only).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time

import httpx


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


async def main(url: str, secret: str, count: int, concurrency: int) -> dict[str, float]:
    """Send the messages and measure throughput and latency."""
    if not url.startswith("http://127.0.0.1:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    bodies = [
        json.dumps(
            {
                "id": f"load-{i}",
                "text": f"crisis comment {i}: when will my order arrive?",
                "author": {"name": "Matti Meikäläinen", "handle": "matti"},
                "timestamp": "2026-11-23T10:00:00Z",
                "channel": "Contact form",
            }
        ).encode()
        for i in range(count)
    ]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            body = queue.get_nowait()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            start = time.perf_counter()
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json", "X-Chatops-Signature": signature}
            )
            latencies.append((time.perf_counter() - start) * 1000)
            failures += response.status_code != 201

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "comments": count,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "per_second": round(count / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "failures": failures,
    }


if __name__ == "__main__":
    target, key, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(main(target, key, n, c))))
