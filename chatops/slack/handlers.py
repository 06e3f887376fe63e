"""Bolt listeners for the card's buttons and modals.

Each listener acknowledges first (Slack allows 3 seconds, and a ``trigger_id``
lives just as long), then does its work: a database change and an outbox row. Calls
to the platforms never happen here; the delivery worker makes them.

Every click and every accepted modal submission acts once: a replay of the same signed
request (or the same one arriving at two replicas at once) is acknowledged the same
way and does nothing more (see ``chatops.slack.replays``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.interception import CheckFailed, ReplyDraft, ReplyInterceptors, VetoedReply
from chatops.slack import modals
from chatops.slack.button_values import row_id
from chatops.slack.card import ACTION_PREFIX
from chatops.slack.replays import ReplayGuard, click_key, view_key
from chatops.workflow import Outcome

if TYPE_CHECKING:
    from chatops.db import Database
    from chatops.i18n import Translator
    from chatops.sources import Source
    from chatops.workflow import Workflow

log = logging.getLogger(__name__)

Body = dict[str, Any]

#: How many clicks' work (after their ack) runs at once. Fifty clicks' transactions running
#: together kept the event loop so busy that the next clicks' acks waited behind them (p99
#: 3.4× a bare Bolt app's); the database does them one or a few at a time anyway. Under a
#: stream of clicks the slots are never idle, so each slot is a share of the loop taken from
#: the acks: 4 gave a PostgreSQL p99 of 1.46–1.54× bare Bolt, 2 gave 1.33–1.37×, 1 no better
#: (benchmarks/acks.py, two runs each); 2 still finishes a person's click in tens of ms.
POST_ACK_SLOTS = 2
#: Seconds stopping waits for clicks already acked whose work has not run yet (see PostAckWork.drain).
POST_ACK_DRAIN_SECONDS = 10.0


class PostAckWork:
    """Clicks acknowledged whose work has not finished: run a few at a time, waited for when the bot stops.

    A click is acked before its work runs; with the work queued behind :data:`POST_ACK_SLOTS`,
    dozens can be waiting when a deploy stops the process. Slack will not send them again (they
    were acked) and the person was told nothing, so stopping waits for them first.
    """

    def __init__(self, slots: int = POST_ACK_SLOTS) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._in_hand = 0
        self._none_in_hand = asyncio.Event()
        self._none_in_hand.set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and hold it for the block; counted as in hand from the moment of asking."""
        self._in_hand += 1
        self._none_in_hand.clear()
        try:
            async with self._slots:
                yield
        finally:
            self._in_hand -= 1
            if not self._in_hand:
                self._none_in_hand.set()

    async def drain(self) -> None:
        """Wait (at most :data:`POST_ACK_DRAIN_SECONDS`) until every click in hand has done its work."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POST_ACK_DRAIN_SECONDS):
                await self._none_in_hand.wait()


def _action(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(ACTION_PREFIX + name)}(:.*)?$")


def register_card_handlers(
    bolt: AsyncApp,
    *,
    workflow: Workflow,
    db: Database,
    t: Translator,
    sources: Mapping[str, Source],
    allow_new_tags: bool,
    interceptors: ReplyInterceptors,
) -> PostAckWork:
    """Attach every card button and modal listener to ``bolt``; returns the clicks' work in hand (to drain on stop)."""
    replays = ReplayGuard(db)
    # Clicks whose work is only the database's wait here for a turn after their ack (see POST_ACK_SLOTS).
    post_ack = PostAckWork()

    async def applied_once(key: str | None, kind: str, user: str, effect: Callable[[], Awaitable[None]]) -> None:
        """Run ``effect`` only for the first arrival of ``key``; give the key back if it fails."""
        if not await replays.first(key, kind, user):
            log.info("ignoring a replayed %s from %s", kind, user)
            return
        try:
            await effect()
        except BaseException:
            await replays.forget(key)
            raise

    async def tell_on_card(client: AsyncWebClient, channel: str | None, user: str, outcome: Outcome) -> None:
        """Explain a refusal to one person, visible only to them, in the card's channel."""
        if outcome.ok or outcome.message_key is None or not channel:
            return
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=t(outcome.message_key, **outcome.values))
        except SlackApiError as exc:
            log.warning("could not tell %s: %s", user, exc.response.get("error"))

    async def tell(client: AsyncWebClient, body: Body, outcome: Outcome) -> None:
        """Explain a refusal to the person who clicked."""
        channel = body.get("container", {}).get("channel_id") or body.get("channel", {}).get("id")
        await tell_on_card(client, channel, body["user"]["id"], outcome)

    def button(name: str, *, queued: bool = True) -> Callable[[Callable[..., Awaitable[Outcome | None]]], None]:
        """Register a button listener that acks first and reports refusals.

        ``queued`` work waits for one of :data:`POST_ACK_SLOTS`; buttons that open a modal
        are not queued, as their ``trigger_id`` expires 3 seconds after the click.
        """

        def decorator(work: Callable[..., Awaitable[Outcome | None]]) -> None:
            async def listener(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
                await ack()
                action = body["actions"][0]
                value = row_id(action.get("value"))
                if value is None:
                    log.warning("ignoring %s with value %r", action.get("action_id"), str(action.get("value"))[:100])
                    return

                outcomes: list[Outcome] = []

                async def effect() -> None:
                    outcome = await work(value, body["user"]["id"], body, client)
                    if outcome is not None:
                        outcomes.append(outcome)

                # Buttons that open a modal are covered too: a replay must not open a second one.
                if not queued:
                    await applied_once(click_key(body), f"click:{name}", body["user"]["id"], effect)
                else:
                    async with post_ack.slot():
                        await applied_once(click_key(body), f"click:{name}", body["user"]["id"], effect)
                # Told after the slot is given back: a slow Slack (chat.postEphemeral waits up to the
                # client's timeout) would otherwise hold every slot and everyone's clicks with it.
                for outcome in outcomes:
                    await tell(client, body, outcome)

            bolt.action(_action(name))(listener)

        return decorator

    @button("claim")
    async def claim(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await workflow.claim(conv_id, user)

    @button("unclaim")
    async def unclaim(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await workflow.unclaim(conv_id, user)

    @button("resolve")
    async def resolve(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await workflow.resolve(conv_id, user)

    @button("reopen")
    async def reopen(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await workflow.reopen(conv_id, user)

    @button("retry")
    async def retry(message_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await workflow.retry(message_id, user)

    async def open_answer(kind: str, conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome | None:
        card = await workflow.card(conv_id)
        if card is None:
            return Outcome.refused("ephemeral.unknown")
        source = sources.get(card.source)
        if source is None:
            return Outcome.refused("ephemeral.unavailable", action=kind, reason=card.source)
        view = modals.answer_modal(
            t,
            conversation_id=conv_id,
            kind=kind,
            source_name=source.display_name,
            limit=source.max_reply_length,
            input_max=source.reply_input_max,
            length_note=source.reply_length_note(),
            claimed_by_other=card.assignee if card.assignee and card.assignee != user else None,
            with_notice=kind == "private_reply" and getattr(source, "private_reply_notice", False),
            extra_blocks=interceptors.inputs(card, kind),
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        return None

    @button("reply", queued=False)
    async def reply(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome | None:
        return await open_answer("reply", conv_id, user, body, client)

    @button("private_reply", queued=False)
    async def private_reply(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome | None:
        return await open_answer("private_reply", conv_id, user, body, client)

    async def hide_or_unhide(hidden: bool, conv_id: int, user: str) -> Outcome:
        card = await workflow.card(conv_id)
        if card is None:
            return Outcome.refused("ephemeral.unknown")
        return await workflow.set_hidden(card, user, hidden)

    @button("hide")
    async def hide(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await hide_or_unhide(True, conv_id, user)

    @button("unhide")
    async def unhide(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome:
        return await hide_or_unhide(False, conv_id, user)

    @button("tag", queued=False)
    async def tag(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome | None:
        card = await workflow.card(conv_id)
        if card is None:
            return Outcome.refused("ephemeral.unknown")
        view = modals.tag_modal(
            t,
            conversation_id=conv_id,
            vocabulary=await workflow.tag_vocabulary(),
            current=card.tags,
            allow_new=allow_new_tags,
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        return None

    @button("escalate", queued=False)
    async def escalate(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=modals.escalate_modal(t, conversation_id=conv_id))

    @button("full_text", queued=False)
    async def full_text(conv_id: int, user: str, body: Body, client: AsyncWebClient) -> Outcome | None:
        card = await workflow.card(conv_id)
        if card is None:
            return Outcome.refused("ephemeral.unknown")
        await client.views_open(trigger_id=body["trigger_id"], view=modals.full_text_modal(t, card.root.text))
        return None

    @bolt.action(_action("open"))
    async def open_original(ack: AsyncAck) -> None:
        # A link button still sends an action; Slack shows an error unless it is acknowledged.
        await ack()

    @bolt.view(modals.REPLY_VIEW)
    async def submit_answer(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        meta = modals.metadata(view)
        user = body["user"]["id"]
        key = view_key(body)
        if await replays.seen(key):
            # Only accepted submissions are remembered, and those were answered with a plain ack.
            await ack()
            return
        text = modals.input_value(view, modals.TEXT_BLOCK, modals.TEXT_ACTION) or ""
        card = await workflow.card(int(meta["conversation_id"]))
        if card is None:
            await ack(response_action="errors", errors={modals.TEXT_BLOCK: t("ephemeral.unknown")})
            return
        try:
            draft, rewritten = await interceptors.check(
                ReplyDraft(card, meta["kind"], text, user), view.get("state", {}).get("values", {})
            )
        except VetoedReply as veto:
            await ack(response_action="errors", errors={modals.TEXT_BLOCK: veto.reason[:MAX_ERROR_LENGTH]})
            return
        except CheckFailed as failed:
            await ack(
                response_action="errors", errors={modals.TEXT_BLOCK: t("error.check_failed", plugin=failed.plugin)}
            )
            return
        text = draft.text
        checked = workflow.check_answer(card, meta["kind"], text)
        if not checked.ok:
            if await replays.seen(key):
                # A copy that arrived at the same moment was accepted and has changed the card since
                # (Move to DM: "already sent"). Its key was stored before it acted, so it shows here:
                # answer as it was answered.
                await ack()
                return
            message = t(checked.message_key or "error.empty", **checked.values)
            await ack(response_action="errors", errors={modals.TEXT_BLOCK: message})
            return
        await ack()

        async def effect() -> None:
            outcome = await workflow.answer(card, user, meta["kind"], text)
            if not outcome.ok:
                await tell_on_card(client, card.slack_channel, user, outcome)
                return
            for reason in rewritten:
                await tell_on_card(
                    client, card.slack_channel, user, Outcome.refused("ephemeral.rewritten", reason=reason)
                )
            notice = modals.input_value(view, modals.NOTICE_BLOCK, modals.NOTICE_ACTION)
            if meta["kind"] == "private_reply" and notice and notice.strip():
                # The optional public "we've sent you a message" goes out as a normal reply.
                fresh = await workflow.card(card.conversation_id)
                if fresh is not None and workflow.check_answer(fresh, "reply", notice).ok:
                    await workflow.answer(fresh, user, "reply", notice.strip())

        await applied_once(key, f"view:{meta['kind']}", user, effect)

    @bolt.view(modals.TAG_VIEW)
    async def submit_tags(ack: AsyncAck, body: Body, view: Body) -> None:
        meta = modals.metadata(view)
        key = view_key(body)
        if await replays.seen(key):
            await ack()
            return
        chosen = modals.input_value(view, modals.TAGS_BLOCK, modals.TAGS_ACTION) or []
        offered = modals.offered_values(view, modals.TAGS_BLOCK)
        typed = modals.input_value(view, modals.NEW_TAGS_BLOCK, modals.NEW_TAGS_ACTION)
        if typed and typed.strip() and not allow_new_tags:
            await ack(response_action="errors", errors={modals.NEW_TAGS_BLOCK: t("error.new_tags_off")})
            return
        await ack()

        async def effect() -> None:
            await workflow.set_tags(int(meta["conversation_id"]), body["user"]["id"], chosen, typed, offered=offered)

        await applied_once(key, "view:tag", body["user"]["id"], effect)

    @bolt.view(modals.ESCALATE_VIEW)
    async def submit_escalation(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        meta = modals.metadata(view)
        key = view_key(body)
        if await replays.seen(key):
            await ack()
            return
        reason = modals.input_value(view, modals.REASON_BLOCK, modals.REASON_ACTION) or ""
        if not reason.strip():
            await ack(response_action="errors", errors={modals.REASON_BLOCK: t("error.empty")})
            return
        await ack()
        conversation_id = int(meta["conversation_id"])

        async def effect() -> None:
            outcome = await workflow.escalate(conversation_id, body["user"]["id"], reason)
            if not outcome.ok:
                card = await workflow.card(conversation_id)
                await tell_on_card(client, card.slack_channel if card else None, body["user"]["id"], outcome)

        await applied_once(key, "view:escalate", body["user"]["id"], effect)

    return post_ack


#: Slack shows at most this much of an error under a dialog's input.
MAX_ERROR_LENGTH = 150


def register_command_fallback(bolt: AsyncApp, t: Translator) -> None:
    """Answer any slash command no enabled plugin handles, instead of leaving Slack to time out.

    Registered after the plugins' listeners: Bolt runs the first listener that matches.
    The core names no plugin: the app manifest lists commands that plugins provide.
    """

    @bolt.command(re.compile(r"^/"))
    async def not_enabled(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(t("command.not_enabled", command=command.get("command", "")))
