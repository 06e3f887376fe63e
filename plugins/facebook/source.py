"""Facebook Page comments: webhook ``feed`` changes and polling in, replies, private replies and hiding out.

Comments arrive through the Page's ``feed`` webhook (``/webhooks/facebook``) or a polling pass over
the Page's recent posts. A reply joins the conversation of its top-level comment, so follow-ups
thread under one card. The Page's own comments are recorded as answers made on Facebook, never as
customer messages. There is deliberately no Delete: criticism is answered in public, or hidden.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from chatops.sources import Answer, Author, Context, SendError, SendResult, Target

from ..graph_api.client import (
    GraphClient,
    GraphError,
    InvalidRequest,
    OutcomeUnknown,
    json_object,
    parse_graph_time,
)
from ..graph_api.config import MetaConfig, check_account_id
from ..graph_api.events import (
    CommentEvent,
    Verb,
    context_text,
    graph_id,
    name,
    optional_obj,
    required_id,
    string,
    timestamp,
    visible,
)
from ..graph_api.source_base import MetaSource
from .graph_calls import FacebookGraph

log = logging.getLogger(__name__)

NAME = "facebook"
#: Webhook verbs of a comment change and what they mean here; others (hide, block, …) are ignored.
VERBS: dict[str, Verb] = {"add": "add", "edited": "edit", "edit": "edit", "remove": "remove", "delete": "remove"}
NO_TEXT = "(a photo or sticker without text)"


class FacebookConfig(MetaConfig):
    """``[plugins.facebook]``: the Page, its token and secrets, and how comments arrive."""

    #: The Page's numeric id (Page → About → Page transparency, or ``GET /me`` with the Page token).
    page_id: str
    #: The name cards show; read from the Graph API when empty.
    page_name: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="Facebook", min_length=1, max_length=60)
    #: Messenger caps a message at 2000 characters, and one limit serves both kinds of answer.
    max_reply_length: int = Field(default=2000, ge=1, le=8000)

    _page_id = field_validator("page_id")(check_account_id)


def post_url(post_id: str) -> str:
    """The public link of a Page post ``{page}_{post}``."""
    page, _, post = post_id.partition("_")
    return f"https://www.facebook.com/{page}/posts/{post or page}"


def comment_url(post_id: str, comment_id: str, parent_id: str | None = None) -> str:
    """The public link of a comment (or of a reply, under its parent)."""

    def short(full: str) -> str:
        return full.rpartition("_")[2]

    if parent_id:
        return f"{post_url(post_id)}?comment_id={short(parent_id)}&reply_comment_id={short(comment_id)}"
    return f"{post_url(post_id)}?comment_id={short(comment_id)}"


class FacebookSource(MetaSource):
    """Comments on one Facebook Page's posts."""

    name = NAME
    webhook_object = "page"
    account_noun = "Page"
    permissions: ClassVar[dict[str, str]] = {
        "reply": "pages_manage_engagement",
        "hide": "pages_manage_engagement",
        "private_reply": "pages_messaging",
        "read": "pages_read_engagement and pages_read_user_content",
    }
    config: FacebookConfig

    @property
    def account_id(self) -> str:
        """The Page id."""
        return self.config.page_id

    @property
    def calls(self) -> FacebookGraph:
        """The Page's Graph calls, over the running client."""
        return FacebookGraph(self.graph)

    # -- inbound -----------------------------------------------------------------------------

    def parse_change(
        self, account_id: str, field: str, value: dict[str, Any], where: str, entry_time: datetime | None
    ) -> CommentEvent | None:
        """A ``feed`` change with ``item: comment``; other feed items (posts, likes) are skipped."""
        if field != "feed":
            return None
        if string(value, "item", where, required=True) != "comment":
            return None
        verb = VERBS.get(string(value, "verb", where, required=True) or "")
        if verb is None:
            return None
        comment_id = required_id(value, "comment_id", where)
        post_id = required_id(value, "post_id", where)
        parent_id = graph_id(value, "parent_id", where, required=False)
        sender = optional_obj(value, "from", where)
        from_id = graph_id(sender, "id", f"{where}.from", required=False) if sender else None
        from_name = string(sender, "name", f"{where}.from") if sender else None
        message = visible(string(value, "message", where))
        photo = string(value, "photo", where)
        post = optional_obj(value, "post", where)
        link = string(post, "permalink_url", f"{where}.post") if post else None
        return self._event(
            verb=verb,
            comment_id=comment_id,
            post_id=post_id,
            # Meta sets parent_id to the post for a top-level comment.
            parent_id=None if parent_id in (None, post_id) else parent_id,
            from_id=from_id,
            from_name=from_name,
            text="" if verb == "remove" else (message or (f"{NO_TEXT} {photo}" if photo else NO_TEXT)),
            created_at=timestamp(value, "created_time", where) or entry_time,
            post_link=link if link and link.startswith("https://") else None,
        )

    def _event(
        self,
        *,
        verb: Verb,
        comment_id: str,
        post_id: str,
        parent_id: str | None,
        from_id: str | None,
        from_name: str | None,
        text: str,
        created_at: datetime | None,
        post_link: str | None = None,
        context: Context | None = None,
    ) -> CommentEvent:
        # Without pages_read_user_content Meta leaves out "from"; such a comment is still a customer's.
        return CommentEvent(
            verb=verb,
            account_id=self.config.page_id,
            comment_id=comment_id,
            thread_id=parent_id or comment_id,
            parent_id=parent_id,
            container_id=post_id,
            text=text,
            author=Author(
                id=from_id,
                name=name(from_name) or ("Facebook user" if not from_id else None),
                url=f"https://www.facebook.com/{from_id}" if from_id else None,
            ),
            from_account=from_id == self.config.page_id,
            created_at=created_at,
            permalink=comment_url(post_id, comment_id, parent_id),
            container_url=post_link or post_url(post_id),
            context=context,
            extra={"post_id": post_id},
        )

    async def fetch_context(self, graph: GraphClient, container_id: str) -> Context:
        """The post's text and link."""
        post = await graph.get_object(container_id, "message,permalink_url")
        return Context(context_text(post.get("message")), post.get("permalink_url") or post_url(container_id))

    async def fetch_channel_name(self, graph: GraphClient) -> str | None:
        """The Page's name: configured, or ``GET /{page-id}?fields=name``."""
        if self.config.page_name:
            return self.config.page_name
        page = await graph.get_object(self.config.page_id, "name")
        return name(page.get("name"))

    async def fetch_since(self, graph: GraphClient, since: datetime) -> list[CommentEvent]:
        """Comments (replies included) on the Page's newest posts, created at or after ``since``."""
        calls = FacebookGraph(graph)
        events: list[CommentEvent] = []
        for post in await calls.page_posts(self.config.page_id, limit=self.config.poll_recent_posts):
            post_id = str(post.get("id") or "")
            if not post_id:
                continue
            context = Context(context_text(post.get("message")), post.get("permalink_url") or post_url(post_id))
            self.remember_context(post_id, context)
            try:
                comments = await calls.comments(post_id, since=since)
            except (InvalidRequest, ValueError) as exc:
                # A post deleted between the two calls must not stop the whole pass.
                log.warning("facebook poll: skipping post %s: %s", post_id, exc)
                continue
            for comment in comments:
                event = self._from_api(comment, post_id, context)
                if event is not None:
                    events.append(event)
        return events

    def _from_api(self, comment: dict[str, Any], post_id: str, context: Context) -> CommentEvent | None:
        comment_id = str(comment.get("id") or "")
        if not comment_id:
            return None
        sender = json_object(comment.get("from"))
        parent = json_object(comment.get("parent"))
        parent_id = str(parent["id"]) if parent.get("id") else None
        return self._event(
            verb="add",
            comment_id=comment_id,
            post_id=post_id,
            parent_id=parent_id,
            from_id=str(sender["id"]) if sender.get("id") else None,
            from_name=sender.get("name"),
            text=visible(comment.get("message")) or NO_TEXT,
            created_at=parse_graph_time(comment.get("created_time")),
            context=context,
        )

    # -- answers -----------------------------------------------------------------------------

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """``POST /{comment-id}/comments``: a public reply under the customer's comment."""
        post_id = target.extra.get("post_id")
        parent = target.extra.get("parent_id") or target.external_id
        try:
            new_id = await self._call("reply", self._reply_or_unknown(target.external_id, answer.text))
        except _Unknown as unknown:
            # Meta may have posted it: posting again would answer the customer twice in public.
            found = await self._own_reply(answer.text, target.external_id, parent)
            if found is None:
                error = self.send_error(unknown.error, "reply")
                raise SendError(
                    f"{error} It may have been posted anyway: check Facebook before pressing Retry.", retryable=False
                ) from None
            log.warning("reply %s: Meta's answer was lost, but the reply is on Facebook (%s)", answer.id, found)
            new_id = found
        self.remember_sent(new_id)
        return SendResult(new_id, comment_url(post_id, new_id, parent) if post_id else None)

    async def _reply_or_unknown(self, comment_id: str, text: str) -> str:
        """Post the reply; a lost answer comes out as :class:`_Unknown`, apart from the errors ``_call`` maps."""
        try:
            return await self.calls.reply_to_comment(comment_id, text)
        except OutcomeUnknown as exc:
            raise _Unknown(exc) from exc

    async def _own_reply(self, text: str, *comment_ids: str) -> str | None:
        """The id of the Page's newest reply with exactly ``text`` under these comments, if Graph shows one."""
        for comment_id in dict.fromkeys(comment_ids):
            try:
                replies = await self.calls.comments(comment_id)
            except GraphError as exc:
                log.warning("could not look for a reply under %s: %s", comment_id, exc)
                return None
            for reply in reversed(replies):
                sender = json_object(reply.get("from"))
                if str(sender.get("id")) == self.config.page_id and reply.get("message") == text and reply.get("id"):
                    return str(reply["id"])
        return None

    async def private_reply(self, target: Target, answer: Answer) -> SendResult:
        """``POST /{page-id}/messages`` with ``recipient.comment_id``: the one private reply allowed."""
        message_id = await self._call(
            "private_reply", self.calls.private_reply(self.config.page_id, target.external_id, answer.text)
        )
        return SendResult(message_id)

    async def set_hidden(self, target: Target, hidden: bool) -> None:
        """``POST /{comment-id}`` with ``is_hidden``; the author and their friends still see it."""
        await self._call("hide", self.calls.set_comment_hidden(target.external_id, hidden))


class _Unknown(Exception):
    """Internal: a reply was sent but Meta's answer was lost (wraps the :class:`OutcomeUnknown`)."""

    def __init__(self, error: OutcomeUnknown) -> None:
        super().__init__(str(error))
        self.error = error
