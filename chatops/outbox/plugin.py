"""A plugin's face of the outbox: its own paced, retried, restart-safe jobs and Slack posts.

A plugin gets one :class:`PluginOutbox` (``ctx.outbox``). It registers its job kinds,
stored as ``"<plugin>:<kind>"``, and queues jobs, inside its own transaction when it
passes one, so that a job exists exactly when the rows it concerns do::

    async def remind(job: PluginJob) -> None:
        await job.post(channel=job.payload["channel"], text="Your shift starts in 15 minutes")

    ctx.outbox.register("remind", remind)
    async with db.write() as session:
        session.add(Shift(...))
        await ctx.outbox.enqueue("remind", {"channel": "C1"}, channel="C1", due_at=start, session=session)

For a plain message, ``await ctx.outbox.post_message("C1", text="…")`` queues the core
``slack_post`` kind, files (a chart) included.

The worker runs the jobs: a handler that raises is retried with the outbox's backoff and
given up after ``delivery.max_attempts`` with one ops alert per kind (cleared by the kind's
next success); Slack's 429 waits its ``Retry-After``; posts are paced per channel; a job
whose worker died is taken over once its lease runs out.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import Database
from chatops.models import OutboxJob, utcnow
from chatops.outbox.kinds import MAX_KIND_LENGTH, DueJob, JobKind, JobKinds, JobSlack

#: The core kind behind :meth:`PluginOutbox.post_message`.
SLACK_POST = "slack_post"
#: Most bytes of files one message may carry: they are stored base64 in the outbox row until sent.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to upload with a message (``files.upload`` v2), e.g. the digest's chart."""

    filename: str
    content: bytes
    title: str | None = None


@dataclass(frozen=True, slots=True)
class PluginJob:
    """One run of a plugin's job: its id, the payload it was queued with, and how many runs failed."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    #: The channel given to :meth:`PluginOutbox.enqueue` (its posts are paced), if any.
    channel: str | None
    _slack: JobSlack

    async def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, str]:
        """Post the job's message, once: returns its ``channel`` and ``ts``.

        A job posts at most one message: a run after a failure (or after Slack's answer was
        lost) gets the message already posted back instead of posting it again. Queue one
        job per message.
        """
        args: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            args["blocks"] = list(blocks)
        if thread_ts:
            args["thread_ts"] = thread_ts
        return await self._slack.post(**args)

    async def upload(self, *, channel: str, files: Sequence[Upload], thread_ts: str | None = None) -> None:
        """Upload ``files`` (``files_upload_v2``) to ``channel``, after the job's message (a chart under a digest).

        Not reconciled like :meth:`post`: an upload whose answer was lost is repeated when the job runs
        again, so upload last, once the message is posted.
        """
        await upload_files(self._slack.client, channel, files, thread_ts)

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to the Slack message ``ts`` in ``channel`` (a card, to list it in a message), or None.

        None when Slack does not know the message (deleted) or refuses; the caller shows the
        message without a link rather than failing the job.
        """
        try:
            found = await self._slack.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        link = found.get("permalink")
        return link if isinstance(link, str) else None


async def upload_files(
    client: AsyncWebClient, channel: str, files: Sequence[Upload], thread_ts: str | None = None
) -> None:
    """Upload ``files`` to ``channel`` with ``files_upload_v2`` (nothing when there are none).

    At most :data:`MAX_UPLOAD_BYTES` together; more is refused before Slack is called.
    """
    if not files:
        return
    size = sum(len(f.content) for f in files)
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"upload: files of {size} bytes are more than one job uploads ({MAX_UPLOAD_BYTES})")
    await client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts or None,
        file_uploads=[{"content": f.content, "filename": f.filename, "title": f.title or f.filename} for f in files],
        request_file_info=False,
    )


#: A plugin's job handler: return when done, raise to be retried.
PluginHandler = Callable[[PluginJob], Awaitable[None]]


