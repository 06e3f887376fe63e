"""Block Kit as HTML, the way Slack's client shows it, and a submitted modal back into ``view.state.values``.

The sandbox page shows the inbox channel "as Slack would" and sends every click and
submission to the bot as a real Slack request. This module makes the HTML for messages
(:func:`message_html`) and modals (:func:`view_html`); :func:`form_state` (from
:mod:`chatops.sandbox.view_state`) reads a submitted modal back. Pieces:

- :mod:`chatops.sandbox.mrkdwn`: ``mrkdwn`` text as safe HTML;
- :mod:`chatops.sandbox.blockkit_elements`: buttons, selects, overflow menus, inputs;
- :mod:`chatops.sandbox.rich_text_html`: ``rich_text`` blocks.

Every piece of text is escaped: no text in a message or a view can make an element or an
attribute the renderer did not make. A block or element the renderer does not know shows
as a small "[unsupported block: X]" note, never silently dropped.

The DOM the page and its browser tests rely on: buttons are ``<button type="button">``
named by their text, with ``bk-primary``/``bk-danger`` for their style and a
``data-action`` holding the action's JSON (``block_id``, ``action_id``, ``type``,
``value``, options, ``confirm``); a static select is a ``<select>``; an overflow menu is a
"⋯" button and a hidden list of option buttons. A modal is ``<form data-testid="modal">``
with its title in ``<h2>``, each input's label a ``<label for>`` bound to its control (named
``<block_id>/<action_id>``), errors in ``data-testid="field-error"``, and submit and close buttons.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from chatops.sandbox.blockkit_elements import (
    Render,
    element_html,
    input_control,
    option_text,
    text_html,
    unsupported,
)
from chatops.sandbox.mrkdwn import attr, mrkdwn_html, plain_html
from chatops.sandbox.rich_text_html import rich_text_html
from chatops.sandbox.view_state import block_id_of, element_action_id, form_state

__all__ = ["form_state", "message_html", "mrkdwn_html", "view_html"]

#: Slack's words when a view gives none for its close button.
DEFAULT_CLOSE = "Cancel"


def _block_html(block: Any, index: int, render: Render, errors: Mapping[str, str]) -> str:
    if not isinstance(block, Mapping):
        return f'<div class="bk-block">{unsupported("block", type(block).__name__)}</div>'
    kind = block.get("type")
    block_id = block_id_of(block, index)
    inner = _block_body(block, kind, block_id, render)
    error = errors.get(block_id) if isinstance(block.get("block_id"), str) else None
    if error is not None:
        inner += _field_error(error)
    css = f"bk-{kind}" if isinstance(kind, str) and kind.replace("_", "").isalnum() else "bk-unknown"
    return f'<div class="bk-block {css}" data-block-id="{attr(block_id)}">{inner}</div>'


def _field_error(text: str) -> str:
    return f'<div class="bk-field-error" data-testid="field-error" role="alert">{plain_html(text)}</div>'


def _block_body(block: Mapping[str, Any], kind: Any, block_id: str, render: Render) -> str:
    if kind == "section":
        parts = []
        if block.get("text") is not None:
            parts.append(f'<div class="bk-section-text">{text_html(block.get("text"), render)}</div>')
        fields = [f'<div class="bk-field">{text_html(f, render)}</div>' for f in block.get("fields") or []]
        if fields:
            parts.append(f'<div class="bk-fields">{"".join(fields)}</div>')
        accessory = block.get("accessory")
        if accessory is not None:
            action_id = element_action_id(accessory, 0)
            parts.append(f'<div class="bk-accessory">{element_html(accessory, block_id, action_id, render)}</div>')
        return "".join(parts)
    if kind == "context":
        items = [
            element_html(e, block_id, element_action_id(e, i), render)
            for i, e in enumerate(block.get("elements") or [])
        ]
        return " ".join(items)
    if kind == "actions":
        return "".join(
            element_html(e, block_id, element_action_id(e, i), render)
            for i, e in enumerate(block.get("elements") or [])
        )
    if kind == "divider":
        return "<hr>"
    if kind == "header":
        return f"<h3>{text_html(block.get('text'), render)}</h3>"
    if kind == "image":
        image = element_html({**block, "type": "image"}, block_id, "", render)
        title = block.get("title")
        caption = f"<figcaption>{text_html(title, render)}</figcaption>" if title else ""
        return f"<figure>{image}{caption}</figure>"
    if kind == "input":
        return _input_block(block, block_id, render)
    if kind == "rich_text":
        return rich_text_html(block, render)
    return unsupported("block", kind)


def _input_block(block: Mapping[str, Any], block_id: str, render: Render) -> str:
    element = block.get("element")
    if not isinstance(element, Mapping):
        return unsupported("element", type(element).__name__)
    control_id = render.new_id("input")
    optional = block.get("optional") is True
    dispatch = block.get("dispatch_action") is True
    label = option_text({"text": block.get("label")}) or block_id
    mark = ' <span class="bk-optional">(optional)</span>' if optional else ""
    control = input_control(
        element,
        block_id,
        element_action_id(element, 0),
        render,
        control_id=control_id,
        required=not optional,
        action=dispatch,
    )
    hint = block.get("hint")
    hint_html = f'<div class="bk-hint">{text_html(hint, render)}</div>' if hint else ""
    return (
        f'<label class="bk-label" id="{attr(control_id)}-label" for="{attr(control_id)}">{html.escape(label)}</label>'
        f"{mark}{control}{hint_html}"
    )


def blocks_html(blocks: Sequence[Any], render: Render, errors: Mapping[str, str] | None = None) -> str:
    """Blocks one after another, as a message or a view shows them."""
    return "".join(_block_html(block, i, render, errors or {}) for i, block in enumerate(blocks))


def message_html(
    message: Mapping[str, Any],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    id_prefix: str = "bk",
) -> str:
    """One message (its ``blocks``, else its ``text``) as HTML, interactive elements carrying their action data.

    ``users``/``channels`` name ids; ``id_prefix`` keeps HTML ids unique when many messages share a page
    (give each message its own, e.g. from its ``ts``). The page wraps the result in its own message element.
    """
    render = Render(users=users or {}, channels=channels or {}, id_prefix=id_prefix)
    blocks = message.get("blocks")
    if isinstance(blocks, list) and blocks:
        body = blocks_html(blocks, render)
    else:
        text = message.get("text")
        body = f'<div class="bk-text">{render.mrkdwn(text) if isinstance(text, str) else ""}</div>'
    for attachment in message.get("attachments") or []:
        body += _attachment(attachment, render)
    return f'<div class="bk-message">{body}</div>'


def _attachment(attachment: Any, render: Render) -> str:
    """A legacy attachment: its blocks, else its text (or fallback), under a coloured bar."""
    if not isinstance(attachment, Mapping):
        return ""
    if isinstance(attachment.get("blocks"), list):
        inner = blocks_html(attachment["blocks"], render)
    else:
        text = attachment.get("text") or attachment.get("fallback") or ""
        inner = render.mrkdwn(str(text))
    return f'<div class="bk-attachment">{inner}</div>'


def view_html(
    view: Mapping[str, Any],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    state: Mapping[str, Any] | None = None,
    id_prefix: str = "bk-modal",
) -> str:
    """A modal view as an HTML ``<form>``: title, blocks, inputs named by block and action id, submit and close.

    ``errors`` (``response_action: errors``, by block id) are shown under their inputs, an error for a
    block the view does not have at the top; ``state`` (``view.state.values``, e.g. from :func:`form_state`)
    fills the inputs instead of their initial values, so a form sent back with errors keeps what was typed.
    ``users`` are the people a user picker offers (id → name).
    """
    render = Render(users=users or {}, channels=channels or {}, id_prefix=id_prefix, state=state or {})
    errors = dict(errors or {})
    found = view.get("blocks")
    blocks: list[Any] = found if isinstance(found, list) else []
    known = {b.get("block_id") for b in blocks if isinstance(b, Mapping)}
    stray = "".join(_field_error(f"{block}: {text}") for block, text in errors.items() if block not in known)
    title = option_text({"text": view.get("title")})
    close = option_text({"text": view.get("close")}) or DEFAULT_CLOSE
    buttons = f'<button type="button" class="bk-button bk-close" data-modal-close>{html.escape(close)}</button>'
    if view.get("submit"):
        submit = option_text({"text": view.get("submit")})
        buttons += f'<button type="submit" class="bk-button bk-primary bk-submit">{html.escape(submit)}</button>'
    callback = view.get("callback_id")
    data = f' data-callback-id="{attr(callback)}"' if isinstance(callback, str) else ""
    if view.get("type") not in (None, "modal"):
        stray += f"<p>{unsupported('view', view.get('type'))}</p>"
    return (
        f'<form data-testid="modal" class="bk-modal" method="post"{data}>'
        f"<h2>{html.escape(title)}</h2>{stray}"
        f'<div class="bk-modal-body">{blocks_html(blocks, render, errors)}</div>'
        f'<div class="bk-modal-buttons">{buttons}</div></form>'
    )
