"""X's refusals, read once for every caller: status, problem ``type``, X's own words, headers.

X API v2 answers a failure with a problem document (RFC 7807 style): ``title``, ``detail``,
``type`` (``about:blank`` or ``https://api.twitter.com/2/problems/<kind>``), ``status``, and for
invalid requests an ``errors`` list of ``{"message", "parameters"}``; older edges still answer
v1.1's ``{"errors": [{"code", "message"}]}``; a proxy may answer an HTML page. tweepy raises its
``HTTPException`` subclasses with the ``requests.Response`` attached; :class:`Refusal` reads that
response whatever its shape, for the card and the ops channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tweepy

#: Longest piece of X's own words quoted on a card or in an alert.
MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class Refusal:
    """What X said when it refused a request."""

    #: The HTTP status (0 when the response had none).
    status: int
    #: The problem ``type`` URI, or "".
    type: str
    #: X's words, one line, at most :data:`MAX_DETAIL` characters (never the body of an HTML page).
    detail: str
    headers: Mapping[str, str]

    @classmethod
    def of(cls, exc: tweepy.errors.HTTPException) -> Refusal:
        """The refusal tweepy raised."""
        return cls.from_response(exc.response)

    @classmethod
    def from_response(cls, response: Any) -> Refusal:
        """Read a refused request's response (a ``requests.Response``)."""
        status = int(getattr(response, "status_code", 0) or 0)
        reason = str(getattr(response, "reason", "") or "")
        try:
            body: Any = response.json()
        except ValueError:  # an HTML page from a proxy, or nothing
            body = None
        problem_type = ""
        words: list[str] = []
        if isinstance(body, Mapping):
            problem_type = str(body.get("type") or "")
            errors = body.get("errors")
            for error in errors if isinstance(errors, list) else ():
                said = (error.get("message") or error.get("detail")) if isinstance(error, Mapping) else error
                if isinstance(said, str) and said:
                    words.append(said)
            if not words:
                said = body.get("detail") or body.get("title")
                if isinstance(said, str) and said:
                    words.append(said)
        detail = "; ".join(dict.fromkeys(words)) or f"HTTP {status} {reason}".strip()
        headers = getattr(response, "headers", None)
        return cls(status, problem_type, clip(detail), dict(headers) if isinstance(headers, Mapping) else {})

    @property
    def duplicate(self) -> bool:
        """X refuses a post whose text the account already posted (403, "duplicate content")."""
        return self.status == 403 and "duplicate" in self.detail.lower()

    @property
    def suspended(self) -> bool:
        """The account is suspended (``.../problems/user-suspended``)."""
        return self.status == 403 and (self.type.endswith("/user-suspended") or "suspended" in self.detail.lower())

    @property
    def usage_capped(self) -> bool:
        """The app's monthly usage cap is spent (429, ``.../problems/usage-capped``): no window reset helps."""
        return self.status == 429 and (self.type.endswith("/usage-capped") or "usage cap" in self.detail.lower())

    @property
    def no_permission(self) -> bool:
        """The app may not do this: a read-only app, or one not enrolled in a project with the access."""
        lowered = self.detail.lower()
        return self.status == 403 and (
            self.type.endswith(("/oauth1-permissions", "/client-forbidden"))
            or "oauth1 app permissions" in lowered
            or "client-not-enrolled" in lowered
        )


def clip(text: str) -> str:
    """``text`` on one line, at most :data:`MAX_DETAIL` characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
