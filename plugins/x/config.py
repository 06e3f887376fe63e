"""``[plugins.x]``: the X account, its credentials, how mentions arrive, and X's limits.

Every key can also come from the environment (``plugins.x.bearer_token`` is
``CHATOPS_PLUGINS__X__BEARER_TOKEN``), which is where the secrets belong. Secrets are ``SecretStr``
so they never show in a repr, a log line or a validation error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

#: Where tweepy sends every request; ``api_url`` replaces this host (a fake in tests, a proxy).
DEFAULT_API_URL = "https://api.twitter.com"
#: X user ids are decimal numbers (snowflakes).
_USER_ID_RE = re.compile(r"[0-9]{1,20}")
#: X handles: 1-15 letters, digits and underscores, written without the @.
_HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")


class XConfig(BaseModel):
    """Settings of ``[plugins.x]`` (see docs/x.md for the developer portal steps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The company account's numeric user id (``GET /2/users/me``, or the portal's "User ID").
    user_id: str
    #: The account's handle without the @; cards and the docs show it. Optional.
    username: str | None = None
    #: OAuth 2.0 app-only token: reads mentions and the account's own posts.
    bearer_token: SecretStr
    #: OAuth 1.0a user-context credentials of the company account: needed to post replies.
    consumer_key: SecretStr
    consumer_secret: SecretStr
    access_token: SecretStr
    access_token_secret: SecretStr
    #: Base URL of X's API; tweepy's requests are routed here (a proxy, or a fake in tests).
    api_url: str = DEFAULT_API_URL
    timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    #: Poll mentions on a timer (the way in on every access level).
    polling: bool = True
    #: Seconds between polls. Basic access allows about 10 mention reads per 15 minutes: 120 s keeps
    #: within it with the own-posts read; the rate-limit headers are obeyed whatever this says.
    poll_interval_seconds: int = Field(default=120, ge=5, le=86_400)
    #: ``max_results`` per page of mentions (X allows 5-100).
    page_size: int = Field(default=100, ge=5, le=100)
    #: Most pages read in one pass when many mentions arrived (X keeps only the newest 800 reachable).
    max_pages: int = Field(default=8, ge=1, le=50)
    #: On the very first pass (no stored position), how far back to pick up mentions.
    first_poll_lookback_hours: float = Field(default=24.0, ge=0.0, le=24.0 * 7)
    #: Also read the account's own posts, so a reply the company made directly on X shows in the card's thread.
    own_replies: bool = True
    #: Raise an ops alert when polling has been held back by X's rate limit for this long.
    blocked_alert_minutes: float = Field(default=30.0, gt=0.0, le=24.0 * 60)
    #: Account Activity webhooks (needs an access level that has them): ``/webhooks/x``.
    webhook: bool = False
    #: Largest webhook body accepted.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    display_name: str = Field(default="X", min_length=1, max_length=60)
    #: Slack channel for X's cards; empty means the inbox channel.
    channel: str | None = None
    #: X's post limit in weighted characters (URLs 23, most emoji and CJK 2). Premium accounts may post
    #: longer; 280 is what every account can.
    max_reply_length: int = Field(default=280, ge=1, le=25_000)

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        value = value.strip()
        if not _USER_ID_RE.fullmatch(value):
            raise ValueError("must be the account's numeric user id (digits only), not its @handle")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removeprefix("@")
        if not _HANDLE_RE.fullmatch(value):
            raise ValueError("must be an X handle: 1-15 letters, digits or _, without the @")
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an http(s) URL such as https://api.twitter.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _needs(self) -> XConfig:
        for key in ("bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            if not getattr(self, key).get_secret_value().strip():
                raise ValueError(f"{key} must not be empty")
        if not self.polling and not self.webhook:
            raise ValueError("turn on polling, webhook or both; otherwise no mention ever arrives")
        return self

    def secret(self, key: str) -> str:
        """The plain value of a secret key."""
        value: SecretStr = getattr(self, key)
        return value.get_secret_value()
