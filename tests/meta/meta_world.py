"""The world of the Meta tests: fixture values, the bot's config, and the customer's side.

:class:`Meta` is the test's view of the world: the customer side (comments written on Facebook or
Instagram, delivered as signed webhooks or found by a polling pass) and what reached Meta (the
fake's recorded replies, private messages and hidden state). The Slack side is the ``TestBot``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from chatops.models import AuditEntry, Message, utcnow
from chatops.testing.bot import OPS, TestBot
from chatops_plugins.graph_api.signature import SIGNATURE_HEADER, sign
from chatops_plugins.graph_api.testing import (
    FakeGraph,
    facebook_comment_change,
    facebook_feed_payload,
    instagram_comment_change,
    signed_webhook,
)

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
TOKEN = "EAAG-page-token-for-tests"
PAGE = "1000"
PAGE_NAME = "Kahvila Aurinko"
IG = "17841400000000000"
IG_USERNAME = "kahvila.aurinko"
POST = f"{PAGE}_1"
POST_TEXT = "Uusi kanelipulla on täällä! 🥐\nTule maistamaan koko perheen kanssa."
MEDIA = "17900000000000001"
MEDIA_CAPTION = "Pullapäivä ☕\n#kahvila #helsinki"
#: A customer: (id, name) on Facebook, (id, username) on Instagram.
AINO = ("5551", "Aino Asiakas")
EERO = ("5552", "Eero Esimerkki")
LIISA = ("1784100000000777", "liisa_k")


def meta_config(**facebook: Any) -> dict[str, Any]:
    """Bot config with the webhook, Facebook and Instagram plugins pointed at the fake."""

    def common(graph_url: str) -> dict[str, Any]:
        return {
            "page_access_token": TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "graph_api_url": graph_url,
            # Polling is on so tests can run a pass; the interval never elapses within a test.
            "polling": True,
            "poll_interval_seconds": 3600,
            "timeout_seconds": 5,
        }

    graph_url = facebook.pop("graph_api_url")
    instagram = facebook.pop("instagram", {})
    return {
        # Token and permission failures retry at the longest backoff; keep it short in tests.
        "delivery": {"backoff_max_seconds": 0.2},
        "plugins": {
            "enabled": ["webhook", "facebook", "instagram"],
            "facebook": {**common(graph_url), "page_id": PAGE, **facebook},
            "instagram": {**common(graph_url), "ig_user_id": IG, "ig_username": IG_USERNAME, **instagram},
        },
    }


class Meta:
    """The customer's side of Facebook and Instagram, and what the team's actions did there."""

    def __init__(self, bot: TestBot, graph: FakeGraph) -> None:
        self.bot = bot
        self.graph = graph
        self._poll_clock = itertools.count(1)

    # -- webhooks -----------------------------------------------------------------------------

    async def send(
        self,
        platform: str,
        payload: Mapping[str, Any] | bytes,
        *,
        secret: str | None = APP_SECRET,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST a webhook body to ``/webhooks/<platform>``, signed as Meta does unless ``secret`` is None."""
        assert self.bot.http is not None
        if isinstance(payload, bytes):
            body, sent = payload, {"Content-Type": "application/json"}
            if secret is not None:
                sent[SIGNATURE_HEADER] = sign(secret, body)
        else:
            body, sent = signed_webhook(secret or "unused", dict(payload))
            if secret is None:
                sent.pop(SIGNATURE_HEADER)
        sent.update(headers or {})
        return await self.bot.http.post(f"/webhooks/{platform}", content=body, headers=sent)

    async def facebook(self, *changes: dict[str, Any]) -> dict[str, Any]:
        """Deliver Page feed changes (or whole entries) in one signed webhook; return the answer's JSON."""
        response = await self.send("facebook", facebook_feed_payload(*changes))
        assert response.status_code == 200, response.text
        return response.json()

    async def instagram(self, *changes: dict[str, Any], account: str = IG) -> dict[str, Any]:
        """Deliver Instagram comment changes in one signed webhook; return the answer's JSON."""
        payload = {"object": "instagram", "entry": [{"id": account, "time": _unix(None), "changes": list(changes)}]}
        response = await self.send("instagram", payload)
        assert response.status_code == 200, response.text
        return response.json()

    # -- the customer writes ---------------------------------------------------------------

    def fb_comment(
        self,
        comment_id: str,
        text: str,
        *,
        who: tuple[str, str] = AINO,
        parent_id: str | None = None,
        post_id: str = POST,
        created: datetime | None = None,
        verb: str = "add",
    ) -> dict[str, Any]:
        """A comment written on Facebook: it exists on the fake, and here is its webhook change."""
        if verb == "add" and not self.graph.exists(comment_id):
            self.graph.add_comment(
                comment_id,
                post_id=post_id,
                message=text,
                from_id=who[0],
                from_name=who[1],
                parent_id=parent_id,
                created_time=created,
            )
        return facebook_comment_change(
            page_id=PAGE,
            comment_id=comment_id,
            post_id=post_id,
            message=text,
            from_id=who[0],
            from_name=who[1],
            verb=verb,
            parent_id=parent_id,
            created_time=created,
        )

    def page_comment(self, comment_id: str, text: str, *, parent_id: str | None = None) -> dict[str, Any]:
        """A comment the Page itself wrote directly on Facebook."""
        return self.fb_comment(comment_id, text, who=(PAGE, PAGE_NAME), parent_id=parent_id)

    def ig_comment(
        self,
        comment_id: str,
        text: str,
        *,
        who: tuple[str, str] = LIISA,
        parent_id: str | None = None,
        media_id: str = MEDIA,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """A comment written on Instagram: it exists on the fake, and here is its webhook change."""
        self.graph.add_ig_comment(
            comment_id,
            media_id=media_id,
            text=text,
            from_id=who[0],
            username=who[1],
            parent_id=parent_id,
            timestamp=created,
        )
        return instagram_comment_change(
            comment_id=comment_id,
            media_id=media_id,
            text=text,
            from_id=who[0],
            username=who[1],
            parent_id=parent_id,
        )

    # -- polling ------------------------------------------------------------------------------

    async def poll(self, source: str) -> bool:
        """Run one polling pass of ``source`` now (each call is a new scheduled occurrence)."""
        assert self.bot.app is not None
        # The scheduler claims one run per interval slot; step an hour per call to get a fresh slot.
        now = utcnow() + timedelta(hours=next(self._poll_clock))
        return await self.bot.app.scheduler.run_claimed(f"{source}.poll", now)

    # -- what the team sees besides cards ------------------------------------------------

    def ops_alerts(self) -> list[str]:
        """Texts posted to the ops channel."""
        return [m.get("text", "") for m in self.bot.slack.top_level_messages(OPS)]

    async def stored_messages(self) -> int:
        """How many messages the database holds."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            return int(await session.scalar(select(func.count(Message.id))) or 0)


def _unix(moment: datetime | None) -> int:
    return int((moment or datetime.now(UTC)).timestamp())


async def audit_actions(bot: TestBot) -> list[str]:
    """The audit log's actions, oldest first."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())
