"""The bot's Prometheus metrics: one :class:`Metrics` per app, in a registry of its own.

Not prometheus-client's global registry: a process may hold several bots (the tests build
many), and each must count only its own. Labels are kept to small, known sets (sources,
job kinds, scheduled job ids, Slack method names, outcomes), never ids or user text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from chatops import __version__
from chatops.observability.outbox_gauges import OutboxGauges
from chatops.observability.rate_limits import RateLimitCounter

#: Outcomes of a reply (or private reply) to a customer, per attempt.
REPLY_SENT = "sent"
REPLY_RETRYING = "retrying"  # the attempt failed; the outbox tries again by itself
REPLY_FAILED = "failed"  # given up: the card shows the error and a Retry button
REPLY_OUTCOMES = (REPLY_SENT, REPLY_RETRYING, REPLY_FAILED)
#: Outcomes of a scheduled job occurrence this replica claimed.
JOB_OK = "ok"
JOB_FAILED = "failed"
JOB_SKIPPED = "skipped"  # not run: the database could not take the claim
JOB_OUTCOMES = (JOB_OK, JOB_FAILED, JOB_SKIPPED)
#: Where a Slack request was acknowledged.
ACK_HTTP = "http"
ACK_SOCKET_MODE = "socket_mode"
#: Slack asks for an ack within 3 s: buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class Metrics:
    """Every metric one bot exposes on ``/metrics``, and the small calls that count them."""

    def __init__(self, *, version: str = __version__, known_kinds: Callable[[], Iterable[str]] = tuple) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_received = Counter(
            "chatops_messages_received",
            "Customer messages stored (new, not duplicates), by source",
            ["source"],
            registry=r,
        )
        self.messages_duplicate = Counter(
            "chatops_messages_duplicate",
            "Inbound messages already stored (a platform's redelivery), dropped, by source",
            ["source"],
            registry=r,
        )
        self.cards_posted = Counter("chatops_cards_posted", "Cards posted to Slack, by source", ["source"], registry=r)
        self.replies = Counter(
            "chatops_replies",
            "Attempts to send the team's answer to a customer, by source and outcome (sent, retrying, failed)",
            ["source", "outcome"],
            registry=r,
        )
        self.slack_rate_limited = Counter(
            "chatops_slack_rate_limited", "Slack Web API calls answered HTTP 429, by method", ["method"], registry=r
        )
        self.slack_ack_seconds = Histogram(
            "chatops_slack_ack_seconds",
            "Seconds from receiving a Slack request until its acknowledgement was sent, by transport",
            ["transport"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.job_runs = Counter(
            "chatops_job_runs",
            "Scheduled job occurrences this replica claimed, by job and outcome",
            ["job", "outcome"],
            registry=r,
        )
        self.build_info = Gauge("chatops_build_info", "Always 1; the running chatops version", ["version"], registry=r)
        self.build_info.labels(version).set(1)
        self.outbox = OutboxGauges(known_kinds)
        r.register(self.outbox)

    def know_sources(self, sources: Iterable[str]) -> None:
        """Start each source's series at 0, so that rates work from the first message."""
        for source in sources:
            self.messages_received.labels(source)
            self.messages_duplicate.labels(source)
            self.cards_posted.labels(source)
            for outcome in REPLY_OUTCOMES:
                self.replies.labels(source, outcome)

    def know_jobs(self, jobs: Iterable[str]) -> None:
        """Start each scheduled job's series at 0."""
        for job in jobs:
            for outcome in JOB_OUTCOMES:
                self.job_runs.labels(job, outcome)

    def message_stored(self, source: str, *, duplicate: bool) -> None:
        """An inbound customer message was stored (or found already stored)."""
        (self.messages_duplicate if duplicate else self.messages_received).labels(source).inc()

    def card_posted(self, source: str) -> None:
        """A conversation's card was posted to Slack."""
        self.cards_posted.labels(source).inc()

    def reply(self, source: str, outcome: str) -> None:
        """An attempt to send an answer to a customer ended with ``outcome`` (see :data:`REPLY_OUTCOMES`)."""
        self.replies.labels(source, outcome).inc()

    def job_ran(self, job: str, outcome: str) -> None:
        """A scheduled job occurrence ended with ``outcome`` (see :data:`JOB_OUTCOMES`)."""
        self.job_runs.labels(job, outcome).inc()

    def slack_acked(self, transport: str, seconds: float) -> None:
        """A Slack request was acknowledged ``seconds`` after it arrived."""
        self.slack_ack_seconds.labels(transport).observe(seconds)

    def rate_limit_counter(self) -> RateLimitCounter:
        """A retry handler for a Slack Web API client that counts its 429s here."""
        return RateLimitCounter(lambda method: self.slack_rate_limited.labels(method).inc())
