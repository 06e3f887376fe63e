"""The roll-up tables' transactions: gather pending cards onto a roll-up, open members as cards, resolve all.

Everything that matters lives in the database, in the transaction that decides it: a member's
``conversations.rollup_id``, its card job marked done, the listing job that names it and the
card's redraw job. A restart at any point resumes from the outbox; nothing is only in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import Database
from chatops.models import Conversation, Direction, Message, OutboxJob, OutboxStatus, Rollup, SlackPost, Status, utcnow
from chatops.store import POST_CARD, Store

#: The roll-up card, its listing messages (in the card's thread), and its redraw.
ROLLUP_POST = "rollup.post"
ROLLUP_LIST = "rollup.list"
ROLLUP_UPDATE = "rollup.update"
#: Members named by one listing message: sections of 5 lines, each with a menu "Open as card…" naming
#: its 5 members, after one header block; the lines and options share the message's ~12k characters
#: (``chatops.rollups.render``). 10,000 comments take 100 messages: under 2 minutes at Slack's pace of one
#: a second per channel.
LISTING_SIZE = 100
#: The key of a source's catch-all roll-up: comments without a post, or on posts not flooded themselves.
SOURCE_WIDE = "*"
#: The column's width: longer post URLs or texts are keyed by their digest.
MAX_KEY = 255
#: A card someone asked for goes before every other waiting card.
OPENED_PRIORITY = 1_000_000
#: Marks the card job of a conversation opened from a roll-up (a click or a follow-up): never gathered again.
OPENED = "opened"
#: Each roll-up gathering at once adds this much to the time between redraws of every one of them:
#: 20 roll-ups redraw once a minute each, 20 chat.update calls a minute in all.
REDRAW_SHARE = timedelta(seconds=3)
#: How many ids one ``IN (…)`` names (both engines take far more; this keeps statements small).
CHUNK = 500


def post_key(url: str | None, text: str | None) -> str | None:
    """What the conversations on one post share: its URL, else its text (None: no post)."""
    value = (url or text or "").strip()
    if not value:
        return None
    if len(value) <= MAX_KEY:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class Group:
    """Pending card jobs to gather on the roll-up of one (source, key)."""

    source: str
    key: str
    title: str | None
    url: str | None
    #: (outbox job id, conversation id), oldest first.
    members: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Member:
    """A gathered conversation as a roll-up shows it: its first message."""

    conversation_id: int
    text: str
    author: str
    at: datetime | None
    priority: int
    has_card: bool
    status: str


@dataclass(frozen=True, slots=True)
class RollupView:
    """What the roll-up card shows."""

    id: int
    source: str
    title: str | None
    url: str | None
    status: str
    slack_channel: str | None
    slack_ts: str | None
    created_at: datetime
    gathered: int
    #: Members still on the roll-up (not opened as cards).
    waiting: int
    resolved_by: str | None
    resolved_at: datetime | None
    urgent: list[Member]
    newest: list[Member]


def _free_lease(now: datetime) -> Any:
    return or_(OutboxJob.lease_until.is_(None), OutboxJob.lease_until < now)


async def _lock_key(session: AsyncSession, source: str, key: str) -> None:
    """Hold the (source, key) gathering lock to the end of the transaction (PostgreSQL; SQLite's writes are serial).

    Two replicas gathering one post at once would otherwise each make a roll-up card for it, or
    both extend the same listing job from the payload each read, the later write dropping the
    earlier one's members: gathered, their card jobs done, listed nowhere.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"rollup\0{source}\0{key}".encode("utf-8", "surrogatepass")).digest()
    await session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class RollupStore:
    """Transactions over roll-ups, their members and their outbox jobs."""

    def __init__(
        self,
        db: Database,
        *,
        channel_of: Callable[[str], str],
        window_seconds: float,
        update_seconds: float,
        job_priority: int,
        wake: Callable[[], None],
    ) -> None:
        self.db = db
        #: The channel a source's roll-up cards go to (the inbox channel of its cards).
        self.channel_of = channel_of
        self.window = timedelta(seconds=window_seconds)
        self.update_every = timedelta(seconds=update_seconds)
        #: Outbox priority of the roll-up card and its listings: after the urgent cards, before ordinary ones.
        self.job_priority = job_priority
        self.wake = wake

    # -- gathering ------------------------------------------------------------------------

    async def gather(self, groups: Iterable[Group]) -> int:
        """Move each group's pending card jobs onto its roll-up in one transaction; how many moved.

        A job another worker has leased meanwhile is left alone (it is posting its card).
        """
        moved = 0
        now = utcnow()
        async with self.db.write() as session:
            gathering = await session.scalar(
                select(func.count(Rollup.id)).where(Rollup.status == "open", Rollup.last_joined_at >= now - self.window)
            )
            # chat.update is shared by every card (Slack's Tier 3, ~50 a minute): many roll-ups redraw less often.
            spacing = max(self.update_every, REDRAW_SHARE * (int(gathering or 0) + 1))
            # Keys in one order: two replicas gathering overlapping posts take their locks alike, never crosswise.
            for group in sorted(groups, key=lambda g: (g.source, g.key)):
                moved += await self._gather_one(session, group, now, spacing)
        if moved:
            self.wake()
        return moved

    async def _gather_one(self, session: AsyncSession, group: Group, now: datetime, spacing: timedelta) -> int:
        await _lock_key(session, group.source, group.key)
        rollup = await session.scalar(
            select(Rollup)
            .where(
                Rollup.source == group.source,
                Rollup.key == group.key,
                Rollup.status == "open",
                Rollup.last_joined_at >= now - self.window,
            )
            .order_by(Rollup.id.desc())
            .limit(1)
        )
        taken: list[int] = []
        for chunk in _chunks([job_id for job_id, _ in group.members]):
            result = await session.execute(
                update(OutboxJob)
                .where(
                    OutboxJob.id.in_(chunk),
                    OutboxJob.kind == POST_CARD,
                    OutboxJob.status == OutboxStatus.PENDING.value,
                    _free_lease(now),
                    # A post begun and in doubt (Slack's answer lost) may already be a card in the channel:
                    # gathering it would show the comment twice; it finishes as the card it is.
                    ~exists().where(SlackPost.outbox_id == OutboxJob.id),
                )
                .values(status=OutboxStatus.DONE.value, done_at=now, last_error="gathered on a roll-up")
                .returning(OutboxJob.conversation_id)
                .execution_options(synchronize_session=False)
            )
            taken.extend(cid for cid in result.scalars().all() if cid is not None)
        if not taken:
            return 0
        taken.sort()
        # A roll-up keeps the channel chosen when it was made: its listings are paced where they are posted,
        # although an overflow channel may be the one a new card would take now.
        channel = (rollup.slack_channel if rollup is not None else None) or self.channel_of(group.source)
        if rollup is None:
            rollup = Rollup(
                source=group.source,
                key=group.key,
                title=group.title,
                url=group.url,
                status="open",
                # Where its card goes (Slack's answer confirms it: ``record_posted``); posted once ``slack_ts`` is set.
                slack_channel=channel,
                gathered=0,
                last_joined_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(rollup)
            await session.flush()
            session.add(
                OutboxJob(
                    kind=ROLLUP_POST,
                    payload={"rollup_id": rollup.id, "channel": channel},
                    priority=self.job_priority,
                )
            )
        for chunk in _chunks(taken):
            await session.execute(
                update(Conversation)
                .where(Conversation.id.in_(chunk))
                .values(rollup_id=rollup.id)
                .execution_options(synchronize_session=False)
            )
        await self._list(session, rollup, taken, channel, now)
        rollup.gathered = (rollup.gathered or 0) + len(taken)
        rollup.last_joined_at = now
        self._queue_redraw(session, rollup, now, spacing=spacing)
        return len(taken)

    async def _list(self, session: AsyncSession, rollup: Rollup, ids: list[int], channel: str, now: datetime) -> None:
        """Name ``ids`` in listing jobs: first in the one still filling up, then in new ones.

        A listing job takes more members only while no worker holds it and its post has not
        begun (``slack_posts``): its handler reads the members after taking the lease, so what
        it posts is what the job names, and a retried post repeats the same message.
        """
        first = (rollup.gathered or 0) + 1
        if rollup.listing_job_id is not None:
            filling = OutboxJob.id == rollup.listing_job_id
            unstarted = (
                filling,
                OutboxJob.status == OutboxStatus.PENDING.value,
                _free_lease(now),
                ~exists().where(SlackPost.outbox_id == OutboxJob.id),
            )
            payload = await session.scalar(select(OutboxJob.payload).where(*unstarted))
            if payload is not None:
                named = list(payload.get("members", []))
                room = LISTING_SIZE - len(named)
                if room > 0:
                    result = await session.execute(
                        update(OutboxJob)
                        .where(*unstarted)
                        .values(payload={**payload, "members": named + ids[:room]})
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount == 1:  # type: ignore[attr-defined]
                        first += len(ids[:room])
                        ids = ids[room:]
        while ids:
            chunk, ids = ids[:LISTING_SIZE], ids[LISTING_SIZE:]
            job = OutboxJob(
                kind=ROLLUP_LIST,
                payload={"rollup_id": rollup.id, "channel": channel, "first": first, "members": chunk},
                priority=self.job_priority,
            )
            session.add(job)
            await session.flush()
            rollup.listing_job_id = job.id
            first += len(chunk)

    def _queue_redraw(
        self,
        session: AsyncSession,
        rollup: Rollup,
        now: datetime,
        *,
        at_once: bool = False,
        spacing: timedelta | None = None,
    ) -> None:
        """Queue one redraw of the card, no sooner than the pace allows (a person's action: at once)."""
        if rollup.redraw_pending and not at_once:
            return
        rollup.redraw_pending = True
        every = spacing or self.update_every
        # Never further off than one pace: a wall clock set back (drawn_at "in the future") must not hold
        # the card's redraws, and so its count, for as long as the clock jumped.
        due = now if at_once or rollup.drawn_at is None else min(max(now, rollup.drawn_at + every), now + every)
        session.add(OutboxJob(kind=ROLLUP_UPDATE, payload={"rollup_id": rollup.id}, due_at=due))

    # -- people's actions ------------------------------------------------------------------

    async def open_as_cards(
        self,
        conversation_ids: Sequence[int],
        *,
        priority: Mapping[int, int] | None = None,
        within: int | None = None,
    ) -> int:
        """Give each still-gathered conversation a card of its own; how many were opened.

        One conditional UPDATE per roll-up decides: a conversation that already left its roll-up
        (opened by a click a moment ago, or a replay of that click) is not opened twice. ``within``:
        only members of that roll-up (a listing's menu names its roll-up; another id is not opened).
        """
        now = utcnow()
        opened = 0
        async with self.db.write() as session:
            rows = (
                await session.execute(
                    select(Conversation.id, Conversation.rollup_id).where(
                        Conversation.id.in_(list(conversation_ids)),
                        Conversation.rollup_id.is_not(None) if within is None else Conversation.rollup_id == within,
                        Conversation.slack_ts.is_(None),
                    )
                )
            ).all()
            by_rollup: dict[int, list[int]] = {}
            for cid, rid in rows:
                by_rollup.setdefault(int(rid or 0), []).append(int(cid))
            for rid, ids in by_rollup.items():
                result = await session.execute(
                    update(Conversation)
                    .where(Conversation.id.in_(ids), Conversation.rollup_id == rid, Conversation.slack_ts.is_(None))
                    .values(rollup_id=None)
                    .returning(Conversation.id)
                    .execution_options(synchronize_session=False)
                )
                for cid in result.scalars().all():
                    job_priority = (priority or {}).get(cid, OPENED_PRIORITY)
                    session.add(
                        OutboxJob(kind=POST_CARD, conversation_id=cid, payload={OPENED: True}, priority=job_priority)
                    )
                    opened += 1
                rollup = await session.get(Rollup, rid)
                if rollup is not None:
                    self._queue_redraw(session, rollup, now, at_once=priority is None)
        if opened:
            self.wake()
        return opened

    async def release(self, rollup_id: int) -> int:
        """Put the members of a roll-up whose card was never posted back in line for cards; how many.

        Its card post was given up (the channel is archived, the bot removed from it, the card
        refused): the members' card jobs are done and their listings wait for a card that will
        never be, so nothing would ever show them. Closed, the roll-up takes no one more; each
        member gets a card job at its own priority again, which the flood watch gathers on a new
        roll-up while the post is still hot, or posts as a card once it is not.
        """
        async with self.db.write() as session:
            rollup = await session.get(Rollup, rollup_id, with_for_update=True)
            if rollup is None or rollup.slack_ts is not None:
                return 0
            rollup.status = "closed"
            members = (
                await session.execute(
                    update(Conversation)
                    .where(Conversation.rollup_id == rollup_id, Conversation.slack_ts.is_(None))
                    .values(rollup_id=None)
                    .returning(Conversation.id, Conversation.priority)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            for cid, priority in members:
                session.add(
                    OutboxJob(kind=POST_CARD, conversation_id=int(cid), payload={}, priority=int(priority or 0))
                )
        if members:
            self.wake()
        return len(members)

    async def most_urgent(self, rollup_id: int, count: int) -> list[int]:
        """The ``count`` most urgent members still gathered (then the newest)."""
        async with self.db.read() as session:
            return list(
                (
                    await session.scalars(
                        select(Conversation.id)
                        .where(Conversation.rollup_id == rollup_id, Conversation.slack_ts.is_(None))
                        .order_by(Conversation.priority.desc(), Conversation.id.desc())
                        .limit(count)
                    )
                ).all()
            )

    async def resolve_all(self, rollup_id: int, user: str) -> int | None:
        """Resolve every member still gathered and close the roll-up; None when it was resolved already."""
        now = utcnow()
        async with self.db.write() as session:
            rollup = await session.get(Rollup, rollup_id, with_for_update=True)
            if rollup is None or rollup.resolved_by is not None:
                return None
            ids = list(
                (
                    await session.scalars(
                        select(Conversation.id).where(
                            Conversation.rollup_id == rollup_id,
                            Conversation.status != Status.RESOLVED.value,
                        )
                    )
                ).all()
            )
            resolved: list[int] = []
            for chunk in _chunks(ids):
                # RETURNING, not ``ids``: on PostgreSQL a member opened as a card since the SELECT above
                # (another replica's click) is skipped here, and must not be recorded as resolved.
                result = await session.execute(
                    update(Conversation)
                    .where(Conversation.id.in_(chunk), Conversation.rollup_id == rollup_id)
                    .values(status=Status.RESOLVED.value, resolved_at=now, followup_pending=False, updated_at=now)
                    .returning(Conversation.id)
                    .execution_options(synchronize_session=False)
                )
                resolved.extend(int(cid) for cid in result.scalars().all())
            ids = sorted(resolved)
            for cid in ids:
                Store.add_audit(session, cid, user, "resolved", rollup=rollup_id)
            # Closed: the flood's later comments start a new roll-up rather than join resolved ones.
            rollup.status = "closed"
            rollup.resolved_by = user
            rollup.resolved_at = now
            self._queue_redraw(session, rollup, now, at_once=True)
        self.wake()
        return len(ids)

    # -- reading ---------------------------------------------------------------------------

    async def rollup(self, rollup_id: int) -> Rollup | None:
        """The roll-up row (detached)."""
        async with self.db.read() as session:
            return await session.get(Rollup, rollup_id)

    async def record_posted(self, rollup_id: int, channel: str, ts: str) -> None:
        """Remember where the card is: it is updated in place and never posted twice."""
        async with self.db.write() as session:
            await session.execute(
                update(Rollup)
                .where(Rollup.id == rollup_id)
                .values(slack_channel=channel, slack_ts=ts, drawn_at=utcnow())
            )

    async def begin_redraw(self, rollup_id: int) -> None:
        """A redraw starts now: members joining from here on queue the next one."""
        async with self.db.write() as session:
            await session.execute(
                update(Rollup).where(Rollup.id == rollup_id).values(redraw_pending=False, drawn_at=utcnow())
            )

    async def listing_members(self, job_id: int) -> tuple[int, list[int]]:
        """A listing job's first ordinal and members, read after its lease (no more can join it then)."""
        async with self.db.read() as session:
            payload = await session.scalar(select(OutboxJob.payload).where(OutboxJob.id == job_id)) or {}
        return int(payload.get("first", 1)), [int(m) for m in payload.get("members", [])]

    async def members(self, conversation_ids: Sequence[int]) -> list[Member]:
        """The conversations' first customer messages, in the order given."""
        if not conversation_ids:
            return []
        async with self.db.read() as session:
            firsts = (
                select(func.min(Message.id))
                .where(
                    Message.conversation_id.in_(list(conversation_ids)),
                    Message.direction == Direction.INBOUND.value,
                )
                .group_by(Message.conversation_id)
            )
            rows = (
                await session.execute(
                    select(
                        Message.conversation_id,
                        Message.text,
                        Message.author_name,
                        Message.author_handle,
                        Message.author_id,
                        Message.received_at,
                        Conversation.priority,
                        Conversation.slack_ts,
                        Conversation.status,
                    )
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Message.id.in_(firsts))
                )
            ).all()
        found = {
            int(r.conversation_id): Member(
                conversation_id=int(r.conversation_id),
                text=r.text or "",
                author=r.author_name or r.author_handle or r.author_id or "?",
                at=r.received_at,
                priority=int(r.priority or 0),
                has_card=r.slack_ts is not None,
                status=r.status,
            )
            for r in rows
        }
        return [found[cid] for cid in conversation_ids if cid in found]

    async def view(self, rollup_id: int, *, shown: int = 3) -> RollupView | None:
        """What the card shows: counts, the most urgent and the newest members still gathered."""
        async with self.db.read() as session:
            rollup = await session.get(Rollup, rollup_id)
            if rollup is None:
                return None
            waiting = await session.scalar(
                select(func.count(Conversation.id)).where(Conversation.rollup_id == rollup_id)
            )
            urgent_ids = (
                await session.scalars(
                    select(Conversation.id)
                    .where(Conversation.rollup_id == rollup_id, Conversation.priority > 0)
                    .order_by(Conversation.priority.desc(), Conversation.id.desc())
                    .limit(shown)
                )
            ).all()
            newest_ids = (
                await session.scalars(
                    select(Conversation.id)
                    .where(Conversation.rollup_id == rollup_id)
                    .order_by(Conversation.id.desc())
                    .limit(shown)
                )
            ).all()
        urgent = await self.members([int(i) for i in urgent_ids])
        newest = await self.members([int(i) for i in newest_ids if i not in set(urgent_ids)])
        return RollupView(
            id=rollup.id,
            source=rollup.source,
            title=rollup.title,
            url=rollup.url,
            status=rollup.status,
            slack_channel=rollup.slack_channel,
            slack_ts=rollup.slack_ts,
            created_at=rollup.created_at,
            gathered=rollup.gathered or 0,
            waiting=int(waiting or 0),
            resolved_by=rollup.resolved_by,
            resolved_at=rollup.resolved_at,
            urgent=urgent,
            newest=newest,
        )


__all__ = [
    "LISTING_SIZE",
    "OPENED",
    "OPENED_PRIORITY",
    "ROLLUP_LIST",
    "ROLLUP_POST",
    "ROLLUP_UPDATE",
    "SOURCE_WIDE",
    "Group",
    "Member",
    "RollupStore",
    "RollupView",
    "post_key",
]
