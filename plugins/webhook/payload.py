"""The documented JSON shape of a webhook message, validated field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatops.inbound_checks import TimeOutOfRange, believable_time, has_visible_text

MAX_ID_LENGTH = 255


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value


class _Strict(BaseModel):
    # Unknown fields are refused so a typo ("reply_ulr") is reported, not ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WebhookAuthor(_Strict):
    """Who wrote the message."""

    name: str | None = Field(default=None, max_length=255)
    id: str | None = Field(default=None, max_length=255)
    handle: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000)

    _url = field_validator("url")(_http_url)


class WebhookContext(_Strict):
    """What the message is about (a product page, an order, a post)."""

    text: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=2000)

    _url = field_validator("url")(_http_url)


class WebhookMessage(_Strict):
    """One inbound message posted to ``/webhooks/webhook``."""

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    thread_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    text: str = Field(min_length=1)
    author: WebhookAuthor = Field(default_factory=WebhookAuthor)
    url: str | None = Field(default=None, max_length=2000)
    timestamp: AwareDatetime | None = None
    reply_url: str | None = Field(default=None, max_length=2000)
    channel: str | None = Field(default=None, max_length=255)
    context: WebhookContext | None = None

    _urls = field_validator("url", "reply_url")(_http_url)

    @field_validator("text")
    @classmethod
    def _visible(cls, value: str) -> str:
        # Zero-width and bidi characters survive strip(): a card of them shows nothing to answer.
        if not has_visible_text(value):
            raise ValueError("has no visible characters")
        return value

    @field_validator("timestamp")
    @classmethod
    def _believable(cls, value: datetime | None) -> datetime | None:
        # Checked here, at the door: a year-9999 time once stored made the card job fail forever.
        if value is None:
            return None
        try:
            return believable_time(value)
        except TimeOutOfRange as exc:
            raise ValueError(str(exc)) from None

    @property
    def created_at(self) -> datetime | None:
        """The message time in UTC (a time slightly ahead of our clock is taken as now)."""
        return self.timestamp.astimezone(UTC) if self.timestamp else None


class PayloadError(Exception):
    """A payload that does not match the documented shape; the message names the field."""


def parse_message(data: object, *, max_text_length: int) -> WebhookMessage:
    """Validate a decoded JSON body, raising PayloadError naming the first bad field."""
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    try:
        message = WebhookMessage.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        text = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            text = "is required"
        elif first["type"] == "extra_forbidden":
            text = "is not a known field"
        raise PayloadError(f"{field}: {text}") from None
    if len(message.text) > max_text_length:
        raise PayloadError(f"text: longer than {max_text_length} characters")
    return message
