"""The hand-off at each shift change, and the "nobody on shift" notice to the leads.

A job runs every minute (:func:`jobs`); each run (:func:`tick`) looks at the rota as
stored now:

- *Hand-off*: the latest change of who is on shift at or before now, within
  ``handoff_catch_up_hours``. The replica whose insert into ``rota_notices`` succeeds
  queues the message in the same transaction, so it is posted exactly once however many
  replicas tick, and a change missed while the bot was down is posted once when it is
  back (marked late), unless a later change superseded it or it is too old.
- *Gap*: within service hours with nobody on shift, the leads are told once per gap
  (the gap is named by when it began; a notice since then means they were told).

The hand-off's message is built when its outbox job runs, so the cards it lists are
those open at posting time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from chatops.jobs import Job
from chatops.models import OPEN_STATUSES, Conversation
from chatops.slack.escape import clip_mrkdwn, link, mention, mrkdwn_escape, one_line

from . import tables
from .schedule import local_day_start
from .when import clock_text, moment_text

if TYPE_CHECKING:
    from chatops.outbox.plugin import PluginJob

    from .schedule import Schedule
    from .service import Rota
    from .service_hours import ServiceHours

#: The outbox kind the hand-off is posted with (stored as ``rota:handoff``).
HANDOFF_KIND = "handoff"
#: A hand-off posted more than this after its change says that it is late.
LATE_AFTER = timedelta(minutes=2)
#: Characters of a card's label (its context or first words) in a hand-off line.
LABEL_LIMIT = 80
#: Slack's limit for a section's text.
SECTION_LIMIT = 3000
#: How far back the service time of the near-deadline section is counted.
DUE_LOOKBACK = timedelta(days=400)
#: How far back a gap's start (the opening or the last change) is looked for.
GAP_LOOKBACK = timedelta(days=8)
_BEFORE = timedelta(microseconds=1)


def register_kinds(rota: Rota) -> None:
    """Register the outbox kind the hand-off is posted with."""

    async def post(job: PluginJob) -> None:
        await post_handoff(rota, job)

    rota.ctx.outbox.register(HANDOFF_KIND, post)


def jobs(rota: Rota) -> list[Job]:
    """The minute job: hand-offs and gap notices (the core runs each occurrence on one replica)."""

    async def run(_due_at: datetime) -> None:
        await tick(rota)

    # Every minute in the team's timezone: shift changes are on whole minutes, DST nights included.
    trigger = CronTrigger(minute="*", timezone=rota.ctx.tz)
    return [Job(id="tick", trigger=trigger, func=run, grace_seconds=50.0)]


async def tick(rota: Rota) -> None:
    """One look at the rota: post the hand-off and tell the leads of a gap, each at most once."""
    now = rota.now()
    schedule = await rota.schedule(fresh=True)
    await _handoff(rota, schedule, now)
    await _gap(rota, schedule, now)


async def _handoff(rota: Rota, schedule: Schedule, now: datetime) -> None:
    # A catch-up window of 0 still posts the hand-off of a tick that ran a little late.
    horizon = max(timedelta(hours=rota.config.handoff_catch_up_hours), LATE_AFTER)
    changed = schedule.last_change(now, horizon=horizon)
    if changed is None or await _posted(rota, "handoff", changed):
        return
    if now - changed > LATE_AFTER and (await _last_edit(rota) or changed) > changed:
        # The change exists because the rota was edited after its time (a shift added that had
        # already begun): the edit's confirmation told the team; a "late" hand-off would be noise.
        return
    before, after = schedule.on_shift(changed - _BEFORE), schedule.on_shift(changed)
    leaving = [p for p in before if p not in after]
    # Only newcomers are mentioned (notified); whoever stays on is named without a ping.
    arriving = [p for p in after if p not in before]
    staying = [p for p in after if p in before]
    until = schedule.next_change(changed)
    payload = {
        "at": changed.isoformat(),
        "claimed_at": now.isoformat(),
        "leaving": leaving,
        "arriving": arriving,
        "staying": staying,
        "until": until.isoformat() if until else None,
    }
    async with rota.ctx.db.write() as session:
        if not await tables.claim(session, tables.notices, kind="handoff", at=changed, created_at=now):
            return
        await rota.ctx.outbox.enqueue(HANDOFF_KIND, payload, channel=rota.channel, session=session)
    rota.ctx.log.info("hand-off at %s claimed: %s arrive, %s leave", changed.isoformat(), arriving, leaving)


async def _gap(rota: Rota, schedule: Schedule, now: datetime) -> None:
    hours = rota.hours
    if not hours.configured or not hours.is_open(now) or schedule.on_shift(now):
        return
    window = now - GAP_LOOKBACK
    opened = window
    for begin, _end in hours.periods(window, now + _BEFORE):
        opened = begin
    if opened == window:
        # Open around the clock for longer than we look back: name the gap by the local day,
        # so it stays one gap per day instead of a new one every minute.
        opened = local_day_start(now.astimezone(rota.ctx.tz).date(), rota.ctx.tz)
    last = schedule.last_change(now, horizon=GAP_LOOKBACK)
    began = max(opened, last) if last else opened
    if await _gap_told(rota, began):
        return
    t, tz = rota.ctx.t, rota.ctx.tz
    message = t("rota.shifts.gap", since=moment_text(t, began, tz, now))
    leads = ", ".join(mention(lead) for lead in rota.config.leads)
    text = t("rota.shifts.gap_leads", leads=leads, message=message) if leads else message
    async with rota.ctx.db.write() as session:
        if not await tables.claim(session, tables.notices, kind="gap", at=began, created_at=now):
            return
        await rota.ctx.outbox.post_message(rota.channel, text=text, session=session)
    rota.ctx.log.info("nobody on shift since %s: leads told", began.isoformat())


async def _posted(rota: Rota, kind: str, at: datetime) -> bool:
    """Whether the notice is claimed already.

    It is, most minutes: checking first means the claim's insert (and the database's log
    line about a duplicate key) is tried only when it may succeed.
    """
    async with rota.ctx.db.read() as session:
        found = await session.scalar(
            sa.select(tables.notices.c.kind).where(tables.notices.c.kind == kind, tables.notices.c.at == at)
        )
    return found is not None


async def _gap_told(rota: Rota, began: datetime) -> bool:
    """Whether the leads were told of the gap that began at ``began``.

    Any gap notice since then counts: an edit during the gap (the shift that ended before
    it removed) moves where the gap seems to begin, but it is the same gap.
    """
    async with rota.ctx.db.read() as session:
        found = await session.scalar(
            sa.select(tables.notices.c.at).where(tables.notices.c.kind == "gap", tables.notices.c.at >= began).limit(1)
        )
    return found is not None


async def _last_edit(rota: Rota) -> datetime | None:
    """When the rota was last changed (a shift or a cover or swap made or removed)."""
    async with rota.ctx.db.read() as session:
        times = [
            await session.scalar(sa.select(sa.func.max(column)))
            for table in (tables.shifts, tables.changes)
            for column in (table.c.created_at, table.c.removed_at)
        ]
    found = [t for t in times if t is not None]
    return max(found) if found else None


@dataclass(frozen=True, slots=True)
class _Open:
    """An open card as the hand-off lists it."""

    id: int
    channel: str
    ts: str
    label: str
    assignee: str | None
    escalated: bool
    #: Seconds of service time left to the first-response target (negative: past it); None when answered.
    left: float | None


async def post_handoff(rota: Rota, job: PluginJob) -> None:
    """The ``rota:handoff`` job: build the hand-off from the cards open now and post it."""
    ctx, config = rota.ctx, rota.config
    t, tz = ctx.t, ctx.tz
    data = job.payload
    changed = datetime.fromisoformat(data["at"])
    claimed = datetime.fromisoformat(data["claimed_at"])
    until = datetime.fromisoformat(data["until"]) if data.get("until") else None
    staying = [mrkdwn_escape(await ctx.user_name(p) or p) for p in data.get("staying", [])]
    arriving = ", ".join([*(f"<@{p}>" for p in data["arriving"]), *staying])

    lines = [t("rota.shifts.handoff.title", time=clock_text(changed, tz))]
    if claimed - changed > LATE_AFTER:
        lines.append(t("rota.shifts.handoff.late", minutes=int((claimed - changed).total_seconds() // 60)))
    if not arriving:
        lines.append(t("rota.shifts.handoff.nobody"))
    elif until is None:
        lines.append(t("rota.shifts.handoff.arriving_open_end", people=arriving))
    else:
        lines.append(t("rota.shifts.handoff.arriving", people=arriving, until=moment_text(t, until, tz, changed)))
    if data["leaving"]:
        names = [mrkdwn_escape(await ctx.user_name(p) or p) for p in data["leaving"]]
        lines.append(t("rota.shifts.handoff.leaving", names=", ".join(names)))
    header = "\n".join(lines)

    (escalated_count, escalated), (urgent_count, urgent), (unclaimed_count, unclaimed) = await _open_cards(rota)
    sections = [
        (t("rota.shifts.handoff.escalated", count=escalated_count), escalated_count, escalated),
        (
            t("rota.shifts.handoff.deadline", minutes=config.response_target_minutes, count=urgent_count),
            urgent_count,
            urgent,
        ),
        (t("rota.shifts.handoff.unclaimed", count=unclaimed_count), unclaimed_count, unclaimed),
    ]
    blocks: list[dict[str, Any]] = [_section(header)]
    for title, count, listed in sections:
        if listed:
            body = [title] + [await _line(rota, job, c) for c in listed]
            if count > len(listed):
                body.append(t("rota.shifts.handoff.more", count=count - len(listed)))
            blocks += _sections(body)
    if len(blocks) == 1:
        blocks.append(_section(t("rota.shifts.handoff.nothing_open")))
    # The text is the notification (and what screen readers get): it carries the mentions.
    await job.post(channel=job.channel or rota.channel, text=clip_mrkdwn(header, SECTION_LIMIT), blocks=blocks)


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    """``lines`` in as few sections as Slack's 3,000 characters per section allow (40 links do not fit one)."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        if chunks[-1] and len("\n".join([*chunks[-1], line])) > SECTION_LIMIT:
            chunks.append([])
        chunks[-1].append(line)
    return [_section("\n".join(chunk)) for chunk in chunks]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_LIMIT)}}


