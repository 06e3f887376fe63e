"""What Facebook's and Instagram's customers' sides in ``chatops sandbox`` share: a Graph fake, comments, the feed.

Each source runs its own :class:`~.testing.FakeGraph` holding the café's Page and Instagram
account, with an app secret (so the plugin signs every call with ``appsecret_proof``, as under
"Require App Secret") and a token made up for this run. A customer's comment is written on the
fake first, as on the platform, and then delivered to the bot the way Meta delivers it: the
signed change notification POSTed to the plugin's webhook route. The feed reads the fake back:
the comment, the replies under it (the team's and other customers'), the private messages the
team sent about it, and whether it is hidden.

:class:`MetaSandboxSource` holds all of that; ``chatops_plugins.facebook.sandbox`` and
``chatops_plugins.instagram.sandbox`` say only what differs: the account, the ids, the shapes.
"""

from __future__ import annotations

import itertools
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chatops.sandbox.posting import Customers, customer_name, customer_text, notify_bot
from chatops.sandbox.sources import CustomerPost, FakeBackedSource, SandboxPostError

from .client import parse_graph_time
from .testing import FakeGraph, signed_webhook

#: The café every sandbox source shows: its Page, and the Instagram account linked to it.
PAGE_ID = "1000"
PAGE_NAME = "Kahvila Aurinko"
IG_USER_ID = "17841400000000000"
IG_USERNAME = "kahvila.aurinko"
#: Meta refuses comments longer than this.
MAX_COMMENT = 8000
#: How the feed marks what the customer sees differently from a plain comment.
HIDDEN_NOTE = "hidden"
PRIVATE_NOTE = "private message"


class MetaSandboxSource(FakeBackedSource[FakeGraph], ABC):
    """A Meta source's customers' side: the Graph fake, the plugin's settings, comments in, the feed out."""

    #: The plugin (``[plugins.<plugin>]``) and the page's key for this source.
    plugin: str
    key: str
    label: str
    #: The platform's name in messages ("Facebook").
    platform: str
    #: Where customers' numeric ids start (they look like the platform's).
    first_customer_id: int

    def __init__(self) -> None:
        """Make up this run's credentials and the fake, with the post customers comment on (served by start)."""
        # Made up per run: the sandbox needs real signatures, not real secrets.
        self._app_secret = secrets.token_hex(16)
        self._token = "EAAG" + secrets.token_urlsafe(24)
        self._verify_token = secrets.token_urlsafe(16)
        self.fake = FakeGraph(
            access_token=self._token,
            page_id=PAGE_ID,
            page_name=PAGE_NAME,
            ig_user_id=IG_USER_ID,
            ig_username=IG_USERNAME,
            app_secret=self._app_secret,
        )
        self._customers = Customers(self.first_customer_id)
        #: The customers' top-level comments, oldest first.
        self._threads: list[str] = []
        # A data folder kept from an earlier run holds that run's comments: never reuse their ids.
        self._numbers = itertools.count(int(time.time() * 1000) * 1000 + 1)
        self.publish()

    @property
    def config(self) -> Mapping[str, Any]:
        """The plugin pointed at the fake: its token and secrets, webhook on, no polling (nothing to wait for)."""
        return {
            "page_access_token": self._token,
            "app_secret": self._app_secret,
            "verify_token": self._verify_token,
            "graph_api_url": self.fake.base_url,
            "webhook": True,
            "polling": False,
            "timeout_seconds": 5,
            **self.account_settings(),
        }

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Write the comment on the fake, then deliver Meta's signed change notification to the bot.

        A reply to a reply goes under the top-level comment, as Facebook and Instagram show it.
        The comment stays on the platform even when the bot refuses the notification.
        """
        name = customer_name(author, platform=self.platform)
        customer_text(text, platform=self.platform, limit=MAX_COMMENT)
        parent = None if reply_to is None else self._top_level(reply_to)
        comment_id = self.comment_id(next(self._numbers))
        payload = self.write(comment_id, self._customers.id_for(name), name, text, parent)
        if parent is None:
            self._threads.append(comment_id)
        body, headers = signed_webhook(self._app_secret, payload)
        await notify_bot(bot_url, f"/webhooks/{self.plugin}", body, headers, platform=self.platform)
        return comment_id

    def _top_level(self, comment_id: str) -> str:
        """The top-level comment of ``comment_id`` (itself when it is one); SandboxPostError when unknown."""
        if not self.fake.exists(comment_id):
            raise SandboxPostError(f"{self.platform}: there is no comment {comment_id!r} to reply to")
        return self.parent_of(self.fake.comment(comment_id)) or comment_id

    def feed(self) -> Sequence[CustomerPost]:
        """The customers' comments, newest first, each with the replies and private messages about it."""
        return [self._thread(comment_id) for comment_id in reversed(self._threads)]

    def _thread(self, comment_id: str) -> CustomerPost:
        """One top-level comment as the customer sees it, with everything under it, oldest first."""
        replies: list[CustomerPost] = []
        waiting = [comment_id]
        while waiting:
            # The team's answer to a follow-up is a reply to that reply: it belongs to the same thread.
            for reply in self.fake.comment_replies(waiting.pop()):
                waiting.append(reply["id"])
                replies.append(self._seen(reply))
        replies += [
            CustomerPost(
                id=message["message_id"],
                author=self.account_name,
                text=message["text"],
                at=message["sent_at"],
                from_team=True,
                note=PRIVATE_NOTE,
            )
            for message in self.fake.private_messages(comment_id)
        ]
        replies.sort(key=lambda reply: reply.at)
        return replace(self._seen(self.fake.comment(comment_id)), replies=tuple(replies))

    def _seen(self, comment: dict[str, Any]) -> CustomerPost:
        """A stored comment as the platform shows it (no replies)."""
        return CustomerPost(
            id=comment["id"],
            author=self.author_of(comment),
            text=self.text_of(comment),
            at=parse_graph_time(self.time_of(comment)) or datetime.now(UTC),
            from_team=comment["from"]["id"] == self.account_id,
            note=HIDDEN_NOTE if self.is_hidden(comment) else "",
        )

    # -- what differs between Facebook and Instagram --------------------------------------------------

    @property
    @abstractmethod
    def account_id(self) -> str:
        """The id the account's own comments carry in ``from.id``."""

    @property
    @abstractmethod
    def account_name(self) -> str:
        """The account's name as customers see it."""

    @abstractmethod
    def account_settings(self) -> Mapping[str, Any]:
        """The plugin's settings naming the account."""

    @abstractmethod
    def publish(self) -> None:
        """Put the post (or photo) customers comment on onto the fake."""

    @abstractmethod
    def comment_id(self, number: int) -> str:
        """The id of the ``number``-th comment, shaped as the platform's."""

    @abstractmethod
    def write(self, comment_id: str, author_id: str, name: str, text: str, parent: str | None) -> dict[str, Any]:
        """Add the comment to the fake; return the webhook body Meta sends for it."""

    @abstractmethod
    def parent_of(self, comment: dict[str, Any]) -> str | None:
        """The id of the comment this stored comment replies to, or None."""

    @abstractmethod
    def author_of(self, comment: dict[str, Any]) -> str:
        """Who wrote a stored comment, as the platform shows them."""

    @abstractmethod
    def text_of(self, comment: dict[str, Any]) -> str:
        """A stored comment's text."""

    @abstractmethod
    def time_of(self, comment: dict[str, Any]) -> str:
        """A stored comment's creation time, in Graph's format."""

    @abstractmethod
    def is_hidden(self, comment: dict[str, Any]) -> bool:
        """Whether a stored comment is hidden."""
