"""Counting Slack's HTTP 429 answers on a Web API client, whatever the call and whoever handles it.

slack_sdk shows every response to the client's retry handlers before it raises, so a
handler that never asks for a retry is the one place that sees a 429 from Bolt's calls
(views.open, chat.postEphemeral), the outbox's posts and the plugins' calls alike.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


def api_method(url: str) -> str:
    """The Web API method of a request URL (``https://slack.com/api/chat.postMessage`` → ``chat.postMessage``)."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    # Only dotted names are methods; anything else (an upload URL) is one label, not one per URL.
    return name if "." in name and len(name) <= 64 else "other"


class RateLimitCounter(AsyncRetryHandler):
    """A retry handler that never retries: it tells ``count(method)`` of every HTTP 429.

    Put it first in the client's ``retry_handlers`` (slack_sdk stops at the first handler
    that retries). Clients that must never re-send (``chatops.slack.posting``) keep it,
    because it never does.
    """

    def __init__(self, count: Callable[[str], None]) -> None:
        super().__init__(max_retry_count=0)
        self._count = count

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Count a 429; always False (never a retry)."""
        if response is not None and response.status_code == 429:
            self._count(api_method(request.url))
        return False
