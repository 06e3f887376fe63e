"""The registry of outbox job kinds: what runs a kind, where it posts, and what follows its end.

The worker (``chatops.outbox.worker``) knows leasing, backoff, pacing and giving up; it
knows no kind. The card kinds (``chatops.delivery``), the core ``slack_post`` and each
plugin's own kinds (``chatops.outbox.plugin``) register here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

#: Where lines about a job go when its kind names no logger of its own.
OUTBOX_LOG = logging.getLogger("chatops.outbox")
#: Longest kind name the ``outbox.kind`` column holds (migration 0003 widened it from 32).
MAX_KIND_LENGTH = 64


#: Runs one job. Raise to retry with backoff; return to mark it done.
@dataclass(frozen=True, slots=True)
class DueJob:
    """A pending outbox row with the conversation facts needed to route it."""

    id: int
    kind: str
    conversation_id: int | None
    message_id: int | None
    payload: dict[str, Any]
    attempts: int
    source: str | None
    slack_channel: str | None
    slack_ts: str | None


class JobSlack(Protocol):
    """What a handler uses to reach Slack (the worker provides it)."""

    #: For methods other than the job's own ``chat.postMessage`` (chat.update, files.upload v2, …).
    client: AsyncWebClient

    async def post(self, **args: Any) -> dict[str, str]:
        """``chat.postMessage`` for the job, at most one message per job, paced per channel.

        Returns the message's ``channel`` and ``ts``; a retried job gets its first message back.
        """


Handler = Callable[["DueJob", "JobSlack"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of outbox job and how the worker treats it.

    A job runs at least once: a process that dies after the handler succeeded and before the
    job is marked done runs it again after its lease. A handler with an effect outside the
    database makes that effect once (``JobSlack.post`` does so for Slack posts).
    """

    name: str
    handler: Handler
    #: The channel a job of this kind posts to with ``chat.postMessage``, for the per-channel
    #: pace (None: the kind does not post, and runs before the posts waiting for their pace).
    channel: Callable[[DueJob], str | None] | None = None
    #: The Slack method a 429 on a job of a kind that does not post pauses (e.g. ``chat.update``).
    method: str | None = None
    #: When Slack refuses the content (or drawing it fails), try once more with the ``minimal`` payload flag.
    fallback: bool = False
    #: Lease at most one job of this kind per conversation at a time (card updates must not overtake).
    one_per_conversation: bool = False
    #: Called after the job is marked dead with the last error: the ops alert, a record people see.
    on_give_up: Callable[[DueJob, str], Awaitable[None]] | None = None
    #: Called after a job that had failed (or that an operator put back) is done: clear what the give-up raised.
    on_recovered: Callable[[DueJob], Awaitable[None]] | None = None
    #: The plugin a job of this kind belongs to: its give-up raises an ops alert under that name,
    #: cleared by the kind's next success. None for kinds with their own ``on_give_up``.
    owner: Callable[[DueJob], str | None] | None = None
    #: The logger lines about jobs of this kind go to (the module that owns the kind).
    log: logging.Logger = OUTBOX_LOG

    @property
    def posts(self) -> bool:
        """True when jobs of this kind call ``chat.postMessage`` and so wait for their channel's pace."""
        return self.channel is not None


class JobKinds:
    """Kind name -> :class:`JobKind`; registered before the worker starts, read on every pass."""

    def __init__(self) -> None:
        self.kinds: dict[str, JobKind] = {}

    def register(self, kind: JobKind) -> None:
        """Add a kind; a name is registered once and fits the ``outbox.kind`` column."""
        if not kind.name or len(kind.name) > MAX_KIND_LENGTH:
            raise ValueError(f"outbox job kind {kind.name!r}: 1 to {MAX_KIND_LENGTH} characters")
        if kind.name in self.kinds:
            raise ValueError(f"outbox job kind {kind.name!r} is registered already")
        self.kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        """The kind called ``name``, if registered."""
        return self.kinds.get(name)

    def posting(self) -> list[str]:
        """Names of the kinds that post to a channel."""
        return [name for name, kind in self.kinds.items() if kind.posts]

    def __contains__(self, name: Any) -> bool:
        return name in self.kinds
