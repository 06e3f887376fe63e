"""Load generator of the burst benchmark, run as its own process: webhooks at a steady rate, signed like production.

    python benchmarks/burst_load.py PLAN URL SECRET SECONDS CONNECTIONS OUT

Reads a JSON list of webhook payloads from PLAN and POSTs them to URL (loopback only), in
order, spread evenly over SECONDS (comment i is due at ``start + i * SECONDS / count``) with at
most CONNECTIONS requests in flight: a steady stream as a flood of comments arrives, not a
closed loop that slows down with the bot. A comment whose turn comes while every connection is
busy goes as soon as one frees up; the lag is reported. Each body is signed with SECRET as the
webhook plugin checks (``X-Chatops-Signature: sha256=<hmac>``); a 503 or a dropped connection
is sent again, as real senders do (at most 5 tries).

Writes JSON to OUT: ``{"start": t, "end": t, "results": [[sent, answered, status, tries, last error], …]}`` in
plan order, times from ``time.monotonic()`` (CLOCK_MONOTONIC, shared by every process on Linux,
so the benchmark compares them with the times it sees cards appear).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from chatops_plugins.webhook.signature import SIGNATURE_HEADER, sign

#: Tries of one comment answered 503 before it counts as refused.
RETRIES = 5


async def main(bodies: list[bytes], url: str, secret: str, seconds: float, connections: int) -> dict[str, Any]:
    """Send every body on schedule; return when each was sent and answered (see the module's docstring)."""
    if not url.startswith("http://127.0.0.1:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    # Signed up front: the generator's own CPU must not pace the stream.
    headers = [{"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)} for body in bodies]
    results: list[list[Any]] = [[0.0, 0.0, 0, 0, ""] for _ in bodies]
    interval = seconds / max(1, len(bodies))
    next_index = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        start = time.monotonic()

        async def sender() -> None:
            nonlocal next_index
            while next_index < len(bodies):
                i = next_index
                next_index += 1
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.monotonic()
                status, attempts, error = 0, 0, ""
                # As Meta and webhook callers do, a 503 (the database busy) is sent again after its
                # Retry-After, and a dropped connection (a keep-alive closed as it was reused) after
                # a second: the webhook is idempotent, a copy already stored is answered 200.
                while attempts < RETRIES:
                    attempts += 1
                    try:
                        response = await client.post(url, content=bodies[i], headers=headers[i])
                    except httpx.HTTPError as exc:
                        status, error = 0, type(exc).__name__
                        await asyncio.sleep(1.0)
                        continue
                    status = response.status_code
                    if status != 503:
                        break
                    await asyncio.sleep(min(5.0, float(response.headers.get("Retry-After") or 1)))
                results[i] = [sent, time.monotonic(), status, attempts, error]

        await asyncio.gather(*(sender() for _ in range(connections)))
        end = time.monotonic()
    return {"start": start, "end": end, "results": results}


if __name__ == "__main__":
    plan_file, target, key, span, width, output = sys.argv[1:7]
    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    messages = [json.dumps(payload, ensure_ascii=False).encode() for payload in plan]
    outcome = asyncio.run(main(messages, target, key, float(span), int(width)))
    Path(output).write_text(json.dumps(outcome), encoding="utf-8")
