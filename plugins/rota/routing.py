"""New cards: who is on shift (shown and mentioned), assignment, and the out-of-hours reply.

- :func:`card_blocks`: an open card nobody owns says who is on shift and mentions them, so
  they are notified when it is first posted (from the cached schedule: cards must be fast).
- :func:`on_inbound`: a new conversation is assigned to someone on shift, round-robin or to
  the least loaded (``assign`` in the config); outside service hours the customer gets the
  automatic reply (:mod:`.out_of_hours`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from chatops.models import OPEN_STATUSES, Conversation, Status
from chatops.slack.escape import clip_mrkdwn

from . import out_of_hours

if TYPE_CHECKING:
    from chatops.cards import CardData
    from chatops.sources import InboundMessage

    from .service import Rota

#: The decoration's block id (the core namespaces plugins' blocks).
ON_SHIFT_BLOCK = "rota_on_shift"
#: Most people the decoration mentions (a context element holds 3,000 characters).
MENTION_LIMIT = 30
#: ``ctx.state`` key: who round-robin assigned last.
LAST_ASSIGNED = "last_assigned"


async def card_blocks(rota: Rota, card: CardData) -> list[dict[str, Any]]:
    """Who is on shift, on an open card nobody owns: ``On shift: <@UANNA>, <@UJARI>`` or ``Nobody is on shift``."""
    if not rota.config.mention_on_cards or card.assignee or card.status == Status.RESOLVED.value:
        return []
    schedule = await rota.schedule()
    people = schedule.on_shift(rota.now())
    t = rota.ctx.t
    if people:
        text = t("rota.shifts.card.on_shift", people=", ".join(f"<@{p}>" for p in people[:MENTION_LIMIT]))
    else:
        text = t("rota.shifts.card.nobody")
    return [
        {
            "type": "context",
            "block_id": ON_SHIFT_BLOCK,
            "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}],
        }
    ]


async def on_inbound(rota: Rota, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """A customer's message was stored: assign a new conversation, answer outside service hours."""
    if new and rota.config.assign != "off":
        await assign(rota, conversation_id)
    if rota.config.out_of_hours_reply:
        await out_of_hours.maybe_reply(rota, message, conversation_id)


async def assign(rota: Rota, conversation_id: int) -> str | None:
    """Give the conversation to someone on shift now (per ``assign``); returns who, or None."""
    schedule = await rota.schedule()
    people = list(schedule.on_shift(rota.now()))
    if not people:
        return None
    if rota.config.assign == "round_robin":
        chosen = await _next_in_turn(rota, people)
    else:
        chosen = await _least_loaded(rota, people)
    try:
        assigned = await rota.ctx.conversations.assign(conversation_id, chosen)
    except ValueError:
        # Not an id the core takes (a rota row written by hand, an id of another shape): the card
        # stays unowned and shows who is on shift; the out-of-hours reply must still go.
        rota.ctx.log.warning("could not assign conversation %s: %r is not a Slack user id", conversation_id, chosen)
        return None
    if assigned:
        if rota.config.assign == "round_robin":
            await rota.ctx.state.set(LAST_ASSIGNED, chosen)
        return chosen
    return None


async def _next_in_turn(rota: Rota, people: list[str]) -> str:
    """The person after the one assigned last, in shift order (the first when that one is off shift)."""
    last = await rota.ctx.state.get(LAST_ASSIGNED)
    if last in people:
        return people[(people.index(last) + 1) % len(people)]
    return people[0]


async def _least_loaded(rota: Rota, people: list[str]) -> str:
    """The person owning the fewest open conversations; ties go to the first in shift order."""
    async with rota.ctx.db.read() as session:
        rows = (
            await session.execute(
                sa.select(Conversation.assignee, sa.func.count(Conversation.id))
                .where(Conversation.assignee.in_(people), Conversation.status.in_(OPEN_STATUSES))
                .group_by(Conversation.assignee)
            )
        ).all()
    load = {assignee: count for assignee, count in rows}
    return min(people, key=lambda p: (load.get(p, 0), people.index(p)))
