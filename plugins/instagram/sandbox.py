"""Instagram's customers' side in ``chatops sandbox``: comments on the café's photo, delivered as Meta does.

Customers comment under an Instagram username, made from the name typed on the page
("Marta Kowalska" comments as ``marta.kowalska``). See :mod:`chatops_plugins.graph_api.sandbox`
for what Facebook and Instagram share.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chatops.sandbox.posting import handle_for

from ..graph_api.sandbox import IG_USER_ID, IG_USERNAME, MetaSandboxSource
from ..graph_api.testing import instagram_comment_payload

#: The photo customers comment on.
MEDIA_ID = "17900000000000001"
MEDIA_CAPTION = "Pullapäivä ☕ Cinnamon bun day – come early!\n#kahvila #helsinki #cinnamonbuns"
#: Instagram usernames are at most 30 characters.
MAX_USERNAME = 30


class InstagramSandbox(MetaSandboxSource):
    """Comments on the account's photo, the account's replies under them, and what the team hid or sent privately."""

    plugin = "instagram"
    key = "instagram"
    label = f"Instagram · @{IG_USERNAME}"
    platform = "Instagram"
    first_customer_id = 17_841_400_000_001_000

    @property
    def account_id(self) -> str:
        """The Instagram account's id."""
        return IG_USER_ID

    @property
    def account_name(self) -> str:
        """The account's username."""
        return IG_USERNAME

    def account_settings(self) -> Mapping[str, Any]:
        """The account's id and username."""
        return {"ig_user_id": IG_USER_ID, "ig_username": IG_USERNAME}

    def publish(self) -> None:
        """This morning's photo."""
        self.fake.add_ig_media(MEDIA_ID, MEDIA_CAPTION, timestamp=datetime.now(UTC) - timedelta(hours=2))

    def comment_id(self, number: int) -> str:
        """A numeric id, as Instagram's comment ids are."""
        return str(17_000_000_000_000_000 + number)

    def write(self, comment_id: str, author_id: str, name: str, text: str, parent: str | None) -> dict[str, Any]:
        """The comment on the photo, and the ``comments`` change notification for it."""
        username = handle_for(name, limit=MAX_USERNAME, separator=".")
        self.fake.add_ig_comment(
            comment_id, media_id=MEDIA_ID, text=text, from_id=author_id, username=username, parent_id=parent
        )
        return instagram_comment_payload(
            ig_user_id=IG_USER_ID,
            comment_id=comment_id,
            media_id=MEDIA_ID,
            text=text,
            from_id=author_id,
            username=username,
            parent_id=parent,
        )

    def parent_of(self, comment: dict[str, Any]) -> str | None:
        """``parent_id`` of a reply."""
        parent = comment.get("parent_id")
        return str(parent) if parent else None

    def author_of(self, comment: dict[str, Any]) -> str:
        """``username``."""
        return str(comment["username"])

    def text_of(self, comment: dict[str, Any]) -> str:
        """``text``."""
        return str(comment.get("text", ""))

    def time_of(self, comment: dict[str, Any]) -> str:
        """``timestamp``."""
        return str(comment["timestamp"])

    def is_hidden(self, comment: dict[str, Any]) -> bool:
        """``hidden``."""
        return bool(comment.get("hidden"))
