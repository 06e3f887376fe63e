"""A scheduled job as a plugin or source declares it (run by :class:`chatops.scheduler.Scheduler`).

Its own module, with nothing of the bot's, so that sources and plugins can declare jobs
without importing the scheduler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger


@dataclass(frozen=True, slots=True)
class Job:
    """A job a plugin wants run on a schedule.

    ``func`` receives the occurrence's due time (UTC): ``async def run(due_at) -> None``;
    bind what it needs (a method of the plugin's object, a closure). ``trigger`` is an
    APScheduler trigger; give cron triggers the team's timezone so they follow DST.
    ``grace_seconds``: how late an occurrence may still start, and how long a failed
    one is tried again.
    """

    id: str
    trigger: BaseTrigger
    func: Callable[[datetime], Awaitable[None]]
    grace_seconds: float = 300.0
