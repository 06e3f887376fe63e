"""``chat.postMessage`` for outbox jobs: one message per job, even when Slack's answer is lost.

A post whose answer never arrives (the connection dropped, a timeout, a 5xx) may well have
happened. Posting again at once is how 53 comments became 62 cards. Instead:

1. Before calling Slack, the job's post is recorded as started (``slack_posts``).
2. Every post carries message metadata naming its job. Slack sends
   ``message_metadata_posted`` for it (manifest ``metadata_subscriptions``, scope
   ``metadata.message:read``); the bot records that message's ``ts`` for the job.
3. After an ambiguous failure the job waits (``delivery.reconcile_seconds``) for that
   event. If it arrives, the job uses the recorded message. If it does not, and the bot
   may read the channel (``channels:history``/``groups:history``, optional), one
   ``conversations.history`` call (Slack allows one a minute, 15 messages) looks for
   the post by its metadata. Only then is the message posted again, as a last resort
   so that nothing is lost.
4. The first ``ts`` recorded for a job is the one kept; a second message for the same
   job (a late event after such a repost) is deleted, so the channel ends with one.

A clear answer from Slack (``channel_not_found``, ``ratelimited``, any 4xx) means nothing
was posted: the record is dropped and the error goes to the caller as before.

The client used here has no automatic connection-error retry: slack_sdk's default
handler would re-send a ``chat.postMessage`` whose connection broke after Slack took it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.middleware.ignoring_self_events.async_ignoring_self_events import AsyncIgnoringSelfEvents
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from chatops.db import Database
from chatops.models import OutboxJob, OutboxStatus, SlackPost, utcnow
from chatops.observability.rate_limits import RateLimitCounter
from chatops.slack.card import METADATA_EVENT_TYPE

log = logging.getLogger(__name__)

#: Metadata event type of posts that are not cards (thread posts, escalations, alerts).
POST_EVENT_TYPE = "chatops_post"
#: Event types the app subscribes to (manifest ``metadata_subscriptions``).
SUBSCRIBED_EVENT_TYPES = (METADATA_EVENT_TYPE, POST_EVENT_TYPE)
#: The key in ``event_payload`` naming the outbox job that made the post.
POST_ID_KEY = "chatops_post_id"
#: Posts of one job whose outcome stayed unknown before the job counts it as a failure.
MAX_IN_DOUBT = 3
#: Seconds between ``conversations.history`` look-ups: Slack allows apps outside the
#: Marketplace one a minute (and 15 messages each).
HISTORY_INTERVAL = 60.0
HISTORY_LIMIT = 15


class PostInDoubt(Exception):
    """The post may have happened: look again in ``delay`` seconds instead of posting again."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"post outcome unknown; waiting {delay:.1f}s for Slack's event")
        self.delay = delay


