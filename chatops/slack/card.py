"""Block Kit for a conversation's card, its thread posts, and escalation posts.

Built with slack_sdk's block models, whose ``to_dict()`` enforces Block Kit's
limits, so a card that would be rejected by Slack fails here, in a test. Every
piece of customer text goes through ``chatops.slack.escape`` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from chatops.cards import CardData, MessageView
from chatops.i18n import Translator
from chatops.models import Delivery, Direction, Status
from chatops.slack.escape import escape_truncated, link, mrkdwn_escape, one_line, safe_url
from chatops.sources import Capability

#: Characters of the customer's text shown on the card (escaped); the rest is behind "Full text".
CARD_TEXT_LIMIT = 2800
ANSWER_TEXT_LIMIT = 600
THREAD_TEXT_LIMIT = 2900
FULL_TEXT_CHUNK = 2900
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


def format_time(at: datetime | None, tz: ZoneInfo) -> str:
    """A UTC time shown in the team's timezone."""
    if at is None:
        return ""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def author_label(m: MessageView) -> str:
    """Escaped "Name (@handle)" of a message's author."""
    name = m.author_name or m.author_handle or m.author_id or "?"
    label = mrkdwn_escape(one_line(name, 100))
    if m.author_handle and m.author_handle != name:
        label += f" (@{mrkdwn_escape(one_line(m.author_handle, 100))})"
    return label


def _status_line(card: CardData, ctx: CardContext) -> str:
    t = ctx.t
    if card.status == Status.NEW.value:
        parts = [t("status.new")]
    elif card.status == Status.CLAIMED.value:
        parts = [t("status.claimed", user=f"<@{card.assignee}>")]
    elif card.status == Status.REPLIED.value:
        parts = [t("status.replied")]
    else:
        parts = [t("status.resolved")]
    if card.assignee and card.status != Status.CLAIMED.value:
        parts.append(t("status.assignee", user=f"<@{card.assignee}>"))
    elif not card.assignee and card.status != Status.NEW.value:
        parts.append(t("status.unassigned"))
    if card.followup_pending:
        parts.append(t("status.followup"))
    if card.escalated_at:
        parts.append(t("status.escalated"))
    if card.root.hidden:
        parts.append(t("status.hidden", source=mrkdwn_escape(ctx.source_name)))
    return " · ".join(parts)


def _answer_line(answer: MessageView, ctx: CardContext) -> tuple[str, bool]:
    """The line for one answer, and whether it needs a Retry button."""
    t = ctx.t
    text, _ = escape_truncated(answer.text, ANSWER_TEXT_LIMIT)
    if answer.direction == Direction.EXTERNAL.value:
        head = t("thread.external", source=mrkdwn_escape(ctx.source_name), author=author_label(answer))
        return f"{head}\n>{_quote(text)}", False
    kind = t(f"answer.{answer.kind}") if answer.kind in ("reply", "private_reply") else answer.kind
    user = f"<@{answer.sent_by}>" if answer.sent_by else "?"
    error = mrkdwn_escape(one_line(answer.delivery_error, 300)) if answer.delivery_error else ""
    if answer.delivery == Delivery.SENT.value:
        head = t("answer.sent", kind=kind, user=user, time=format_time(answer.sent_at, ctx.tz))
    elif answer.delivery == Delivery.FAILED.value:
        return f"{t('answer.failed', kind=kind, user=user, error=error)}\n>{_quote(text)}", True
    elif answer.delivery_error:
        head = t("answer.retrying", kind=kind, user=user, error=error)
    else:
        head = t("answer.pending", kind=kind, user=user)
    return f"{head}\n>{_quote(text)}", False


def _quote(escaped: str) -> str:
    return escaped.replace("\n", "\n>")


