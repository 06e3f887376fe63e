"""Block Kit for a conversation's card, its thread posts, and escalation posts.

Built as plain dicts with ``chatops.slack.blockkit``'s builders, which make what slack_sdk's
block models make without re-checking, on every draw, limits the budgets below already
keep; the tests hold every card to slack_sdk's checks, so a card that Slack would reject
fails there. Every piece of customer text goes through ``chatops.slack.escape`` first.

Every part of a block has a budget counted on the escaped text, and the parts of a
block together stay within Slack's limit for it (3,000 characters for a section),
so no text, however long or entity-heavy, can make a card unpostable. Plugins'
decorations are checked one by one and dropped (with a log line) when Slack would
refuse them or the card has no room left. :func:`render_minimal_card` is the short
form delivery falls back to when a full card cannot be posted at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatops.cards import ANSWERS_ON_CARD, CardData, MessageView
from chatops.i18n import Translator
from chatops.models import Delivery, Direction, Status
from chatops.priority import reasons_of
from chatops.slack.blockkit import (
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    TOTAL_TEXT_BUDGET,
    BlockDict,
    actions,
    block_problem,
    button,
    confirm,
    context,
    mrkdwn,
    plain,
    section,
    text_length,
)
from chatops.slack.escape import clip_mrkdwn, escape_fit, link, mention, mrkdwn_escape, one_line, safe_url
from chatops.sources import Capability

log = logging.getLogger(__name__)

#: Characters of the customer's text shown on the card (escaped); the rest is behind "Full text".
CARD_TEXT_LIMIT = 2800
ANSWER_TEXT_LIMIT = 600
THREAD_TEXT_LIMIT = 2900
FULL_TEXT_CHUNK = 2900
#: The minimal card's share of the customer's text.
MINIMAL_TEXT_LIMIT = 1500
#: Escaped budgets of the smaller parts of a card.
AUTHOR_NAME_LIMIT = 200
AUTHOR_HANDLE_LIMIT = 150
AUTHOR_URL_LIMIT = 500
CHANNEL_NAME_LIMIT = 300
TAGS_LIMIT = 1000
TAG_LIMIT = 150
REASON_LIMIT = 400
ERROR_LIMIT = 400
METADATA_EVENT_TYPE = "chatops_conversation"

ACTION_PREFIX = "chatops:"


def action_id(name: str, suffix: str | int | None = None) -> str:
    """The action_id of a card button (``chatops:<name>[:<suffix>]``)."""
    return f"{ACTION_PREFIX}{name}" + (f":{suffix}" if suffix is not None else "")


@dataclass(frozen=True, slots=True)
class CardContext:
    """What rendering needs besides the card data: words, timezone, and the source's abilities."""

    t: Translator
    tz: ZoneInfo
    source_name: str
    #: Supported capabilities mapped to None (usable) or the reason they are not usable now.
    capabilities: Mapping[Capability, str | None]
    #: Hide deletes the message on this source (see ``Source.hide_deletes``).
    hide_deletes: bool = False


def format_time(at: datetime | None, tz: ZoneInfo) -> str:
    """A time shown in the team's timezone; naive times are UTC.

    Never raises: a time that cannot be moved to the team's zone (the edges of the
    calendar, such as 9999-12-31 23:59 UTC) is shown as it is, with its UTC offset.
    """
    if at is None:
        return ""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    try:
        local = aware.astimezone(tz)
        zone = local.tzname() or ""
    except (OverflowError, ValueError, OSError):
        offset = aware.utcoffset()
        local, zone = aware, "UTC" if not offset else aware.strftime("UTC%z")
    # isoformat, not strftime: strftime writes year 1 as "1", not "0001".
    return f"{local.replace(tzinfo=None).isoformat(sep=' ', timespec='minutes')} {zone}".strip()


def author_label(m: MessageView) -> str:
    """Escaped "Name (@handle)" of a message's author, at most ~360 characters."""
    name = m.author_name or m.author_handle or m.author_id or "?"
    label = escape_fit(one_line(name, 100), AUTHOR_NAME_LIMIT).text or "?"
    if m.author_handle and m.author_handle != name:
        handle = escape_fit(one_line(m.author_handle, 100), AUTHOR_HANDLE_LIMIT).text
        if handle:
            label += f" (@{handle})"
    return label


