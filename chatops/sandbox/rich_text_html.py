"""Slack's ``rich_text`` blocks (what people's own messages are made of) as safe HTML.

Rich text is structured already: sections, lists, quotes and preformatted runs of inline
elements (text with a style, links, mentions, emoji). Its text is literal (no entities), so
every piece is only HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from chatops.sandbox.blockkit_elements import Render, unsupported
from chatops.sandbox.mrkdwn import attr, safe_href

__all__ = ["rich_text_html"]

_BROADCASTS = {"channel": "@channel", "here": "@here", "everyone": "@everyone"}
_STYLES = (("code", "code"), ("strike", "s"), ("italic", "i"), ("bold", "b"))


def _styled(inner: str, style: Any) -> str:
    if not isinstance(style, Mapping):
        return inner
    for key, tag in _STYLES:
        if style.get(key) is True:
            inner = f"<{tag}>{inner}</{tag}>"
    return inner


def _emoji(element: Mapping[str, Any]) -> str:
    code = element.get("unicode")
    if isinstance(code, str):
        try:
            return "".join(chr(int(part, 16)) for part in code.split("-"))
        except (ValueError, OverflowError):
            pass
    return f":{element.get('name', '')}:"


def _inline(element: Any, render: Render) -> str:
    if not isinstance(element, Mapping):
        return unsupported("rich text element", type(element).__name__)
    kind = element.get("type")
    style = element.get("style")
    if kind == "text":
        return _styled(html.escape(str(element.get("text", ""))).replace("\n", "<br>"), style)
    if kind == "link":
        url = str(element.get("url", ""))
        shown = html.escape(str(element.get("text") or url))
        href = safe_href(url)
        if href is None:
            return _styled(shown, style)
        return _styled(f'<a href="{attr(href)}" target="_blank" rel="noopener noreferrer">{shown}</a>', style)
    if kind == "user":
        user = str(element.get("user_id", ""))
        return _styled(f'<span class="bk-mention">@{html.escape(render.users.get(user) or user)}</span>', style)
    if kind == "channel":
        channel = str(element.get("channel_id", ""))
        return _styled(
            f'<span class="bk-channel">#{html.escape(render.channels.get(channel) or channel)}</span>', style
        )
    if kind == "usergroup":
        return _styled(f'<span class="bk-mention">@{html.escape(str(element.get("usergroup_id", "")))}</span>', style)
    if kind == "broadcast":
        word = _BROADCASTS.get(str(element.get("range")), "@" + str(element.get("range", "")))
        return _styled(f'<span class="bk-mention">{html.escape(word)}</span>', style)
    if kind == "emoji":
        return html.escape(_emoji(element))
    if kind == "date":
        return html.escape(str(element.get("fallback") or element.get("timestamp", "")))
    return unsupported("rich text element", kind)


def _run(elements: Any, render: Render) -> str:
    return "".join(_inline(e, render) for e in elements or [])


def _part(part: Any, render: Render) -> str:
    if not isinstance(part, Mapping):
        return unsupported("rich text part", type(part).__name__)
    kind = part.get("type")
    if kind == "rich_text_section":
        return f"<div>{_run(part.get('elements'), render)}</div>"
    if kind == "rich_text_quote":
        return f"<blockquote>{_run(part.get('elements'), render)}</blockquote>"
    if kind == "rich_text_preformatted":
        return f"<pre>{_run(part.get('elements'), render)}</pre>"
    if kind == "rich_text_list":
        tag = "ol" if part.get("style") == "ordered" else "ul"
        items = "".join(
            f"<li>{_run(item.get('elements'), render) if isinstance(item, Mapping) else ''}</li>"
            for item in part.get("elements") or []
        )
        return f"<{tag}>{items}</{tag}>"
    return unsupported("rich text part", kind)


def rich_text_html(block: Mapping[str, Any], render: Render) -> str:
    """A ``rich_text`` block's sections, lists, quotes and preformatted text as HTML."""
    return "".join(_part(part, render) for part in block.get("elements") or [])
