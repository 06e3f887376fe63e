"""X's customers' side in ``chatops sandbox``: mentions of the café's account, delivered by Account Activity.

The plugin runs against a :class:`~.testing.FakeX` with credentials made up for this run, in
webhook mode: a customer's post is written on the fake (so the team's reply, posted through the
real ``POST /2/tweets`` with OAuth 1.0a, has a post to answer) and delivered at once as X's signed
``tweet_create_events`` to ``/webhooks/x``. Polling is off: its shortest interval (5 s) would
still make the demo wait, and a poll every few seconds spends the read quota X gives real accounts.

The feed reads the fake back: each customer's post with the whole conversation under it (the
account's replies and the customers' follow-ups), oldest first.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chatops.sandbox.posting import Customers, customer_name, customer_text, handle_for, notify_bot
from chatops.sandbox.sources import CustomerPost, FakeBackedSource, SandboxPostError

from .activity_payloads import XUser, signed_activity, tweet_create_payload, tweet_object
from .length import weighted_length
from .testing import FakeX

ACCOUNT_ID = "1500000000000000001"
USERNAME = "kahvila_aurinko"
NAME = "Kahvila Aurinko"
#: Every account may post this many weighted characters.
MAX_POST = 280
#: X handles are at most 15 characters.
MAX_HANDLE = 15
DELETED_NOTE = "deleted"
#: X's snowflakes count milliseconds from this moment (2010-11-04), in the bits above the lowest 22.
TWITTER_EPOCH_MS = 1_288_834_974_657


def snowflake_now() -> int:
    """An X id for the current time, as X makes them: later runs of the sandbox start from larger ids."""
    return (int(time.time() * 1000) - TWITTER_EPOCH_MS) << 22


class XSandbox(FakeBackedSource[FakeX]):
    """Mentions of the café's X account, and the account's replies under them."""

    plugin = "x"
    key = "x"
    label = f"X · @{USERNAME}"

    def __init__(self) -> None:
        """Make up this run's credentials and an empty fake (served from :meth:`start`)."""
        self._credentials = {
            "bearer_token": "AAAA" + secrets.token_urlsafe(32),
            "consumer_key": secrets.token_urlsafe(18),
            "consumer_secret": secrets.token_urlsafe(36),
            "access_token": f"{ACCOUNT_ID}-{secrets.token_urlsafe(24)}",
            "access_token_secret": secrets.token_urlsafe(32),
        }
        credentials = self._credentials
        self.fake = FakeX(
            bearer_token=credentials["bearer_token"],
            consumer_key=credentials["consumer_key"],
            consumer_secret=credentials["consumer_secret"],
            access_token=credentials["access_token"],
            access_token_secret=credentials["access_token_secret"],
            account_id=ACCOUNT_ID,
            username=USERNAME,
            name=NAME,
            # A data folder kept from an earlier run holds that run's posts: never reuse their ids.
            first_id=snowflake_now(),
        )
        self._customers = Customers(2_244_990_001)
        self._company = XUser(ACCOUNT_ID, USERNAME, NAME)
        #: Who wrote each post the customers made (the fake's users are its own business).
        self._authors: dict[str, XUser] = {}
        #: The customers' posts that start a conversation, oldest first, with their text as posted.
        self._threads: dict[str, tuple[XUser, str, datetime]] = {}
        self._numbers = itertools.count(1)

    @property
    def config(self) -> Mapping[str, Any]:
        """The plugin pointed at the fake: the account, its credentials, webhook on, polling off."""
        return {
            "user_id": ACCOUNT_ID,
            "username": USERNAME,
            **self._credentials,
            "api_url": self.fake.base_url,
            "webhook": True,
            "polling": False,
            "timeout_seconds": 5,
        }

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Write the mention on the fake, then deliver it to the bot as X's signed Account Activity event.

        The post mentions the account (``@kahvila_aurinko`` is put in front unless the text has it),
        as a post must for the account to hear of it.
        """
        name = customer_name(author, platform="X")
        if not re.search(rf"@{USERNAME}\b", text, re.IGNORECASE):
            text = f"@{USERNAME} {customer_text(text, platform='X', limit=MAX_POST)}"
        customer_text(text, platform="X", limit=MAX_POST, length=weighted_length(text))
        parent = None if reply_to is None else (reply_to, self._author_of(reply_to))
        user = XUser(self._customers.id_for(name), self._handle(name), name)
        tweet_id = self.fake.mention(text, author=(user.id, user.screen_name, user.name), in_reply_to=reply_to)
        self._authors[tweet_id] = user
        if reply_to is None:
            self._threads[tweet_id] = (user, text, datetime.now(UTC))
        tweet = tweet_object(tweet_id=tweet_id, text=text, user=user, mentions=[self._company], in_reply_to=parent)
        body, headers = signed_activity(
            self._credentials["consumer_secret"], tweet_create_payload(ACCOUNT_ID, tweet, user_has_blocked=False)
        )
        await notify_bot(bot_url, "/webhooks/x", body, headers, platform="X")
        return tweet_id

    def _handle(self, name: str) -> str:
        """The customer's handle: their name in ASCII, with a number when another customer has it."""
        handle = base = handle_for(name, limit=MAX_HANDLE)
        taken = {user.screen_name for user in self._authors.values() if user.name != name}
        number = 1
        while handle in taken:
            number += 1
            handle = base[: MAX_HANDLE - len(str(number))] + str(number)
        return handle

    def _author_of(self, tweet_id: str) -> XUser:
        """Who wrote the post ``tweet_id`` (a customer's, or the account's reply); SandboxPostError when unknown."""
        if tweet_id in self._authors:
            return self._authors[tweet_id]
        try:
            author_id = self.fake.tweet(tweet_id)["author_id"]
        except KeyError:
            raise SandboxPostError(f"X: there is no post {tweet_id!r} to reply to") from None
        if author_id != ACCOUNT_ID:
            raise SandboxPostError(f"X: post {tweet_id!r} was not written on this page; reply to one that was")
        return self._company

    def feed(self) -> Sequence[CustomerPost]:
        """The customers' posts, newest first, each with its conversation under it."""
        return [self._thread(tweet_id) for tweet_id in reversed(self._threads)]

    def _thread(self, tweet_id: str) -> CustomerPost:
        """One customer's post and every post answering it (however deep), oldest first."""
        user, text, at = self._threads[tweet_id]
        replies: list[CustomerPost] = []
        waiting = [tweet_id]
        while waiting:
            for reply in self.fake.replies_to(waiting.pop()):
                waiting.append(reply["id"])
                team = reply["author_id"] == ACCOUNT_ID
                replies.append(
                    CustomerPost(
                        id=reply["id"],
                        author=NAME if team else self._authors.get(reply["id"], user).name,
                        text=reply["text"],
                        at=reply["created_at"],
                        from_team=team,
                    )
                )
        # Ids grow with time on X, so they order the conversation even within one second.
        replies.sort(key=lambda reply: int(reply.id))
        try:
            self.fake.tweet(tweet_id)
            note = ""
        except KeyError:
            note = DELETED_NOTE
        return CustomerPost(id=tweet_id, author=user.name, text=text, at=at, replies=tuple(replies), note=note)