def outcome_unknown(exc: BaseException) -> bool:
    """True when a failed ``chat.postMessage`` may still have posted (no clear answer from Slack)."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False  # never connected: the request did not reach Slack
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError)


def with_post_id(args: dict[str, Any], post_id: int) -> dict[str, Any]:
    """``args`` whose metadata names the job, keeping any metadata already there (the card's)."""
    metadata = args.get("metadata")
    if isinstance(metadata, dict) and metadata.get("event_type"):
        payload = {**(metadata.get("event_payload") or {}), POST_ID_KEY: post_id}
        return {**args, "metadata": {**metadata, "event_payload": payload}}
    return {**args, "metadata": {"event_type": POST_EVENT_TYPE, "event_payload": {POST_ID_KEY: post_id}}}


@dataclass(frozen=True, slots=True)
class _Start:
    """What to do with a job's post: use a known message, wait, or post (again)."""

    posted: tuple[str, str] | None = None
    wait: float = 0.0
    tries: int = 0
    #: Set when an earlier post is still unconfirmed and the wait for its event is over.
    unconfirmed_since: datetime | None = None


class SlackPoster:
    """Posts for outbox jobs, reconciled through Slack's metadata events."""

    def __init__(
        self, db: Database, client: AsyncWebClient, *, reconcile_seconds: float, wake: Callable[[], None]
    ) -> None:
        self.db = db
        self.reconcile = timedelta(seconds=reconcile_seconds)
        self.wake = wake
        # No retrying handlers: a connection error after Slack took the post must not re-send it.
        # The 429 counter (chatops.observability) never retries: it stays.
        self.client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[h for h in client.retry_handlers if isinstance(h, RateLimitCounter)],
        )
        self.history_interval = HISTORY_INTERVAL
        self._history_at = 0.0  # monotonic time of the next allowed look-up
        self._history_refused: str | None = None  # Slack's error once the look-up is not allowed
        self._bot_id: str | None = None

    async def post(self, post_id: int, **args: Any) -> dict[str, str]:
        """Post the message of outbox job ``post_id`` once; return its ``channel`` and ``ts``.

        Raises :class:`PostInDoubt` while a post whose answer was lost may still be
        confirmed, and Slack's own errors (nothing posted) unchanged.
        """
        start = await self._start(post_id)
        if start.posted is not None:
            return {"channel": start.posted[0], "ts": start.posted[1]}
        if start.wait > 0:
            raise PostInDoubt(start.wait)
        tries = start.tries
        if start.unconfirmed_since is not None:
            found = await self._look_up(post_id, args, start.unconfirmed_since)
            if found is not None:
                return found
            # No sign of it: post again, so that the message is not lost.
            tries = await self._again(post_id)
        try:
            response = await self.client.chat_postMessage(**with_post_id(args, post_id))
        except Exception as exc:
            if not outcome_unknown(exc):
                await self._forget(post_id)
                raise
            log.warning(
                "chat.postMessage for outbox job %s got no clear answer (%s); waiting up to %.0fs for Slack's "
                "message_metadata_posted before posting again",
                post_id,
                _describe(exc),
                self.reconcile.total_seconds(),
            )
            if tries >= MAX_IN_DOUBT:
                raise  # counted as a failure of the job, which backs off and in the end gives up
            raise PostInDoubt(self.reconcile.total_seconds()) from exc
        return await self.record(post_id, str(response["channel"]), str(response["ts"]))

    async def _start(self, post_id: int) -> _Start:
        now = utcnow()
        async with self.db.write() as session:
            row = await session.get(SlackPost, post_id, with_for_update=True)
            if row is None:
                insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
                taken = await session.scalar(
                    insert(SlackPost)
                    .values(outbox_id=post_id, started_at=now, attempts=1)
                    .on_conflict_do_nothing(index_elements=["outbox_id"])
                    .returning(SlackPost.outbox_id)
                )
                # Not taken: another worker started this very post a moment ago.
                return _Start(tries=1) if taken is not None else _Start(wait=self.reconcile.total_seconds())
            if row.ts and row.channel:
                return _Start(posted=(row.channel, row.ts))
            waited = now - row.started_at
            if waited < self.reconcile:
                return _Start(wait=max((self.reconcile - waited).total_seconds(), 0.05))
            return _Start(tries=row.attempts, unconfirmed_since=row.started_at)

    async def _again(self, post_id: int) -> int:
        """Start the job's post over (a last resort); returns how many times it was tried."""
        async with self.db.write() as session:
            row = await session.get_one(SlackPost, post_id, with_for_update=True)
            waited = (utcnow() - row.started_at).total_seconds()
            log.warning("outbox job %s: no sign of its post after %.0fs; posting again", post_id, waited)
            row.started_at = utcnow()
            row.attempts += 1
            return row.attempts

    async def _look_up(self, post_id: int, args: dict[str, Any], since: datetime) -> dict[str, str] | None:
        """Find the job's post among the channel's newest messages by its metadata, within Slack's limits.

        Raises :class:`PostInDoubt` to wait for the next allowed look-up when that is
        less than one interval away. Every unconfirmed post found on the way is recorded.
        """
        channel = args.get("channel")
        if self._history_refused or args.get("thread_ts") or not isinstance(channel, str):
            return None  # replies would need conversations.replies: one budget is enough
        wait = self._history_at - time.monotonic()
        if wait > 0:
            overdue = (utcnow() - since).total_seconds() - self.reconcile.total_seconds()
            if overdue < self.history_interval:
                raise PostInDoubt(wait)
            return None
        self._history_at = time.monotonic() + self.history_interval
        try:
            if self._bot_id is None:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            response = await self.client.conversations_history(
                channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", exc.response.status_code))
            if error in ("missing_scope", "not_allowed_token_type", "not_in_channel", "channel_not_found"):
                self._history_refused = error
                log.warning("cannot look up posts whose answer was lost (%s); they are posted again", error)
            return None
        except Exception as exc:
            log.warning("conversations.history failed (%s); posting again", type(exc).__name__)
            return None
        found: dict[str, str] | None = None
        for message in response.get("messages") or []:
            other = (((message.get("metadata") or {}).get("event_payload")) or {}).get(POST_ID_KEY)
            # Other apps may use the same metadata: only the bot's own messages count.
            if not isinstance(other, int) or message.get("bot_id") != self._bot_id:
                continue
            recorded = await self.record(other, channel, str(message["ts"]))
            if other == post_id:
                found = recorded
        return found

    async def _forget(self, post_id: int) -> None:
        """Slack answered clearly that nothing was posted: no post is in doubt."""
        async with self.db.write() as session:
            row = await session.get(SlackPost, post_id, with_for_update=True)
            if row is not None and row.ts is None:
                await session.delete(row)

    async def record(self, post_id: int, channel: str, ts: str) -> dict[str, str]:
        """Record the message of job ``post_id``; the first one recorded wins, any other is deleted.

        One write transaction: the conditional UPDATE is the check (this runs after every post,
        so a read before it would be a round trip on every delivery).
        """
        async with self.db.write() as session:
            result = await session.execute(
                update(SlackPost)
                .where(SlackPost.outbox_id == post_id, SlackPost.ts.is_(None))
                .values(channel=channel, ts=ts)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return {"channel": channel, "ts": ts}
            kept = (
                await session.execute(select(SlackPost.channel, SlackPost.ts).where(SlackPost.outbox_id == post_id))
            ).first()
        if kept is None or kept.ts == ts:
            return {"channel": channel, "ts": ts}  # not a post in progress here, or this very message
        log.warning("outbox job %s was posted twice (%s and %s); deleting the second", post_id, kept.ts, ts)
        try:
            await self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.warning("could not delete the duplicate post %s: %s", ts, exc.response.get("error"))
        return {"channel": str(kept.channel), "ts": str(kept.ts)}

    async def on_event(self, post_id: int, channel: str, ts: str) -> None:
        """Slack says job ``post_id``'s message exists: record it and let the waiting job finish now."""
        async with self.db.read() as session:
            row = await session.get(SlackPost, post_id)
            if row is None or row.ts == ts:
                return  # not a post in progress here, or already known from Slack's answer
        await self.record(post_id, channel, ts)
        async with self.db.write() as session:
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.id == post_id, OutboxJob.status == OutboxStatus.PENDING.value)
                .values(due_at=utcnow())
            )
        self.wake()


