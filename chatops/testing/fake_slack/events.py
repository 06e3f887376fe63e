"""Events the app subscribed to: ``message_metadata_posted`` over signed HTTP POSTs or Socket Mode.

Slack sends events apart from API answers, so they go out from a thread of their own,
one at a time; a share of them can be lost on purpose, as Slack's delivery is not
guaranteed either.
"""

from __future__ import annotations

import asyncio
import copy
import json
import queue
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from chatops.testing.fake_slack.socket_mode import SocketMode
from chatops.testing.slack_requests import event_body, signed_headers


@dataclass
class Subscription:
    """Where the app receives events, and which message metadata event types it wants."""

    request_url: str | None
    signing_secret: str
    metadata_event_types: frozenset[str]
    lose_share: float
    rng: random.Random


class Events(SocketMode):
    """The event-sending part of the fake (Socket Mode subscribers get ``events_api`` envelopes)."""

    _subscription: Subscription | None
    _events: list[dict[str, Any]]
    _event_queue: queue.Queue[tuple[int, Subscription, dict[str, Any]]]
    _event_thread: threading.Thread | None
    # Bumped by each reset: events queued before it are not sent.
    _generation: int

    def _init_events(self) -> None:
        """No events thread yet; it starts with the first subscription."""
        self._event_queue = queue.Queue()
        self._event_thread = None
        self._generation = 0

    def _reset_events(self) -> None:
        """Drop the subscription, the record of events and any event still queued. Lock held."""
        self._subscription = None
        self._events = []
        self._generation += 1

    def subscribe_events(
        self,
        request_url: str | None,
        signing_secret: str,
        *,
        metadata_event_types: Iterable[str],
        lose_share: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Send the app the events it subscribed to, as Slack would.

        ``request_url`` receives signed ``event_callback`` POSTs (HTTP mode); None sends
        ``events_api`` envelopes to the connected Socket Mode client instead. Every
        message posted with metadata whose ``event_type`` is in ``metadata_event_types``
        is followed by a ``message_metadata_posted`` event. ``lose_share`` of the events
        are never sent (Slack's delivery is not guaranteed either).
        """
        with self._lock:
            self._subscription = Subscription(
                request_url,
                signing_secret,
                frozenset(metadata_event_types),
                lose_share,
                random.Random(seed),  # noqa: S311
            )
            if self._event_thread is None or not self._event_thread.is_alive():
                self._event_thread = threading.Thread(target=self._send_events, name="fake-slack-events", daemon=True)
                self._event_thread.start()

    def unsubscribe_events(self, request_url: str | None = None) -> None:
        """Stop sending events (only if they go to ``request_url``, when given)."""
        with self._lock:
            if self._subscription is not None and request_url in (None, self._subscription.request_url):
                self._subscription = None

    @property
    def events(self) -> list[dict[str, Any]]:
        """Events sent (or lost) so far: ``{"event", "status"}`` (HTTP status, ``"acked"``, ``"lost"`` or an error)."""
        with self._lock:
            return copy.deepcopy(self._events)

    def _metadata_posted(self, msg: dict[str, Any]) -> None:
        """Queue ``message_metadata_posted`` for a new message, if the app subscribed to it. Lock held."""
        subscription = self._subscription
        metadata = msg.get("metadata")
        if subscription is None or not isinstance(metadata, dict):
            return
        if metadata.get("event_type") not in subscription.metadata_event_types:
            return
        event = {
            "type": "message_metadata_posted",
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "user_id": self.bot_user_id,
            "team_id": self.team_id,
            "channel_id": msg["channel"],
            "metadata": copy.deepcopy(metadata),
            "message_ts": msg["ts"],
            "event_ts": msg["ts"],
        }
        if subscription.rng.random() < subscription.lose_share:
            self._events.append({"event": event, "status": "lost"})
            return
        self._event_queue.put((self._generation, subscription, event))

    def _send_events(self) -> None:
        """Deliver queued events, one at a time (runs on the events thread)."""
        with httpx.Client(timeout=10) as client:
            while True:
                generation, subscription, event = self._event_queue.get()
                if generation != self._generation:
                    continue
                body = event_body(event, team_id=self.team_id)
                status: Any
                try:
                    if subscription.request_url is None:
                        asyncio.run(self.send_socket_envelope(json.loads(body), type="events_api"))
                        status = "acked"
                    else:
                        headers = signed_headers(subscription.signing_secret, body, content_type="application/json")
                        status = client.post(subscription.request_url, content=body, headers=headers).status_code
                except Exception as exc:  # the app is gone or broken: Slack would retry later; we don't
                    status = type(exc).__name__
                with self._lock:
                    if generation == self._generation:
                        self._events.append({"event": event, "status": status})
