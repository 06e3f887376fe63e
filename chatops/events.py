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
``<plugin>.<action>``       a plugin's own line, written with ``ctx.audit`` (``rota.shift_added``
                            when a lead adds a shift); actor and ``detail`` as the plugin
                            wrote them, usually no conversation
==========================  ==========================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

#: Where a transaction's events wait for its commit (``AsyncSession.info``).
PENDING_EVENTS = "chatops_events"

#: How long stopping the bot waits for the listeners to hear what is queued.
STOP_SECONDS = 5.0
#: How long one plugin's listener may take over one notification before it is given up.
LISTENER_SECONDS = 30.0

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
    """Tells plugins what happened, off the caller's path: each plugin in order, none waiting for another.

    Committed audit lines (``publish``, called by the database right after a commit) go to
    ``chatops_event``; the app also queues ``chatops_inbound`` here (``notify``), so that a
    webhook carrying 1,000 comments is answered without waiting for plugins. Each plugin
    has its own lane (a queue and a task): it hears everything in commit order, and a slow
    or stuck listener holds up only itself. A listener that does not return within
    :data:`LISTENER_SECONDS` is given up for that notification (logged). ``drain`` waits
    until everything queued so far has been told (tests, and shutdown, use it).
    """

    def __init__(
        self,
        implementers: Callable[[str], Sequence[str]],
        tell: Callable[[str, str, dict[str, Any]], Awaitable[object]],
    ) -> None:
        self._implementers = implementers
        self._tell = tell
        self._lanes: dict[str, asyncio.Queue[tuple[str, dict[str, Any]]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = False

    def publish(self, events: Iterable[ConversationEvent]) -> None:
        """Queue the events of a transaction that has just committed."""
        for event in events:
            self.notify("chatops_event", event=event)

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Queue a notification hook call for every plugin that implements ``hook``."""
        for plugin in self._implementers(hook):
            self._lane(plugin).put_nowait((hook, kwargs))

    def _lane(self, plugin: str) -> asyncio.Queue[tuple[str, dict[str, Any]]]:
        lane = self._lanes.get(plugin)
        if lane is None:
            lane = self._lanes[plugin] = asyncio.Queue()
            if self._started:
                self._start_lane(plugin)
        return lane

    def start(self) -> None:
        """Start telling plugins (what was queued before waits for this)."""
        self._started = True
        for plugin in self._lanes:
            self._start_lane(plugin)

    def _start_lane(self, plugin: str) -> None:
        if plugin not in self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks[plugin] = loop.create_task(self._run(plugin), name=f"chatops-events-{plugin}")

    async def _run(self, plugin: str) -> None:
        lane = self._lanes[plugin]
        while True:
            hook, kwargs = await lane.get()
            try:
                async with asyncio.timeout(LISTENER_SECONDS):
                    await self._tell(plugin, hook, kwargs)
            except TimeoutError:
                log.warning("plugin %s: %s did not return within %.0fs; given up", plugin, hook, LISTENER_SECONDS)
            except Exception:  # the hook caller logs the plugin's failure; this keeps the lane alive
                log.exception("plugin %s: %s failed", plugin, hook)
            finally:
                lane.task_done()

    async def drain(self) -> None:
        """Wait until every notification queued so far has been told."""
        if self._started:
            await asyncio.gather(*(lane.join() for lane in self._lanes.values()))

    async def stop(self) -> None:
        """Tell what is queued, waiting at most :data:`STOP_SECONDS` for the listeners, then stop.

        A listener that never returns must not keep the bot from stopping: what is still
        untold by then is dropped with a warning (the audit log has it).
        """
        try:
            await asyncio.wait_for(self.drain(), STOP_SECONDS)
        except TimeoutError:
            untold = sum(lane.qsize() for lane in self._lanes.values())
            log.warning("plugins' listeners did not finish within %.0fs; about %d left untold", STOP_SECONDS, untold)
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._started = False
