"""What every part of the fake shares: the workspace's identity, one lock, ids, and the record of calls.

:class:`~chatops.testing.fake_slack.fake.FakeSlack` is assembled from parts (directory,
messages, views, files, Socket Mode, events, faults), each a mixin over
:class:`FakeSlackBase` in a module of its own. Each part keeps its own state, starts it
in ``_reset_<part>()`` and documents it at the top of its class; this base holds only
what all of them use. The server runs on its own thread, so every part reads and writes
state with :attr:`FakeSlackBase._lock` held, and accessors return copies.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator

from chatops.testing.fake_slack.web_api import Call
from chatops.testing.server import ThreadedServer


class FakeSlackBase:
    """State and helpers every part of the fake uses: identity, the lock, ids, the server and recorded calls."""

    bot_token: str
    app_token: str
    team_id: str
    bot_user_id: str
    bot_id: str
    app_id: str
    workspace_url: str
    #: Calls answered with HTTP 429 (injected or paced) since :meth:`~FakeSlack.reset`.
    rate_limited: int
    _lock: threading.RLock
    _server: ThreadedServer | None
    _calls: list[Call]
    # One counter for every id prefix (views, files, trigger ids): an id is unique across kinds.
    _id_counter: Iterator[int]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeSlack not started")
        return self._server.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: the ``base_url`` for slack_sdk clients."""
        return f"{self.base_url}/api/"

    def _next_id(self, prefix: str) -> str:
        """Next id such as ``V0001``/``F0002`` (one counter for all prefixes)."""
        return f"{prefix}{next(self._id_counter):04d}"

    @property
    def calls(self) -> list[Call]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to ``method``, successful and failed."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        """Calls to ``method`` accepted by ``predicate``."""
        return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

    def _timeout_message(
        self, method: str, predicate: Callable[[Call], bool] | None, count: int, found: int, timeout: float
    ) -> str:
        """Explain a :meth:`wait_for` timeout, listing the most recent calls."""
        lines = [
            f"FakeSlack: waited {timeout:.1f} s for {count} call(s) to {method}"
            + (f" matching {getattr(predicate, '__name__', predicate)}" if predicate else "")
            + f", saw {found}. Most recent calls:"
        ]
        recent = self.calls[-20:]
        if not recent:
            lines.append("  (none)")
        for call in recent:
            outcome = "ok" if call.ok else f"error={call.error}"
            args = json.dumps(call.args, default=str, ensure_ascii=False)
            if len(args) > 300:
                args = args[:300] + "…"
            lines.append(f"  {call.method} -> {call.status} {outcome} args={args}")
        return "\n".join(lines)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API; polls, never blocks
    ) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` (matching ``predicate``) arrived.

        Returns all matching calls so far. Raises AssertionError listing recent calls on
        timeout. Failed calls match too: use ``lambda c: c.ok`` to wait for successes.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, predicate, count, len(found), timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Blocking :meth:`wait_for`, for synchronous tests."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, predicate, count, len(found), timeout))
            time.sleep(0.01)
