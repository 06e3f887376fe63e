"""The flood watch: a delivery-worker pass that turns a flood's waiting cards into roll-up membership.

It runs at the start of delivery passes (``OutboxWorker.add_pass``), at most every
``[crisis] rollup_check_seconds``, so ingest pays nothing for it. Each look:

1. Follow-ups first: a customer who writes again in a gathered conversation gets a card of
   their own (their thread post, note or escalation is waiting for one; see ``chatops.delivery``).
2. If any card waits to be posted, count the new conversations of the window
   (``conversations.created_at`` is indexed: a quiet window is a few rows) per post and per
   source. A post with more than ``rollup_per_post`` is hot; a source with more than
   ``rollup_per_source`` is hot.
3. Every card still waiting on a hot post joins its post's roll-up; on a hot source, every card
   still waiting joins its post's roll-up when the post is hot, else the source's catch-all
   roll-up. The first comments of a flood got their cards while the post was not yet hot (in
   quiet times a card is posted within a second); what waits once it is hot would wait behind
   the flood, so it is listed at once instead. Conversations scoring at least
   ``[priority] own_card_at`` keep their own cards while they wait less than
   ``[crisis] rollup_own_card_wait_seconds``: the worker posts the most urgent first, so the
   highest get their cards at once, but hundreds of urgent comments would hold the channel for
   minutes at Slack's pace (one post a second), and every comment must be visible within five.
   Those that waited longer join the roll-up too, where they stay marked urgent (the card shows
   the most urgent members, "Open the N most urgent" opens them first). Cards opened from a
   roll-up (a click, a follow-up) and conversations with a follow-up waiting are never gathered.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import and_, func, or_, select

from chatops.config import CrisisConfig
from chatops.db import Database
from chatops.models import Conversation, OutboxJob, OutboxStatus, utcnow
from chatops.rollups.store import OPENED, OPENED_PRIORITY, SOURCE_WIDE, Group, RollupStore, post_key
from chatops.store import POST_CARD, POST_ESCALATION, POST_NOTE, POST_THREAD

log = logging.getLogger(__name__)

#: Jobs that need the conversation's own card: waiting for one makes a gathered conversation a card.
NEEDS_CARD = (POST_THREAD, POST_NOTE, POST_ESCALATION)
#: Waiting cards considered per look (oldest first), so that one look stays well under a second even on
#: PostgreSQL (10,000 at once took 2.8 s); the rest are looked at on the next look, a second later.
SCAN_LIMIT = 2_000


class FloodWatch:
    """The worker pass (``await watch()``); cheap when nothing floods."""

    def __init__(
        self,
        db: Database,
        store: RollupStore,
        config: CrisisConfig,
        *,
        own_card_at: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.store = store
        self.config = config
        self.own_card_at = own_card_at
        self.clock = clock
        self._next_at = 0.0

    async def __call__(self) -> None:
        """One look, unless the last one was less than ``rollup_check_seconds`` ago."""
        now = self.clock()
        if now < self._next_at:
            return
        self._next_at = now + self.config.rollup_check_seconds
        await self.promote_followups()
        await self.gather_floods()

    async def promote_followups(self) -> int:
        """Give a card of its own to each gathered conversation that something waits to thread under."""
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Conversation.id, func.max(OutboxJob.priority))
                    .join(OutboxJob, OutboxJob.conversation_id == Conversation.id)
                    .where(
                        OutboxJob.status == OutboxStatus.PENDING.value,
                        OutboxJob.kind.in_(NEEDS_CARD),
                        Conversation.rollup_id.is_not(None),
                        Conversation.slack_ts.is_(None),
                    )
                    .group_by(Conversation.id)
                )
            ).all()
        if not rows:
            return 0
        # The customer is waiting on us now: their card goes before ordinary ones.
        priority = {int(cid): max(int(p or 0), self.own_card_at) for cid, p in rows}
        opened = await self.store.open_as_cards(list(priority), priority=priority)
        if opened:
            log.info("roll-ups: %d gathered conversation(s) had a follow-up and got cards of their own", opened)
        return opened

    async def gather_floods(self) -> int:
        """Move the waiting cards of flooded posts and sources onto roll-ups; how many moved."""
        now = utcnow()
        cutoff = now - self.store.window
        # Urgent cards that have waited this long for the channel are listed rather than kept waiting.
        urgent_since = now - timedelta(seconds=self.config.rollup_own_card_wait_seconds)
        async with self.db.read() as session:
            waiting = await session.scalar(
                select(OutboxJob.id)
                .where(OutboxJob.status == OutboxStatus.PENDING.value, OutboxJob.kind == POST_CARD)
                .limit(1)
            )
            if waiting is None:
                return 0
            per_key: Counter[tuple[str, str | None]] = Counter()
            per_source: Counter[str] = Counter()
            for source, url, text, count in (
                await session.execute(
                    select(Conversation.source, Conversation.context_url, Conversation.context_text, func.count())
                    .where(Conversation.created_at >= cutoff)
                    .group_by(Conversation.source, Conversation.context_url, Conversation.context_text)
                )
            ).all():
                on = (source, post_key(url, text))
                per_key[on] += count
                per_source[source] += count
            hot_posts = {k for k, n in per_key.items() if k[1] is not None and n > self.config.rollup_per_post}
            hot_sources = {s for s, n in per_source.items() if n > self.config.rollup_per_source}
            if not hot_posts and not hot_sources:
                return 0
            candidates = (
                await session.execute(
                    select(
                        OutboxJob.id,
                        Conversation.id,
                        Conversation.source,
                        Conversation.context_url,
                        Conversation.context_text,
                        OutboxJob.payload,
                    )
                    .join(Conversation, Conversation.id == OutboxJob.conversation_id)
                    .where(
                        OutboxJob.status == OutboxStatus.PENDING.value,
                        OutboxJob.kind == POST_CARD,
                        OutboxJob.leased_by.is_(None),
                        or_(
                            and_(Conversation.priority < self.own_card_at, OutboxJob.priority < self.own_card_at),
                            and_(
                                OutboxJob.created_at <= urgent_since,
                                # Cards asked for from a roll-up are queued at OPENED_PRIORITY (and marked OPENED).
                                OutboxJob.priority < OPENED_PRIORITY,
                            ),
                        ),
                        Conversation.slack_ts.is_(None),
                        Conversation.rollup_id.is_(None),
                        Conversation.followup_pending.is_(False),
                    )
                    .order_by(OutboxJob.id)
                    .limit(SCAN_LIMIT)
                )
            ).all()
        groups: dict[tuple[str, str], Group] = {}
        for job_id, cid, source, url, text, payload in candidates:
            if (payload or {}).get(OPENED):
                continue
            key = post_key(url, text)
            target: tuple[str, str] | None = None
            if key is not None and (source, key) in hot_posts:
                target = (source, key)
            elif source in hot_sources:
                target = (source, SOURCE_WIDE)
            if target is None:
                continue
            group = groups.get(target)
            if group is None:
                wide = target[1] == SOURCE_WIDE
                group = groups[target] = Group(
                    source=source,
                    key=target[1],
                    title=None if wide else (text or url),
                    url=None if wide else url,
                )
            group.members.append((int(job_id), int(cid)))
        if not groups:
            return 0
        moved = await self.store.gather(groups.values())
        if moved:
            log.info("roll-ups: %d waiting card(s) gathered on %d roll-up(s)", moved, len(groups))
        return moved


__all__ = ["NEEDS_CARD", "FloodWatch"]
