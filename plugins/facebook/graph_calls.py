"""The Graph API calls only the Facebook Page source makes: its posts, their comments, and answers to them.

They go through the shared :class:`~chatops_plugins.graph_api.client.GraphClient` (HTTP, token, proof,
paging, errors); this module only knows the Page endpoints and their fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..graph_api.client import (
    GraphClient,
    check_id,
    created_id,
    parse_graph_time,
    require_success,
    unix_seconds,
)

__all__ = ["COMMENT_FIELDS", "POST_FIELDS", "FacebookGraph"]

COMMENT_FIELDS = "id,message,from,created_time,parent{id},permalink_url"
POST_FIELDS = "id,message,permalink_url,created_time"


def _not_before(item: Mapping[str, Any], key: str, since: datetime | None) -> bool:
    """Tell whether ``item[key]`` is at or after ``since``; items without a parseable time are kept."""
    if since is None:
        return True
    created = parse_graph_time(item.get(key))
    if created is None:
        return True
    return created.timestamp() >= unix_seconds(since)


class FacebookGraph:
    """Facebook Page calls over a shared Graph client (cheap to make: it holds only the client)."""

    __slots__ = ("client",)

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def reply_to_comment(self, comment_id: str, message: str) -> str:
        """Reply publicly under a Facebook comment (``POST /{comment-id}/comments``); return the new id."""
        response = await self.client.post(f"{check_id(comment_id, 'comment_id')}/comments", message=message)
        return created_id(response)

    async def set_comment_hidden(self, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a Facebook comment (``POST /{comment-id}`` with ``is_hidden``).

        A hidden comment stays visible to its author and their friends.
        """
        response = await self.client.post(check_id(comment_id, "comment_id"), is_hidden=hidden)
        require_success(response)

    async def private_reply(self, page_id: str, comment_id: str, message: str) -> str:
        """Send the one allowed private reply to a comment's author; return the Messenger ``message_id``.

        ``POST /{page-id}/messages`` with ``recipient={"comment_id": ...}`` and ``message={"text": ...}``.
        Meta allows one per comment, within 7 days of it, and needs ``pages_messaging``.
        """
        response = await self.client.post(
            f"{check_id(page_id, 'page_id')}/messages",
            recipient={"comment_id": check_id(comment_id, "comment_id")},
            message={"text": message},
        )
        return created_id(response, "message_id")

    async def page_posts(self, page_id: str, *, since: datetime | None = None, limit: int = 25) -> list[dict[str, Any]]:
        """Return up to ``limit`` of the Page's posts, newest first, created at or after ``since``.

        Fields: ``id, message, permalink_url, created_time``. ``since`` is sent to Graph and also
        applied locally, so an edge that ignores it still gives the right answer.
        """
        params: dict[str, Any] = {"fields": POST_FIELDS}
        if since is not None:
            params["since"] = unix_seconds(since)
        return await self.client.collect(
            f"{check_id(page_id, 'page_id')}/posts",
            limit=min(max(limit, 1), 100),
            max_items=max(limit, 1),
            keep=lambda post: _not_before(post, "created_time", since),
            **params,
        )

    async def comments(self, object_id: str, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Return all comments on a post (or replies on a comment), oldest first, at or after ``since``.

        Uses ``filter=stream`` (replies included, each with ``parent{id}``), ``order=chronological`` and
        fields ``id, message, from, created_time, parent{id}, permalink_url``; follows up to 10 pages
        of 100. ``since`` is sent to Graph and applied locally.
        """
        params: dict[str, Any] = {"filter": "stream", "order": "chronological", "fields": COMMENT_FIELDS}
        if since is not None:
            params["since"] = unix_seconds(since)
        return await self.client.collect(
            f"{check_id(object_id, 'object_id')}/comments",
            limit=100,
            keep=lambda comment: _not_before(comment, "created_time", since),
            **params,
        )
