"""The transactional outbox: work queued with the data it concerns, done later, paced and retried.

- :mod:`chatops.outbox.kinds`: the registry of job kinds (``kind -> handler`` and how it is paced).
- :mod:`chatops.outbox.worker`: the worker (leasing, backoff, per-channel pacing, 429s, giving up).
- :mod:`chatops.outbox.plugin`: :class:`PluginOutbox`, a plugin's own jobs and Slack posts.
- :mod:`chatops.outbox.admin`: what ``chatops outbox`` lists and retries.

The card kinds live in :mod:`chatops.delivery`.
"""

from __future__ import annotations

from chatops.outbox.admin import MINIMAL, RETRIED, JobInfo, RetryResult, list_jobs, retry_jobs
from chatops.outbox.kinds import DueJob, JobKind, JobKinds, JobSlack
from chatops.outbox.plugin import SLACK_POST, PluginHandler, PluginJob, PluginOutbox, Upload
from chatops.outbox.worker import OutboxWorker, Wakeup

__all__ = [
    "MINIMAL",
    "RETRIED",
    "SLACK_POST",
    "DueJob",
    "JobInfo",
    "JobKind",
    "JobKinds",
    "JobSlack",
    "OutboxWorker",
    "PluginHandler",
    "PluginJob",
    "PluginOutbox",
    "RetryResult",
    "Upload",
    "Wakeup",
    "list_jobs",
    "retry_jobs",
]
