"""The card kinds of the outbox: cards, thread posts, answers to customers, hides, escalations, alerts.

Each kind registers its handler in the outbox's :class:`~chatops.outbox.kinds.JobKinds`; the
worker (``chatops.outbox.worker``) leases, paces, retries and gives up. What these handlers
need they receive: the database, the store, alerts, words, the sources, and a
:class:`CardRenderer` that draws Slack messages (nothing here calls back into the app).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from chatops import store as kinds
from chatops.alerts import Alerts
from chatops.cards import CardData, MessageView, load_card, load_message
from chatops.config import Settings
from chatops.db import Database
from chatops.events import BOT_ACTOR_PREFIX
from chatops.i18n import Translator
from chatops.models import Conversation, Delivery, Direction, Escalation, OutboxJob, OutboxStatus
from chatops.observability.metrics import REPLY_FAILED, REPLY_RETRYING, REPLY_SENT, Metrics
from chatops.outbox.admin import MINIMAL
from chatops.outbox.kinds import DueJob, JobKind, JobKinds, JobSlack
from chatops.outbox.worker import (
    Deferred,
    GivenUp,
    Refused,
    Reschedule,
    backoff,
    describe,
)
from chatops.slack.blockkit import MAX_SECTION_TEXT
from chatops.slack.escape import escape_fit, mrkdwn_escape, one_line
from chatops.sources import Answer, SendError, Source
from chatops.store import Store

log = logging.getLogger(__name__)

#: Jobs that draw a card: when Slack refuses the card itself, they try once more with the minimal card.
CARD_KINDS = {kinds.POST_CARD, kinds.UPDATE_CARD}
#: Plugin name and key prefix of the ops alert raised when a customer message cannot be shown.
ALERT_PLUGIN = "chatops"
#: How long a thread post of a gathered conversation waits before looking for its card again.
ROLLED_UP_WAIT_SECONDS = 0.5


class RolledUp(Deferred):
    """The conversation is gathered on a roll-up and has no card yet: wait for the one it is given."""

    def __init__(self) -> None:
        super().__init__(ROLLED_UP_WAIT_SECONDS)


class CardRenderer(Protocol):
    """Draws the Slack messages of the card kinds (``chatops.slack.rendering.SlackCardRenderer``)."""

    async def render_card(self, card: CardData) -> dict[str, Any]:
        """Card arguments for chat.postMessage / chat.update, with plugins' decorations."""
        ...

    def render_minimal(self, card: CardData) -> dict[str, Any]:
        """The minimal card: what is shown when Slack refuses the full one (or drawing it fails)."""
        ...

    def render_thread_message(self, message: MessageView, source: str, note: str | None) -> dict[str, Any]:
        """A thread post under a card."""
        ...

    def render_escalation(self, card: CardData, user: str, reason: str, card_url: str | None) -> dict[str, Any]:
        """The escalation channel post."""
        ...

    def inbox_channel(self, source: str) -> str:
        """The Slack channel where a source's cards go."""
        ...

    def source_name(self, source: str) -> str:
        """How people see a source's name (its display name, or the name itself when not enabled)."""
        ...


