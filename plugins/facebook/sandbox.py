"""Facebook's customers' side in ``chatops sandbox``: comments on the café's Page post, delivered as Meta does.

See :mod:`chatops_plugins.graph_api.sandbox` for what Facebook and Instagram share.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..graph_api.sandbox import PAGE_ID, PAGE_NAME, MetaSandboxSource
from ..graph_api.testing import facebook_comment_change, facebook_feed_payload

#: The Page post customers comment on.
POST_ID = f"{PAGE_ID}_1"
POST_TEXT = (
    "Uudet korvapuustit ovat täällä! 🥐 Fresh cinnamon buns every morning from 8 – "
    "and our new Ethiopia roast is in the web shop."
)


class FacebookSandbox(MetaSandboxSource):
    """Comments on the Page's post, the Page's replies under them, and what the team hid or sent privately."""

    plugin = "facebook"
    key = "facebook"
    label = f"Facebook · {PAGE_NAME}"
    platform = "Facebook"
    first_customer_id = 5_550_001

    @property
    def account_id(self) -> str:
        """The Page's id."""
        return PAGE_ID

    @property
    def account_name(self) -> str:
        """The Page's name."""
        return PAGE_NAME

    def account_settings(self) -> Mapping[str, Any]:
        """The Page's id and name."""
        return {"page_id": PAGE_ID, "page_name": PAGE_NAME}

    def publish(self) -> None:
        """This morning's post about the cinnamon buns."""
        self.fake.add_post(POST_ID, POST_TEXT, created_time=datetime.now(UTC) - timedelta(hours=2))

    def comment_id(self, number: int) -> str:
        """``<post>_<n>``, as Facebook's comment ids look."""
        return f"{POST_ID.rpartition('_')[2]}_{number}"

    def write(self, comment_id: str, author_id: str, name: str, text: str, parent: str | None) -> dict[str, Any]:
        """The comment on the post, and the Page ``feed`` change notification for it."""
        self.fake.add_comment(
            comment_id, post_id=POST_ID, message=text, from_id=author_id, from_name=name, parent_id=parent
        )
        change = facebook_comment_change(
            page_id=PAGE_ID,
            comment_id=comment_id,
            post_id=POST_ID,
            message=text,
            from_id=author_id,
            from_name=name,
            parent_id=parent,
        )
        return facebook_feed_payload(change)

    def parent_of(self, comment: dict[str, Any]) -> str | None:
        """``parent.id`` of a reply."""
        parent = comment.get("parent")
        return str(parent["id"]) if isinstance(parent, dict) else None

    def author_of(self, comment: dict[str, Any]) -> str:
        """``from.name``."""
        return str(comment["from"]["name"])

    def text_of(self, comment: dict[str, Any]) -> str:
        """``message``."""
        return str(comment.get("message", ""))

    def time_of(self, comment: dict[str, Any]) -> str:
        """``created_time``."""
        return str(comment["created_time"])

    def is_hidden(self, comment: dict[str, Any]) -> bool:
        """``is_hidden``."""
        return bool(comment.get("is_hidden"))
