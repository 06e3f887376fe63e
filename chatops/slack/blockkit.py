"""Slack's Block Kit limits as the card renderer budgets against them, checks for plugins' blocks, and block builders.

slack_sdk's models enforce most per-field limits when a block is serialised, but
accept a few things Slack refuses (an empty text, a ``mrkdwn`` header, two buttons
with one ``action_id``). :func:`block_problem` adds those, so a plugin's decoration
that Slack would refuse is dropped before it can make a whole card unpostable.

The builders at the end (:func:`section`, :func:`context`, :func:`actions`, :func:`button`,
…) make the same dicts as slack_sdk's models' ``to_dict()``, without its checks: they are
for the bot's own blocks, whose texts are budgeted before they get here (``escape_fit``,
``clip_mrkdwn``) and whose labels come from the core's catalog. Building a card through the
models and validating it on every draw took most of a card's 0.7 ms. tests/test_card_blocks.py
holds the builders to slack_sdk's output; tests/test_card_properties.py holds any card to Slack's
limits through slack_sdk. Anything from outside (plugins' decorations) still goes through
:func:`block_problem`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Set
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

#: Blocks in one message.
MAX_BLOCKS = 50
#: Characters in a section's (or a context element's) text.
MAX_SECTION_TEXT = 3000
#: Slack answers ``msg_blocks_too_long`` at about 13,000 characters of text in a message's blocks;
#: cards stay well below (the fake Slack refuses above 12,000).
TOTAL_TEXT_BUDGET = 11_000

_TEXT_TYPES = ("plain_text", "mrkdwn")


def text_length(value: Any) -> int:
    """Total length of every ``text`` string inside blocks (how Slack's message size is budgeted)."""
    if isinstance(value, list | tuple):
        return sum(text_length(item) for item in value)
    if isinstance(value, Mapping):
        return sum(
            len(item) if key == "text" and isinstance(item, str) else text_length(item) for key, item in value.items()
        )
    return 0


def block_problem(block: Any, taken_block_ids: Set[str] = frozenset()) -> str | None:
    """Why Slack would refuse this one block in a message (None when it is fine)."""
    if not isinstance(block, Mapping):
        return "not an object"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # slack_sdk warns about fields it does not know
            parsed = Block.parse(dict(block))
            if parsed is None:
                return f"unknown block type {block.get('type')!r}"
            parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or block_id in taken_block_ids):
        return f"block_id {block_id!r} is used by another block"
    kind = block.get("type")
    if kind == "header" and (block.get("text") or {}).get("type") != "plain_text":
        return "a header's text must be plain_text"
    if kind in ("context", "actions"):
        elements = block.get("elements")
        limit = 10 if kind == "context" else 25
        if not isinstance(elements, list) or not 1 <= len(elements) <= limit:
            return f"a {kind} block needs 1 to {limit} elements"
    if kind == "actions":
        ids = [e.get("action_id") for e in block["elements"] if isinstance(e, Mapping) and e.get("action_id")]
        if len(ids) != len(set(ids)):
            return "two elements share an action_id"
    return _text_problem(block)


def _text_problem(value: Any) -> str | None:
    """An empty or non-string text object anywhere inside ``value``."""
    if isinstance(value, list | tuple):
        return next((p for p in (_text_problem(v) for v in value) if p), None)
    if not isinstance(value, Mapping):
        return None
    if value.get("type") in _TEXT_TYPES:
        text = value.get("text")
        if not isinstance(text, str) or not text:
            return "a text object is empty"
        if len(text) > MAX_SECTION_TEXT:
            return f"a text is longer than {MAX_SECTION_TEXT} characters"
    return next((p for p in (_text_problem(v) for v in value.values()) if p), None)


#: A Block Kit block or element, as JSON.
BlockDict = dict[str, Any]


def mrkdwn(text: str) -> BlockDict:
    """A ``mrkdwn`` text object."""
    return {"type": "mrkdwn", "text": text}


def plain(text: str, *, emoji: bool = True) -> BlockDict:
    """A ``plain_text`` text object."""
    return {"type": "plain_text", "text": text, "emoji": emoji}


def section(text: BlockDict, *, block_id: str | None = None, accessory: BlockDict | None = None) -> BlockDict:
    """A section block with one text (and an optional accessory)."""
    block: BlockDict = {"type": "section", "text": text}
    if block_id is not None:
        block["block_id"] = block_id
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(text: str, *, block_id: str | None = None) -> BlockDict:
    """A context block holding one ``mrkdwn`` text."""
    block: BlockDict = {"type": "context", "elements": [mrkdwn(text)]}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def actions(elements: list[BlockDict], *, block_id: str) -> BlockDict:
    """An actions block."""
    return {"type": "actions", "block_id": block_id, "elements": elements}


def confirm(*, title: str, text: str, yes: str, no: str) -> BlockDict:
    """A confirmation dialog for a button (its ``text`` is ``mrkdwn``, as slack_sdk makes it)."""
    return {"title": plain(title), "text": mrkdwn(text), "confirm": plain(yes), "deny": plain(no)}


def button(
    label: str,
    *,
    action_id: str,
    value: str | None = None,
    style: str | None = None,
    url: str | None = None,
    confirm: BlockDict | None = None,
) -> BlockDict:
    """A button element."""
    element: BlockDict = {"type": "button", "text": plain(label), "action_id": action_id}
    for key, given in (("value", value), ("style", style), ("url", url), ("confirm", confirm)):
        if given is not None:
            element[key] = given
    return element