def render_card(card: CardData, ctx: CardContext, extra_blocks: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The ``chat.postMessage``/``chat.update`` arguments (text, blocks, metadata) for a card."""
    t = ctx.t
    root = card.root
    blocks: list[Block | Mapping[str, Any]] = []

    where = f"*{mrkdwn_escape(ctx.source_name)}*"
    if card.channel_name:
        where += f" · {mrkdwn_escape(one_line(card.channel_name, 150))}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=where)]))

    author = author_label(root)
    profile = safe_url(root.author_url)
    if profile:
        author = f"<{profile}|{author}>"
    body, truncated = escape_truncated(root.text, CARD_TEXT_LIMIT)
    if root.removed_at:
        body = f"~{body}~" if body.strip() else body
    blocks.append(SectionBlock(block_id="message", text=MarkdownTextObject(text=f"*{author}*\n{body}")))

    notes: list[str] = []
    if truncated:
        notes.append(t("card.truncated", shown=len(unescape(body.removesuffix("…"))), total=len(root.text)))
    if card.context_text or card.context_url:
        post = link(card.context_url, one_line(card.context_text, 150) or card.context_url or "")
        notes.append(t("card.on_post", post=post))
    notes.append(t("card.received", time=format_time(root.created_at or root.received_at, ctx.tz)))
    if root.edited_at:
        notes.append(t("card.edited", time=format_time(root.edited_at, ctx.tz)))
    if root.removed_at:
        notes.append(t("card.removed", time=format_time(root.removed_at, ctx.tz)))
    if card.message_count > 1:
        notes.append(t("card.messages", count=card.message_count))
    blocks.append(ContextBlock(block_id="notes", elements=[MarkdownTextObject(text=" · ".join(notes))]))

    status = [_status_line(card, ctx)]
    if card.tags:
        status.append(t("card.tags", tags=", ".join(f"`{mrkdwn_escape(tag)}`" for tag in card.tags)))
    if card.escalated_at and card.escalation_reason:
        status.append(t("escalation.reason", reason=mrkdwn_escape(one_line(card.escalation_reason, 200))))
    if root.hide_error:
        status.append(t("card.hide_error", error=mrkdwn_escape(one_line(root.hide_error, 200))))
    blocks.append(SectionBlock(block_id="status", text=MarkdownTextObject(text="\n".join(status))))

    for answer in card.answers:
        line, retry = _answer_line(answer, ctx)
        accessory = (
            ButtonElement(
                text=t("button.retry"),
                action_id=action_id("retry", answer.id),
                value=str(answer.id),
                style="danger",
            )
            if retry
            else None
        )
        blocks.append(
            SectionBlock(block_id=f"answer:{answer.id}", text=MarkdownTextObject(text=line), accessory=accessory)
        )

    blocks.extend(extra_blocks)
    blocks.extend(_action_blocks(card, ctx, truncated))

    fallback, _ = escape_truncated(one_line(root.text, 200), 200)
    return {
        "text": f"{mrkdwn_escape(ctx.source_name)}: {author_label(root)}: {fallback}",
        "blocks": [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks],
        "metadata": {
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"conversation_id": card.conversation_id, "source": card.source},
        },
    }


def _action_blocks(card: CardData, ctx: CardContext, truncated: bool) -> list[Block]:
    t = ctx.t
    value = str(card.conversation_id)
    buttons: list[ButtonElement] = []
    unavailable: list[str] = []

    def button(name: str, label: str, style: str | None = None, confirm: ConfirmObject | None = None) -> None:
        buttons.append(ButtonElement(text=label, action_id=action_id(name), value=value, style=style, confirm=confirm))

    resolved = card.status == Status.RESOLVED.value
    if card.assignee:
        button("unclaim", t("button.unclaim"))
    else:
        button("claim", t("button.claim"), style="primary")
    for capability, name in ((Capability.REPLY, "reply"), (Capability.PRIVATE_REPLY, "private_reply")):
        if capability not in ctx.capabilities or card.root.removed_at:
            continue
        reason = ctx.capabilities[capability]
        if reason is None:
            button(name, t(f"button.{name}"))
        else:
            unavailable.append(t("card.unavailable", action=t(f"button.{name}"), reason=mrkdwn_escape(reason)))
    if Capability.HIDE in ctx.capabilities and not card.root.removed_at:
        reason = ctx.capabilities[Capability.HIDE]
        verb = "unhide" if card.root.hidden else "hide"
        if reason is None:
            confirm = ConfirmObject(
                title=t(f"confirm.{verb}.title"),
                text=t(f"confirm.{verb}.text"),
                confirm=t(f"confirm.{verb}.yes"),
                deny=t("confirm.no"),
            )
            button(verb, t(f"button.{verb}"), confirm=confirm)
        else:
            unavailable.append(t("card.unavailable", action=t(f"button.{verb}"), reason=mrkdwn_escape(reason)))
    button("tag", t("button.tag"))
    if not card.escalated_at:
        button("escalate", t("button.escalate"), style="danger")
    button("reopen" if resolved else "resolve", t("button.reopen" if resolved else "button.resolve"))
    if truncated:
        button("full_text", t("button.full_text"))
    original = safe_url(card.root.permalink)
    if original:
        buttons.append(
            ButtonElement(text=t("button.open"), action_id=action_id("open"), url=card.root.permalink, value=value)
        )

    blocks: list[Block] = []
    if unavailable:
        blocks.append(ContextBlock(block_id="unavailable", elements=[MarkdownTextObject(text="\n".join(unavailable))]))
    # 25 elements fit one actions block; two rows read better than one long one.
    blocks.append(ActionsBlock(block_id="actions", elements=buttons[:5]))
    if buttons[5:]:
        blocks.append(ActionsBlock(block_id="actions2", elements=buttons[5:]))
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
        kind = t(f"answer.{message.kind}") if message.kind in ("reply", "private_reply") else message.kind
        head, body = t("thread.answer", kind=kind, source=source, user=f"<@{message.sent_by}>"), message.text
    escaped, _ = escape_truncated(body, THREAD_TEXT_LIMIT - len(head))
    text = f"{head}\n>{_quote(escaped)}" if escaped else head
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    original = safe_url(message.permalink)
    if original and message.direction == Direction.INBOUND.value and note is None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=link(message.permalink, t("button.open")))]))
    return {"text": head, "blocks": [b.to_dict() for b in blocks]}


def render_escalation(
    card: CardData, ctx: CardContext, *, user: str, reason: str, leads: Sequence[str], card_url: str | None
) -> dict[str, Any]:
    """The post in the escalation channel: who, why, the leads, and a link to the card."""
    t = ctx.t
    mentions = " ".join(_mention(lead) for lead in leads)
    head = t("escalation.text", user=f"<@{user}>", source=mrkdwn_escape(ctx.source_name), leads=mentions).strip()
    reason_text, _ = escape_truncated(reason, 2000)
    quote, _ = escape_truncated(one_line(card.root.text, 300), 300)
    lines = [head, t("escalation.reason", reason=reason_text), f"*{author_label(card.root)}*: {quote}"]
    if card_url:
        lines.append(link(card_url, t("escalation.link")))
    return {"text": head, "blocks": [SectionBlock(text=MarkdownTextObject(text="\n".join(lines))).to_dict()]}


def _mention(lead: str) -> str:
    """Mention syntax for a configured lead: a user group (S…) or a user (U…/W…)."""
    lead = lead.strip()
    if lead.startswith("S"):
        return f"<!subteam^{lead}>"
    return f"<@{lead}>"


def full_text_blocks(text: str) -> list[dict[str, Any]]:
    """The whole customer text for a modal, split over plain-text sections (not parsed for mentions)."""
    chunks = [text[i : i + FULL_TEXT_CHUNK] for i in range(0, len(text), FULL_TEXT_CHUNK)] or [""]
    # A modal holds 100 blocks: 290,000 characters, more than any platform allows.
    return [SectionBlock(text=PlainTextObject(text=chunk or " ", emoji=False)).to_dict() for chunk in chunks[:100]]