def _status_line(card: CardData, ctx: CardContext) -> str:
    t = ctx.t
    assignee = f"<@{card.assignee}>" if card.assignee else "?"
    if card.status == Status.NEW.value:
        parts = [t("status.new")]
    elif card.status == Status.CLAIMED.value:
        parts = [t("status.claimed", user=assignee)]
    elif card.status == Status.REPLIED.value:
        parts = [t("status.replied")]
    else:
        parts = [t("status.resolved")]
    if card.assignee and card.status != Status.CLAIMED.value:
        parts.append(t("status.assignee", user=assignee))
    elif not card.assignee and card.status != Status.NEW.value:
        parts.append(t("status.unassigned"))
    if card.followup_pending:
        parts.append(t("status.followup"))
    if card.escalated_at:
        parts.append(t("status.escalated"))
    if card.root.hidden:
        key = "status.deleted" if ctx.hide_deletes else "status.hidden"
        parts.append(t(key, source=mrkdwn_escape(ctx.source_name)))
    return " · ".join(parts)


def _tags_text(tags: Sequence[str], ctx: CardContext) -> str:
    """The tags as `code`, as many as fit :data:`TAGS_LIMIT`, then "+N more"."""
    shown: list[str] = []
    used = 0
    for i, tag in enumerate(tags):
        # A backtick inside a tag would end the code span early.
        piece = f"`{escape_fit(one_line(tag, 100).replace('`', 'ˋ'), TAG_LIMIT).text}`"
        if used + len(piece) + 2 > TAGS_LIMIT:
            shown.append(ctx.t("card.more_tags", count=len(tags) - i))
            break
        shown.append(piece)
        used += len(piece) + 2
    return ", ".join(shown)


def _kind_label(kind: str, ctx: CardContext) -> str:
    """An answer's kind in words (a plugin's own kind shown escaped)."""
    if kind in ("reply", "private_reply"):
        return ctx.t(f"answer.{kind}")
    return escape_fit(one_line(kind, 50), 100).text or "?"


def _answer_line(answer: MessageView, ctx: CardContext) -> tuple[str, bool]:
    """The line for one answer, and whether it needs a Retry button."""
    t = ctx.t
    text = escape_fit(answer.text, ANSWER_TEXT_LIMIT, quote=True).text
    if answer.direction == Direction.EXTERNAL.value:
        head = t("thread.external", source=mrkdwn_escape(ctx.source_name), author=author_label(answer))
        return clip_mrkdwn(f"{head}\n>{text}", MAX_SECTION_TEXT), False
    kind = _kind_label(answer.kind, ctx)
    user = f"<@{answer.sent_by}>" if answer.sent_by else "?"
    error = escape_fit(one_line(answer.delivery_error, 300), ERROR_LIMIT).text if answer.delivery_error else ""
    retry = False
    if answer.delivery == Delivery.SENT.value:
        head = t("answer.sent", kind=kind, user=user, time=format_time(answer.sent_at, ctx.tz))
    elif answer.delivery == Delivery.FAILED.value:
        head, retry = t("answer.failed", kind=kind, user=user, error=error), True
    elif answer.delivery_error:
        head = t("answer.retrying", kind=kind, user=user, error=error)
    else:
        head = t("answer.pending", kind=kind, user=user)
    return clip_mrkdwn(f"{head}\n>{text}", MAX_SECTION_TEXT), retry


def _priority_line(card: CardData, ctx: CardContext) -> str | None:
    """The line "⚑ Priority 70: VIP · refund · negative" for a conversation scoring above 0 (chatops.priority)."""
    if card.priority <= 0:
        return None
    # A reason is the team's keyword, "vip"/"negative", or a plugin's word: escaped like customer text.
    words = [ctx.t(f"priority.{r}") if r in ("vip", "negative") else r for r in reasons_of(card.root.extra)]
    reasons = " · ".join(escape_fit(one_line(r, 40), 120).text for r in words)
    key = "card.priority" if reasons else "card.priority_plain"
    return ctx.t(key, score=card.priority, reasons=reasons)


