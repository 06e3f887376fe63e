"""What the digest plugin's tests share: a clock the test moves, the way to the running digest, and a data builder.

The builder (:class:`Data`) writes conversations, messages and actions straight into the core's
tables, each at an exact time, the way the core's store leaves them (statuses, audit lines,
``first_response_at``), so a test can build a fixed data set and compute by hand what the
digest must say. The fixtures themselves are in ``conftest.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from chatops.db import Database
from chatops.models import (
    AuditEntry,
    Conversation,
    ConversationTag,
    Delivery,
    Direction,
    Escalation,
    Message,
    Status,
    Tag,
)
from chatops.testing.bot import TestBot
from chatops.testing.clock import Clock
from chatops_plugins.digest.service import Digests, digests_of

#: The managers' channel every test configures.
MANAGERS = "CMANAGERS"
#: ``digest_bot(...)``: an async context manager giving a started TestBot (see conftest.py).
DigestBot = Callable[..., Any]


def digests_of_bot(bot: TestBot) -> Digests:
    """The running digest plugin of ``bot``."""
    assert bot.app is not None
    return digests_of(bot.app.context("digest"))


def clock_of(bot: TestBot) -> Clock:
    """The test clock of ``bot``'s digest plugin."""
    clock = digests_of_bot(bot).clock
    assert isinstance(clock, Clock)
    return clock


