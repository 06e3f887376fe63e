"""The crisis banner: one message in each inbox channel that a flood has buried, saying how big and how old.

While more than ``[crisis] banner_backlog`` comments wait for a card in a channel, the team
sees the backlog there, redrawn in place (``chat.update``) at most every
``[crisis] banner_update_seconds``. When it falls to half the threshold (so that a backlog
hovering at the limit does not post a banner a minute), the banner is redrawn to say the
rush is over. It is not deleted: the message stays as the record of when the flood started
and ended and how many waited at most, and deleting it would leave people scrolling for
what they missed.

Everything is decided in the database, so a restart or a second replica changes nothing: a
row per channel (``crisis_banners``) is inserted by exactly one replica, which queues the
post; each redraw is claimed by one conditional UPDATE of ``next_update_at``. The post and
the redraws are outbox jobs, paced and retried like the cards; the post goes ahead of the
waiting cards (one message per crisis), the redraws use ``chat.update``, which does not
count against the channel's pace of new messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.config import CrisisConfig
from chatops.crisis.backlog import Backlog
from chatops.crisis.texts import TEXTS, format_age
from chatops.db import Database
from chatops.i18n import Translator
from chatops.models import CrisisBanner, OutboxJob, utcnow
from chatops.outbox.kinds import DueJob, JobKind, JobKinds, JobSlack
from chatops.slack.card import format_time

log = logging.getLogger(__name__)

POST_BANNER = "crisis.banner.post"
UPDATE_BANNER = "crisis.banner.update"
#: The banner's post goes before every waiting card: one message per crisis, and the reason the rest wait.
BANNER_PRIORITY = 1_000_000
ACTIVE = "active"
OVER = "over"
#: Slack's answers to chat.update saying the banner is gone (someone deleted it): it is not posted again.
GONE = frozenset({"message_not_found", "cant_update_message", "channel_not_found", "is_archived"})


class CrisisBanners:
    """Shows, redraws and ends the banner of each inbox channel; :meth:`register` adds its job kinds."""

    def __init__(
        self,
        db: Database,
        config: CrisisConfig,
        t: Translator,
        tz: ZoneInfo,
        wake: Callable[[], None],
        *,
        overflow_channels: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.config = config
        self.t = t
        self.tz = tz
        t.add(TEXTS)
        self.wake = wake
        self.overflow_channels = list(overflow_channels)

    def register(self, registry: JobKinds) -> None:
        """Register the banner's post (paced in its channel) and its redraw (``chat.update``)."""
        registry.register(JobKind(POST_BANNER, self._post, channel=_job_channel, owner=_owner, log=log))
        registry.register(JobKind(UPDATE_BANNER, self._update, method="chat.update", owner=_owner, log=log))

    # -- deciding ------------------------------------------------------------------

    async def refresh(self, by_channel: Mapping[str, Backlog]) -> bool:
        """Start, redraw or end each channel's banner for its backlog; True while any banner is up."""
        now = utcnow()
        async with self.db.read() as session:
            rows = {row.channel: row for row in (await session.scalars(select(CrisisBanner))).all()}
        queued = False
        up = False
        for channel in sorted(set(by_channel) | set(rows)):
            backlog = by_channel.get(channel, Backlog())
            row = rows.get(channel)
            active = row is not None and row.state == ACTIVE
            if not active and backlog.total > self.config.banner_backlog:
                queued |= await self._start(channel, backlog, row, now)
                up = True
            elif row is not None and active and backlog.total <= self.config.banner_backlog // 2:
                queued |= await self._end(row, now)
            elif row is not None and active:
                queued |= await self._redraw(row, backlog, now)
                up = True
        if queued:
            self.wake()
        return up

    def _figures(self, backlog: Backlog, now: datetime) -> dict[str, Any]:
        return {
            "waiting": backlog.waiting,
            "rolled_up": backlog.rolled_up,
            "urgent": backlog.urgent,
            "oldest_at": backlog.oldest_at,
            "updated_at": now,
            "next_update_at": now + timedelta(seconds=self.config.banner_update_seconds),
        }

    async def _start(self, channel: str, backlog: Backlog, row: CrisisBanner | None, now: datetime) -> bool:
        """A new crisis in ``channel``: whoever inserts (or re-opens) its row queues the one post."""
        values = {
            **self._figures(backlog, now),
            "state": ACTIVE,
            "slack_ts": None,
            "peak": backlog.total,
            "started_at": now,
            "ended_at": None,
        }
        async with self.db.write() as session:
            if row is None:
                generation = 1
                insert: Any = sqlite_insert if self.db.is_sqlite else postgresql_insert
                result = await session.execute(
                    insert(CrisisBanner)
                    .values(channel=channel, generation=generation, **values)
                    .on_conflict_do_nothing(index_elements=[CrisisBanner.channel])
                )
            else:
                generation = row.generation + 1
                result = await session.execute(
                    update(CrisisBanner)
                    .where(
                        CrisisBanner.channel == channel,
                        CrisisBanner.state == OVER,
                        CrisisBanner.generation == row.generation,
                    )
                    .values(generation=generation, **values)
                )
            if cast("CursorResult[Any]", result).rowcount != 1:
                return False  # another replica started it
            _queue(session, POST_BANNER, channel, generation, priority=BANNER_PRIORITY)
        log.warning("crisis banner in %s: %d comments wait for a card", channel, backlog.total)
        return True

    async def _redraw(self, row: CrisisBanner, backlog: Backlog, now: datetime) -> bool:
        """New figures, if this replica claims this round's redraw (one per interval across replicas)."""
        if row.next_update_at > now:
            return False
        async with self.db.write() as session:
            result = await session.execute(
                update(CrisisBanner)
                .where(
                    CrisisBanner.channel == row.channel,
                    CrisisBanner.state == ACTIVE,
                    CrisisBanner.generation == row.generation,
                    CrisisBanner.next_update_at <= now,
                )
                .values(peak=max(row.peak, backlog.total), **self._figures(backlog, now))
            )
            if cast("CursorResult[Any]", result).rowcount != 1:
                return False
            if row.slack_ts is None:
                return False  # its post is still queued, and draws the figures just stored
            _queue(session, UPDATE_BANNER, row.channel, row.generation)
        return True

    async def _end(self, row: CrisisBanner, now: datetime) -> bool:
        async with self.db.write() as session:
            result = await session.execute(
                update(CrisisBanner)
                .where(
                    CrisisBanner.channel == row.channel,
                    CrisisBanner.state == ACTIVE,
                    CrisisBanner.generation == row.generation,
                )
                .values(state=OVER, ended_at=now, updated_at=now, waiting=0, rolled_up=0, urgent=0, oldest_at=None)
            )
            if cast("CursorResult[Any]", result).rowcount != 1:
                return False
            # The last word is drawn now and travels with the job: a new flood in the channel may
            # re-open the row (a new generation, a new message) before this redraw runs.
            ended = CrisisBanner(
                channel=row.channel, state=OVER, peak=row.peak, started_at=row.started_at, ended_at=now
            )
            final: dict[str, Any] = {"ts": row.slack_ts, "message": self.render(ended)} if row.slack_ts else {}
            _queue(session, UPDATE_BANNER, row.channel, row.generation, **final)
        log.warning("crisis banner in %s: the backlog is cleared (at most %d waited)", row.channel, row.peak)
        return True

    # -- drawing -------------------------------------------------------------------

    def render(self, row: CrisisBanner, now: datetime | None = None) -> dict[str, Any]:
        """The banner's message: figures only (no customer text), so nothing in it needs escaping."""
        if row.state == OVER:
            text = self.t(
                "crisis.over",
                peak=row.peak,
                started=format_time(row.started_at, self.tz),
                ended=format_time(row.ended_at, self.tz),
            )
            return {"text": text, "blocks": [_section(text)]}
        age = Backlog(oldest_at=row.oldest_at).age_seconds(now or utcnow())
        rolled_up = self.t("crisis.banner_rolled_up", count=row.rolled_up) if row.rolled_up else ""
        overflow = (
            self.t("crisis.banner_overflow", channels=", ".join(f"<#{c}>" for c in self.overflow_channels))
            if self.overflow_channels
            else ""
        )
        text = self.t(
            "crisis.banner",
            total=row.waiting + row.rolled_up,
            age=format_age(age),
            urgent=row.urgent,
            rolled_up=rolled_up,
            overflow=overflow,
        )
        updated = self.t(
            "crisis.banner_updated",
            time=format_time(row.updated_at, self.tz),
            seconds=f"{self.config.banner_update_seconds:g}",
        )
        return {
            "text": text,
            "blocks": [_section(text), {"type": "context", "elements": [{"type": "mrkdwn", "text": updated}]}],
        }

    # -- job kinds ------------------------------------------------------------------

    async def _banner(self, job: DueJob) -> CrisisBanner | None:
        """The row ``job`` was queued for, or None when a later crisis replaced it."""
        async with self.db.read() as session:
            row = await session.get(CrisisBanner, str(job.payload["channel"]))
        return row if row is not None and row.generation == int(job.payload["generation"]) else None

    async def _post(self, job: DueJob, slack: JobSlack) -> None:
        row = await self._banner(job)
        if row is None or row.slack_ts is not None or row.state != ACTIVE:
            return  # posted already, or the rush ended before its turn came: nothing to announce
        response = await slack.post(channel=row.channel, unfurl_links=False, unfurl_media=False, **self.render(row))
        async with self.db.write() as session:
            await session.execute(
                update(CrisisBanner)
                .where(CrisisBanner.channel == row.channel, CrisisBanner.generation == row.generation)
                .values(slack_ts=response["ts"])
            )
        after = await self._banner(job)
        if after is not None and after.state == OVER:
            # It ended while the post was on its way, and the redraw that says so found no message.
            await slack.client.chat_update(channel=row.channel, ts=response["ts"], **self.render(after))

    async def _update(self, job: DueJob, slack: JobSlack) -> None:
        if job.payload.get("message") and job.payload.get("ts"):
            channel, ts, message = str(job.payload["channel"]), str(job.payload["ts"]), dict(job.payload["message"])
        else:
            row = await self._banner(job)
            if row is None or row.slack_ts is None:
                return
            channel, ts, message = row.channel, row.slack_ts, self.render(row)
        generation = int(job.payload["generation"])
        try:
            await slack.client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as exc:
            if exc.response.get("error") not in GONE:
                raise
            # Someone deleted it: that is their call, not posted again for this crisis.
            log.info("crisis banner in %s is gone (%s); not redrawn", channel, exc.response.get("error"))
            async with self.db.write() as session:
                await session.execute(
                    update(CrisisBanner)
                    .where(CrisisBanner.channel == channel, CrisisBanner.generation == generation)
                    .values(slack_ts=None)
                )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _job_channel(job: DueJob) -> str | None:
    return str(job.payload.get("channel") or "") or None


def _owner(job: DueJob) -> str:
    # A banner job given up raises one ops alert under the core's name, cleared by the next success.
    return "chatops"


def _queue(session: AsyncSession, kind: str, channel: str, generation: int, *, priority: int = 0, **more: Any) -> None:
    payload = {"channel": channel, "generation": generation, **more}
    session.add(OutboxJob(kind=kind, payload=payload, priority=priority))


__all__ = ["ACTIVE", "OVER", "POST_BANNER", "UPDATE_BANNER", "CrisisBanners"]
