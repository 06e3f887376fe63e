"""Posting a digest to a channel: its message (Block Kit), then its chart, through any Slack client.

One path for the scheduled post (an outbox job) and ``chatops digest --post`` (a Web API
client of its own), so both post the same thing. :class:`DigestSlack` is the little a
digest needs of Slack; :class:`JobSlack` and :class:`ClientSlack` give it over a
:class:`~chatops.outbox.plugin.PluginJob` (posted once, paced, retried) and over
slack_sdk's ``AsyncWebClient``.

The chart goes to the channel as a message of its own, right under the digest, not into
the digest's thread: in a thread it hides behind "1 reply" and a phone shows nothing of it,
while managers open the channel to see the morning's numbers at a glance. The digest's own
blocks stay readable without it (a phone with images off, a chart that failed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk.errors import SlackApiError

from chatops.i18n import Translator
from chatops.outbox.plugin import Upload, upload_files
from chatops.slack.blockkit import MAX_BLOCKS

from . import chart, render
from .compose import DigestReport

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from chatops.outbox.plugin import PluginJob


class DigestSlack(Protocol):
    """What posting a digest needs of Slack."""

    async def post(self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Post a message; returns its ``channel`` and ``ts``."""
        ...

    async def upload(self, channel: str, files: Sequence[Upload], thread_ts: str | None = None) -> None:
        """Upload ``files`` to ``channel`` (in the thread ``thread_ts`` when given)."""
        ...

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when Slack does not give one."""
        ...


class JobSlack:
    """:class:`DigestSlack` over an outbox job: a retried job posts its message once (see ``PluginJob.post``)."""

    def __init__(self, job: PluginJob) -> None:
        self.job = job

    async def post(self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Post through the job (paced per channel, reconciled after a lost answer)."""
        return await self.job.post(channel=channel, text=text, blocks=blocks)

    async def upload(self, channel: str, files: Sequence[Upload], thread_ts: str | None = None) -> None:
        """Upload through the job."""
        await self.job.upload(channel=channel, files=files, thread_ts=thread_ts)

    async def permalink(self, channel: str, ts: str) -> str | None:
        """The card's permalink, None when Slack refuses."""
        return await self.job.permalink(channel, ts)


class ClientSlack:
    """:class:`DigestSlack` over slack_sdk's ``AsyncWebClient`` (``chatops digest --post``, ``/chatops digest``)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """``chat.postMessage``."""
        shown = [dict(block) for block in blocks]
        answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=shown or None)
        return {"channel": str(answer["channel"]), "ts": str(answer["ts"])}

    async def upload(self, channel: str, files: Sequence[Upload], thread_ts: str | None = None) -> None:
        """``files_upload_v2``, as a plugin's outbox job uploads."""
        await upload_files(self.client, channel, files, thread_ts)

    async def permalink(self, channel: str, ts: str) -> str | None:
        """``chat.getPermalink``; None when Slack does not know the message or refuses."""
        try:
            found = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        link = found.get("permalink")
        return link if isinstance(link, str) else None


def late_block(t: Translator, due_at: datetime, report: DigestReport) -> dict[str, Any]:
    """The context line of a digest posted late: when it should have been.

    With the day, not the time alone: a weekly digest, or one under a long grace, may be
    posted on a later day than it fell due.
    """
    local = due_at.astimezone(report.tz)
    when = t("digest.as_of", day=render.date_label(t, local.date()), time=local.strftime("%H:%M"))
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t("digest.post.late", when=when)}]}


def with_note(blocks: list[dict[str, Any]], note: dict[str, Any]) -> list[dict[str, Any]]:
    """``blocks`` with ``note`` under the heading (or first), still within Slack's 50 blocks."""
    at = 1 if blocks and blocks[0].get("type") == "header" else 0
    shown = [*blocks[:at], note, *blocks[at:]]
    # The note matters more than the digest's last block (a footer or the tail of a list).
    return shown[:MAX_BLOCKS]


def chart_upload(report: DigestReport, t: Translator) -> Upload | None:
    """The chart of the report's last 14 days as a file to upload, or None when it has none."""
    if not report.history:
        return None
    first, last = report.history[0].day, report.history[-1].day
    png = chart.chart_png(report.history, t)
    return Upload(
        f"digest-{last.isoformat()}.png",
        png,
        t("digest.post.chart_title", first=first.isoformat(), last=last.isoformat()),
    )


async def publish(
    report: DigestReport,
    t: Translator,
    slack: DigestSlack,
    channel: str,
    *,
    names: Mapping[str, str],
    source_name: Callable[[str], str],
    late: datetime | None = None,
) -> dict[str, str]:
    """Post ``report`` to ``channel``, then its chart when it has one; returns the message's ``channel`` and ``ts``.

    ``names``: display names by Slack user id for the people it lists; ``source_name``: a
    source's display name. ``late``: when the digest fell due, for one posted late.
    """
    links = await render.card_links(report, slack.permalink)
    blocks = render.digest_blocks(report, t, links, names=names, source_name=source_name)
    if late is not None:
        blocks = with_note(blocks, late_block(t, late, report))
    posted = await slack.post(channel, render.digest_summary(report, t), blocks)
    if report.history:
        # matplotlib is CPU work of a few hundred milliseconds: not on the loop that answers Slack.
        upload = await asyncio.to_thread(chart_upload, report, t)
        if upload is not None:
            await slack.upload(posted["channel"], [upload])
    return posted
