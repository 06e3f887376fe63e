"""Block Kit elements as HTML controls: buttons, selects, overflow menus, pickers, text inputs.

Every interactive control in a message carries one ``data-action`` attribute: the JSON
the page needs to send Slack's ``block_actions`` payload for it (``block_id``,
``action_id``, ``type``, a button's ``value``, a select's options, the ``confirm``
object). Controls inside a modal's input blocks are named ``<block_id>/<action_id>``
so :func:`chatops.sandbox.view_state.form_state` can read a submitted form back.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatops.sandbox.mrkdwn import attr, mrkdwn_html, plain_html, safe_href

__all__ = [
    "STATEFUL",
    "Render",
    "element_html",
    "input_control",
    "option_text",
    "options_of",
    "text_html",
    "unsupported",
]

#: Elements whose value a modal's form carries (everything in an input block, and these elsewhere).
STATEFUL = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "checkboxes",
        "radio_buttons",
        "datepicker",
        "timepicker",
        "datetimepicker",
    }
)


@dataclass
class Render:
    """What rendering one message or view needs: names for ids, the view's state, unique element ids."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    #: Prefix of every HTML id made, so two modals (or a modal and a message) on one page never share one.
    id_prefix: str = "bk"
    #: ``view.state.values`` to show instead of the elements' initial values (a form sent back with errors).
    state: Mapping[str, Any] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1 << 62)))

    def new_id(self, kind: str) -> str:
        """A fresh HTML id."""
        return f"{self.id_prefix}-{kind}-{next(self._ids)}"

    def mrkdwn(self, text: str) -> str:
        """``text`` as HTML, with this render's names."""
        return mrkdwn_html(text, users=self.users, channels=self.channels)

    def current(self, block_id: str, action_id: str) -> Mapping[str, Any] | None:
        """The state an element was sent back with, if any."""
        block = self.state.get(block_id)
        found = block.get(action_id) if isinstance(block, Mapping) else None
        return found if isinstance(found, Mapping) else None


def text_html(obj: Any, render: Render) -> str:
    """A text object (``mrkdwn`` or ``plain_text``) as HTML; anything else as nothing."""
    if isinstance(obj, str):
        return plain_html(obj)
    if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
        return ""
    return render.mrkdwn(obj["text"]) if obj.get("type") == "mrkdwn" else plain_html(obj["text"])


def option_text(option: Any) -> str:
    """An option's text as plain words (for ``<option>``, where no markup can show)."""
    if not isinstance(option, Mapping):
        return ""
    text = option.get("text")
    if isinstance(text, Mapping) and isinstance(text.get("text"), str):
        return str(text["text"])
    return str(option.get("value", ""))