class CardDelivery:
    """The handlers of the card kinds; :meth:`register` puts them into the outbox's registry."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        store: Store,
        alerts: Alerts,
        t: Translator,
        renderer: CardRenderer,
        sources: Mapping[str, Source],
        user_name: Callable[[str | None], Awaitable[str | None]],
        *,
        metrics: Metrics | None = None,
        card_channel: Callable[[str], str] | None = None,
        card_channel_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        self.settings = settings
        #: Where a new card goes, given its source's inbox channel (the overflow channels choose; default: there).
        self.choose_card_channel = card_channel or (lambda inbox: inbox)
        #: Told (channel, Slack's error) when a new card's post is refused, so that the choice can avoid that channel.
        self.card_channel_refused = card_channel_refused or (lambda channel, error: None)
        #: Counts cards posted and answers sent or failed (a registry of its own when not given).
        self.metrics = metrics or Metrics()
        self.db = db
        self.store = store
        self.alerts = alerts
        self.t = t
        self.renderer = renderer
        self.sources = sources
        self.user_name = user_name

    def register(self, registry: JobKinds) -> None:
        """Register the card kinds."""
        ends: dict[str, Any] = {"on_give_up": self._give_up, "on_recovered": self._recovered, "log": log}
        for kind in (
            JobKind(kinds.POST_CARD, self._post_card, channel=self._card_channel, fallback=True, **ends),
            JobKind(
                kinds.UPDATE_CARD,
                self._update_card,
                method="chat.update",
                fallback=True,
                one_per_conversation=True,
                **ends,
            ),
            JobKind(kinds.POST_THREAD, self._post_thread, channel=self._thread_channel, **ends),
            JobKind(kinds.POST_NOTE, self._post_note, channel=self._thread_channel, **ends),
            JobKind(kinds.SEND_ANSWER, self._send_answer, **ends),
            JobKind(kinds.SET_HIDDEN, self._set_hidden, **ends),
            JobKind(kinds.POST_ESCALATION, self._post_escalation, channel=self._escalation_channel, **ends),
            JobKind(kinds.POST_ALERT, self._post_alert, channel=self._alert_channel, **ends),
        ):
            registry.register(kind)

    # -- where each kind posts -------------------------------------------------------

    def _card_channel(self, job: DueJob) -> str | None:
        # Asked for the pace and again for the post, with nothing posted between: the same answer.
        return self.choose_card_channel(self.renderer.inbox_channel(job.source or ""))

    def _thread_channel(self, job: DueJob) -> str | None:
        return job.slack_channel

    def _escalation_channel(self, job: DueJob) -> str | None:
        return self.settings.slack.escalation_channel or job.slack_channel

    def _alert_channel(self, job: DueJob) -> str | None:
        return self.settings.slack.ops_channel or self.settings.slack.inbox_channel

    # -- the end of a job ------------------------------------------------------------

    async def _recovered(self, job: DueJob) -> None:
        """A job that had failed (or was put back) went through: clear the alert its giving up raised."""
        if (key := _alert_key(job)) is not None:
            await self.alerts.clear(ALERT_PLUGIN, key)

    async def _give_up(self, job: DueJob, error: str) -> None:
        if job.kind == kinds.SEND_ANSWER and job.message_id is not None:
            # The answer must not stay "being sent" for ever: show the failure and a Retry button.
            await self.store.record_answer_error(job.message_id, error, final=True, only_if_open=True)
            self.metrics.reply(job.source or "unknown", REPLY_FAILED)
        try:
            await self._alert_unseen(job, error)
        except Exception:  # the alert is a courtesy on top of the log line; never fail the worker for it
            log.exception("%s: could not raise the ops alert", describe(job))

    async def _alert_unseen(self, job: DueJob, error: str) -> None:
        """Tell the ops channel that a customer message is not (or no longer correctly) shown in Slack."""
        key = _alert_key(job)
        if key is None or job.conversation_id is None:
            return
        card = await load_card(self.db, job.conversation_id)
        if card is None:
            return
        message = card.root
        if job.kind == kinds.POST_THREAD and job.message_id is not None:
            found = await load_message(self.db, job.message_id)
            if found is None or found.direction != Direction.INBOUND.value:
                return  # the team's own answers are not customer messages going unseen
            message = found
        text_key = "alert.card_stale" if job.kind == kinds.UPDATE_CARD else "alert.card_missing"
        problem = self.t(
            text_key,
            conversation=card.conversation_id,
            error=one_line(error, 200),
            source=self.renderer.source_name(card.source),
            author=one_line(message.author_name or message.author_handle or message.author_id or "?", 100),
            quote=one_line(message.text, 120),
            job=job.id,
        )
        await self.alerts.raise_once(ALERT_PLUGIN, key, problem)

    async def _card_message(self, card: CardData, *, minimal: bool) -> dict[str, Any]:
        """The card's message: the full card with plugins' decorations, or the minimal one."""
        try:
            if minimal:
                return self.renderer.render_minimal(card)
            return await self.renderer.render_card(card)
        except Exception as exc:
            # A value that breaks drawing breaks it on every attempt: not worth the backoff.
            raise Refused(f"{type(exc).__name__}: {exc}") from exc

    # -- job kinds -----------------------------------------------------------------

    async def _post_card(self, job: DueJob, slack: JobSlack) -> None:
        assert job.conversation_id is not None
        card = await load_card(self.db, job.conversation_id)
        if card is None or card.slack_ts:
            return  # already posted: never post a card twice
        channel = self.choose_card_channel(self.renderer.inbox_channel(card.source))
        message = await self._card_message(card, minimal=bool(job.payload.get(MINIMAL)))
        try:
            response = await slack.post(channel=channel, unfurl_links=False, unfurl_media=False, **message)
        except SlackApiError as exc:
            self.card_channel_refused(channel, str(exc.response.get("error", "")))
            raise
        await self.store.record_card_posted(card.conversation_id, response["channel"], response["ts"])
        self.metrics.card_posted(card.source)

    async def _require_card(self, job: DueJob) -> tuple[str, str]:
        if job.slack_channel and job.slack_ts:
            return job.slack_channel, job.slack_ts
        async with self.db.read() as session:
            # The job was listed before its card was recorded (a card post that waited for
            # Slack's event finishes late): read where the card is now.
            placed = (
                await session.execute(
                    select(Conversation.slack_channel, Conversation.slack_ts, Conversation.rollup_id).where(
                        Conversation.id == job.conversation_id
                    )
                )
            ).first()
            if placed is not None and placed.slack_channel and placed.slack_ts:
                return placed.slack_channel, placed.slack_ts
            if placed is not None and placed.rollup_id is not None:
                # Gathered on a roll-up card during a flood: the roll-ups' watch gives it a card
                # of its own because this job waits for one (chatops.rollups.detect).
                raise RolledUp()
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

    async def _update_card(self, job: DueJob, slack: JobSlack) -> None:
        assert job.conversation_id is not None
        if not job.slack_ts:
            try:
                await self._require_card(job)
            except (RuntimeError, RolledUp):
                return  # nothing to update; a card posted later renders the latest state
        card = await load_card(self.db, job.conversation_id)
        if card is None or not card.slack_ts or not card.slack_channel:
            return
        message = await self._card_message(card, minimal=bool(job.payload.get(MINIMAL)))
        await slack.client.chat_update(channel=card.slack_channel, ts=card.slack_ts, **message)

    async def _post_thread(self, job: DueJob, slack: JobSlack) -> None:
        assert job.message_id is not None
        channel, ts = await self._require_card(job)
        message = await load_message(self.db, job.message_id)
        note = job.payload.get("note")
        if message is None or (message.slack_ts and note is None):
            return
        body = self.renderer.render_thread_message(message, job.source or "", note)
        response = await slack.post(channel=channel, thread_ts=ts, unfurl_links=False, unfurl_media=False, **body)
        if note is None:
            await self.store.record_thread_posted(message.id, response["ts"])

    async def _post_note(self, job: DueJob, slack: JobSlack) -> None:
        """A plugin's note in the card's thread (``ctx.conversations.note``), escaped like customer text."""
        channel, ts = await self._require_card(job)
        plugin = str(job.payload.get("actor", "")).removeprefix(BOT_ACTOR_PREFIX)
        text = self.t("note.from_plugin", plugin=mrkdwn_escape(plugin), text="{text}")
        room = MAX_SECTION_TEXT - len(text)
        body = text.replace("{text}", escape_fit(str(job.payload.get("text", "")), room).text)
        await slack.post(
            channel=channel,
            thread_ts=ts,
            text=body,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": body}}],
            unfurl_links=False,
            unfurl_media=False,
        )

    async def _send_answer(self, job: DueJob, slack: JobSlack) -> None:
        assert job.message_id is not None
        store = self.store
        answer, target = await store.answer_target(job.message_id)
        if answer.delivery == Delivery.SENDING.value:
            # An earlier attempt handed it to the platform and never recorded the outcome
            # (a crash, or a lease that ran out): sending again could post it twice.
            await store.record_answer_error(answer.id, self.t("answer.unknown_outcome"), final=True)
            self.metrics.reply(answer.source, REPLY_FAILED)
            return
        if answer.delivery != Delivery.PENDING.value:
            return  # sent already, or failed and waiting for a person
        source = self.sources.get(answer.source)
        if source is None:
            await store.record_answer_error(answer.id, f"source {answer.source} is not enabled", final=True)
            self.metrics.reply(answer.source, REPLY_FAILED)
            return
        outgoing = Answer(answer.id, answer.kind, answer.text, answer.sent_by, await self.user_name(answer.sent_by))
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
        self.metrics.reply(source.name, REPLY_SENT)
        await self.alerts.clear(source.name, "token", f"permission:{answer.kind}")

    async def _answer_failed(self, job: DueJob, message_id: int, source: str, exc: SendError) -> None:
        error = str(exc)
        delivery = self.settings.delivery
        if exc.alert:
            # An admin must act (expired token): keep the answer queued and say so once.
            await self.store.record_answer_error(message_id, error, final=False)
            await self.alerts.raise_once(source, exc.alert, error)
            self.metrics.reply(source, REPLY_RETRYING)
            raise Reschedule(delivery.backoff_max_seconds, error)
        final = not exc.retryable or job.attempts + 1 >= delivery.max_attempts
        await self.store.record_answer_error(message_id, error, final=final)
        self.metrics.reply(source, REPLY_FAILED if final else REPLY_RETRYING)
        if not final:
            raise Reschedule(exc.retry_after or backoff(delivery, job.attempts + 1), error)
        raise GivenUp(error)

    async def _set_hidden(self, job: DueJob, slack: JobSlack) -> None:
        assert job.message_id is not None
        target = await self.store.target(job.message_id)
        hidden = bool(job.payload.get("hidden", True))
        actor = str(job.payload.get("requested_by", "system"))
        source = self.sources.get(job.source or "")
        if source is None:
            await self.store.record_hidden(job.message_id, hidden, actor, f"source {job.source} is not enabled")
            return
        delivery = self.settings.delivery
        try:
            await source.set_hidden(target, hidden)
        except SendError as exc:
            if exc.alert:
                await self.alerts.raise_once(source.name, exc.alert, str(exc))
            elif exc.retryable and job.attempts + 1 < delivery.max_attempts:
                raise Reschedule(exc.retry_after or backoff(delivery, job.attempts + 1), str(exc)) from exc
            await self.store.record_hidden(job.message_id, hidden, actor, str(exc))
            raise GivenUp(str(exc)) from exc
        await self.store.record_hidden(job.message_id, hidden, actor, None)
        await self.alerts.clear(source.name, "token", "permission:hide")

    async def _post_escalation(self, job: DueJob, slack: JobSlack) -> None:
        assert job.conversation_id is not None
        card_channel, card_ts = await self._require_card(job)
        card = await load_card(self.db, job.conversation_id)
        async with self.db.read() as session:
            escalation = await session.get_one(Escalation, int(job.payload["escalation_id"]))
        if card is None or escalation.slack_ts:
            return
        permalink = (await slack.client.chat_getPermalink(channel=card_channel, message_ts=card_ts)).get("permalink")
        body = self.renderer.render_escalation(card, escalation.escalated_by, escalation.reason, permalink)
        # Without an escalation channel, the leads are told in the card's thread.
        extra = {} if self.settings.slack.escalation_channel else {"thread_ts": card_ts}
        channel = self._escalation_channel(job) or card_channel
        response = await slack.post(channel=channel, unfurl_links=False, **extra, **body)
        await self.store.record_escalation_posted(escalation.id, response["channel"], response["ts"])

    async def _post_alert(self, job: DueJob, slack: JobSlack) -> None:
        channel = self._alert_channel(job)
        assert channel is not None
        plugin = str(job.payload.get("source", "?"))
        text = self.t(
            "alert.title",
            source=mrkdwn_escape(self.renderer.source_name(plugin)),
            problem=mrkdwn_escape(str(job.payload.get("problem", ""))),
        )
        await slack.post(channel=channel, text=text)


def _alert_key(job: DueJob) -> str | None:
    """The ops alert a given-up job raises: one per conversation's card, one per unseen follow-up."""
    if job.kind in CARD_KINDS and job.conversation_id is not None:
        return f"card:{job.conversation_id}"
    if job.kind == kinds.POST_THREAD and job.message_id is not None:
        return f"message:{job.message_id}"
    return None


__all__ = ["ALERT_PLUGIN", "CARD_KINDS", "CardDelivery", "CardRenderer", "DueJob"]
