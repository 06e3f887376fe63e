"""What happened to conversations, told to plugins after it is committed.

Every change chatops makes writes a line to the audit log in the same transaction.
Those lines are the events: once the transaction commits, each becomes a
:class:`ConversationEvent` handed to the ``chatops_event`` hook, in commit order, on a
task of its own (a slow plugin never holds up a click or a delivery). A transaction
that rolls back tells nobody.

Events are notifications, not a queue: if the process stops between the commit and
the hook call, the event is not told again (the audit log still has it, and a plugin
that needs every one reads the audit log, as the digest does).

The actions, as the audit log names them (``actor`` is a Slack user id unless noted):

==========================  ==========================================================
action                      when, and ``detail``
==========================  ==========================================================
``received``                a customer message was stored (actor: the author's label);
                            ``message_id``
``reopened``                a resolved conversation opened again; by a person, or by a
                            customer's follow-up (actor ``customer``, ``reason: follow-up``)
``edited`` / ``removed``    the author edited or removed a stored message (actor: the
                            author's name); ``message_id``, ``previous_text`` (edited)
``answered_on_platform``    the team's account answered on the platform itself;
                            ``message_id``
``claimed``                 a person took the conversation (``by: answer`` when answering
                            an unowned card made them the owner)
``unclaimed``               the owner gave it back
``assigned``                someone else (a plugin, as ``bot:<plugin>``) made ``assignee``
                            the owner; ``previous`` is the owner before, or null
``reply_queued``,           an answer was stored and queued; ``message_id``; actor is the
``private_reply_queued``    person, or ``bot:<plugin>`` for an automatic reply
``reply_sent``,             the platform accepted the answer; ``message_id``; actor is who
``private_reply_sent``      sent it (``at`` is when the platform accepted it)
``reply_attempt_failed``    an attempt failed and will be tried again; ``message_id``,
(and ``private_…``)         ``error`` (actor ``system``)
``reply_failed``            the answer failed for good, or was given up: it waits for Retry;
(and ``private_…``)         ``message_id``, ``error`` (actor ``system``)
``retry``                   a person pressed Retry on a failed answer; ``message_id``
``hide_requested``,         a person asked to hide / unhide the customer's message;
``unhide_requested``        ``message_id``
``hidden``, ``unhidden``    the platform did it; ``message_id``
``hide_failed``,            the platform refused; ``message_id``, ``error``
``unhide_failed``
``tagged``                  tags changed; ``added``, ``removed`` (lists of names)
``escalated``               raised to the leads; ``reason``, ``escalation_id``
``resolved``                closed
``noted``                   a plugin added a note to the card's thread; ``text``
``echo_merged``             an answer and its echo from the platform were recognised as one
``alert_raised``,           an operational alert (no conversation; actor: the plugin);
``alert_cleared``           ``key``/``problem``, or ``keys``
==========================  ==========================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

#: Where a transaction's events wait for its commit (``AsyncSession.info``).
PENDING_EVENTS = "chatops_events"

#: How long stopping the bot waits for the listeners to hear what is queued.
STOP_SECONDS = 5.0

#: The actor a plugin acts as: ``bot:<plugin name>``.
BOT_ACTOR_PREFIX = "bot:"


def bot_actor(plugin: str) -> str:
    """The audit log's actor for something a plugin did as the bot."""
    return f"{BOT_ACTOR_PREFIX}{plugin}"


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """One committed line of the audit log: who did what to which conversation, and when (UTC)."""

    action: str
    actor: str
    at: datetime
    conversation_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def by_bot(self) -> bool:
        """True when a plugin did it as the bot (``actor`` is ``bot:<plugin>``)."""
        return self.actor.startswith(BOT_ACTOR_PREFIX)

    @property
    def message_id(self) -> int | None:
        """The message concerned, for the actions that name one."""
        value = self.detail.get("message_id")
        return value if isinstance(value, int) else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ConversationEvent:
        """The event for an audit_log row's values."""
        return cls(row["action"], row["actor"], row["at"], row.get("conversation_id"), dict(row.get("detail") or {}))


class EventBus:
    """Hands committed events to the plugins, in commit order, off the caller's path.

    ``publish`` is called by the database right after a commit; ``deliver`` is the
    hook call. ``drain`` waits until everything published so far has been told
    (tests, and shutdown, use it).
    """

    def __init__(self, deliver: Callable[[ConversationEvent], Awaitable[object]]) -> None:
        self._deliver = deliver
        self._queue: asyncio.Queue[ConversationEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def publish(self, events: Iterable[ConversationEvent]) -> None:
        """Queue events of a transaction that has just committed."""
        for event in events:
            self._queue.put_nowait(event)

    def start(self) -> None:
        """Start telling plugins (events published before this wait for it)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="chatops-events")

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._deliver(event)
            except Exception:  # the hook caller logs each plugin's failure; this keeps the loop alive
                log.exception("telling plugins about %s failed", event.action)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every event published so far has been told."""
        if self._task is not None:
            await self._queue.join()

    async def stop(self) -> None:
        """Tell what is queued, waiting at most :data:`STOP_SECONDS` for the listeners, then stop.

        A listener that never returns must not keep the bot from stopping: what is still
        untold by then is dropped with a warning (the audit log has it).
        """
        try:
            await asyncio.wait_for(self.drain(), STOP_SECONDS)
        except TimeoutError:
            log.warning(
                "a plugin's chatops_event listener did not return within %.0fs; %d event(s) left untold",
                STOP_SECONDS,
                self._queue.qsize() + 1,
            )
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
