"""The automatic reply outside service hours: at most once per customer per closed period.

A customer is the source plus the author's id (or handle, or name); a closed period is
named by when it began (:meth:`~.service_hours.ServiceHours.closed_period`). The row in
``rota_auto_replies`` is claimed before replying, so replicas and a customer writing
twice in a row get one reply. The card notes what was sent, or why nothing could be.
The core never calls ``chatops_inbound`` for the account's own posts, so they get none.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

from . import tables
from .when import hours_text, opens_text

if TYPE_CHECKING:
    from chatops.sources import InboundMessage

    from .service import Rota

#: Longest stored customer key (the column's size).
AUTHOR_LIMIT = 255


def customer_key(message: InboundMessage) -> str:
    """Who wrote ``message``, as steady as the source allows: id, else handle, else name, else the thread."""
    author = message.author
    for kind, value in (("id", author.id), ("handle", author.handle), ("name", author.name)):
        if value:
            return f"{kind}:{value}"[:AUTHOR_LIMIT]
    return f"thread:{message.thread_id}"[:AUTHOR_LIMIT]


def reply_text(rota: Rota, opens_at: datetime | None) -> str:
    """The reply in the team's language: the configured wording, or the built-in one."""
    t, tz, now = rota.ctx.t, rota.ctx.tz, rota.now()
    hours = hours_text(t, rota.hours)
    opens = opens_text(t, opens_at, now, tz) if opens_at else ""
    own = getattr(rota.config.out_of_hours_text, rota.ctx.language, None)
    if own:
        # The config checked its placeholders when it was loaded ({{ and }} for a brace).
        return own.format(hours=hours, opens=opens)
    if opens:
        return t("rota.shifts.ooh.reply", hours=hours, opens=opens)
    return t("rota.shifts.ooh.reply_no_opening", hours=hours)


async def maybe_reply(rota: Rota, message: InboundMessage, conversation_id: int) -> bool:
    """Reply to ``message`` when the team is closed and this customer has not had the reply this period."""
    now = rota.now()
    closed = rota.hours.closed_period(now)
    if closed is None:
        return False
    closed_since, opens_at = closed
    async with rota.ctx.db.write() as session:
        claimed = await tables.claim(
            session,
            tables.auto_replies,
            source=message.source,
            author=customer_key(message),
            closed_since=closed_since,
            conversation_id=conversation_id,
            created_at=now,
        )
    if not claimed:
        return False
    text = reply_text(rota, opens_at)
    outcome = await rota.ctx.conversations.auto_reply(conversation_id, text)
    t = rota.ctx.t
    if outcome.ok:
        await rota.ctx.conversations.note(conversation_id, t("rota.shifts.ooh.sent", text=text))
        return True
    reason = outcome.message_key or "?"
    with contextlib.suppress(KeyError, IndexError):
        reason = t(reason, **outcome.values)
    await rota.ctx.conversations.note(conversation_id, t("rota.shifts.ooh.refused", reason=reason))
    rota.ctx.log.info("out-of-hours reply to conversation %s refused: %s", conversation_id, outcome.message_key)
    return False