class Data:
    """Writes a data set into a migrated database, row by row at given times (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids = itertools.count(1)

    async def conversation(
        self,
        at: datetime,
        *,
        source: str = "webhook",
        author: str | None = "cust-1",
        name: str | None = "Customer One",
        handle: str | None = None,
        text: str = "Hello?",
        context: str | None = "Summer sale",
        extra: dict[str, Any] | None = None,
        slack_ts: str | None = None,
    ) -> int:
        """A new conversation whose first customer message arrived at ``at``; returns its id.

        ``author=None``: an anonymous customer (no author id), as some sources deliver.
        """
        n = next(self._ids)
        async with self.db.write() as session:
            conv = Conversation(
                source=source,
                thread_id=f"thread-{n}",
                context_text=context,
                status=Status.NEW.value,
                followup_pending=False,
                created_at=at,
                updated_at=at,
                last_inbound_at=at,
                slack_channel="CINBOX",
                slack_ts=slack_ts or f"{1700000000 + n}.000100",
            )
            session.add(conv)
            await session.flush()
            session.add(self._inbound(conv.id, source, at, author, name, handle, text, extra))
            session.add(AuditEntry(conversation_id=conv.id, actor=name or "customer", action="received", at=at))
            return conv.id

    async def follow_up(
        self,
        conversation_id: int,
        at: datetime,
        *,
        author: str | None = "cust-1",
        name: str | None = "Customer One",
        handle: str | None = None,
        text: str = "Any news?",
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Another customer message in the conversation; a resolved one reopens, as the core does."""
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            msg = self._inbound(conversation_id, conv.source, at, author, name, handle, text, extra)
            session.add(msg)
            conv.last_inbound_at = at
            session.add(AuditEntry(conversation_id=conversation_id, actor=name or "customer", action="received", at=at))
            if conv.status == Status.RESOLVED.value:
                conv.status = Status.CLAIMED.value if conv.assignee else Status.NEW.value
                conv.resolved_at = None
                session.add(
                    AuditEntry(
                        conversation_id=conversation_id,
                        actor="customer",
                        action="reopened",
                        detail={"reason": "follow-up"},
                        at=at,
                    )
                )
            else:
                conv.followup_pending = conv.status == Status.REPLIED.value
            await session.flush()
            return msg.id

    def _inbound(
        self,
        conversation_id: int,
        source: str,
        at: datetime,
        author: str | None,
        name: str | None,
        handle: str | None,
        text: str,
        extra: dict[str, Any] | None,
    ) -> Message:
        return Message(
            conversation_id=conversation_id,
            source=source,
            external_id=f"in-{next(self._ids)}",
            direction=Direction.INBOUND.value,
            author_id=author,
            author_name=name,
            author_handle=handle,
            text=text,
            source_created_at=at,
            received_at=at,
            extra=extra or {},
            kind="comment",
            hidden=False,
            delivery_attempts=0,
        )

    async def claim(self, conversation_id: int, at: datetime, by: str) -> None:
        """``by`` claims the conversation at ``at``."""
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            conv.assignee, conv.claimed_at = by, at
            if conv.status == Status.NEW.value:
                conv.status = Status.CLAIMED.value
            session.add(AuditEntry(conversation_id=conversation_id, actor=by, action="claimed", at=at))

    async def reply(
        self,
        conversation_id: int,
        at: datetime,
        *,
        by: str = "UANNA",
        kind: str = "reply",
        delivered: bool = True,
        text: str = "Thanks, we are on it.",
    ) -> int:
        """A reply sent from Slack by ``by`` (a Slack user, or ``bot:<plugin>`` for an automatic one).

        ``delivered``: the platform accepted it at ``at`` (False: it failed and is shown on the card).
        """
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            msg = Message(
                conversation_id=conversation_id,
                source=conv.source,
                external_id=f"out-{next(self._ids)}" if delivered else None,
                direction=Direction.OUTBOUND.value,
                author_name=by,
                text=text,
                received_at=at,
                extra={},
                kind=kind,
                hidden=False,
                sent_by=by,
                delivery=Delivery.SENT.value if delivered else Delivery.FAILED.value,
                delivery_error=None if delivered else "platform said no",
                delivery_attempts=1,
                sent_at=at if delivered else None,
            )
            session.add(msg)
            await session.flush()
            if by.startswith(("U", "W")) and conv.assignee is None:
                conv.assignee, conv.claimed_at = by, at
                session.add(
                    AuditEntry(
                        conversation_id=conversation_id, actor=by, action="claimed", detail={"by": "answer"}, at=at
                    )
                )
            if delivered:
                conv.first_response_at = conv.first_response_at or at
                conv.followup_pending = False
                if conv.status in (Status.NEW.value, Status.CLAIMED.value):
                    conv.status = Status.REPLIED.value
                session.add(
                    AuditEntry(
                        conversation_id=conversation_id,
                        actor=by,
                        action=f"{kind}_sent",
                        detail={"message_id": msg.id},
                        at=at,
                    )
                )
            else:
                session.add(
                    AuditEntry(
                        conversation_id=conversation_id,
                        actor="system",
                        action=f"{kind}_failed",
                        detail={"message_id": msg.id},
                        at=at,
                    )
                )
            return msg.id

    async def answered_on_platform(self, conversation_id: int, at: datetime, *, name: str = "Our Page") -> int:
        """An answer made directly on the platform (the Page replied on Facebook), learned at ``at``."""
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            msg = Message(
                conversation_id=conversation_id,
                source=conv.source,
                external_id=f"ext-{next(self._ids)}",
                direction=Direction.EXTERNAL.value,
                author_id="page",
                author_name=name,
                text="We answered on the platform.",
                source_created_at=at,
                received_at=at,
                extra={},
                kind="comment",
                hidden=False,
                delivery_attempts=0,
            )
            session.add(msg)
            await session.flush()
            conv.first_response_at = conv.first_response_at or at
            conv.followup_pending = False
            if conv.status in (Status.NEW.value, Status.CLAIMED.value):
                conv.status = Status.REPLIED.value
            session.add(
                AuditEntry(
                    conversation_id=conversation_id,
                    actor=name,
                    action="answered_on_platform",
                    detail={"message_id": msg.id},
                    at=at,
                )
            )
            return msg.id

    async def resolve(self, conversation_id: int, at: datetime, *, by: str = "UANNA") -> None:
        """``by`` resolves it at ``at``."""
        await self._status(conversation_id, at, by, resolve=True)

    async def reopen(self, conversation_id: int, at: datetime, *, by: str = "UANNA") -> None:
        """``by`` reopens it at ``at``."""
        await self._status(conversation_id, at, by, resolve=False)

    async def _status(self, conversation_id: int, at: datetime, by: str, *, resolve: bool) -> None:
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            if resolve:
                conv.status, conv.resolved_at = Status.RESOLVED.value, at
            else:
                conv.status = Status.CLAIMED.value if conv.assignee else Status.NEW.value
                conv.resolved_at = None
            action = "resolved" if resolve else "reopened"
            session.add(AuditEntry(conversation_id=conversation_id, actor=by, action=action, at=at))

    async def escalate(self, conversation_id: int, at: datetime, *, by: str = "UANNA", reason: str = "angry") -> None:
        """``by`` escalates it at ``at``."""
        async with self.db.write() as session:
            conv = await session.get_one(Conversation, conversation_id)
            conv.escalated_at = at
            session.add(Escalation(conversation_id=conversation_id, reason=reason, escalated_by=by, escalated_at=at))
            session.add(
                AuditEntry(
                    conversation_id=conversation_id, actor=by, action="escalated", detail={"reason": reason}, at=at
                )
            )

    async def tag(self, conversation_id: int, name: str, at: datetime, *, by: str = "UANNA") -> None:
        """``by`` tags it ``name`` at ``at``."""
        async with self.db.write() as session:
            tag_id = await session.scalar(sa.select(Tag.id).where(Tag.name == name))
            if tag_id is None:
                tag = Tag(name=name, created_at=at)
                session.add(tag)
                await session.flush()
                tag_id = tag.id
            session.add(ConversationTag(conversation_id=conversation_id, tag_id=tag_id, added_by=by, added_at=at))
            session.add(
                AuditEntry(conversation_id=conversation_id, actor=by, action="tagged", detail={"tag": name}, at=at)
            )
