"""Load generator for the ingest benchmarks, run as its own process so it does not share the server's event loop.

    python benchmarks/load.py URL SECRET COUNT CONCURRENCY [--client raw|httpx] [--id-prefix P]
        → one JSON line of results on stdout

POSTs COUNT signed webhook messages (``X-Chatops-Signature``, as the webhook plugin checks it) with
CONCURRENCY keep-alive connections to URL (loopback only), each message a new conversation.

The default client (``raw``) writes prepared HTTP/1.1 requests on plain asyncio streams and reads
just the status line, headers and body; the bodies are signed before the clock starts. On a machine
of two CPUs shared with the server, httpx spent about as much CPU per request as the bare baseline
endpoint it measured, so the figure was partly the client's. ``--client httpx`` keeps the old client.
The connections are open before the clock starts: what is timed is requests, not TCP handshakes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import socket
import time
from urllib.parse import urlsplit

import httpx


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def bodies(count: int, prefix: str) -> list[bytes]:
    """COUNT webhook messages in the documented shape, each a new conversation."""
    return [
        json.dumps(
            {
                "id": f"{prefix}{i}",
                "text": f"crisis comment {i}: when will my order arrive?",
                "author": {"name": "Matti Meikäläinen", "handle": "matti"},
                "timestamp": "2026-11-23T10:00:00Z",
                "channel": "Contact form",
            }
        ).encode()
        for i in range(count)
    ]


def signature(secret: str, body: bytes) -> str:
    """The webhook plugin's header value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RawConnection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads their answers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect (again)."""
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        """Close the connection, if open."""
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None

    async def send(self, request: bytes) -> int:
        """Send one request and read its whole answer; its status code."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status


async def main(
    url: str, secret: str, count: int, concurrency: int, *, client: str = "raw", prefix: str = "load-"
) -> dict[str, object]:
    """Send the messages and measure throughput and latency."""
    if not url.startswith("http://127.0.0.1:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    messages = bodies(count, prefix)
    queue: collections.deque[tuple[bytes, str]] = collections.deque((b, signature(secret, b)) for b in messages)
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"

    def raw_request(body: bytes, sig: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Chatops-Signature: {sig}\r\n\r\n"
        )
        return head.encode() + body

    async def raw_worker(connection: RawConnection) -> None:
        while queue:
            request = raw_request(*queue.popleft())
            start = time.perf_counter()
            try:
                status = await connection.send(request)
            except (ConnectionError, asyncio.IncompleteReadError, IndexError, ValueError):
                status = 0  # the connection broke: counted as a failure, and opened again
                await connection.close()
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[status] += 1

    async def httpx_worker(http: httpx.AsyncClient) -> None:
        while queue:
            body, sig = queue.popleft()
            start = time.perf_counter()
            response = await http.post(
                url, content=body, headers={"Content-Type": "application/json", "X-Chatops-Signature": sig}
            )
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[response.status_code] += 1

    if client == "raw":
        connections = [RawConnection(host, port) for _ in range(concurrency)]
        await asyncio.gather(*(c.open() for c in connections))
        start = time.perf_counter()
        await asyncio.gather(*(raw_worker(c) for c in connections))
        elapsed = time.perf_counter() - start
        for connection in connections:
            await connection.close()
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            start = time.perf_counter()
            await asyncio.gather(*(httpx_worker(http) for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
    return {
        "comments": count,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "per_second": round(count / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "failures": count - statuses[201],
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the first four positional, as before)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("count", type=int)
    parser.add_argument("concurrency", type=int)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--id-prefix", default="load-", help="message ids are this and a number")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    result = asyncio.run(
        main(args.url, args.secret, args.count, args.concurrency, client=args.client, prefix=args.id_prefix)
    )
    print(json.dumps(result))
