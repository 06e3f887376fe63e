"""Messages: the chat methods, channel history, and the messages, threads and ephemerals they leave.

Posting is paced per channel (HTTP 429 with ``Retry-After`` when too soon), content is
checked with :mod:`chatops.testing.fake_slack.blocks`, and every message posted with
subscribed metadata is followed by its event.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Iterator
from typing import Any

from chatops.testing.fake_slack.blocks import message_content_errors
from chatops.testing.fake_slack.directory import Directory
from chatops.testing.fake_slack.events import Events
from chatops.testing.fake_slack.web_api import SlackError, missing, truthy


class Messages(Directory, Events):
    """The messages part of the fake."""

    #: Minimum seconds between accepted ``chat.postMessage`` calls to one channel (0: no pacing).
    post_interval: float
    #: Most messages one ``conversations.history`` call returns.
    history_limit: int
    _messages: dict[tuple[str, str], dict[str, Any]]
    _order: list[tuple[str, str]]
    _ephemerals: list[dict[str, Any]]
    _last_post: dict[str, float]
    _ts_counter: Iterator[int]

    def _reset_messages(self) -> None:
        """Forget messages, ephemerals and pacing. Lock held."""
        self._messages = {}
        self._order = []
        self._ephemerals = []
        self._last_post = {}
        self._ts_counter = itertools.count(1)

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Current state of a posted message (deleted ones too, with ``deleted: True``).

        Keys: ``channel, ts, text, blocks, attachments, metadata, thread_ts, user,
        bot_id, files, reply_count, edits`` (number of ``chat.update`` calls applied),
        ``history`` (earlier versions), ``deleted``.
        """
        with self._lock:
            msg = self._messages.get((self._resolve_channel(channel), ts))
            if msg is None:
                known = [f"{c}/{t}" for c, t in self._order[-10:]]
                raise KeyError(f"no message {channel}/{ts}; recent messages: {known}")
            return copy.deepcopy(msg)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """All live (not deleted) messages, top-level and replies, in posting order."""
        with self._lock:
            wanted = self._resolve_channel(channel) if channel is not None else None
            return [
                copy.deepcopy(self._messages[key])
                for key in self._order
                if (wanted is None or key[0] == wanted) and not self._messages[key]["deleted"]
            ]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Live replies posted with ``thread_ts=ts``, in order (the parent excluded)."""
        return [m for m in self.messages(channel) if m["thread_ts"] == ts]

    def top_level_messages(self, channel: str) -> list[dict[str, Any]]:
        """Live messages in ``channel`` that are not thread replies, in order."""
        return [m for m in self.messages(channel) if m["thread_ts"] is None]

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages, optionally only those shown to ``user``.

        Keys: ``channel, user, text, blocks, attachments, thread_ts, message_ts``.
        """
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user is None or e["user"] == user]

    def _next_ts(self) -> str:
        """Next message timestamp: unique and increasing (``1700000000.000100``, …)."""
        micros = next(self._ts_counter) * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _live_message(self, channel: str, ts: Any) -> dict[str, Any]:
        """The stored, not deleted message, or ``message_not_found``."""
        msg = self._messages.get((channel, str(ts)))
        if msg is None or msg["deleted"]:
            raise SlackError("message_not_found")
        return msg

    def _validate_content(self, args: dict[str, Any]) -> None:
        """Text, blocks, attachments and metadata checks shared by the chat methods: Slack answers the first."""
        errors = message_content_errors(args)
        if errors:
            code, details = errors[0]
            raise SlackError(code, errors=details, messages=details) if code == "invalid_blocks" else SlackError(code)

    def _thread_root(self, channel: str, thread_ts: Any) -> str | None:
        """The thread a ``thread_ts`` refers to (None if absent), or ``thread_not_found``."""
        if missing(thread_ts):
            return None
        parent = self._messages.get((channel, str(thread_ts)))
        if parent is None or parent["deleted"]:
            raise SlackError("thread_not_found")
        # A reply's ts names the thread of its parent.
        return str(parent["thread_ts"] or parent["ts"])

    def _store_message(
        self, channel: str, *, text: str, blocks: list[Any], thread_ts: str | None, **fields: Any
    ) -> dict[str, Any]:
        """Store a new message from the bot (counting it as a reply when threaded)."""
        ts = self._next_ts()
        msg: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "text": text,
            "blocks": blocks,
            "attachments": None,
            "metadata": None,
            "thread_ts": thread_ts,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "files": [],
            "reply_count": 0,
            "edits": 0,
            "history": [],
            "deleted": False,
            **fields,
        }
        self._messages[(channel, ts)] = msg
        self._order.append((channel, ts))
        if thread_ts is not None:
            parent = self._messages[(channel, thread_ts)]
            parent["reply_count"] += 1
            parent["latest_reply"] = ts
        return msg

    def _public_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The message as Slack returns it in API responses."""
        out = {
            k: v
            for k, v in msg.items()
            if k not in ("channel", "edits", "history", "deleted", "reply_count") and v is not None
        }
        if not out.get("files"):
            out.pop("files", None)
        return copy.deepcopy(out)

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.postMessage``: validate, pace, store a message or thread reply."""
        channel = self._channel_arg(args)
        self._validate_content(args)
        thread_ts = self._thread_root(channel, args.get("thread_ts"))
        if self.post_interval > 0:
            now = time.monotonic()
            last = self._last_post.get(channel)
            if last is not None and now - last < self.post_interval:
                self.rate_limited += 1
                wait = max(1, math.ceil(self.post_interval - (now - last)))
                raise SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
            self._last_post[channel] = now
        msg = self._store_message(
            channel,
            text=str(args.get("text") or ""),
            blocks=args.get("blocks") or [],
            thread_ts=thread_ts,
            attachments=args.get("attachments"),
            metadata=args.get("metadata"),
            reply_broadcast=truthy(args.get("reply_broadcast")),
            unfurl_links=truthy(args.get("unfurl_links")),
            unfurl_media=truthy(args.get("unfurl_media")),
        )
        self._metadata_posted(msg)
        return {"channel": channel, "ts": msg["ts"], "message": self._public_message(msg)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.update``: replace the fields given, keeping a history of versions."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["ts"])
        self._validate_content(args)
        msg["history"].append({k: copy.deepcopy(msg[k]) for k in ("text", "blocks", "attachments", "metadata")})
        # Slack keeps fields the update leaves out (send blocks=[] to remove blocks).
        if "text" in args:
            msg["text"] = str(args["text"] or "")
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                msg[key] = args[key]
        msg["edits"] += 1
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": self._public_message(msg),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.postEphemeral``: record a message only ``user`` sees."""
        channel = self._channel_arg(args)
        self._validate_content(args)
        message_ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": str(args["user"]),
                "text": str(args.get("text") or ""),
                "blocks": args.get("blocks") or [],
                "attachments": args.get("attachments"),
                "thread_ts": args.get("thread_ts") or None,
                "message_ts": message_ts,
            }
        )
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.getPermalink``: ``<workspace>/archives/<channel>/p<ts without dot>``."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["message_ts"])
        permalink = f"{self.workspace_url}archives/{channel}/p{msg['ts'].replace('.', '')}"
        if msg["thread_ts"] is not None:
            permalink += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.delete``: mark the message deleted."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["ts"])
        msg["deleted"] = True
        if msg["thread_ts"] is not None:
            self._messages[(channel, msg["thread_ts"])]["reply_count"] -= 1
        return {"channel": channel, "ts": msg["ts"]}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history``: a channel's top-level messages, newest first.

        ``limit`` is capped at :attr:`history_limit` (15, Slack's cap for apps outside
        the Marketplace since 2025); metadata is included only with ``include_all_metadata``;
        ``oldest``/``latest`` bound the ts (exclusive unless ``inclusive``).
        """
        channel = self._channel_arg(args)
        try:
            limit = min(int(args.get("limit") or 100), self.history_limit)
        except ValueError:
            raise SlackError("invalid_limit") from None
        inclusive = bool(truthy(args.get("inclusive")))
        oldest, latest = args.get("oldest"), args.get("latest")
        found = []
        for key in reversed(self._order):
            msg = self._messages[key]
            if key[0] != channel or msg["deleted"] or msg["thread_ts"] is not None:
                continue
            ts = float(msg["ts"])
            if oldest is not None and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
                continue
            if latest is not None and (ts > float(latest) or (ts == float(latest) and not inclusive)):
                continue
            public = self._public_message(msg)
            if not truthy(args.get("include_all_metadata")):
                public.pop("metadata", None)
            found.append(public)
        return {
            "messages": found[:limit],
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }
