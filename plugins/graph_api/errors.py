"""The failures of Graph API calls, and how a Graph error response maps to them.

Errors are classified into :class:`TokenError`, :class:`PermissionDenied`, :class:`RateLimited`,
:class:`TransientError` (with :class:`OutcomeUnknown` for a POST whose answer was lost) and
:class:`InvalidRequest`, following "Handling Errors" in the Graph API docs; ``.retryable`` tells a
caller whether trying again later can help. Every message is one line, and the access token and
proof are scrubbed out of it: ``str()``/``repr()`` never show a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

__all__ = [
    "PRIVATE_REPLY_ALREADY_SENT",
    "RATE_LIMIT_CODES",
    "TOKEN_ERROR_CODES",
    "TRANSIENT_CODES",
    "GraphError",
    "InvalidRequest",
    "OutcomeUnknown",
    "PermissionDenied",
    "RateLimited",
    "TokenError",
    "TransientError",
    "error_from_response",
    "header_json",
    "retry_after_from_headers",
]

#: Expired, revoked or invalid token (190), "API session" (102), and a missing token (104).
TOKEN_ERROR_CODES = frozenset({102, 104, 190})
#: Throttling: app (4), user (17), Page (32), application limit (341), custom per-API limit (613)
#: and the Business Use Case limits 80001–80009 (Pages, Instagram, ads, ...).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80010)})
#: "API Unknown" (1) and "API Service" (2): temporary, retry later.
TRANSIENT_CODES = frozenset({1, 2})
#: "(#10900) Activity already replied to": a private reply was already sent for that comment.
#: Widely reported by integrators; not in Meta's error-code table (unverified).
PRIVATE_REPLY_ALREADY_SENT = 10900

_MAX_MESSAGE = 300


def _one_line(text: str) -> str:
    """Collapse whitespace and cap the length so a message fits one line of a Slack card."""
    text = " ".join(str(text).split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


class GraphError(Exception):
    """Base class of every failure of a Graph API call; ``str()`` is a one-line, token-free summary."""

    #: Whether the same call may succeed later without anyone changing anything.
    retryable: ClassVar[bool] = False
    #: Plain-language lead of ``str()``, meant for people reading a Slack card.
    hint: ClassVar[str] = "Meta Graph API request failed"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int = 0,
        fbtrace_id: str | None = None,
        error_type: str | None = None,
        is_transient: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Build the error; ``http_status`` is 0 when no HTTP response arrived (network failure)."""
        self.message = _one_line(message) or "no error message"
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.error_type = error_type
        self.is_transient = is_transient
        self.method = method
        self.path = path
        super().__init__(self.message)

    def _details(self) -> list[str]:
        """Return the bracketed details of ``str()``: code, HTTP status, trace id."""
        details: list[str] = []
        if self.code is not None:
            details.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.http_status:
            details.append(f"HTTP {self.http_status}")
        if self.fbtrace_id:
            details.append(f"fbtrace {self.fbtrace_id}")
        return details

    def __str__(self) -> str:
        """Return a one-line human message: what it means, what Meta said, and the ids support needs."""
        text = f"{self.hint}. Meta said: {self.message}"
        details = self._details()
        if details:
            text += f" ({', '.join(details)})"
        return text

    def __repr__(self) -> str:
        """Return a debugging representation (never includes the token: it is never stored here)."""
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"http_status={self.http_status!r}, fbtrace_id={self.fbtrace_id!r}, message={self.message!r})"
        )


class TokenError(GraphError):
    """The token is expired, revoked, invalid or missing (codes 190, 102, 104): someone must reconnect."""

    hint = "Meta access token is invalid, expired or revoked; reconnect the account"


class PermissionDenied(GraphError):
    """The token lacks a permission, or the action is not allowed (codes 10 and 200–299)."""

    hint = "Meta refused the action (permission or policy)"


class RateLimited(GraphError):
    """Meta is throttling this app, user or Page (codes 4, 17, 32, 341, 613, 80001–80009, HTTP 429)."""

    retryable = True
    hint = "Meta rate limit reached"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """Build the error; ``retry_after`` is seconds until access returns, when headers allow a guess."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def _details(self) -> list[str]:
        """Add the retry estimate to the bracketed details."""
        details = super()._details()
        if self.retry_after is not None:
            details.insert(0, f"retry in ~{round(self.retry_after)} s")
        return details


class TransientError(GraphError):
    """A temporary failure: HTTP 5xx, codes 1 and 2, ``is_transient`` errors, network errors and timeouts."""

    retryable = True
    hint = "Meta Graph API is temporarily unavailable"


class OutcomeUnknown(TransientError):
    """A POST was sent but no answer came (a read timeout, a dropped connection): Meta may have done it.

    Retrying a call that creates something (a public reply) could do it twice; look first.
    """

    hint = "Meta did not answer, so it is not known whether the call took effect"


class InvalidRequest(GraphError):
    """Any other rejection (e.g. code 100): permanent, retrying the same call will fail again."""

    hint = "Meta rejected the request"


def _as_int(value: Any) -> int | None:
    """Return ``value`` as an int, or None when it is missing or not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def header_json(headers: Mapping[str, str], name: str) -> Any:
    """Parse the JSON value of a usage header, or None when absent or malformed."""
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """Estimate seconds until a throttled caller regains access, from response headers; None if unknown.

    Sources, in order: ``Retry-After`` (seconds); the largest ``estimated_time_to_regain_access`` in
    ``X-Business-Use-Case-Usage`` (documented in *minutes*). ``X-App-Usage`` only gives percentages of
    a rolling one-hour window, which allows no estimate.
    """
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    buc = header_json(headers, "x-business-use-case-usage")
    minutes: list[float] = []
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    value = entry.get("estimated_time_to_regain_access")
                    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                        minutes.append(float(value))
    if minutes:
        return max(minutes) * 60.0
    return None


def _error_class(code: int | None, http_status: int, is_transient: bool) -> type[GraphError]:
    """Pick the exception class for a Graph error code and HTTP status."""
    if code in TOKEN_ERROR_CODES:
        return TokenError
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimited
    if code == 10 or (code is not None and 200 <= code <= 299):
        return PermissionDenied
    if http_status >= 500 or code in TRANSIENT_CODES or is_transient:
        return TransientError
    # Includes 368 ("temporarily blocked for policy violations"): waiting is possible, but an
    # automatic retry is exactly the behaviour that got the Page blocked, so treat it as permanent.
    return InvalidRequest


def error_from_response(
    http_status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    secrets: tuple[str, ...] = (),
    method: str | None = None,
    path: str | None = None,
) -> GraphError:
    """Build the right :class:`GraphError` subclass from a Graph error response.

    ``body`` is the decoded JSON (``{"error": {"message", "type", "code", "error_subcode",
    "fbtrace_id", "is_transient"?}}``) or anything else for a non-Graph error page. Every string in
    ``secrets`` is scrubbed from the message.
    """
    headers = httpx.Headers(headers or {})
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or "")
        code = _as_int(err.get("code"))
        subcode = _as_int(err.get("error_subcode"))
        fbtrace = err.get("fbtrace_id")
        error_type = err.get("type")
        is_transient = err.get("is_transient") is True
    else:
        message = f"unexpected HTTP {http_status} response without a Graph error object"
        code = subcode = None
        fbtrace = headers.get("x-fb-trace-id")
        error_type = None
        is_transient = False
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    cls = _error_class(code, http_status, is_transient)
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "http_status": http_status,
        "fbtrace_id": str(fbtrace) if fbtrace else None,
        "error_type": str(error_type) if error_type else None,
        "is_transient": is_transient,
        "method": method,
        "path": path,
    }
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after_from_headers(headers), **kwargs)
    return cls(message, **kwargs)
