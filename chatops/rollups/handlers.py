"""Bolt listeners for roll-up buttons: open one member as a card, open the most urgent, resolve all.

A listing section's menu ("Open as card…") opens the chosen member, only while it is on the
roll-up the menu's action id names: a forged or stale value opens nothing.

Like the card's buttons (``chatops.slack.handlers``) each acknowledges first, acts once per
click however often Slack delivers it (``chatops.slack.replays``), and answers the person who
clicked with a message only they see. Opening is also idempotent by itself: a member that has
left its roll-up is not opened again, so two different clicks on the same line make one card.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from chatops.db import Database
from chatops.i18n import Translator
from chatops.models import Conversation
from chatops.rollups.render import OPEN_ACTION, OPEN_TOP_ACTION, PICK_ACTION, RESOLVE_ACTION
from chatops.rollups.store import RollupStore
from chatops.slack.button_values import row_id
from chatops.slack.card import ACTION_PREFIX
from chatops.slack.replays import ReplayGuard, click_key

log = logging.getLogger(__name__)

Body = dict[str, Any]


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(ACTION_PREFIX + name)}(:.*)?$")


def register_rollup_handlers(
    bolt: AsyncApp, *, store: RollupStore, db: Database, t: Translator, open_count: int
) -> None:
    """Attach the roll-up buttons' listeners to ``bolt``."""
    replays = ReplayGuard(db)

    async def tell(client: AsyncWebClient, body: Body, key: str, **values: Any) -> None:
        channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
        if not channel:
            return
        try:
            await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=t(key, **values))
        except SlackApiError as exc:
            log.warning("could not answer %s: %s", body["user"]["id"], exc.response.get("error"))

    def button(name: str, work: Callable[[int, Body, AsyncWebClient], Awaitable[None]]) -> None:
        async def listener(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
            await ack()
            action = body["actions"][0]
            value = row_id(action.get("value"))
            if value is None:
                log.warning("ignoring %s with value %r", action.get("action_id"), str(action.get("value"))[:100])
                return
            key = click_key(body)
            user = body["user"]["id"]
            if not await replays.first(key, f"click:{name}", user):
                log.info("ignoring a replayed %s from %s", name, user)
                return
            try:
                await work(value, body, client)
            except BaseException:
                await replays.forget(key)
                raise

        bolt.action(_pattern(name))(listener)

    async def open_one(conversation_id: int, body: Body, client: AsyncWebClient) -> None:
        opened = await store.open_as_cards([conversation_id])
        await tell(client, body, "rollup.opened" if opened else "rollup.already_card")

    async def open_top(rollup_id: int, body: Body, client: AsyncWebClient) -> None:
        ids = await store.most_urgent(rollup_id, open_count)
        opened = await store.open_as_cards(ids) if ids else 0
        if opened:
            await tell(client, body, "rollup.opened_top", count=opened)
        else:
            await tell(client, body, "rollup.nothing_to_open")

    async def resolve_all(rollup_id: int, body: Body, client: AsyncWebClient) -> None:
        resolved = await store.resolve_all(rollup_id, body["user"]["id"])
        if resolved is None:
            await tell(client, body, "rollup.already_resolved")
        else:
            await tell(client, body, "rollup.resolved_now", count=resolved)

    async def pick(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        parts = str(action.get("action_id", "")).removeprefix(ACTION_PREFIX).split(":")
        chosen = (action.get("selected_option") or {}).get("value", "")
        # Read like the buttons' values: a forged id too large for the database is refused here.
        rollup_id = row_id(parts[1]) if len(parts) > 1 else None
        conversation_id = row_id(chosen)
        if rollup_id is None or conversation_id is None:
            log.warning("ignoring %s with option %r", action.get("action_id"), str(chosen)[:100])
            return
        key = click_key(body)
        user = body["user"]["id"]
        if not await replays.first(key, f"click:{PICK_ACTION}", user):
            log.info("ignoring a replayed %s from %s", PICK_ACTION, user)
            return
        try:
            if await store.open_as_cards([conversation_id], within=rollup_id):
                await tell(client, body, "rollup.opened")
            elif await gathered_elsewhere(conversation_id, rollup_id):
                log.warning("%s chose conversation %s, not on roll-up %s", user, conversation_id, rollup_id)
                await tell(client, body, "rollup.not_here")
            else:
                await tell(client, body, "rollup.already_card")
        except BaseException:
            await replays.forget(key)
            raise

    async def gathered_elsewhere(conversation_id: int, rollup_id: int) -> bool:
        """True when the conversation is unknown or on another roll-up (not merely opened already)."""
        async with db.read() as session:
            row = (
                await session.execute(select(Conversation.rollup_id).where(Conversation.id == conversation_id))
            ).first()
        return row is None or (row[0] is not None and int(row[0]) != rollup_id)

    button(OPEN_ACTION, open_one)
    bolt.action(_pattern(PICK_ACTION))(pick)
    button(OPEN_TOP_ACTION, open_top)
    button(RESOLVE_ACTION, resolve_all)


__all__ = ["register_rollup_handlers"]
