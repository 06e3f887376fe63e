"""Modals the card buttons open: reply, move to DM, tags, escalation, full text."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from chatops.i18n import Translator
from chatops.inbound_checks import replace_unstorable
from chatops.slack.card import full_text_blocks
from chatops.slack.escape import plain_truncated

REPLY_VIEW = "chatops:answer"
TAG_VIEW = "chatops:tags"
ESCALATE_VIEW = "chatops:escalate"
FULL_TEXT_VIEW = "chatops:full_text"

TEXT_BLOCK, TEXT_ACTION = "text", "text"
NOTICE_BLOCK, NOTICE_ACTION = "notice", "notice"
TAGS_BLOCK, TAGS_ACTION = "tags", "tags"
NEW_TAGS_BLOCK, NEW_TAGS_ACTION = "new_tags", "new_tags"
REASON_BLOCK, REASON_ACTION = "reason", "reason"

#: Slack's multi-select offers at most 100 options.
MAX_TAG_OPTIONS = 100


def _title(text: str) -> str:
    # Modal titles are at most 24 characters.
    return plain_truncated(text, 24)


def answer_modal(
    t: Translator,
    *,
    conversation_id: int,
    kind: str,
    source_name: str,
    limit: int,
    claimed_by_other: str | None,
    with_notice: bool = False,
    extra_blocks: Sequence[dict[str, Any]] = (),
    input_max: int | None = None,
    length_note: str | None = None,
) -> dict[str, Any]:
    """The dialog for a public reply or a private reply ("Move to DM").

    ``extra_blocks`` are plugins' inputs (saved replies, …), shown under the text; with
    one of them, the text may be left empty in the dialog (a plugin may fill it in).
    ``input_max`` lets the box take more characters than ``limit`` when the platform weighs
    them (``length_note`` says how); the weighted length is checked when the dialog is sent.
    """
    plugin_inputs = any(block.get("type") == "input" for block in extra_blocks)
    hint_key = "modal.private_reply.hint" if kind == "private_reply" else "modal.reply.hint"
    blocks: list[Any] = []
    if claimed_by_other:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=t("modal.reply.claimed_by_other", user=f"<@{claimed_by_other}>"))]
            )
        )
    blocks.append(
        InputBlock(
            block_id=TEXT_BLOCK,
            label=t("modal.reply.label"),
            hint=plain_truncated(
                " ".join(filter(None, (t(hint_key, source=source_name, limit=limit), length_note))), 2000
            ),
            optional=plugin_inputs,
            element=PlainTextInputElement(
                action_id=TEXT_ACTION, multiline=True, max_length=min(input_max or limit, 3000)
            ),
        )
    )
    if with_notice:
        blocks.append(
            InputBlock(
                block_id=NOTICE_BLOCK,
                label=t("modal.private_reply.notice_label"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=NOTICE_ACTION,
                    initial_value=t("modal.private_reply.notice_default"),
                    max_length=min(limit, 500),
                ),
            )
        )
    blocks.extend(extra_blocks)
    title = t("modal.private_reply.title" if kind == "private_reply" else "modal.reply.title")
    return View(
        type="modal",
        callback_id=REPLY_VIEW,
        title=_title(title),
        submit=t("modal.send"),
        close=t("modal.cancel"),
        private_metadata=json.dumps({"conversation_id": conversation_id, "kind": kind}),
        blocks=blocks,
    ).to_dict()


def tag_modal(
    t: Translator, *, conversation_id: int, vocabulary: Sequence[str], current: Sequence[str], allow_new: bool
) -> dict[str, Any]:
    """The dialog to set a conversation's tags: pick known ones, optionally type new ones."""
    # The conversation's own tags are offered first (Slack caps a multi-select at 100 options), so
    # they can be seen and removed; a submission leaves alone any tag the modal did not offer.
    own = sorted(set(current))[:MAX_TAG_OPTIONS]
    names = sorted([*own, *sorted(set(vocabulary) - set(own))[: MAX_TAG_OPTIONS - len(own)]])
    options = [Option(text=plain_truncated(n, 75), value=n[:150]) for n in names]
    blocks: list[Any] = []
    if options:
        initial = [o for o in options if o.value in set(current)]
        blocks.append(
            InputBlock(
                block_id=TAGS_BLOCK,
                label=t("modal.tag.choose"),
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=TAGS_ACTION, options=options, initial_options=initial or None
                ),
            )
        )
    if allow_new:
        blocks.append(
            InputBlock(
                block_id=NEW_TAGS_BLOCK,
                label=t("modal.tag.new"),
                optional=True,
                element=PlainTextInputElement(action_id=NEW_TAGS_ACTION, max_length=500),
            )
        )
    return View(
        type="modal",
        callback_id=TAG_VIEW,
        title=_title(t("modal.tag.title")),
        submit=t("modal.save"),
        close=t("modal.cancel"),
        private_metadata=json.dumps({"conversation_id": conversation_id}),
        blocks=blocks,
    ).to_dict()


def escalate_modal(t: Translator, *, conversation_id: int) -> dict[str, Any]:
    """The dialog asking why a conversation needs a lead."""
    return View(
        type="modal",
        callback_id=ESCALATE_VIEW,
        title=_title(t("modal.escalate.title")),
        submit=t("modal.escalate.submit"),
        close=t("modal.cancel"),
        private_metadata=json.dumps({"conversation_id": conversation_id}),
        blocks=[
            InputBlock(
                block_id=REASON_BLOCK,
                label=t("modal.escalate.label"),
                element=PlainTextInputElement(action_id=REASON_ACTION, multiline=True, max_length=2000),
            )
        ],
    ).to_dict()


def full_text_modal(t: Translator, text: str) -> dict[str, Any]:
    """A read-only dialog with the customer's whole message."""
    return {
        "type": "modal",
        "callback_id": FULL_TEXT_VIEW,
        "title": {"type": "plain_text", "text": _title(t("modal.full_text.title"))},
        "close": {"type": "plain_text", "text": t("modal.cancel")},
        "blocks": full_text_blocks(text),
    }


def input_value(view: dict[str, Any], block_id: str, action_id: str) -> Any:
    """The submitted state of one input: its value, or its selected options' values."""
    state = view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id, {})
    # What a person typed is stored: a NUL or a lone surrogate in it (legal JSON in Slack's
    # payload) would fail the transaction after the dialog closed, losing the text silently.
    return replace_unstorable(state_value(state))


def state_value(state: Mapping[str, Any]) -> Any:
    """The value of one submitted input, whatever its element: text, select, multi-select, date, user, …"""
    if "selected_options" in state:
        # A forged submission may carry anything here: options that are not objects are left out.
        return [option.get("value") for option in state.get("selected_options") or [] if isinstance(option, dict)]
    if "selected_option" in state:
        option = state.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    for key in (
        "value",
        "selected_date",
        "selected_time",
        "selected_user",
        "selected_users",
        "selected_channel",
        "selected_conversation",
        "selected_date_time",
    ):
        if key in state:
            return state[key]
    return None


def offered_values(view: dict[str, Any], block_id: str) -> list[str]:
    """The values of the options a submitted view's select offered (Slack sends the view's blocks back)."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == block_id:
            element = block.get("element") or {}
            return [o["value"] for o in element.get("options") or [] if isinstance(o, dict) and "value" in o]
    return []


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The private metadata a modal was opened with."""
    raw = view.get("private_metadata") or "{}"
    return json.loads(raw)
