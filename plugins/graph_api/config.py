"""The settings the Facebook and Instagram plugins share: token, webhook secrets, polling, Graph endpoint.

Each plugin subclasses :class:`MetaConfig` with its account ids and defaults. Every key can also be
set from the environment (``plugins.facebook.page_access_token`` is
``CHATOPS_PLUGINS__FACEBOOK__PAGE_ACCESS_TOKEN``), which is where the three secrets belong. Secrets are
``SecretStr`` so they never show in a repr, a log line or a validation error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .client import DEFAULT_API_VERSION, DEFAULT_BASE_URL, appsecret_proof

_VERSION_RE = re.compile(r"v\d+\.\d+")
#: Graph object ids are digits (Pages, Instagram accounts); anything else would be a typo.
_ACCOUNT_ID_RE = re.compile(r"[0-9]{1,64}")


def check_account_id(value: str) -> str:
    """Validate a Page or Instagram account id: digits only, as the Graph API gives them."""
    value = value.strip()
    if not _ACCOUNT_ID_RE.fullmatch(value):
        raise ValueError("must be the numeric id Meta shows for the account (digits only)")
    return value


class MetaConfig(BaseModel):
    """Settings shared by ``[plugins.facebook]`` and ``[plugins.instagram]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A long-lived Page access token (Instagram accounts are reached through their linked Page).
    page_access_token: SecretStr
    #: The Meta app's secret: verifies ``X-Hub-Signature-256`` and signs ``appsecret_proof``.
    app_secret: SecretStr | None = None
    #: The string typed into the App Dashboard's webhook "Verify token" field.
    verify_token: SecretStr | None = None
    #: Serve the webhook (needs a public HTTPS URL); turn off for polling-only installs.
    webhook: bool = True
    #: Read recent comments from the Graph API on a timer (for installs without a public URL).
    polling: bool = False
    poll_interval_seconds: int = Field(default=120, ge=10, le=86_400)
    #: How many of the newest posts (or media) a polling pass reads comments from.
    poll_recent_posts: int = Field(default=25, ge=1, le=100)
    #: On the very first pass, how far back to pick up comments (later passes continue from the cursor).
    poll_lookback_hours: float = Field(default=24.0, ge=0.0, le=24.0 * 30)
    graph_api_url: str = DEFAULT_BASE_URL
    api_version: str = DEFAULT_API_VERSION
    timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    #: Send ``appsecret_proof`` with every call (needs ``app_secret``; required by "Require App Secret").
    appsecret_proof: bool = True
    display_name: str = Field(default="Meta", min_length=1, max_length=60)
    #: Slack channel for this source's cards; empty means the inbox channel.
    channel: str | None = None
    #: Largest webhook body accepted; Meta batches up to 1000 updates in one POST.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_reply_length: int = Field(default=2000, ge=1, le=8000)
    #: Offer the optional public "we've sent you a message" reply in the Move to DM dialog.
    private_reply_notice: bool = True

    def derived_secrets(self) -> list[str]:
        """Secrets computed from the configured ones, for log masking: the ``appsecret_proof`` every call
        carries in its URL (with the token, it is all a caller needs under "Require App Secret")."""
        if self.app_secret is None:
            return []
        return [appsecret_proof(self.page_access_token.get_secret_value(), self.app_secret.get_secret_value())]

    @field_validator("graph_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://graph.facebook.com")
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION_RE.fullmatch(value):
            raise ValueError(f"must look like {DEFAULT_API_VERSION!r}")
        return value

    @model_validator(mode="after")
    def _mode_needs(self) -> MetaConfig:
        if not self.page_access_token.get_secret_value().strip():
            raise ValueError("page_access_token must not be empty")
        if not self.webhook and not self.polling:
            raise ValueError("turn on webhook, polling or both; otherwise no comment ever arrives")
        if self.webhook:
            # Fail at start-up, not with every webhook answered 401 later.
            for key in ("app_secret", "verify_token"):
                secret = getattr(self, key)
                if secret is None or not secret.get_secret_value():
                    raise ValueError(f"{key} is required when webhook = true (or set webhook = false to poll)")
        return self

    def secret(self, key: str) -> str:
        """The plain value of a secret key, or "" when it is not set."""
        value = getattr(self, key)
        return value.get_secret_value() if value is not None else ""