class PluginOutbox:
    """One plugin's outbox: register kinds, queue jobs, post messages (see the module docstring)."""

    def __init__(self, plugin: str, db: Database, kinds: JobKinds, wake: Callable[[], None]) -> None:
        if not plugin or ":" in plugin:
            raise ValueError(f"plugin name {plugin!r}: not empty, no ':'")
        self.plugin = plugin
        self.db = db
        self.kinds = kinds
        self.wake = wake

    def kind_name(self, kind: str) -> str:
        """The stored name of this plugin's ``kind``: ``"<plugin>:<kind>"``."""
        return f"{self.plugin}:{kind}"

    def register(self, kind: str, handler: PluginHandler) -> None:
        """Run ``handler`` for this plugin's jobs of ``kind`` (raise in it to be retried)."""
        name = self.kind_name(kind)
        if not kind or len(name) > MAX_KIND_LENGTH:
            raise ValueError(f"job kind {name!r}: 1 to {MAX_KIND_LENGTH} characters with the plugin's name")

        async def run(job: DueJob, slack: JobSlack) -> None:
            data = job.payload.get("data")
            await handler(
                PluginJob(
                    id=job.id,
                    kind=kind,
                    payload=dict(data) if isinstance(data, dict) else {},
                    attempts=job.attempts,
                    channel=_channel(job),
                    _slack=slack,
                )
            )

        self.kinds.register(
            JobKind(name, run, channel=_channel, owner=lambda job: self.plugin, log=_logger(self.plugin))
        )

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        channel: str | None = None,
        due_at: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> int:
        """Queue a job of this plugin's ``kind``; returns its id.

        ``channel``: where the job posts, so that it waits for that channel's pace.
        ``due_at`` (timezone-aware): not before then. ``session`` (from ``db.write()``): the job
        is added to that transaction and exists only if it commits.
        """
        name = self.kind_name(kind)
        if name not in self.kinds:
            raise ValueError(f"job kind {kind!r} of plugin {self.plugin} is not registered")
        return await self._add(
            name, {"plugin": self.plugin, "channel": channel, "data": dict(payload)}, due_at, session
        )

    async def post_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        thread_ts: str | None = None,
        files: Sequence[Upload] = (),
        due_at: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> int:
        """Queue a Slack message (with ``files`` uploaded to the same place right after it); returns the job id.

        The message is posted once (a lost answer is reconciled), paced per channel, retried
        like any job. Files: at most :data:`MAX_UPLOAD_BYTES` together.
        """
        if not channel:
            raise ValueError("post_message needs a channel")
        size = sum(len(f.content) for f in files)
        if size > MAX_UPLOAD_BYTES:
            raise ValueError(
                f"post_message: files of {size} bytes are more than the outbox takes "
                f"({MAX_UPLOAD_BYTES} bytes); post a link to them instead"
            )
        payload: dict[str, Any] = {
            "plugin": self.plugin,
            "channel": channel,
            "text": text,
            "blocks": [dict(b) for b in blocks] if blocks else None,
            "thread_ts": thread_ts,
            "files": [
                {"filename": f.filename, "title": f.title, "content": base64.b64encode(f.content).decode("ascii")}
                for f in files
            ],
        }
        return await self._add(SLACK_POST, payload, due_at, session)

    async def _add(
        self, kind: str, payload: dict[str, Any], due_at: datetime | None, session: AsyncSession | None
    ) -> int:
        if due_at is not None and due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        row = OutboxJob(kind=kind, payload=payload, due_at=due_at or utcnow())
        if session is not None:
            session.add(row)
            await session.flush()
            # The worker looks once the caller's transaction is committed, not before.
            event.listen(session.sync_session, "after_commit", lambda _: self.wake(), once=True)
            return row.id
        async with self.db.write() as own:
            own.add(row)
            await own.flush()
            job_id = row.id
        self.wake()
        return job_id


def _channel(job: DueJob) -> str | None:
    channel = job.payload.get("channel")
    return channel if isinstance(channel, str) and channel else None


def _owner(job: DueJob) -> str | None:
    plugin = job.payload.get("plugin")
    return plugin if isinstance(plugin, str) and plugin else None


def _logger(plugin: str) -> logging.Logger:
    return logging.getLogger(f"chatops.outbox.{plugin}")


async def _slack_post(job: DueJob, slack: JobSlack) -> None:
    """The core ``slack_post`` kind: the message, then its files in the same place."""
    payload = job.payload
    args: dict[str, Any] = {"channel": payload["channel"], "text": payload.get("text") or ""}
    if payload.get("blocks"):
        args["blocks"] = payload["blocks"]
    if payload.get("thread_ts"):
        args["thread_ts"] = payload["thread_ts"]
    posted = await slack.post(**args)
    files = payload.get("files") or []
    if files:
        # Not reconciled like the message: an upload whose answer is lost may be repeated.
        await slack.client.files_upload_v2(
            channel=posted["channel"],
            thread_ts=payload.get("thread_ts") or None,
            file_uploads=[
                {
                    "content": base64.b64decode(f["content"]),
                    "filename": f["filename"],
                    "title": f.get("title") or f["filename"],
                }
                for f in files
            ],
            request_file_info=False,
        )


def slack_post_kind() -> JobKind:
    """The core ``slack_post`` kind (the app registers it with the card kinds)."""
    return JobKind(SLACK_POST, _slack_post, channel=_channel, owner=_owner, log=_logger(SLACK_POST))
