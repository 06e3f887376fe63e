"""A Meta comment event, neutral between webhooks and polling, and strict readers for payload fields.

Webhook changes and Graph API comments look different on Facebook and Instagram; each plugin turns
them into :class:`CommentEvent`, and :mod:`.source_base` turns those into the core's inbound events.
The readers raise :class:`PayloadError` naming the JSON path of the first bad field, so a 400
answer tells whoever looks at Meta's delivery log exactly what was wrong.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from chatops.inbound_checks import believable_or_none, has_visible_text
from chatops.payload_fields import PayloadError, array, id_field, obj, optional_obj, string
from chatops.sources import Author, Context

from .client import parse_graph_time

#: Graph ids: the same alphabet the client accepts in paths, and short enough for the id columns.
_ID_RE = re.compile(r"[A-Za-z0-9_]{1,255}")
#: Unix times above this are milliseconds (year 5138 in seconds), as some Meta payloads send.
_MILLIS_THRESHOLD = 10**11
#: Names and handles are stored in 255-character columns.
_NAME_LIMIT = 255
#: Only the post's first line shows on a card; a little more is kept for the Full text view.
CONTEXT_TEXT_LIMIT = 2000

Verb = Literal["add", "edit", "remove"]

log = logging.getLogger(__name__)

# The field readers live in the core (chatops.payload_fields); these names stay importable from here.
__all__ = [
    "CommentEvent",
    "PayloadError",
    "array",
    "context_text",
    "graph_id",
    "name",
    "obj",
    "optional_obj",
    "required_id",
    "string",
    "timestamp",
    "visible",
]


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """One comment added, edited or removed on a Page post or an Instagram media."""

    verb: Verb
    #: The account (Page or Instagram user) the event belongs to.
    account_id: str
    comment_id: str
    #: The top-level comment of the thread: the conversation a reply joins.
    thread_id: str
    #: The comment this one replies to; None for a top-level comment.
    parent_id: str | None
    #: The post (Facebook) or media (Instagram) the comment is on.
    container_id: str
    text: str
    author: Author
    #: Written by the account the team runs (the Page itself): never a customer message.
    from_account: bool
    created_at: datetime | None
    permalink: str | None = None
    #: Link to the post, when the payload carried one (used if the post cannot be read).
    container_url: str | None = None
    #: The post's text and link, when already known (polling reads them with the posts).
    context: Context | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def graph_id(container: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    """A Graph id field (string or number of ``[A-Za-z0-9_]``), else PayloadError."""
    return id_field(container, key, where, pattern=_ID_RE, what="is not a valid Graph id", required=required)


def required_id(container: dict[str, Any], key: str, where: str) -> str:
    """A Graph id field that must be present."""
    value = graph_id(container, key, where)
    assert value is not None
    return value


def timestamp(container: dict[str, Any], key: str, where: str) -> datetime | None:
    """A time field: unix seconds (or milliseconds) or a Graph/ISO time string; None when absent.

    A value of the wrong type is a PayloadError. A well-formed time no comment can have (before
    2000, more than a day ahead, past ``datetime``'s range) is None, logged: the caller falls back
    to the entry's time or the arrival time, because refusing the batch would make Meta redeliver
    every comment in it for 36 hours over one bad clock.
    """
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(f"{where}.{key}: must be a unix time or a date-time string")
    if isinstance(value, int | float):
        if value < 0:
            raise PayloadError(f"{where}.{key}: must not be negative")
        seconds = value / 1000 if value > _MILLIS_THRESHOLD else value
        try:
            parsed: datetime | None = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    else:
        parsed = parse_graph_time(value)
        if parsed is None:
            raise PayloadError(f"{where}.{key}: is not a date-time")
    believable = believable_or_none(parsed)
    if believable is None:
        log.warning("ignoring %s.%s: %r is not a believable time", where, key, str(value)[:40])
    return believable


def visible(text: str | None) -> str | None:
    """``text`` when it shows something; None for empty text or text of only invisible characters.

    A comment of zero-width or bidi characters is treated like one without text (a sticker or
    photo), so its card says so instead of showing nothing.
    """
    return text if text and has_visible_text(text) else None


def name(value: str | None) -> str | None:
    """A display name or handle cut to what the database keeps."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value[:_NAME_LIMIT] or None


def context_text(value: str | None) -> str | None:
    """A post's text as kept for the card (the card shows its first line)."""
    if not value or not value.strip():
        return None
    return value.strip()[:CONTEXT_TEXT_LIMIT]
