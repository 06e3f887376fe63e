"""The X account as a source: mentions in (polling, or Account Activity webhooks), replies out.

The work is split by what it talks to: :mod:`.polling` reads mentions and the account's own
posts with ``since_id`` kept in the database; :mod:`.tweets` turns X's post objects into
inbound messages and finds the card a reply belongs to; :mod:`.replies` posts answers with
``create_tweet(in_reply_to_tweet_id=…)``; :mod:`.length` counts text the way X does;
:mod:`.webhook` serves the optional Account Activity webhook (CRC and signature).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

import tweepy
from apscheduler.triggers.interval import IntervalTrigger
from starlette.routing import BaseRoute

from chatops.jobs import Job
from chatops.sources import Answer, Capability, SendError, SendResult, Source, SourceContext, Target

from . import length
from .client import tweepy_client
from .config import XConfig
from .polling import poll_job
from .replies import send_reply
from .webhook import webhook_routes
from .words import TEXTS

NAME = "x"


class XSource(Source):
    """Mentions of one X account; replies posted under the customer's post."""

    name = NAME
    capabilities = frozenset({Capability.REPLY})
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = TEXTS

    def __init__(self, config: XConfig) -> None:
        self.config = config
        self.display_name = config.display_name  # type: ignore[misc]
        self.inbox_channel = config.channel
        self.max_reply_length = config.max_reply_length
        self._ctx: SourceContext | None = None
        self._client: tweepy.Client | None = None
        #: Epoch seconds, compared with X's ``x-rate-limit-reset``; tests share a hand-moved clock with the fake.
        self.clock: Callable[[], float] = time.time

    # -- wiring ------------------------------------------------------------------------------

    @property
    def poll_job_id(self) -> str:
        """The scheduled polling job's id."""
        return f"{self.name}.poll"

    def routes(self) -> Sequence[BaseRoute]:
        """The Account Activity webhook, when it is on."""
        if not self.config.webhook:
            return ()
        return webhook_routes(self)

    def jobs(self) -> Sequence[Job]:
        """The polling job, when polling is on."""
        if not self.config.polling:
            return ()
        trigger = IntervalTrigger(seconds=self.config.poll_interval_seconds)
        return [Job(self.poll_job_id, trigger, self._poll_job, grace_seconds=self.config.poll_interval_seconds)]

    async def start(self, ctx: SourceContext) -> None:
        """Keep the plugin's context and build the tweepy client."""
        self._ctx = ctx
        self._client = tweepy_client(self.config)

    async def stop(self) -> None:
        """Close the client's HTTP session."""
        if self._client is not None:
            self._client.session.close()
            self._client = None

    @property
    def ctx(self) -> SourceContext:
        """The plugin's context (the source must be started)."""
        if self._ctx is None:
            raise RuntimeError("x source is not started")
        return self._ctx

    @property
    def client(self) -> tweepy.Client:
        """The running tweepy client."""
        if self._client is None:
            raise SendError(f"{self.display_name} source is not started", retryable=True)
        return self._client

    # -- inbound -----------------------------------------------------------------------------

    async def _poll_job(self, due_at: datetime) -> None:
        await poll_job(self, due_at)

    # -- answers -----------------------------------------------------------------------------

    def reply_length(self, text: str) -> int:
        """X's weighted length (URLs 23, most emoji and CJK 2)."""
        return length.weighted_length(text)

    def reply_length_note(self) -> str | None:
        """How X counts, under the reply box."""
        return self.t("x.length_note")

    @property
    def reply_input_max(self) -> int:
        """Room for long links, which X counts as 23 whatever their length."""
        return 3000

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``: a public reply under the customer's post."""
        return await send_reply(self, target, answer)