def _metadata(card: CardData) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"conversation_id": card.conversation_id, "source": card.source},
    }


def _fallback_text(card: CardData, ctx: CardContext) -> str:
    """The message's plain ``text``: what notifications and screen readers show."""
    fallback = escape_fit(one_line(card.root.text, 200), 200).text
    return f"{escape_fit(ctx.source_name, 100).text}: {author_label(card.root)}: {fallback}"


def render_card(card: CardData, ctx: CardContext, extra_blocks: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The ``chat.postMessage``/``chat.update`` arguments (text, blocks, metadata) for a card."""
    t = ctx.t
    root = card.root
    blocks: list[BlockDict] = []

    where = f"*{escape_fit(ctx.source_name, 100).text}*"
    if card.channel_name:
        where += f" · {escape_fit(one_line(card.channel_name, 150), CHANNEL_NAME_LIMIT).text}"
    blocks.append(context(where or " "))

    author = author_label(root)
    profile = safe_url(root.author_url, AUTHOR_URL_LIMIT)
    if profile:
        author = f"<{profile}|{author}>"
    head = f"*{author}*\n"
    strike = 2 if root.removed_at else 0
    body = escape_fit(root.text, min(CARD_TEXT_LIMIT, MAX_SECTION_TEXT - len(head) - strike))
    text = body.text
    if root.removed_at and text.strip():
        text = f"~{text}~"
    blocks.append(section(mrkdwn(head + text), block_id="message"))

    notes: list[str] = []
    if body.truncated:
        notes.append(t("card.truncated", shown=body.shown, total=len(root.text)))
    if card.context_text or card.context_url:
        post = link(card.context_url, one_line(card.context_text, 150) or card.context_url or "", label_limit=300)
        notes.append(t("card.on_post", post=post))
    notes.append(t("card.received", time=format_time(root.created_at or root.received_at, ctx.tz)))
    if root.edited_at:
        notes.append(t("card.edited", time=format_time(root.edited_at, ctx.tz)))
    if root.removed_at:
        notes.append(t("card.removed", time=format_time(root.removed_at, ctx.tz)))
    if card.message_count > 1:
        notes.append(t("card.messages", count=card.message_count))
    notes_text = clip_mrkdwn(" · ".join(notes), MAX_SECTION_TEXT)
    blocks.append(context(notes_text, block_id="notes"))

    status = [_status_line(card, ctx)]
    urgent = _priority_line(card, ctx)
    if urgent:
        status.insert(0, urgent)
    if card.tags:
        status.append(t("card.tags", tags=_tags_text(card.tags, ctx)))
    if card.escalated_at and card.escalation_reason:
        reason = escape_fit(one_line(card.escalation_reason, 200), REASON_LIMIT).text
        status.append(t("escalation.reason", reason=reason))
    if root.hide_error:
        status.append(t("card.hide_error", error=escape_fit(one_line(root.hide_error, 200), ERROR_LIMIT).text))
    status_text = clip_mrkdwn("\n".join(status), MAX_SECTION_TEXT)
    blocks.append(section(mrkdwn(status_text), block_id="status"))

    # The card shows the latest few answers; the thread holds them all.
    shown_answers = card.answers[-ANSWERS_ON_CARD:]
    earlier = max(card.answer_count, len(card.answers)) - len(shown_answers)
    if earlier > 0:
        more = t("card.more_answers", count=earlier)
        blocks.append(context(more, block_id="more_answers"))
    for answer in shown_answers:
        line, retry = _answer_line(answer, ctx)
        accessory = (
            button(t("button.retry"), action_id=action_id("retry", answer.id), value=str(answer.id), style="danger")
            if retry
            else None
        )
        blocks.append(section(mrkdwn(line), block_id=f"answer:{answer.id}", accessory=accessory))

    tail = _action_blocks(card, ctx, body.truncated)
    decorations = _fitting_decorations(card, extra_blocks, blocks + tail)
    return {
        "text": _fallback_text(card, ctx),
        "blocks": blocks + decorations + tail,
        "metadata": _metadata(card),
    }


def _fitting_decorations(
    card: CardData, extra_blocks: Sequence[Mapping[str, Any]], card_blocks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Plugins' blocks that Slack accepts and that fit the card's remaining blocks and text."""
    taken = {b["block_id"] for b in card_blocks if "block_id" in b}
    room_blocks = MAX_BLOCKS - len(card_blocks)
    room_text = TOTAL_TEXT_BUDGET - text_length(card_blocks)
    kept: list[dict[str, Any]] = []
    for i, block in enumerate(extra_blocks):
        problem = block_problem(block, taken)
        size = text_length(block) if problem is None else 0
        if problem is None and len(kept) >= room_blocks:
            problem = f"no room: a message holds {MAX_BLOCKS} blocks"
        elif problem is None and size > room_text:
            problem = f"no room: {size} characters of text, {max(room_text, 0)} left on the card"
        if problem is not None:
            log.warning("card %s: plugin decoration block %d dropped: %s", card.conversation_id, i, problem)
            continue
        kept.append(dict(block))
        room_text -= size
        if isinstance(block.get("block_id"), str):
            taken.add(block["block_id"])
    return kept


def render_minimal_card(card: CardData, ctx: CardContext) -> dict[str, Any]:
    """The short, always postable form of a card: source, author, status, some of the text, the buttons.

    Delivery posts this when the full card cannot be posted (a value that breaks
    rendering, or a block Slack refuses), so the customer is never left unseen. No
    plugin decorations, no links in text; every part is cut well within Slack's limits.
    """
    t = ctx.t
    body = escape_fit(card.root.text, MINIMAL_TEXT_LIMIT)
    source = escape_fit(ctx.source_name, 100).text or "?"
    blocks: list[BlockDict] = [
        context(f"*{source}* · {t('card.minimal')}", block_id="source"),
        section(mrkdwn(f"*{author_label(card.root)}*\n{body.text}"), block_id="message"),
        context(clip_mrkdwn(_status_line(card, ctx), 1000), block_id="status"),
        *_action_blocks(card, ctx, body.truncated, explain_unavailable=False),
    ]
    return {"text": _fallback_text(card, ctx), "blocks": blocks, "metadata": _metadata(card)}


def _action_blocks(
    card: CardData, ctx: CardContext, truncated: bool, *, explain_unavailable: bool = True
) -> list[BlockDict]:
    t = ctx.t
    value = str(card.conversation_id)
    buttons: list[BlockDict] = []
    unavailable: list[str] = []

    def add(name: str, label: str, style: str | None = None, dialog: BlockDict | None = None) -> None:
        buttons.append(button(label, action_id=action_id(name), value=value, style=style, confirm=dialog))

    resolved = card.status == Status.RESOLVED.value
    if card.assignee:
        add("unclaim", t("button.unclaim"))
    else:
        add("claim", t("button.claim"), style="primary")
    for capability, name in ((Capability.REPLY, "reply"), (Capability.PRIVATE_REPLY, "private_reply")):
        if capability not in ctx.capabilities or card.root.removed_at:
            continue
        reason = ctx.capabilities[capability]
        if reason is None:
            add(name, t(f"button.{name}"))
        else:
            unavailable.append(t("card.unavailable", action=t(f"button.{name}"), reason=escape_fit(reason, 300).text))
    # A deleted message (hide_deletes) has nothing to undo: no Unhide.
    if Capability.HIDE in ctx.capabilities and not card.root.removed_at and not (ctx.hide_deletes and card.root.hidden):
        reason = ctx.capabilities[Capability.HIDE]
        verb = "unhide" if card.root.hidden else "hide"
        # The button keeps its action ("hide"); its words say what the platform will really do.
        words = "delete" if ctx.hide_deletes else verb
        if reason is None:
            dialog = confirm(
                title=t(f"confirm.{words}.title"),
                text=t(f"confirm.{words}.text"),
                yes=t(f"confirm.{words}.yes"),
                no=t("confirm.no"),
            )
            add(verb, t(f"button.{words}"), dialog=dialog)
        else:
            unavailable.append(t("card.unavailable", action=t(f"button.{words}"), reason=escape_fit(reason, 300).text))
    add("tag", t("button.tag"))
    if not card.escalated_at:
        add("escalate", t("button.escalate"), style="danger")
    add("reopen" if resolved else "resolve", t("button.reopen" if resolved else "button.resolve"))
    if truncated:
        add("full_text", t("button.full_text"))
    original = safe_url(card.root.permalink)
    if original:
        # safe_url has held the link to Slack's 3,000 characters for a button's url.
        buttons.append(button(t("button.open"), action_id=action_id("open"), url=original, value=value))

    blocks: list[BlockDict] = []
    if unavailable and explain_unavailable:
        text = clip_mrkdwn("\n".join(unavailable), MAX_SECTION_TEXT)
        blocks.append(context(text, block_id="unavailable"))
    # 25 elements fit one actions block; two rows read better than one long one.
    blocks.append(actions(buttons[:5], block_id="actions"))
    if buttons[5:]:
        blocks.append(actions(buttons[5:], block_id="actions2"))
    return blocks


def render_thread_message(message: MessageView, ctx: CardContext, note: str | None = None) -> dict[str, Any]:
    """A thread reply under the card: a follow-up, an answer, an edit or a removal."""
    t = ctx.t
    author = author_label(message)
    source = mrkdwn_escape(ctx.source_name)
    if note == "removed":
        head, body = t("thread.removed", author=author), ""
    elif note == "edited":
        head, body = t("thread.edited", author=author), message.text
    elif message.direction == Direction.INBOUND.value:
        head, body = t("thread.followup", author=author), message.text
    elif message.direction == Direction.EXTERNAL.value:
        head, body = t("thread.external", source=source, author=author), message.text
    else:
        kind = _kind_label(message.kind, ctx)
        user = f"<@{message.sent_by}>" if message.sent_by else "?"
        head, body = t("thread.answer", kind=kind, source=source, user=user), message.text
    head = clip_mrkdwn(head, 1000)
    # Budgeted on the quoted text: every newline in a quote costs a ">" more.
    escaped = escape_fit(body, THREAD_TEXT_LIMIT - len(head) - 2, quote=True).text
    text = f"{head}\n>{escaped}" if escaped else head
    blocks: list[BlockDict] = [section(mrkdwn(text))]
    original = safe_url(message.permalink, 1000)
    if original and message.direction == Direction.INBOUND.value and note is None:
        blocks.append(context(link(message.permalink, t("button.open"))))
    return {"text": head, "blocks": blocks}


def render_escalation(
    card: CardData, ctx: CardContext, *, user: str, reason: str, leads: Sequence[str], card_url: str | None
) -> dict[str, Any]:
    """The post in the escalation channel: who, why, the leads, and a link to the card."""
    t = ctx.t
    mentions = " ".join(mention(lead) for lead in leads)
    source = escape_fit(ctx.source_name, 100).text
    head = clip_mrkdwn(t("escalation.text", user=f"<@{user}>", source=source, leads=mentions).strip(), 800)
    reason_text = escape_fit(reason, 1200).text
    excerpt = escape_fit(one_line(card.root.text, 300), 400).text
    lines = [head, t("escalation.reason", reason=reason_text), f"*{author_label(card.root)}*: {excerpt}"]
    if card_url:
        lines.append(link(card_url, t("escalation.link")))
    text = clip_mrkdwn("\n".join(lines), MAX_SECTION_TEXT)
    return {"text": head, "blocks": [section(mrkdwn(text))]}


def full_text_blocks(text: str) -> list[dict[str, Any]]:
    """The whole customer text for a modal, split over plain-text sections (not parsed for mentions)."""
    chunks: list[str] = []
    rest = text
    while rest and len(chunks) < 100:
        # Controls shown as marks make a chunk longer than its raw characters: fit it on what is shown.
        piece = escape_fit(rest, FULL_TEXT_CHUNK, ellipsis="", plain=True)
        chunks.append(piece.text)
        rest = rest[piece.shown :]
    chunks = chunks or [""]
    # A modal holds 100 blocks: 290,000 characters, more than any platform allows.
    return [section(plain(chunk or " ", emoji=False)) for chunk in chunks]
