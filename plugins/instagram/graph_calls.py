"""The Graph API calls only the Instagram source makes: the account's media, their comments, and answers.

They go through the shared :class:`~chatops_plugins.graph_api.client.GraphClient` (HTTP, token, proof,
paging, errors) with the linked Page's token; this module only knows the Instagram endpoints and fields.
"""

from __future__ import annotations

from typing import Any

from ..graph_api.client import GraphClient, check_id, created_id, json_object, require_success

__all__ = ["COMMENT_FIELDS", "MEDIA_FIELDS", "InstagramGraph"]

MEDIA_FIELDS = "id,caption,permalink,timestamp"
COMMENT_FIELDS = "id,text,username,from{id,username},timestamp,parent_id,hidden"


class InstagramGraph:
    """Instagram calls over a shared Graph client (cheap to make: it holds only the client)."""

    __slots__ = ("client",)

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def reply_to_comment(self, ig_comment_id: str, message: str) -> str:
        """Reply publicly to an Instagram comment (``POST /{ig-comment-id}/replies``); return the new id.

        Meta documents that only top-level comments take replies (a reply to a reply is added to the
        top-level comment) and that hidden comments cannot be replied to.
        """
        response = await self.client.post(f"{check_id(ig_comment_id, 'ig_comment_id')}/replies", message=message)
        return created_id(response)

    async def set_comment_hidden(self, ig_comment_id: str, hidden: bool) -> None:
        """Hide or unhide an Instagram comment (``POST /{ig-comment-id}`` with ``hide=true|false``)."""
        response = await self.client.post(check_id(ig_comment_id, "ig_comment_id"), hide=hidden)
        require_success(response)

    async def private_reply(self, ig_user_id: str, ig_comment_id: str, message: str) -> str:
        """Send the one allowed private reply (a DM) to an Instagram commenter; return the ``message_id``.

        Chosen endpoint: ``POST /{ig-user-id}/messages`` with ``recipient={"comment_id": ...}``, as in
        the current Instagram Platform "Send a Private Reply" guide (host ``graph.facebook.com`` with
        a Page token for "Instagram API with Facebook Login"). The older Messenger-platform guide used
        ``/{page-id}/messages``; pass the Page id as ``ig_user_id`` to use that form. Window: 7 days.
        """
        response = await self.client.post(
            f"{check_id(ig_user_id, 'ig_user_id')}/messages",
            recipient={"comment_id": check_id(ig_comment_id, "ig_comment_id")},
            message={"text": message},
        )
        return created_id(response, "message_id")

    async def media(self, ig_user_id: str, *, limit: int = 25) -> list[dict[str, Any]]:
        """Return up to ``limit`` of the account's media, newest first (id, caption, permalink, timestamp)."""
        return await self.client.collect(
            f"{check_id(ig_user_id, 'ig_user_id')}/media",
            limit=min(max(limit, 1), 100),
            max_items=limit,
            fields=MEDIA_FIELDS,
        )

    async def comments(self, media_id: str) -> list[dict[str, Any]]:
        """Return the comments on one Instagram media, each top-level comment followed by its replies.

        Fields: ``id, text, username, from{id,username}, timestamp, parent_id, hidden``. The media's
        ``/comments`` edge lists top-level comments; replies come through the nested ``replies`` edge
        (further pages through ``/{ig-comment-id}/replies``) and are flattened here, each carrying
        ``parent_id``.
        """
        fields = f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"
        top_level = await self.client.collect(f"{check_id(media_id, 'media_id')}/comments", limit=50, fields=fields)
        flat: list[dict[str, Any]] = []
        for comment in top_level:
            nested = comment.pop("replies", None)
            flat.append(comment)
            replies: list[dict[str, Any]] = []
            if isinstance(nested, dict):
                replies.extend(r for r in nested.get("data") or [] if isinstance(r, dict))
                paging = json_object(nested.get("paging"))
                cursors = json_object(paging.get("cursors"))
                if paging.get("next") and cursors.get("after") and comment.get("id"):
                    replies.extend(
                        await self.client.collect(
                            f"{check_id(str(comment['id']), 'ig_comment_id')}/replies",
                            limit=50,
                            fields=COMMENT_FIELDS,
                            after=cursors["after"],
                        )
                    )
            for reply in replies:
                reply.setdefault("parent_id", comment.get("id"))
                flat.append(reply)
        return flat