async def _line(rota: Rota, job: PluginJob, card: _Open) -> str:
    t = rota.ctx.t
    # A link Slack refused (None) or an unsafe one shows the escaped label alone.
    shown = link(await job.permalink(card.channel, card.ts), card.label, label_limit=LABEL_LIMIT)
    notes = []
    if card.left is not None and card.left <= rota.config.near_deadline_minutes * 60:
        minutes = int(abs(card.left) // 60)
        notes.append(
            t("rota.shifts.handoff.overdue" if card.left < 0 else "rota.shifts.handoff.due_in", minutes=minutes)
        )
    notes.append(
        t("rota.shifts.handoff.owner", owner=f"<@{card.assignee}>")
        if card.assignee
        else t("rota.shifts.handoff.no_owner")
    )
    return f"• {shown} · " + " · ".join(notes)


def _due_by(hours: ServiceHours, now: datetime, seconds: float) -> datetime:
    """The latest creation time of a card that has had ``seconds`` of service time by ``now``.

    Service time shrinks as the creation time moves later, so the cards with at least that
    much are exactly those created at or before this instant: one condition in SQL instead of
    the service time of every open card in Python. A card older than :data:`DUE_LOOKBACK` counts
    as having had it (only hours of a few minutes a week could make that wrong).
    """
    if seconds <= 0:
        return now
    if not hours.configured:
        return now - timedelta(seconds=seconds)
    left = seconds
    for begin, end in reversed(list(hours.periods(now - DUE_LOOKBACK, now))):
        span = (end - begin).total_seconds()
        if span >= left:
            return end - timedelta(seconds=left)
        left -= span
    return now - DUE_LOOKBACK


async def _open_cards(rota: Rota) -> list[tuple[int, list[_Open]]]:
    """Escalated, near-deadline and unclaimed open cards: how many of each, and the oldest of each to list.

    Counted and read in the database, each section on its own, so a backlog of thousands of
    open cards neither hides a new escalation nor makes the counts wrong, and at most
    ``handoff_list_limit`` rows per section are read.
    """
    config, now = rota.config, rota.now()
    target = config.response_target_minutes * 60
    due_by = _due_by(rota.hours, now, target - config.near_deadline_minutes * 60)
    is_open = sa.and_(Conversation.status.in_(OPEN_STATUSES), Conversation.slack_ts.is_not(None))
    not_escalated = Conversation.escalated_at.is_(None)
    urgent = sa.and_(Conversation.first_response_at.is_(None), Conversation.created_at <= due_by)
    conditions = (
        sa.and_(is_open, Conversation.escalated_at.is_not(None)),
        sa.and_(is_open, not_escalated, urgent),
        sa.and_(is_open, not_escalated, Conversation.assignee.is_(None), sa.not_(urgent)),
    )
    # One pass over the open conversations counts all three sections.
    counting = sa.select(*(sa.func.count(sa.case((condition, 1))) for condition in conditions))
    found: list[list[Any]] = []
    async with rota.ctx.db.read() as session:
        counts = (await session.execute(counting.where(is_open))).one()
        for condition in conditions:
            rows = (
                await session.execute(
                    sa.select(
                        Conversation.id,
                        Conversation.source,
                        Conversation.channel_name,
                        Conversation.context_text,
                        Conversation.assignee,
                        Conversation.escalated_at,
                        Conversation.first_response_at,
                        Conversation.created_at,
                        Conversation.slack_channel,
                        Conversation.slack_ts,
                    )
                    .where(condition)
                    .order_by(Conversation.created_at, Conversation.id)
                    .limit(config.handoff_list_limit)
                )
            ).all()
            found.append(list(rows))
    return [
        (int(count), [_open(rota, row, now, target) for row in rows]) for count, rows in zip(counts, found, strict=True)
    ]


def _open(rota: Rota, row: Any, now: datetime, target: int) -> _Open:
    """A conversation row as the hand-off lists it."""
    left = None
    if row.first_response_at is None:
        # Service time: a card that came in at night is not overdue at 08:01.
        left = target - rota.hours.service_seconds(row.created_at, now)
    label_parts = [rota.ctx.source_name(row.source)]
    if row.channel_name:
        label_parts.append(row.channel_name)
    if row.context_text:
        label_parts.append(one_line(row.context_text, LABEL_LIMIT))
    return _Open(
        id=row.id,
        channel=row.slack_channel or rota.ctx.channels.inbox,
        ts=row.slack_ts,
        label=" · ".join(label_parts),
        assignee=row.assignee,
        escalated=row.escalated_at is not None,
        left=left,
    )
