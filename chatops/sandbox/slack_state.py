"""The sandbox's Slack server: the test kit's fake, whose channels survive a restart with ``--data``.

The bot's database lives in the data folder; the cards it posted live in Slack. Were the
fake Slack to forget them on a restart, the bot would update cards nobody can see. So the
fake's messages and uploaded files are written to the data folder on stop and read back on
start. Modals, trigger ids and ephemeral messages are not kept: Slack forgets those too.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

from chatops.testing.fake_slack import FakeSlack

log = logging.getLogger(__name__)

#: The format of the saved file (a different one is ignored, with a warning).
STATE_VERSION = 1
#: The fake's timestamps count from this second in steps of 100 µs.
_TS_EPOCH = 1_700_000_000
_ID_NUMBER = re.compile(r"^[A-Z](\d+)$")


class SandboxSlack(FakeSlack):
    """The test kit's fake Slack, able to save its channels and files to a file and restore them."""

    def __init__(self) -> None:
        """A fake with Slack's pacing off and modals' trigger ids valid for Slack's 3 seconds."""
        super().__init__(post_interval=0.0)
        self._saved_at_calls = -1

    @property
    def running(self) -> bool:
        """Whether it is serving."""
        return self._server is not None

    def save(self, path: Path, *, if_changed: bool = False) -> None:
        """Write the messages and files to ``path`` (replacing it whole, so a crash leaves the old one).

        ``if_changed``: only when a call reached the fake since the last save.
        """
        with self._lock:
            if if_changed and len(self._calls) == self._saved_at_calls:
                return
            self._saved_at_calls = len(self._calls)
            state = {
                "version": STATE_VERSION,
                "messages": [copy.deepcopy(self._messages[key]) for key in self._order],
                "files": [
                    {**record, "content": base64.b64encode(record["content"]).decode("ascii")}
                    for record in self._files.values()
                    if record.get("content") is not None
                ],
            }
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)

    def restore(self, path: Path) -> None:
        """Read back what :meth:`save` wrote (nothing happens when ``path`` does not exist)."""
        if not path.exists():
            return
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"version {state.get('version')!r}")
            messages: list[dict[str, Any]] = state["messages"]
            files = {
                record["id"]: {**record, "content": base64.b64decode(record["content"])} for record in state["files"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "the sandbox's saved Slack state in %s was not read (%s); starting with empty channels", path, exc
            )
            return
        with self._lock:
            self._messages = {(m["channel"], m["ts"]): m for m in messages}
            self._order = [(m["channel"], m["ts"]) for m in messages]
            self._files = files
            # New timestamps and ids continue after the restored ones.
            self._ts_counter = itertools.count(max((_ts_step(m["ts"]) for m in messages), default=0) + 1)
            self._id_counter = itertools.count(max((_id_number(i) for i in files), default=0) + 1)


def _ts_step(ts: str) -> int:
    """Which of the fake's timestamps ``ts`` is (the inverse of its ``_next_ts``)."""
    seconds, _, micros = ts.partition(".")
    return ((int(seconds) - _TS_EPOCH) * 1_000_000 + int(micros or 0)) // 100


def _id_number(identifier: str) -> int:
    """The counter in an id such as ``F0012`` (0 for another shape)."""
    found = _ID_NUMBER.match(identifier)
    return int(found.group(1)) if found else 0
