"""The roll-up job kinds: post the card, post a listing in its thread, redraw the card.

Registered in the outbox's :class:`~chatops.outbox.kinds.JobKinds` like the card kinds
(``chatops.delivery``): the worker leases, paces (the card and its listings wait for the
inbox channel's pace), retries and gives up; the poster posts each job's message once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from chatops.alerts import Alerts
from chatops.i18n import Translator
from chatops.models import Rollup
from chatops.outbox.kinds import DueJob, JobKind, JobKinds, JobSlack
from chatops.outbox.worker import Deferred, Refused
from chatops.rollups.render import render_listing, render_rollup
from chatops.rollups.store import ROLLUP_LIST, ROLLUP_POST, ROLLUP_UPDATE, RollupStore, RollupView
from chatops.slack.escape import one_line

log = logging.getLogger(__name__)

#: The ops alerts of roll-ups are the core's (as the card kinds' are, ``chatops.delivery``).
ALERT_PLUGIN = "chatops"
#: How long a listing or a redraw waits for the roll-up card to be posted before looking again.
CARD_WAIT_SECONDS = 0.25


class RollupDelivery:
    """The handlers of the roll-up kinds; :meth:`register` puts them into the outbox's registry."""

    def __init__(
        self,
        store: RollupStore,
        t: Translator,
        tz: ZoneInfo,
        source_name: Callable[[str], str],
        *,
        open_count: int,
        alerts: Alerts,
        channel_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store = store
        #: Told (channel, Slack's error) when the card's post is refused: the overflow choice avoids that channel.
        self.channel_refused = channel_refused or (lambda channel, error: None)
        self.alerts = alerts
        self.t = t
        self.tz = tz
        self.source_name = source_name
        self.open_count = open_count

    def register(self, registry: JobKinds) -> None:
        """Register the roll-up kinds."""
        registry.register(
            JobKind(ROLLUP_POST, self._post_card, channel=_payload_channel, on_give_up=self._unposted, log=log)
        )
        registry.register(
            JobKind(
                ROLLUP_LIST,
                self._post_listing,
                channel=_payload_channel,
                on_give_up=self._unlisted,
                on_recovered=self._listed,
                log=log,
            )
        )
        registry.register(JobKind(ROLLUP_UPDATE, self._update_card, method="chat.update", log=log))

    def _card(self, view: RollupView) -> dict[str, Any]:
        try:
            return render_rollup(view, self.t, self.tz, self.source_name(view.source), open_count=self.open_count)
        except Exception as exc:
            raise Refused(f"{type(exc).__name__}: {exc}") from exc

    async def _post_card(self, job: DueJob, slack: JobSlack) -> None:
        view = await self.store.view(int(job.payload["rollup_id"]))
        if view is None or view.slack_ts:
            return  # posted already: a roll-up card is never posted twice
        if view.status == "closed" and not view.waiting:
            return  # given up and its members released (an operator's retry of the dead job): nothing to show
        message = self._card(view)
        channel = str(job.payload["channel"])
        try:
            response = await slack.post(channel=channel, unfurl_links=False, unfurl_media=False, **message)
        except SlackApiError as exc:
            self.channel_refused(channel, str(exc.response.get("error", "")))
            raise
        await self.store.record_posted(view.id, response["channel"], response["ts"])

    async def _post_listing(self, job: DueJob, slack: JobSlack) -> None:
        rollup = await self.store.rollup(int(job.payload["rollup_id"]))
        if rollup is None or _released(rollup):
            return
        if not rollup.slack_ts or not rollup.slack_channel:
            raise Deferred(CARD_WAIT_SECONDS)
        # Read after the lease: members appended while the job waited are in it, and none can be now.
        first, ids = await self.store.listing_members(job.id)
        members = await self.store.members(ids)
        if not members:
            return
        post = one_line(rollup.title or rollup.url or self.source_name(rollup.source), 100)
        try:
            body = render_listing(members, first, self.t, self.tz, post, rollup_id=rollup.id)
        except Exception as exc:
            raise Refused(f"{type(exc).__name__}: {exc}") from exc
        await slack.post(
            channel=rollup.slack_channel,
            thread_ts=rollup.slack_ts,
            unfurl_links=False,
            unfurl_media=False,
            **body,
        )

    async def _update_card(self, job: DueJob, slack: JobSlack) -> None:
        rollup_id = int(job.payload["rollup_id"])
        rollup = await self.store.rollup(rollup_id)
        if rollup is None or _released(rollup):
            return
        if not rollup.slack_ts or not rollup.slack_channel:
            raise Deferred(CARD_WAIT_SECONDS)
        # Cleared before reading: whatever joins from now on queues the next redraw.
        await self.store.begin_redraw(rollup_id)
        view = await self.store.view(rollup_id)
        if view is None:
            return
        await slack.client.chat_update(channel=rollup.slack_channel, ts=rollup.slack_ts, **self._card(view))

    async def _unlisted(self, job: DueJob, error: str) -> None:
        """A listing given up: its comments are not visible in Slack, which the ops channel must hear."""
        try:
            _first, ids = await self.store.listing_members(job.id)
            problem = self.t("rollup.alert_unlisted", count=len(ids), error=one_line(error, 200), job=job.id)
            await self.alerts.raise_once(ALERT_PLUGIN, f"rollup-listing:{job.id}", problem)
        except Exception:  # the alert is a courtesy on top of the log line; never fail the worker for it
            log.exception("roll-up listing job %s: could not raise the ops alert", job.id)

    async def _unposted(self, job: DueJob, error: str) -> None:
        """The roll-up card was given up: its comments go back in line for cards, and the ops channel hears it."""
        try:
            released = await self.store.release(int(job.payload["rollup_id"]))
            problem = self.t("rollup.alert_unposted", count=released, error=one_line(error, 200))
            # One alert per channel, not per roll-up: released comments gather again, and may fail again.
            channel = str(job.payload.get("channel") or "")
            await self.alerts.raise_once(ALERT_PLUGIN, f"rollup-card:{channel}", problem)
        except Exception:  # the worker must go on; the log line is there and the job is dead for a retry
            log.exception("roll-up card job %s: could not release its comments", job.id)

    async def _listed(self, job: DueJob) -> None:
        """A listing retried by an operator went through: clear its alert."""
        await self.alerts.clear(ALERT_PLUGIN, f"rollup-listing:{job.id}")


def _released(rollup: Rollup) -> bool:
    """A closed roll-up whose card was never posted gave its members back (``RollupStore.release``)."""
    return rollup.status == "closed" and not rollup.slack_ts


def _payload_channel(job: DueJob) -> str | None:
    """The roll-up kinds carry their channel (the source's inbox channel) in the payload."""
    channel = job.payload.get("channel")
    return str(channel) if channel else None


__all__ = ["RollupDelivery"]
