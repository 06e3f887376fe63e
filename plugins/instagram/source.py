"""Instagram comments: webhook ``comments`` changes and polling in, replies, private replies and hiding out.

The Instagram professional account is reached through its linked Facebook Page ("Instagram API
with Facebook Login"), with the Page's access token. Instagram only takes public replies under
top-level comments, so a card whose comment is itself a reply explains that instead of offering
Reply. Instagram sends no webhook for edits or removals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from chatops.sources import Answer, Author, Capability, Context, SendError, SendResult, Target

from ..graph_api.client import GraphClient, InvalidRequest, json_object, parse_graph_time
from ..graph_api.config import MetaConfig, check_account_id
from ..graph_api.events import (
    CommentEvent,
    context_text,
    graph_id,
    name,
    obj,
    optional_obj,
    required_id,
    string,
    timestamp,
    visible,
)
from ..graph_api.source_base import MetaSource
from .graph_calls import InstagramGraph

log = logging.getLogger(__name__)

NAME = "instagram"
#: Instagram usernames: letters, digits, dots and underscores, at most 30.
_USERNAME_RE = re.compile(r"[A-Za-z0-9._]{1,30}")
TEXTS = {
    "en": {
        "instagram.not_top_level": (
            "Instagram takes public replies only under top-level comments, and this comment is a reply "
            "to another one: use Move to DM, or answer on Instagram"
        )
    },
    "fi": {
        "instagram.not_top_level": (
            "Instagram ottaa julkiset vastaukset vain ylimmän tason kommentteihin, ja tämä on vastaus "
            "toiseen kommenttiin: käytä yksityisviestiä tai vastaa Instagramissa"
        )
    },
    "pl": {
        "instagram.not_top_level": (
            "Instagram przyjmuje publiczne odpowiedzi tylko pod komentarzami najwyższego poziomu, a ten jest "
            "odpowiedzią na inny: użyj DM albo odpowiedz na Instagramie"
        )
    },
}


class InstagramConfig(MetaConfig):
    """``[plugins.instagram]``: the Instagram account, the linked Page's token, and how comments arrive."""

    #: The Instagram professional account's id (``GET /{page-id}?fields=instagram_business_account``).
    ig_user_id: str
    #: The account's username without @; read from the Graph API when empty.
    ig_username: str | None = Field(default=None, max_length=30)
    #: Where private replies are POSTed (``/{id}/messages``): the Instagram account by default, or the
    #: linked Page's id for the older Messenger-platform form of the call.
    messaging_id: str | None = None
    display_name: str = Field(default="Instagram", min_length=1, max_length=60)
    #: Instagram direct messages hold at most 1000 characters (comments 2200).
    max_reply_length: int = Field(default=1000, ge=1, le=2200)

    _ig_user_id = field_validator("ig_user_id")(check_account_id)

    @field_validator("messaging_id")
    @classmethod
    def _messaging_id(cls, value: str | None) -> str | None:
        return check_account_id(value) if value else None

    @field_validator("ig_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removeprefix("@")
        if not _USERNAME_RE.fullmatch(value):
            raise ValueError("must be an Instagram username (letters, digits, . and _)")
        return value


def profile_url(username: str | None) -> str | None:
    """The public profile link of an Instagram user."""
    if username and _USERNAME_RE.fullmatch(username):
        return f"https://www.instagram.com/{username}/"
    return None


class InstagramSource(MetaSource):
    """Comments on one Instagram professional account's media."""

    name = NAME
    webhook_object = "instagram"
    account_noun = "Instagram account"
    permissions: ClassVar[dict[str, str]] = {
        "reply": "instagram_manage_comments",
        "hide": "instagram_manage_comments",
        "private_reply": "instagram_manage_messages (and pages_messaging)",
        "read": "instagram_basic, instagram_manage_comments and pages_read_engagement",
    }
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {
        lang: {**MetaSource.texts[lang], **TEXTS[lang]} for lang in TEXTS
    }
    config: InstagramConfig

    @property
    def account_id(self) -> str:
        """The Instagram account id."""
        return self.config.ig_user_id

    @property
    def calls(self) -> InstagramGraph:
        """The account's Graph calls, over the running client."""
        return InstagramGraph(self.graph)

    # -- inbound -----------------------------------------------------------------------------

    def parse_change(
        self, account_id: str, field: str, value: dict[str, Any], where: str, entry_time: datetime | None
    ) -> CommentEvent | None:
        """A ``comments`` change; other fields (mentions, messages, …) are skipped."""
        if field != "comments":
            return None
        comment_id = required_id(value, "id", where)
        media = obj(value.get("media"), f"{where}.media")
        media_id = required_id(media, "id", f"{where}.media")
        parent_id = graph_id(value, "parent_id", where, required=False)
        sender = optional_obj(value, "from", where)
        from_id = graph_id(sender, "id", f"{where}.from", required=False) if sender else None
        username = string(sender, "username", f"{where}.from") if sender else None
        text = visible(string(value, "text", where)) or ""
        return self._event(
            comment_id=comment_id,
            media_id=media_id,
            parent_id=parent_id,
            from_id=from_id,
            username=username,
            text=text,
            created_at=timestamp(value, "timestamp", where) or entry_time,
            extra={"media_product_type": string(media, "media_product_type", f"{where}.media")},
        )

    def _event(
        self,
        *,
        comment_id: str,
        media_id: str,
        parent_id: str | None,
        from_id: str | None,
        username: str | None,
        text: str,
        created_at: datetime | None,
        context: Context | None = None,
        extra: dict[str, Any] | None = None,
    ) -> CommentEvent:
        username = name(username)
        own = (from_id is not None and from_id == self.config.ig_user_id) or (
            username is not None and username == self.config.ig_username
        )
        return CommentEvent(
            verb="add",
            account_id=self.config.ig_user_id,
            comment_id=comment_id,
            thread_id=parent_id or comment_id,
            parent_id=parent_id,
            container_id=media_id,
            text=text or "(no text)",
            author=Author(
                id=from_id,
                name=username or ("Instagram user" if not from_id else None),
                handle=username,
                url=profile_url(username),
            ),
            from_account=own,
            created_at=created_at,
            context=context,
            extra={k: v for k, v in (extra or {}).items() if v is not None},
        )

    async def fetch_context(self, graph: GraphClient, container_id: str) -> Context:
        """The media's caption and link."""
        media = await graph.get_object(container_id, "caption,permalink")
        return Context(context_text(media.get("caption")), media.get("permalink"))

    async def fetch_channel_name(self, graph: GraphClient) -> str | None:
        """``@username``: configured, or ``GET /{ig-user-id}?fields=username``."""
        username = self.config.ig_username
        if not username:
            account = await graph.get_object(self.config.ig_user_id, "username")
            username = name(account.get("username"))
        return f"@{username}" if username else None

    async def fetch_since(self, graph: GraphClient, since: datetime) -> list[CommentEvent]:
        """Comments (replies included) on the account's newest media, created at or after ``since``."""
        calls = InstagramGraph(graph)
        events: list[CommentEvent] = []
        for media in await calls.media(self.config.ig_user_id, limit=self.config.poll_recent_posts):
            media_id = str(media.get("id") or "")
            if not media_id:
                continue
            context = Context(context_text(media.get("caption")), media.get("permalink"))
            self.remember_context(media_id, context)
            try:
                comments = await calls.comments(media_id)
            except (InvalidRequest, ValueError) as exc:
                log.warning("instagram poll: skipping media %s: %s", media_id, exc)
                continue
            for comment in comments:
                created = parse_graph_time(comment.get("timestamp"))
                # The comments edge takes no "since": filter here.
                if not comment.get("id") or (created is not None and created < since):
                    continue
                sender = json_object(comment.get("from"))
                events.append(
                    self._event(
                        comment_id=str(comment["id"]),
                        media_id=media_id,
                        parent_id=str(comment["parent_id"]) if comment.get("parent_id") else None,
                        from_id=str(sender["id"]) if sender.get("id") else None,
                        username=sender.get("username") or comment.get("username"),
                        text=visible(comment.get("text")) or "",
                        created_at=created,
                        context=context,
                    )
                )
        return events

    # -- answers -----------------------------------------------------------------------------

    def unavailable_reason(self, capability: Capability, target: Target) -> str | None:
        """Public replies only under top-level comments; private replies once, within 7 days."""
        if capability is Capability.REPLY and target.extra.get("parent_id"):
            return self.t("instagram.not_top_level")
        return super().unavailable_reason(capability, target)

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """``POST /{ig-comment-id}/replies``: a public reply under the customer's top-level comment."""
        if target.extra.get("parent_id"):
            raise SendError(self.t("instagram.not_top_level"), retryable=False)
        new_id = await self._call_once("reply", self.calls.reply_to_comment(target.external_id, answer.text))
        self.remember_sent(new_id)
        return SendResult(new_id)

    async def private_reply(self, target: Target, answer: Answer) -> SendResult:
        """``POST /{ig-user-id}/messages`` with ``recipient.comment_id``: the one private reply allowed."""
        sender = self.config.messaging_id or self.config.ig_user_id
        message_id = await self._call(
            "private_reply", self.calls.private_reply(sender, target.external_id, answer.text)
        )
        return SendResult(message_id)

    async def set_hidden(self, target: Target, hidden: bool) -> None:
        """``POST /{ig-comment-id}`` with ``hide``."""
        await self._call("hide", self.calls.set_comment_hidden(target.external_id, hidden))
