"""tweepy's ``Client``, routed to the configured ``api_url`` and given a timeout.

tweepy hard-codes ``https://api.twitter.com`` and sends without a timeout. A transport adapter
mounted on the client's ``requests.Session`` rewrites every request to ``plugins.x.api_url`` (a
proxy, or the local fake in tests) and bounds each request, so the production code path is the
one tests exercise. tweepy is synchronous: callers run its calls in a worker thread
(:func:`asyncio.to_thread`) so the bot's event loop never waits on X.

tweepy logs every request's headers at DEBUG (``Authorization: Bearer …``), and requests-oauthlib
and oauthlib log the signed OAuth 1.0a header (the access token, the signature): those loggers are
kept at INFO or above, so a root logger at DEBUG never receives a token.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

from .config import DEFAULT_API_URL, XConfig

#: Loggers that write credentials at DEBUG: tweepy's request headers, the OAuth 1.0a signing.
TOKEN_LOGGERS = ("tweepy.client", "requests_oauthlib", "oauthlib")


def quiet_token_loggers() -> None:
    """Keep :data:`TOKEN_LOGGERS` at INFO or above (a higher level someone set is kept)."""
    for name in TOKEN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) too: it would inherit a DEBUG root
            logger.setLevel(logging.INFO)


class RerouteAdapter(HTTPAdapter):
    """Sends requests meant for X's API host to ``base_url`` instead, with a timeout on each."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)
        parts = urlsplit(base_url)
        self._scheme, self._netloc, self._prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Rewrite the URL (path and query kept), then send with the configured timeout."""
        parts = urlsplit(request.url or "")
        request.url = urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))
        kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def tweepy_client(config: XConfig) -> tweepy.Client:
    """A tweepy ``Client`` for the account: app-only reads, user-context posts, raw responses.

    ``return_type=requests.Response`` keeps the headers (``x-rate-limit-*``) that decide when to
    poll next; callers read the JSON themselves.
    """
    quiet_token_loggers()
    client = tweepy.Client(
        bearer_token=config.secret("bearer_token"),
        consumer_key=config.secret("consumer_key"),
        consumer_secret=config.secret("consumer_secret"),
        access_token=config.secret("access_token"),
        access_token_secret=config.secret("access_token_secret"),
        return_type=requests.Response,
        wait_on_rate_limit=False,
    )
    # Mounted for the default host too: the adapter is also what gives every request a timeout.
    client.session.mount(DEFAULT_API_URL + "/", RerouteAdapter(config.api_url, config.timeout_seconds))
    return client
