"""Block Kit for roll-ups: the card gathering a flood, and the listing messages in its thread.

Every customer text is escaped (``chatops.slack.escape``) and cut before escaping, so no
comment can ping the channel or hide a link. A listing line starts with the comment's own
first words, verbatim once escaped: whoever looks for a comment finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatops.i18n import Translator
from chatops.rollups.store import Member, RollupView
from chatops.slack.card import ACTION_PREFIX, format_time
from chatops.slack.escape import clip_mrkdwn, escape_fit, link, mention, one_line, plain_truncated

#: Action ids: one member as a card, the most urgent as cards, resolve all (``chatops:<name>:<id>``).
OPEN_ACTION = "rollup_open"
OPEN_TOP_ACTION = "rollup_open_top"
RESOLVE_ACTION = "rollup_resolve"
#: Most characters of a comment a listing line or the card shows.
MEMBER_TEXT_LIMIT = 200
AUTHOR_LIMIT = 30
TITLE_LIMIT = 150
SECTION_LIMIT = 3000
BUTTON_LIMIT = 75
#: The text a listing message may carry in all: Slack refuses ~13k (``msg_blocks_too_long``), its fake 12k.
LISTING_TEXT_BUDGET = 11_500


def _action_id(name: str, suffix: int) -> str:
    return f"{ACTION_PREFIX}{name}:{suffix}"


def _button(t: Translator, text: str, name: str, value: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": plain_truncated(text, BUTTON_LIMIT)},
        "action_id": _action_id(name, value),
        "value": str(value),
        **extra,
    }


def _time(at: datetime | None, tz: ZoneInfo) -> str:
    """Hours and minutes in the team's zone: a listing line has little room."""
    shown = format_time(at, tz)
    return shown[11:16] if len(shown) >= 16 else shown


def member_line(member: Member, tz: ZoneInfo, text_limit: int = MEMBER_TEXT_LIMIT) -> str:
    """``*author* · 12:04`` then the comment's first ``text_limit`` characters, escaped."""
    author = escape_fit(one_line(member.author, AUTHOR_LIMIT), AUTHOR_LIMIT).text or "?"
    head = f"*{author}* · {_time(member.at, tz)}"
    if member.priority > 0:
        head += f" · ⚠ {member.priority}"
    text = escape_fit(member.text, max(text_limit, 20)).text
    return f"{head}\n{text}"


def _member_section(t: Translator, member: Member, tz: ZoneInfo, text_limit: int) -> dict[str, Any]:
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip_mrkdwn(member_line(member, tz, text_limit), SECTION_LIMIT)},
    }
    if not member.has_card:
        section["accessory"] = _button(t, t("rollup.open"), OPEN_ACTION, member.conversation_id)
    return section


def post_label(view_title: str | None, url: str | None) -> str:
    """The post a roll-up is about, escaped, linked when its URL is safe."""
    title = one_line(view_title or url or "?", TITLE_LIMIT)
    return link(url, title, label_limit=TITLE_LIMIT)


def render_rollup(
    view: RollupView, t: Translator, tz: ZoneInfo, source_name: str, *, open_count: int
) -> dict[str, Any]:
    """The roll-up card: how many wait, the most urgent and the newest, and the bulk actions."""
    source = escape_fit(source_name, 100).text
    if view.title or view.url:
        title = t("rollup.title", count=view.waiting, post=post_label(view.title, view.url))
        fallback = t("rollup.fallback", count=view.waiting, post=one_line(view.title or view.url or "", 100))
    else:
        title = t("rollup.title_source", count=view.waiting, source=source)
        fallback = t("rollup.fallback", count=view.waiting, post=source_name)
    summary = t(
        "rollup.summary",
        gathered=view.gathered,
        since=format_time(view.created_at, tz),
        opened=max(view.gathered - view.waiting, 0),
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(title, SECTION_LIMIT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(summary, SECTION_LIMIT)}]},
    ]
    if view.resolved_by:
        resolved = t("rollup.resolved", user=mention(view.resolved_by), time=format_time(view.resolved_at, tz))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": resolved}]})
    for heading, members in (("rollup.urgent", view.urgent), ("rollup.newest", view.newest)):
        if members:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": t(heading)}})
            blocks.extend(_member_section(t, m, tz, MEMBER_TEXT_LIMIT) for m in members)
    actions: list[dict[str, Any]] = []
    if view.waiting:
        actions.append(_button(t, t("rollup.open_top", count=open_count), OPEN_TOP_ACTION, view.id, style="primary"))
    if not view.resolved_by and view.waiting:
        confirm = {
            "title": {"type": "plain_text", "text": plain_truncated(t("rollup.confirm_title"), 100)},
            "text": {"type": "plain_text", "text": plain_truncated(t("rollup.confirm_text"), 300)},
            "confirm": {"type": "plain_text", "text": plain_truncated(t("rollup.confirm_yes"), 30)},
            "deny": {"type": "plain_text", "text": plain_truncated(t("rollup.confirm_no"), 30)},
            "style": "danger",
        }
        actions.append(_button(t, t("rollup.resolve_all"), RESOLVE_ACTION, view.id, style="danger", confirm=confirm))
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    return {"text": plain_truncated(fallback, 300), "blocks": blocks}


def render_listing(members: Sequence[Member], first: int, t: Translator, tz: ZoneInfo, post: str) -> dict[str, Any]:
    """One listing message: a line per member, each with "Open as card", within Slack's size limits."""
    last = first + len(members) - 1
    header = t("rollup.listing", first=first, last=last)
    button_text = len(t("rollup.open"))
    # Share what the message may carry between the lines: ~170-200 characters of comment each.
    per_line = (LISTING_TEXT_BUDGET - len(header)) // max(len(members), 1) - button_text
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": header}]}]
    for member in members:
        overhead = len(member_line(replace(member, text=""), tz, 0))
        limit = min(MEMBER_TEXT_LIMIT, max(per_line - overhead, 20))
        blocks.append(_member_section(t, member, tz, limit))
    fallback = t("rollup.listing_fallback", count=len(members), post=post)
    return {"text": plain_truncated(fallback, 300), "blocks": blocks}


__all__ = [
    "OPEN_ACTION",
    "OPEN_TOP_ACTION",
    "RESOLVE_ACTION",
    "member_line",
    "render_listing",
    "render_rollup",
]