def options_of(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every option an element offers, groups flattened (only options that have a string value)."""
    found: list[Any] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            found.extend(group.get("options") or [])
    return [dict(o) for o in found if isinstance(o, Mapping) and isinstance(o.get("value"), str)]


def _data_action(payload: Mapping[str, Any]) -> str:
    return f' data-action="{attr(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))}"'


def _action(element: Mapping[str, Any], block_id: str, action_id: str, **extra: Any) -> dict[str, Any]:
    """The ``data-action`` of a control: what Slack puts in the action, and the confirm dialog's words."""
    payload: dict[str, Any] = {"block_id": block_id, "action_id": action_id, "type": element.get("type")}
    for key in ("value", "text", "style", "url"):
        if key in element:
            payload[key] = element[key]
    if isinstance(element.get("confirm"), Mapping):
        payload["confirm"] = element["confirm"]
    payload.update(extra)
    return payload


def _selected(element: Mapping[str, Any], current: Mapping[str, Any] | None) -> set[str]:
    """Values of the options shown as chosen: the sent-back state, else the element's initial options."""
    if current is not None:
        chosen: Any = current.get("selected_options") or [current.get("selected_option")]
    else:
        chosen = element.get("initial_options") or [element.get("initial_option")]
    return {str(o["value"]) for o in chosen if isinstance(o, Mapping) and "value" in o}


def _option_tags(element: Mapping[str, Any], chosen: set[str]) -> str:
    def one(option: Any) -> str:
        if not isinstance(option, Mapping) or not isinstance(option.get("value"), str):
            return ""
        mark = " selected" if option["value"] in chosen else ""
        return f'<option value="{attr(option["value"])}"{mark}>{html.escape(option_text(option))}</option>'

    parts = [one(o) for o in element.get("options") or []]
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            label = option_text({"text": group.get("label")})
            inner = "".join(one(o) for o in group.get("options") or [])
            parts.append(f'<optgroup label="{attr(label)}">{inner}</optgroup>')
    return "".join(parts)


def _named_options(names: Mapping[str, str], chosen: set[str]) -> str:
    return "".join(
        f'<option value="{attr(key)}"{" selected" if key in chosen else ""}>{html.escape(name)}</option>'
        for key, name in names.items()
    )


def _placeholder(element: Mapping[str, Any], multiple: bool) -> str:
    if multiple:
        return ""
    words = option_text({"text": element.get("placeholder")}) if element.get("placeholder") else ""
    return f'<option value="">{html.escape(words or "Select an item")}</option>'


def _button(element: Mapping[str, Any], block_id: str, action_id: str, render: Render) -> str:
    style = element.get("style")
    css = "bk-button" + (f" bk-{style}" if style in ("primary", "danger") else "")
    url = safe_href(str(element["url"])) if isinstance(element.get("url"), str) else None
    link = f' data-url="{attr(url)}"' if url else ""
    label = option_text({"text": element.get("text")}) or "Button"
    return (
        f'<button type="button" class="{css}"{_data_action(_action(element, block_id, action_id))}{link}>'
        f"{html.escape(label)}</button>"
    )


def _overflow(element: Mapping[str, Any], block_id: str, action_id: str, render: Render) -> str:
    menu = render.new_id("menu")
    items = []
    for option in options_of(element):
        payload = _action(element, block_id, action_id, selected_option=option)
        url = safe_href(str(option["url"])) if isinstance(option.get("url"), str) else None
        link = f' data-url="{attr(url)}"' if url else ""
        items.append(
            f'<button type="button" class="bk-overflow-option"{_data_action(payload)}{link}>'
            f"{html.escape(option_text(option))}</button>"
        )
    return (
        f'<div class="bk-overflow"><button type="button" class="bk-overflow-toggle" title="More actions"'
        f' aria-haspopup="true" aria-controls="{menu}" aria-expanded="false">⋯</button>'
        f'<div class="bk-overflow-menu" id="{menu}" role="menu" hidden>{"".join(items)}</div></div>'
    )


def _image(element: Mapping[str, Any]) -> str:
    alt = str(element.get("alt_text") or "")
    src = safe_href(str(element.get("image_url") or ""))
    if src is None or src.startswith("mailto:"):
        return f'<span class="bk-image-missing">{html.escape(alt or "[image]")}</span>'
    return f'<img class="bk-image" src="{attr(src)}" alt="{attr(alt)}">'


def input_control(
    element: Mapping[str, Any],
    block_id: str,
    action_id: str,
    render: Render,
    *,
    control_id: str,
    required: bool = False,
    action: bool = False,
) -> str:
    """A stateful element as a form control named ``<block_id>/<action_id>`` with the HTML id ``control_id``.

    ``action``: the control also carries a ``data-action`` (in a message, or ``dispatch_action`` in a modal).
    """
    kind = str(element.get("type"))
    name = f'name="{attr(f"{block_id}/{action_id}")}"'
    needed = " required" if required else ""
    data = _data_action(_action(element, block_id, action_id, options=options_of(element))) if action else ""
    current = render.current(block_id, action_id)
    placeholder = option_text({"text": element.get("placeholder")}) if element.get("placeholder") else ""
    hint = f' placeholder="{attr(placeholder)}"' if placeholder else ""

    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        value = current.get("value") if current is not None else element.get("initial_value")
        value = "" if value is None else str(value)
        limits = "".join(
            f' {html_name}="{int(element[key])}"'
            for key, html_name in (("min_length", "minlength"), ("max_length", "maxlength"))
            if isinstance(element.get(key), int) and not isinstance(element.get(key), bool)
        )
        common = f'id="{attr(control_id)}" {name}{needed}{limits}{hint}{data}'
        if kind == "plain_text_input" and element.get("multiline"):
            return f'<textarea class="bk-textarea" {common} rows="4">{html.escape(value)}</textarea>'
        html_type = {"email_text_input": "email", "url_text_input": "url", "number_input": "number"}.get(kind, "text")
        extra = ""
        if kind == "number_input":
            extra = ' step="any"' if element.get("is_decimal_allowed") else ' step="1"'
            for key in ("min_value", "max_value"):
                if isinstance(element.get(key), str | int | float) and not isinstance(element.get(key), bool):
                    extra += f' {key[:3]}="{attr(element[key])}"'
        return f'<input class="bk-text" type="{html_type}" {common}{extra} value="{attr(value)}">'

    if kind in ("static_select", "multi_static_select", "external_select", "multi_external_select"):
        multiple = kind.startswith("multi_")
        chosen = _selected(element, current)
        body = _placeholder(element, multiple) + _option_tags(element, chosen)
        many = " multiple" if multiple else ""
        return f'<select class="bk-select" id="{attr(control_id)}" {name}{many}{needed}{data}>{body}</select>'

    if kind in ("users_select", "multi_users_select", "conversations_select", "multi_conversations_select") or kind in (
        "channels_select",
        "multi_channels_select",
    ):
        multiple = kind.startswith("multi_")
        noun = "user" if "users" in kind else ("channel" if "channels" in kind else "conversation")
        names = render.users if noun == "user" else render.channels
        chosen = _chosen_ids(element, current, noun, multiple)
        # Someone chosen who is not in the list still shows (by id), as Slack shows any member.
        shown = {**{key: key for key in chosen if key not in names}, **names}
        body = _placeholder(element, multiple) + _named_options(shown, chosen)
        many = " multiple" if multiple else ""
        return f'<select class="bk-select" id="{attr(control_id)}" {name}{many}{needed}{data}>{body}</select>'

    if kind in ("checkboxes", "radio_buttons"):
        html_type = "checkbox" if kind == "checkboxes" else "radio"
        chosen = _selected(element, current)
        items = []
        for i, option in enumerate(options_of(element)):
            box = f"{control_id}-{i}"
            mark = " checked" if option["value"] in chosen else ""
            # One radio of a group carries "required"; a checkbox group cannot say "at least one" in HTML.
            need = needed if kind == "radio_buttons" and i == 0 else ""
            described = ""
            if isinstance(option.get("description"), Mapping):
                described = f'<span class="bk-option-description">{text_html(option["description"], render)}</span>'
            items.append(
                f'<div class="bk-choice"><input type="{html_type}" id="{attr(box)}" {name}'
                f' value="{attr(option["value"])}"{mark}{need}>'
                f'<label for="{attr(box)}">{text_html(option.get("text"), render)}</label>{described}</div>'
            )
        return (
            f'<div class="bk-choices" role="{"radiogroup" if html_type == "radio" else "group"}"'
            f' id="{attr(control_id)}" aria-labelledby="{attr(control_id)}-label"{data}>{"".join(items)}</div>'
        )

    if kind in ("datepicker", "timepicker", "datetimepicker"):
        key = {"datepicker": "date", "timepicker": "time", "datetimepicker": "date_time"}[kind]
        value = current.get(f"selected_{key}") if current is not None else element.get(f"initial_{key}")
        if kind == "datetimepicker":
            value = _local_datetime(value)
        html_type = {"datepicker": "date", "timepicker": "time", "datetimepicker": "datetime-local"}[kind]
        picked = "" if value is None else str(value)
        return (
            f'<input class="bk-picker" type="{html_type}" id="{attr(control_id)}" {name}{needed}{data}'
            f' value="{attr(picked)}">'
        )

    return unsupported("element", kind)


def _chosen_ids(element: Mapping[str, Any], current: Mapping[str, Any] | None, noun: str, multiple: bool) -> set[str]:
    key = f"selected_{noun}s" if multiple else f"selected_{noun}"
    initial = f"initial_{noun}s" if multiple else f"initial_{noun}"
    found = current.get(key) if current is not None else element.get(initial)
    items: Sequence[Any] = found if isinstance(found, list) else [found]
    return {str(item) for item in items if isinstance(item, str)}


def _local_datetime(value: Any) -> str | None:
    """A ``datetimepicker``'s epoch seconds as the value of ``<input type=datetime-local>`` (UTC)."""
    from datetime import UTC, datetime

    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M")
    except (OverflowError, OSError, ValueError):
        return None


def unsupported(what: str, kind: object) -> str:
    """A visible note for a block or element the renderer does not know (never silently dropped)."""
    return f'<span class="bk-unsupported">[unsupported {what}: {html.escape(str(kind))}]</span>'


def element_html(element: Any, block_id: str, action_id: str, render: Render) -> str:
    """An element of a message (in an actions block, a section's accessory or a context) as HTML."""
    if not isinstance(element, Mapping):
        return unsupported("element", type(element).__name__)
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return f'<span class="bk-text">{text_html(element, render)}</span>'
    if kind == "image":
        return _image(element)
    if kind == "button":
        return _button(element, block_id, action_id, render)
    if kind == "overflow":
        return _overflow(element, block_id, action_id, render)
    if kind in STATEFUL:
        control = render.new_id("control")
        label = html.escape(option_text({"text": element.get("placeholder")}) or str(kind))
        # A control outside an input block has no label of its own: its placeholder names it.
        body = input_control(element, block_id, action_id, render, control_id=control, action=True)
        return (
            f'<span class="bk-control"><label class="bk-hidden-label" id="{control}-label" for="{control}">'
            f"{label}</label>{body}</span>"
        )
    return unsupported("element", kind)
