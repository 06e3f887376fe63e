"""Group commit: concurrent writes of one kind share one transaction, and so one commit.

A webhook flood is many small requests, each of which used to wait for the write lock,
run its INSERTs and commit alone; the commit (and, on PostgreSQL, its fsync) was most of
the cost. :class:`GroupCommit` stores whatever arrived while the previous group was being
written as one group, in one transaction, and answers each caller only once that
transaction has committed: "accepted" still means "durable".

There is no timer. A caller that finds nothing in flight is written at once; callers that
arrive while a group is written (or waits for the write lock) form the next group, so a
group is as large as the load makes it and a lone request waits for nobody.

A group that fails is not a loss. When the database cannot take a write
(:class:`~chatops.db.DatabaseUnavailable`), every member hears it, as each would have
alone (the web layer answers 503 and the sender retries); nothing of the group is stored.
Any other error (one member's data the database refuses, a bug) is someone's: each member
is then written again in a transaction of its own, so that the one at fault fails alone
and its neighbours are stored. So is a group that lost a race with another writer
(a PostgreSQL deadlock or serialization failure), which alone would most likely succeed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import Database, DatabaseUnavailable, lost_a_race

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Most members in one group. Large enough that a flood is written in few transactions, small
#: enough that one transaction never holds the write lock long (about 10 ms per 100 on SQLite).
MAX_GROUP = 256
#: The least time a member written again alone gets for the write lock, if its own budget is spent.
ALONE_SECONDS = 1.0


@dataclass(slots=True, eq=False)
class _Waiter(Generic[T, R]):
    """One caller: what it asked to store, until when it may wait, and where its answer goes."""

    item: T
    deadline: float
    future: asyncio.Future[R]


class GroupCommit(Generic[T, R]):
    """Writes items submitted concurrently in shared transactions, one group at a time.

    ``db()`` is the database to write to (asked each time: its owner may swap it).
    ``write(session, items)`` stores a group in the caller's transaction and returns one
    result per item, in order, as if each had been written alone one after another.
    ``committed(results)`` is called once per group after its commit (to wake whoever
    works on what was stored). Groups are written in the order they formed, and members in
    the order they arrived, so that what one sender sent in order is stored in order.
    """

    def __init__(
        self,
        db: Callable[[], Database],
        write: Callable[[AsyncSession, Sequence[T]], Awaitable[list[R]]],
        *,
        committed: Callable[[list[R]], None] = lambda _results: None,
        max_group: int = MAX_GROUP,
        in_flight: int = 1,
    ) -> None:
        self._db = db
        self._write = write
        self._committed = committed
        self._max_group = max_group
        self._in_flight = in_flight
        self._pending: deque[_Waiter[T, R]] = deque()
        self._flushers: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> R:
        """Store ``item`` with whatever else is waiting; return its result once it is committed.

        Raises what storing it raised: :class:`~chatops.db.DatabaseUnavailable` when the
        database could not take the write within ``lock_timeout_seconds`` of the call.
        """
        loop = asyncio.get_running_loop()
        waiter: _Waiter[T, R] = _Waiter(item, time.monotonic() + self._db().lock_timeout, loop.create_future())
        self._pending.append(waiter)
        if len(self._flushers) < self._in_flight:
            self._flushers.add(loop.create_task(self._flush(), name="chatops-group-commit"))
        # A caller that goes away (its request cancelled) before its group is taken is left out
        # of it; once taken, its item is stored all the same, as a lone write in hand would be.
        return await waiter.future

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (or has failed)."""
        while self._flushers:
            await asyncio.wait(self._flushers)

    async def _flush(self) -> None:
        try:
            while self._pending:
                await self._write_next_group()
        except BaseException:
            # Only cancellation (the loop closing) ends a flusher early: nobody may wait for ever.
            while self._pending:
                self._pending.popleft().future.cancel()
            raise
        finally:
            # At once, not in a done callback: a caller arriving in between would find no flusher free.
            task = asyncio.current_task()
            if task is not None:
                self._flushers.discard(task)

    def _take(self) -> list[_Waiter[T, R]]:
        """The next group: the waiting callers still there, oldest first."""
        group: list[_Waiter[T, R]] = []
        while self._pending and len(group) < self._max_group:
            waiter = self._pending.popleft()
            if not waiter.future.done():
                group.append(waiter)
        return group

    def _take_expired(self) -> list[_Waiter[T, R]]:
        """The waiting callers whose time is up (the write queue did not move for them)."""
        now = time.monotonic()
        expired = [w for w in self._pending if w.deadline <= now]
        for waiter in expired:
            self._pending.remove(waiter)
        return expired or ([self._pending.popleft()] if self._pending else [])

    async def _write_next_group(self) -> None:
        group: list[_Waiter[T, R]] = []
        try:
            # The oldest caller's budget is the group's: nobody waits longer than it would alone.
            # The group is taken only once the write lock is ours, so it holds everyone who
            # arrived while the previous writer (any writer) had it.
            async with self._db().write(deadline=self._pending[0].deadline) as session:
                group = self._take()
                if group:
                    results = await self._write(session, [w.item for w in group])
        except DatabaseUnavailable as exc:
            if len(group) > 1 and lost_a_race(exc):
                # A deadlock or serialization failure with another writer (PostgreSQL): nobody's fault.
                await self._write_each_alone(group)
                return
            for waiter in group or self._take_expired():
                _fail(waiter, DatabaseUnavailable(exc.reason), exc)
            return
        except Exception as exc:
            if not group:  # failed before any member was taken: the oldest hears it, the rest try again
                if self._pending:
                    _fail(self._pending.popleft(), exc)
                return
            if len(group) == 1:
                _fail(group[0], exc)
                return
            await self._write_each_alone(group)
            return
        except BaseException:
            for waiter in group:
                waiter.future.cancel()
            raise
        if not group:
            return
        for waiter, result in zip(group, results, strict=True):
            if not waiter.future.done():
                waiter.future.set_result(result)
        self._committed(results)

    async def _write_each_alone(self, group: list[_Waiter[T, R]]) -> None:
        """A failed group again, one member after another, each in a transaction of its own."""
        log.warning("a group of %d writes failed; writing each alone", len(group), exc_info=True)
        for waiter in group:
            await self._write_alone(waiter)

    async def _write_alone(self, waiter: _Waiter[T, R]) -> None:
        """Write one member in a transaction of its own; its error is its own."""
        # What is left of its budget, or a short one: the group may have spent it all on a fast error.
        db = self._db()
        deadline = max(waiter.deadline, time.monotonic() + min(db.lock_timeout, ALONE_SECONDS))
        try:
            async with db.write(deadline=deadline) as session:
                results = await self._write(session, [waiter.item])
        except Exception as exc:  # the caller's request answers it (500, or 503 for an outage)
            _fail(waiter, exc)
            return
        if not waiter.future.done():
            waiter.future.set_result(results[0])
        self._committed(results)


def _fail(waiter: _Waiter[T, R], exc: BaseException, cause: BaseException | None = None) -> None:
    """Hand ``exc`` to a waiting caller; a shared cause gets one exception per caller, each raised once."""
    if cause is not None:
        exc.__cause__ = cause
    if not waiter.future.done():
        waiter.future.set_exception(exc)
