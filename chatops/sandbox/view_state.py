"""A submitted modal form back into the ``view.state.values`` Slack would send.

The page's form names each control ``<block_id>/<action_id>``
(:mod:`chatops.sandbox.blockkit_elements`). Reading it back, the view is the authority:
only its elements are read, an option is looked up among the view's options (never taken
from the browser), and a value that Slack's client could not have sent (an option the view
does not offer, a malformed date, an unknown person) counts as nothing chosen. A hostile
or broken form therefore gives a state Slack could send, and never an exception.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from chatops.sandbox.blockkit_elements import STATEFUL, options_of

__all__ = ["block_id_of", "element_action_id", "form_state"]

_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_USER = re.compile(r"[UW][A-Z0-9]{1,30}")
_CHANNEL = re.compile(r"[CGD][A-Z0-9]{1,30}")
_TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input"})
_PICKED = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
}


def block_id_of(block: Mapping[str, Any], index: int) -> str:
    """A block's id; one made from its place for a block without (Slack makes one up too)."""
    block_id = block.get("block_id")
    return block_id if isinstance(block_id, str) and block_id else f"block-{index}"


def element_action_id(element: Any, index: int) -> str:
    """An element's action id; one made from its place for an element without."""
    action_id = element.get("action_id") if isinstance(element, Mapping) else None
    return action_id if isinstance(action_id, str) and action_id else f"action-{index}"


def _stateful(block: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The elements of a block that hold state, with their action ids."""
    kind = block.get("type")
    found: list[tuple[int, Any]] = []
    if kind == "input":
        found = [(0, block.get("element"))]
    elif kind == "actions":
        found = list(enumerate(block.get("elements") or []))
    elif kind == "section":
        found = [(0, block.get("accessory"))]
    return [
        (element_action_id(element, i), element)
        for i, element in found
        if isinstance(element, Mapping) and (kind == "input" or element.get("type") in STATEFUL)
    ]


def _strings(form: Mapping[str, Any], name: str) -> list[str]:
    raw = form.get(name)
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, Sequence):
        return []
    return [item for item in raw if isinstance(item, str)]


def _option_state(element: Mapping[str, Any], values: list[str], many: bool) -> Any:
    by_value: dict[str, dict[str, Any]] = {}
    for option in options_of(element):
        by_value.setdefault(option["value"], option)
    # The view's own option objects, copied: what Slack sends back is what the view offered.
    picked = [
        {k: copy.deepcopy(v) for k, v in by_value[value].items() if k != "url"}
        for value in dict.fromkeys(values)
        if value in by_value
    ]
    if not many:
        return picked[0] if picked else None
    limit = element.get("max_selected_items")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        picked = picked[:limit]
    return picked


def _number(element: Mapping[str, Any], text: str) -> str | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if not element.get("is_decimal_allowed") and not re.fullmatch(r"-?\d+", text.strip()):
        return None
    return text.strip()


def _date(text: str) -> str | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def _date_time(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _people(values: list[str], known: Mapping[str, str] | None, pattern: re.Pattern[str]) -> list[str]:
    """Ids Slack's picker could have offered: among ``known`` when given, else shaped like an id."""
    return [v for v in dict.fromkeys(values) if (v in known if known is not None else bool(pattern.fullmatch(v)))]


def _element_state(
    element: Mapping[str, Any],
    values: list[str],
    users: Mapping[str, str] | None,
    channels: Mapping[str, str] | None,
) -> dict[str, Any]:
    kind = str(element.get("type"))
    state: dict[str, Any] = {"type": kind}
    first = values[0] if values else ""
    if kind in _TEXT_INPUTS:
        state["value"] = first or None
    elif kind == "number_input":
        state["value"] = _number(element, first) if first else None
    elif kind in ("static_select", "external_select", "radio_buttons"):
        state["selected_option"] = _option_state(element, values, many=False)
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        state["selected_options"] = _option_state(element, values, many=True)
    elif kind == "datepicker":
        state["selected_date"] = _date(first)
    elif kind == "timepicker":
        found = _TIME.fullmatch(first)
        state["selected_time"] = f"{found.group(1)}:{found.group(2)}" if found else None
        if isinstance(element.get("timezone"), str):
            state["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        state["selected_date_time"] = _date_time(first) if first else None
    elif kind in _PICKED:
        key = _PICKED[kind]
        known, pattern = (users, _USER) if "users" in kind else (channels, _CHANNEL)
        picked = _people(values, known, pattern)
        state[key] = picked if kind.startswith("multi_") else (picked[0] if picked else None)
    else:
        # An element Slack keeps state for that the page does not render: sent as it was, empty.
        state["value"] = None
    return state


def form_state(
    view: Mapping[str, Any],
    form: Mapping[str, Sequence[str]],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``view.state.values`` Slack would send for ``view`` given the submitted ``form`` fields.

    ``form`` maps a control's name (``<block_id>/<action_id>``) to the values the browser sent
    (several for checkboxes and multi-selects). Every input of the view is in the result, an
    empty one as Slack sends it (``value: None``, ``selected_option: None``, ``[]``); fields the
    view does not have are ignored. ``users``/``channels`` are the people and channels a picker
    offered; without them, any well-formed id is taken.
    """
    values: dict[str, dict[str, dict[str, Any]]] = {}
    blocks = view.get("blocks")
    for index, block in enumerate(blocks if isinstance(blocks, list) else []):
        if not isinstance(block, Mapping):
            continue
        block_id = block_id_of(block, index)
        for action_id, element in _stateful(block):
            sent = _strings(form, f"{block_id}/{action_id}")
            values.setdefault(block_id, {})[action_id] = _element_state(element, sent, users, channels)
    return values
