"""Block Kit for roll-ups: the card gathering a flood, and the listing messages in its thread.

Every customer text is escaped (``chatops.slack.escape``) and cut before escaping, so no
comment can ping the channel or hide a link. A listing line starts with the comment's own
first words, verbatim once escaped: whoever looks for a comment finds it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
#: A listing section's menu: ``chatops:rollup_pick:<roll-up id>:<section>``, the chosen option's value a
#: conversation id (the roll-up card's own lines keep their ``rollup_open`` buttons).
PICK_ACTION = "rollup_pick"
#: Most characters of a comment a listing line or the card shows.
MEMBER_TEXT_LIMIT = 200
AUTHOR_LIMIT = 30
TITLE_LIMIT = 150
SECTION_LIMIT = 3000
BUTTON_LIMIT = 75
#: Listing lines: members per section (one menu each), the author's width, and the least of a comment
#: a line shows however long the others are. Short comments leave their room to long ones; when all
#: 100 are long, each shows about 70 characters (with authors' names of ~12).
LINES_PER_SECTION = 5
LISTING_AUTHOR_LIMIT = 20
OPTION_AUTHOR_LIMIT = 16
OPTION_LIMIT = 75
PLACEHOLDER_LIMIT = 150
LISTING_TEXT_FLOOR = 40
#: The text a listing message may carry in all, option texts and placeholders included: Slack refuses
#: ~13k (``msg_blocks_too_long``), its fake 12k.
LISTING_TEXT_BUDGET = 11_500
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


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


def _flat(text: str) -> str:
    """A comment on one listing line: its line breaks become spaces (the words stay verbatim)."""
    return _BREAKS.sub(" ", text).strip()


def _share(demands: Sequence[int], budget: int, floor: int) -> int:
    """The largest cut ``c`` with ``sum(min(d, c)) <= budget``: short comments leave room for long ones."""
    low, high = floor, max([floor, *demands])
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(d, mid) for d in demands) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def _listing_line(member: Member, ordinal: int, tz: ZoneInfo, text: str) -> str:
    """``12. *author* 12:04 ⚠ 45 `` and the comment's start (already escaped and cut)."""
    author = escape_fit(one_line(member.author, LISTING_AUTHOR_LIMIT), LISTING_AUTHOR_LIMIT).text or "?"
    head = f"{ordinal}. *{author}* {_time(member.at, tz)}"
    if member.priority > 0:
        head += f" ⚠ {member.priority}"
    return f"{head} {text}" if text else head


def _option_text(member: Member, ordinal: int) -> str:
    """What the menu names a member by: the line's number and the author (plain text, never parsed)."""
    author = escape_fit(one_line(member.author, OPTION_AUTHOR_LIMIT), OPTION_AUTHOR_LIMIT, plain=True).text or "?"
    return plain_truncated(f"{ordinal}. {author}", OPTION_LIMIT)


def render_listing(
    members: Sequence[Member], first: int, t: Translator, tz: ZoneInfo, post: str, *, rollup_id: int
) -> dict[str, Any]:
    """One listing message: a line per member, ``LINES_PER_SECTION`` lines per section, each section with a
    menu "Open as card…" naming its members; within Slack's size limits (50 blocks, ~12k characters).

    The menu's action id names the roll-up, so the action handler opens a member only while it is on
    this very roll-up; the option value is the conversation id.
    """
    last = first + len(members) - 1
    header = t("rollup.listing", first=first, last=last)
    placeholder = plain_truncated(t("rollup.pick"), PLACEHOLDER_LIMIT)
    sections = [members[i : i + LINES_PER_SECTION] for i in range(0, len(members), LINES_PER_SECTION)]
    # What every line and option costs without its comment; the rest is shared by the comments.
    fixed = len(header) + len(placeholder) * sum(1 for s in sections if any(not m.has_card for m in s))
    for n, member in enumerate(members):
        fixed += len(_listing_line(member, first + n, tz, "")) + 2
        if not member.has_card:
            fixed += len(_option_text(member, first + n))
    demands = [len(escape_fit(_flat(m.text), MEMBER_TEXT_LIMIT).text) for m in members]
    cut = min(_share(demands, LISTING_TEXT_BUDGET - fixed, LISTING_TEXT_FLOOR), MEMBER_TEXT_LIMIT)
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": header}]}]
    ordinal = first
    for index, section_members in enumerate(sections):
        lines: list[str] = []
        options: list[dict[str, Any]] = []
        for member in section_members:
            text = escape_fit(_flat(member.text), cut).text
            lines.append(_listing_line(member, ordinal, tz, text))
            if not member.has_card:
                options.append(
                    {
                        "text": {"type": "plain_text", "text": _option_text(member, ordinal)},
                        "value": str(member.conversation_id),
                    }
                )
            ordinal += 1
        section: dict[str, Any] = {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip_mrkdwn("\n".join(lines), SECTION_LIMIT)},
        }
        if options:
            section["accessory"] = {
                "type": "static_select",
                "action_id": f"{_action_id(PICK_ACTION, rollup_id)}:{index}",
                "placeholder": {"type": "plain_text", "text": placeholder},
                "options": options,
            }
        blocks.append(section)
    fallback = t("rollup.listing_fallback", count=len(members), post=post)
    return {"text": plain_truncated(fallback, 300), "blocks": blocks}


__all__ = [
    "OPEN_ACTION",
    "OPEN_TOP_ACTION",
    "PICK_ACTION",
    "RESOLVE_ACTION",
    "member_line",
    "render_listing",
    "render_rollup",
]
