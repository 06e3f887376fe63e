"""The delivery worker: turns outbox rows into Slack posts and platform answers.

Each row is leased with one conditional UPDATE, so several replicas can share
the outbox without doing a row twice. ``chat.postMessage`` is paced per channel
(Slack allows about one a second), a 429 pauses what it concerns for its
``Retry-After``, other failures back off exponentially, and nothing is lost on a
restart: a row is marked done only after its effect is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from chatops import store as kinds
from chatops.cards import CardData, load_card, load_message
from chatops.db import DatabaseUnavailable
from chatops.models import Conversation, Delivery, Direction, Escalation, OutboxJob, OutboxStatus, utcnow
from chatops.outbox import MINIMAL, RETRIED
from chatops.slack.card import render_minimal_card
from chatops.slack.escape import mrkdwn_escape, one_line
from chatops.slack.posting import PostInDoubt
from chatops.sources import Answer, SendError

if TYPE_CHECKING:
    from chatops.app import ChatOps

log = logging.getLogger(__name__)

#: Jobs that call chat.postMessage and so count against the per-channel pace.
POSTING_KINDS = {kinds.POST_CARD, kinds.POST_THREAD, kinds.POST_ESCALATION, kinds.POST_ALERT}
BATCH = 50
#: Jobs that draw a card: when Slack refuses the card itself, they try once more with the minimal card.
CARD_KINDS = {kinds.POST_CARD, kinds.UPDATE_CARD}
#: Slack's answers that refuse the message itself: sending the same content again cannot succeed.
REFUSED_CONTENT = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "invalid_metadata",
        "invalid_attachments",
        "too_many_attachments",
        "no_text",
    }
)
#: Plugin name and key prefix of the ops alert raised when a customer message cannot be shown.
ALERT_PLUGIN = "chatops"


class Deferred(Exception):
    """The job cannot run yet (its card is not posted); try again shortly without counting an attempt."""

    def __init__(self, delay: float = 0.25) -> None:
        super().__init__(f"deferred {delay}s")
        self.delay = delay


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


class DeliveryWorker:
    """Runs outbox jobs until stopped; ``wake()`` makes it look at once."""

    def __init__(self, app: ChatOps) -> None:
        self.app = app
        self.worker_id = f"{app.instance_id}-{uuid.uuid4().hex[:6]}"
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Monotonic time before which nothing more may be posted to a channel.
        self._channel_ready_at: dict[str, float] = {}
        self._method_ready_at: dict[str, float] = {}
        self._handlers = {
            kinds.POST_CARD: self._post_card,
            kinds.UPDATE_CARD: self._update_card,
            kinds.POST_THREAD: self._post_thread,
            kinds.SEND_ANSWER: self._send_answer,
            kinds.SET_HIDDEN: self._set_hidden,
            kinds.POST_ESCALATION: self._post_escalation,
            kinds.POST_ALERT: self._post_alert,
        }

    # -- lifecycle -------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now (called after a transaction queued some)."""
        self._wakeup.set()

    def start(self) -> None:
        """Start the worker loop as a task on the running loop."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="chatops-delivery")

    async def stop(self) -> None:
        """Finish the job in hand and stop."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        poll = self.app.settings.delivery.poll_interval_seconds
        database_down = False
        while not self._stopping:
            self._wakeup.clear()
            try:
                wait = await self.run_once()
            except DatabaseUnavailable as exc:
                # One line per outage, not a traceback every poll; the rows wait in the outbox.
                if not database_down:
                    log.warning("delivery paused: the database is unavailable (%s); retrying", exc.reason)
                database_down = True
                wait = poll
            except Exception:
                log.exception("delivery pass failed; retrying")
                wait = poll
            else:
                if database_down:
                    log.info("delivery resumed: the database is back")
                database_down = False
            timeout = poll if wait is None else max(0.01, min(wait, poll))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    # -- one pass ------------------------------------------------------------------

    async def run_once(self) -> float | None:
        """Do every job that is due and allowed now; return seconds until a paced job may run."""
        soonest: float | None = None
        for job in await self._due_jobs():
            if self._stopping:
                break
            wait = self._pace_wait(job)
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            if not await self._lease(job):
                continue
            await self._process(job)
        return soonest

    async def _due_jobs(self) -> list[DueJob]:
        """Due jobs: card updates and platform answers first, then posts in queue order.

        Two queries, so that a burst of new cards waiting for their channel's pace never
        fills the batch and holds up a claim's card update or a customer's reply.
        """
        now = utcnow()
        jobs: list[DueJob] = []
        async with self.app.db.read() as session:
            for posting in (False, True):
                kind_filter = OutboxJob.kind.in_(POSTING_KINDS)
                rows = await session.execute(
                    select(OutboxJob, Conversation.source, Conversation.slack_channel, Conversation.slack_ts)
                    .outerjoin(Conversation, Conversation.id == OutboxJob.conversation_id)
                    .where(
                        OutboxJob.status == OutboxStatus.PENDING.value,
                        OutboxJob.due_at <= now,
                        or_(OutboxJob.lease_until.is_(None), OutboxJob.lease_until < now),
                        kind_filter if posting else ~kind_filter,
                    )
                    .order_by(OutboxJob.id)
                    .limit(BATCH)
                )
                jobs.extend(
                    DueJob(
                        j.id, j.kind, j.conversation_id, j.message_id, dict(j.payload or {}), j.attempts, src, ch, ts
                    )
                    for j, src, ch, ts in rows.all()
                )
        return jobs

    def _target_channel(self, job: DueJob) -> str | None:
        if job.kind == kinds.POST_CARD:
            return self.app.inbox_channel(job.source or "")
        if job.kind == kinds.POST_THREAD:
            return job.slack_channel
        if job.kind == kinds.POST_ESCALATION:
            return self.app.settings.slack.escalation_channel or job.slack_channel
        if job.kind == kinds.POST_ALERT:
            return self.app.settings.slack.ops_channel or self.app.settings.slack.inbox_channel
        return None

    def _pace_wait(self, job: DueJob) -> float:
        now = time.monotonic()
        if job.kind in POSTING_KINDS:
            channel = self._target_channel(job)
            return self._channel_ready_at.get(channel, 0.0) - now if channel else 0.0
        if job.kind == kinds.UPDATE_CARD:
            return self._method_ready_at.get("chat.update", 0.0) - now
        return 0.0  # platform answers do not wait on Slack's limits

    def _posted(self, channel: str) -> None:
        self._channel_ready_at[channel] = time.monotonic() + self.app.settings.slack.post_interval_seconds

    async def _post(self, job: DueJob, **args: Any) -> dict[str, str]:
        """``chat.postMessage`` for ``job``, at most one message per job (see ``chatops.slack.posting``)."""
        try:
            return await self.app.poster.post(job.id, **args)
        except PostInDoubt as doubt:
            # Slack may have posted it: wait for its event rather than post a duplicate.
            raise Deferred(doubt.delay) from doubt

    async def _lease(self, job: DueJob) -> bool:
        now = utcnow()
        lease = timedelta(seconds=self.app.settings.delivery.lease_seconds)
        conditions = [
            OutboxJob.id == job.id,
            OutboxJob.status == OutboxStatus.PENDING.value,
            or_(OutboxJob.lease_until.is_(None), OutboxJob.lease_until < now),
        ]
        if job.kind == kinds.UPDATE_CARD:
            # One card update at a time per card: two replicas rendering in parallel could
            # otherwise finish in the wrong order and leave the older state on the card.
            other = aliased(OutboxJob)
            conditions.append(
                ~exists().where(
                    other.kind == kinds.UPDATE_CARD,
                    other.conversation_id == job.conversation_id,
                    other.id != job.id,
                    other.lease_until >= now,
                )
            )
        async with self.app.db.write() as session:
            result = await session.execute(
                update(OutboxJob).where(*conditions).values(leased_by=self.worker_id, lease_until=now + lease)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    async def _settle(
        self,
        job_id: int,
        *,
        status: OutboxStatus | None = None,
        delay: float = 0.0,
        attempt: bool = False,
        error: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"leased_by": None, "lease_until": None}
        if payload is not None:
            values["payload"] = payload
        if status is not None:
            values["status"] = status.value
            if status is OutboxStatus.DONE:
                values["done_at"] = utcnow()
        if delay:
            values["due_at"] = utcnow() + timedelta(seconds=delay)
        if attempt:
            values["attempts"] = OutboxJob.attempts + 1
        if error is not None:
            values["last_error"] = error[:2000]
        async with self.app.db.write() as session:
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.leased_by == self.worker_id).values(**values)
            )

    def _backoff(self, attempts: int) -> float:
        cfg = self.app.settings.delivery
        delay = min(cfg.backoff_base_seconds * (2 ** max(attempts - 1, 0)), cfg.backoff_max_seconds)
        return delay * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not security

    async def _process(self, job: DueJob) -> None:
        handler = self._handlers.get(job.kind)
        if handler is None:
            await self._settle(job.id, status=OutboxStatus.DEAD, error=f"unknown job kind {job.kind}")
            return
        try:
            await handler(job)
        except Deferred as deferred:
            await self._settle(job.id, delay=deferred.delay)
        except _Reschedule as again:
            if job.attempts == 0:
                log.warning("%s failed: %s; retrying in %.1fs", _describe(job), again.error, again.delay)
            await self._settle(job.id, delay=again.delay, attempt=True, error=again.error)
        except DatabaseUnavailable:
            # The outage, not the job, failed: no attempt counted and no traceback. The pass
            # stops here (the caller logs the outage once); if even this settle cannot be
            # written, the lease runs out and the job is picked up again after it.
            with contextlib.suppress(DatabaseUnavailable):
                await self._settle(job.id, delay=self.app.settings.delivery.poll_interval_seconds)
            raise
        except _GivenUp as exc:
            # Recorded where people see it (the card shows the failure and a Retry button); the
            # job itself is finished, and the log says it failed rather than "recovered".
            log.warning(
                "%s gave up after %d attempt(s): %s; the card shows the failure",
                _describe(job),
                job.attempts + 1,
                exc.error,
            )
            await self._settle(job.id, status=OutboxStatus.DONE, attempt=True, error=exc.error)
        except _Unrenderable as exc:
            log.warning("%s: the card could not be drawn: %s", _describe(job), exc.error, exc_info=exc.__cause__)
            await self._refused(job, exc.error)
        except SlackApiError as exc:
            await self._slack_failure(job, exc)
        except Exception as exc:
            log.exception("%s failed", _describe(job))
            await self._failure(job, f"{type(exc).__name__}: {exc}")
        else:
            await self._settle(job.id, status=OutboxStatus.DONE)
            await self._succeeded(job)

    async def _succeeded(self, job: DueJob) -> None:
        """Say when a job that had failed went through, and clear the alert a give-up raised."""
        if job.attempts > 0:
            log.warning("%s recovered: done after %d failed attempt(s)", _describe(job), job.attempts)
        if (job.attempts > 0 or job.payload.get(RETRIED)) and (key := _alert_key(job)) is not None:
            try:
                await self.app.alerts.clear(ALERT_PLUGIN, key)
            except Exception:  # the job is done; a stale alert is not worth failing the pass for
                log.exception("%s: could not clear its alert", _describe(job))

    async def _slack_failure(self, job: DueJob, exc: SlackApiError) -> None:
        response = exc.response
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
            until = time.monotonic() + retry_after
            channel = self._target_channel(job)
            if job.kind in POSTING_KINDS and channel:
                self._channel_ready_at[channel] = max(self._channel_ready_at.get(channel, 0.0), until)
            else:
                self._method_ready_at["chat.update"] = until
            log.info("Slack rate limit on job %s: waiting %.1fs", job.id, retry_after)
            await self._settle(job.id, delay=retry_after)
            return
        code = response.get("error", response.status_code)
        if job.kind in CARD_KINDS and code in REFUSED_CONTENT:
            log.warning("%s: Slack refused the card: %s", _describe(job), code)
            await self._refused(job, f"Slack: {code}")
            return
        await self._failure(job, f"Slack: {code}")

    async def _failure(self, job: DueJob, error: str) -> None:
        attempts = job.attempts + 1
        if attempts >= self.app.settings.delivery.max_attempts:
            await self._give_up(job, attempts, error)
            return
        delay = self._backoff(attempts)
        # The first failure is worth a look (a wrong channel fails every attempt); later ones are expected.
        level = logging.WARNING if attempts == 1 else logging.INFO
        log.log(
            level,
            "%s failed (attempt %d of %d): %s; retrying in %.1fs",
            _describe(job),
            attempts,
            self.app.settings.delivery.max_attempts,
            error,
            delay,
        )
        await self._settle(job.id, delay=delay, attempt=True, error=error)

    async def _refused(self, job: DueJob, error: str) -> None:
        """A card that can never be shown as drawn: retry once, at once, with the minimal card; then give up."""
        if job.kind in CARD_KINDS and not job.payload.get(MINIMAL):
            log.warning("%s: trying once more with the minimal card", _describe(job))
            await self._settle(job.id, attempt=True, error=error, payload={**job.payload, MINIMAL: True})
            self.wake()
            return
        await self._give_up(job, job.attempts + 1, error)

    async def _give_up(self, job: DueJob, attempts: int, error: str) -> None:
        log.error("%s gave up after %d attempts: %s", _describe(job), attempts, error)
        await self._settle(job.id, status=OutboxStatus.DEAD, attempt=True, error=error)
        if job.kind == kinds.SEND_ANSWER and job.message_id is not None:
            # The answer must not stay "being sent" for ever: show the failure and a Retry button.
            await self.app.store.record_answer_error(job.message_id, error, final=True, only_if_open=True)
        try:
            await self._alert_unseen(job, error)
        except Exception:  # the alert is a courtesy on top of the log line; never fail the worker for it
            log.exception("%s: could not raise the ops alert", _describe(job))

    async def _alert_unseen(self, job: DueJob, error: str) -> None:
        """Tell the ops channel that a customer message is not (or no longer correctly) shown in Slack."""
        key = _alert_key(job)
        if key is None or job.conversation_id is None:
            return
        card = await load_card(self.app.db, job.conversation_id)
        if card is None:
            return
        message = card.root
        if job.kind == kinds.POST_THREAD and job.message_id is not None:
            found = await load_message(self.app.db, job.message_id)
            if found is None or found.direction != Direction.INBOUND.value:
                return  # the team's own answers are not customer messages going unseen
            message = found
        text_key = "alert.card_stale" if job.kind == kinds.UPDATE_CARD else "alert.card_missing"
        problem = self.app.t(
            text_key,
            conversation=card.conversation_id,
            error=one_line(error, 200),
            source=self.app.card_context(None, card.source).source_name,
            author=one_line(message.author_name or message.author_handle or message.author_id or "?", 100),
            quote=one_line(message.text, 120),
            job=job.id,
        )
        await self.app.alerts.raise_once(ALERT_PLUGIN, key, problem)

    async def _card_message(self, card: CardData, *, minimal: bool) -> dict[str, Any]:
        """The card's message: the full card with plugins' decorations, or the minimal one."""
        try:
            if minimal:
                return render_minimal_card(card, self.app.card_context(card, card.source))
            return await self.app.render_card(card)
        except Exception as exc:
            # A value that breaks drawing breaks it on every attempt: not worth the backoff.
            raise _Unrenderable(f"{type(exc).__name__}: {exc}") from exc

    # -- job kinds -----------------------------------------------------------------

    async def _post_card(self, job: DueJob) -> None:
        assert job.conversation_id is not None
        card = await load_card(self.app.db, job.conversation_id)
        if card is None or card.slack_ts:
            return  # already posted: never post a card twice
        channel = self.app.inbox_channel(card.source)
        message = await self._card_message(card, minimal=bool(job.payload.get(MINIMAL)))
        response = await self._post(job, channel=channel, unfurl_links=False, unfurl_media=False, **message)
        self._posted(channel)
        await self.app.store.record_card_posted(card.conversation_id, response["channel"], response["ts"])

    async def _require_card(self, job: DueJob) -> tuple[str, str]:
        if job.slack_channel and job.slack_ts:
            return job.slack_channel, job.slack_ts
        async with self.app.db.read() as session:
            # The job was listed before its card was recorded (a card post that waited for
            # Slack's event finishes late): read where the card is now.
            placed = (
                await session.execute(
                    select(Conversation.slack_channel, Conversation.slack_ts).where(
                        Conversation.id == job.conversation_id
                    )
                )
            ).first()
            if placed is not None and placed.slack_channel and placed.slack_ts:
                return placed.slack_channel, placed.slack_ts
            pending_post = await session.scalar(
                select(OutboxJob.id).where(
                    OutboxJob.conversation_id == job.conversation_id,
                    OutboxJob.kind == kinds.POST_CARD,
                    OutboxJob.status == OutboxStatus.PENDING.value,
                )
            )
        if pending_post is not None:
            raise Deferred()
        raise RuntimeError("the card was never posted")

    async def _update_card(self, job: DueJob) -> None:
        assert job.conversation_id is not None
        if not job.slack_ts:
            try:
                await self._require_card(job)
            except RuntimeError:
                return  # nothing to update; a card posted later renders the latest state
        card = await load_card(self.app.db, job.conversation_id)
        if card is None or not card.slack_ts or not card.slack_channel:
            return
        message = await self._card_message(card, minimal=bool(job.payload.get(MINIMAL)))
        await self.app.slack.chat_update(channel=card.slack_channel, ts=card.slack_ts, **message)

    async def _post_thread(self, job: DueJob) -> None:
        assert job.message_id is not None
        channel, ts = await self._require_card(job)
        message = await load_message(self.app.db, job.message_id)
        note = job.payload.get("note")
        if message is None or (message.slack_ts and note is None):
            return
        body = self.app.render_thread_message(message, job.source or "", note)
        response = await self._post(job, channel=channel, thread_ts=ts, unfurl_links=False, unfurl_media=False, **body)
        self._posted(channel)
        if note is None:
            await self.app.store.record_thread_posted(message.id, response["ts"])

    async def _send_answer(self, job: DueJob) -> None:
        assert job.message_id is not None
        store = self.app.store
        answer, target = await store.answer_target(job.message_id)
        if answer.delivery == Delivery.SENDING.value:
            # An earlier attempt handed it to the platform and never recorded the outcome
            # (a crash, or a lease that ran out): sending again could post it twice.
            await store.record_answer_error(answer.id, self.app.t("answer.unknown_outcome"), final=True)
            return
        if answer.delivery != Delivery.PENDING.value:
            return  # sent already, or failed and waiting for a person
        source = self.app.sources.get(answer.source)
        if source is None:
            await store.record_answer_error(answer.id, f"source {answer.source} is not enabled", final=True)
            return
        outgoing = Answer(answer.id, answer.kind, answer.text, answer.sent_by, await self.app.user_name(answer.sent_by))
        if not await store.begin_sending(answer.id):
            return
        try:
            if answer.kind == "private_reply":
                result = await source.private_reply(target, outgoing)
            else:
                result = await source.reply(target, outgoing)
        except SendError as exc:
            await self._answer_failed(job, answer.id, source.name, exc)
            return
        except Exception as exc:
            log.exception("%s raised while sending answer %s", source.name, answer.id)
            await self._answer_failed(
                job, answer.id, source.name, SendError(f"{type(exc).__name__}: {exc}", retryable=True)
            )
            return
        await store.record_answer_sent(answer.id, result)
        await self.app.alerts.clear(source.name, "token", f"permission:{answer.kind}")

    async def _answer_failed(self, job: DueJob, message_id: int, source: str, exc: SendError) -> None:
        error = str(exc)
        if exc.alert:
            # An admin must act (expired token): keep the answer queued and say so once.
            await self.app.store.record_answer_error(message_id, error, final=False)
            await self.app.alerts.raise_once(source, exc.alert, error)
            raise _Reschedule(self.app.settings.delivery.backoff_max_seconds, error)
        final = not exc.retryable or job.attempts + 1 >= self.app.settings.delivery.max_attempts
        await self.app.store.record_answer_error(message_id, error, final=final)
        if not final:
            raise _Reschedule(exc.retry_after or self._backoff(job.attempts + 1), error)
        raise _GivenUp(error)

    async def _set_hidden(self, job: DueJob) -> None:
        assert job.message_id is not None
        target = await self.app.store.target(job.message_id)
        hidden = bool(job.payload.get("hidden", True))
        actor = str(job.payload.get("requested_by", "system"))
        source = self.app.sources.get(job.source or "")
        if source is None:
            await self.app.store.record_hidden(job.message_id, hidden, actor, f"source {job.source} is not enabled")
            return
        try:
            await source.set_hidden(target, hidden)
        except SendError as exc:
            if exc.alert:
                await self.app.alerts.raise_once(source.name, exc.alert, str(exc))
            elif exc.retryable and job.attempts + 1 < self.app.settings.delivery.max_attempts:
                raise _Reschedule(exc.retry_after or self._backoff(job.attempts + 1), str(exc)) from exc
            await self.app.store.record_hidden(job.message_id, hidden, actor, str(exc))
            raise _GivenUp(str(exc)) from exc
        await self.app.store.record_hidden(job.message_id, hidden, actor, None)
        await self.app.alerts.clear(source.name, "token", "permission:hide")

    async def _post_escalation(self, job: DueJob) -> None:
        assert job.conversation_id is not None
        card_channel, card_ts = await self._require_card(job)
        card = await load_card(self.app.db, job.conversation_id)
        async with self.app.db.read() as session:
            escalation = await session.get_one(Escalation, int(job.payload["escalation_id"]))
        if card is None or escalation.slack_ts:
            return
        permalink = (await self.app.slack.chat_getPermalink(channel=card_channel, message_ts=card_ts)).get("permalink")
        body = self.app.render_escalation(card, escalation.escalated_by, escalation.reason, permalink)
        # Without an escalation channel, the leads are told in the card's thread.
        extra = {} if self.app.settings.slack.escalation_channel else {"thread_ts": card_ts}
        channel = self._target_channel(job) or card_channel
        response = await self._post(job, channel=channel, unfurl_links=False, **extra, **body)
        self._posted(channel)
        await self.app.store.record_escalation_posted(escalation.id, response["channel"], response["ts"])

    async def _post_alert(self, job: DueJob) -> None:
        channel = self._target_channel(job)
        assert channel is not None
        plugin = str(job.payload.get("source", "?"))
        found = self.app.sources.get(plugin)
        text = self.app.t(
            "alert.title",
            source=mrkdwn_escape(found.display_name if found else plugin),
            problem=mrkdwn_escape(str(job.payload.get("problem", ""))),
        )
        await self._post(job, channel=channel, text=text)
        self._posted(channel)


def _describe(job: DueJob) -> str:
    """How log lines name a job: id, kind and what it concerns."""
    about = f", conversation {job.conversation_id}" if job.conversation_id is not None else ""
    return f"outbox job {job.id} ({job.kind}{about})"


def _alert_key(job: DueJob) -> str | None:
    """The ops alert a given-up job raises: one per conversation's card, one per unseen follow-up."""
    if job.kind in CARD_KINDS and job.conversation_id is not None:
        return f"card:{job.conversation_id}"
    if job.kind == kinds.POST_THREAD and job.message_id is not None:
        return f"message:{job.message_id}"
    return None


class _Unrenderable(Exception):
    """Internal: drawing the card raised; the same data would raise again."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _GivenUp(Exception):
    """Internal: the job's failure was recorded for people to act on (a Retry button); nothing to run again."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Reschedule(Exception):
    """Internal: the job's effect was recorded; run the job again after ``delay``."""

    def __init__(self, delay: float, error: str) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error