class IgnoringSelfEventsButMetadata(AsyncIgnoringSelfEvents):
    """Bolt's filter of the bot's own events, letting through the metadata events of its own posts.

    Bolt drops every event whose ``bot_id`` is the bot's, and ``message_metadata_posted``
    for the bot's own post is exactly such an event: with the built-in filter on, the
    listener below would never run. Build the AsyncApp with
    ``ignoring_self_events_enabled=False`` and this middleware in its place.
    """

    events_that_should_be_kept = [*AsyncIgnoringSelfEvents.events_that_should_be_kept, "message_metadata_posted"]  # noqa: RUF012 - Bolt reads it from the class


def register_post_events(bolt: AsyncApp, poster: SlackPoster) -> None:
    """Listen for ``message_metadata_posted`` of the bot's own posts (see :class:`IgnoringSelfEventsButMetadata`)."""
    bolt.use(IgnoringSelfEventsButMetadata())

    @bolt.event("message_metadata_posted")
    async def metadata_posted(event: dict[str, Any], context: AsyncBoltContext) -> None:
        metadata = event.get("metadata") or {}
        if metadata.get("event_type") not in SUBSCRIBED_EVENT_TYPES:
            return
        # Metadata subscriptions may include other apps' messages: only the bot's own count.
        if context.bot_id and event.get("bot_id") != context.bot_id:
            return
        post_id = (metadata.get("event_payload") or {}).get(POST_ID_KEY)
        channel, ts = event.get("channel_id"), event.get("message_ts")
        if not isinstance(post_id, int) or not isinstance(channel, str) or not isinstance(ts, str):
            return
        await poster.on_event(post_id, channel, ts)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
