"""Bad days on demand: calls refused (errors, HTTP 429/500) or performed with their answer lost.

:meth:`Faults.fail_next` makes the next calls to a method fail before anything is stored;
:meth:`Faults.lose_answers` lets calls take effect and then breaks the connection (or
answers 500), as when a network path fails after Slack took a post.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from chatops.testing.fake_slack.base import FakeSlackBase
from chatops.testing.fake_slack.web_api import SlackError


@dataclass
class Fault:
    """A queued failure for one method (see :meth:`FakeSlack.fail_next`)."""

    error: str
    status: int
    retry_after: int | None
    times: int


@dataclass
class LostAnswers:
    """Calls to one method that are performed but whose answer is lost (see :meth:`FakeSlack.lose_answers`)."""

    share: float
    how: str
    times: int | None
    rng: random.Random


class ConnectionDropped(Exception):
    """Raised mid-answer so that the server closes the connection (the client sees it break)."""


class DropConnection(Response):
    """Starts a 200 answer, sends part of it, then breaks the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        raise ConnectionDropped


class _QuietDrops(logging.Filter):
    """Keep the server's log free of the tracebacks of connections dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class Faults(FakeSlackBase):
    """The fault-injection part of the fake."""

    _faults: dict[str, list[Fault]]
    _lost_answers: dict[str, LostAnswers]

    def _reset_faults(self) -> None:
        """Forget queued faults and lost answers. Lock held."""
        self._faults = {}
        self._lost_answers = {}

    def fail_next(
        self,
        method: str,
        *,
        error: str = "internal_error",
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        ``status=200`` answers ``{"ok": false, "error": error}``; ``status=429`` answers
        ``ratelimited`` with ``Retry-After: retry_after`` (default 1) and counts in
        :attr:`rate_limited`; any other status (e.g. 500) answers that status with
        ``{"ok": false, "error": error}``. Faults apply before authentication and
        validation, and nothing is stored.
        """
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(error, status, retry_after, times))

    def lose_answers(
        self,
        method: str = "chat.postMessage",
        *,
        share: float = 1.0,
        how: str = "drop",
        times: int | None = None,
        seed: int = 0,
    ) -> None:
        """Perform calls to ``method`` but lose the answer of a ``share`` of them.

        The call takes effect (a message is posted, and its events are sent) and then
        ``how="drop"`` breaks the connection in the middle of the answer, while
        ``how="500"`` answers HTTP 500 ``internal_error``. ``times`` caps how many answers
        are lost; ``seed`` makes the choice of calls repeatable. Such calls are recorded
        with the status the client saw (0 for a dropped connection). ``share=0`` stops it.
        """
        if how not in ("drop", "500"):
            raise ValueError("how is 'drop' or '500'")
        with self._lock:
            self._lost_answers[method] = LostAnswers(share, how, times, random.Random(seed))  # noqa: S311 - repeatable, not secret

    def _lose_answer(self, method: str) -> str | None:
        """How this successful call's answer is lost, if it is. Lock held."""
        lost = self._lost_answers.get(method)
        if lost is None or lost.times == 0 or lost.rng.random() >= lost.share:
            return None
        if lost.times is not None:
            lost.times -= 1
        return lost.how

    def _apply_fault(self, method: str) -> None:
        """Raise the next injected fault for ``method``, if any."""
        queue = self._faults.get(method)
        if not queue:
            return
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        if fault.status == 429:
            self.rate_limited += 1
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(fault.retry_after or 1)})
        raise SlackError(fault.error, status=fault.status)
