"""The webhook's customers' side in ``chatops sandbox``: a contact form that posts signed webhooks.

The form stands for a customer's system (a web shop's contact form): each comment is POSTed
to the bot's ``/webhooks/webhook``, signed as the README documents, with a ``reply_url``
pointing at a small receiver on loopback. The team's replies arrive there, signed by the
bot; the receiver checks the signature, drops repeats (the ``Idempotency-Key``) and shows
them under the comment in the feed. The feed is kept in the sandbox's data folder.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatops.sandbox.posting import customer_name, customer_text, notify_bot
from chatops.sandbox.sources import CustomerPost, SandboxPostError, SandboxSetup
from chatops.testing.server import ThreadedServer

from .signature import SIGNATURE_HEADER, sign, verify
from .source import PATH

log = logging.getLogger(__name__)

#: The shared secret of the sandbox's webhook (loopback only; not a secret anywhere else).
SANDBOX_SECRET = "sandbox-webhook-secret-0123456789"  # noqa: S105 - a fixed value for the local sandbox
#: What the form calls itself in the comments it sends (the card's channel name).
FORM_NAME = "Contact form"
#: The feed's file in the sandbox's data folder.
FEED_FILE = "webhook-feed.json"
#: Longest comment the form sends (the plugin's default max_text_length).
MAX_TEXT = 20_000


@dataclass
class _Comment:
    id: str
    author: str
    text: str
    at: str
    from_team: bool = False
    reply_to: str | None = None
    replies: list[str] = field(default_factory=list)


class WebhookSandbox:
    """The contact form (a :class:`~chatops.sandbox.sources.SandboxSource`): posts signed webhooks, receives replies."""

    plugin = "webhook"
    key = "webhook"
    label = "Contact form · generic webhook"

    def __init__(self, setup: SandboxSetup) -> None:
        """A form whose feed is kept in ``setup.data_dir``."""
        self._path = Path(setup.data_dir) / FEED_FILE
        self._lock = threading.Lock()
        self._comments: dict[str, _Comment] = {}
        self._keys: set[str] = set()
        self._server: ThreadedServer | None = None
        #: The reply receiver's port in the last run: the bot keeps each comment's reply_url in its
        #: database, so a sandbox started again on the same data serves the same port when it can.
        self._port = 0
        self._load()

    def _load(self) -> None:
        if not self._path.exists():
            return
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            self._comments = {c["id"]: _Comment(**c) for c in data["comments"]}
            self._keys = set(data["keys"])
            port = data.get("port", 0)
            self._port = port if isinstance(port, int) and 0 < port < 65536 else 0
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the contact form's feed in %s was not read (%s); starting empty", self._path, exc)
            self._comments, self._keys = {}, set()

    def _save(self) -> None:
        """Write the feed (lock held)."""
        data = {
            "comments": [vars(c) for c in self._comments.values()],
            "keys": sorted(self._keys),
            "port": self._port,
        }
        partial = self._path.with_suffix(".partial")
        partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        partial.replace(self._path)

    def start(self) -> None:
        """Start the reply receiver on loopback (on the last run's port when it is free)."""
        if self._server is not None:
            return
        app = Starlette(routes=[Route("/reply", self._receive, methods=["POST"])])
        server = ThreadedServer(app, port=self._port)
        try:
            server.start()
        except OSError as exc:
            # Taken by something else now: replies to the last run's comments cannot arrive (their cards say so).
            log.warning(
                "the contact form's reply port %s is taken (%s); replies to earlier comments fail", self._port, exc
            )
            server = ThreadedServer(app)
            server.start()
        self._server = server
        with self._lock:
            self._port = server.port
            self._save()

    def stop(self) -> None:
        """Stop the reply receiver."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def reply_url(self) -> str:
        """Where the bot sends the team's replies."""
        if self._server is None:
            raise RuntimeError("the contact form is not started")
        return self._server.base_url + "/reply"

    @property
    def config(self) -> Mapping[str, Any]:
        """``[plugins.webhook]``: the form's secret; replies may go to loopback (the receiver is there)."""
        return {"secret": SANDBOX_SECRET, "display_name": FORM_NAME, "allow_private_reply_urls": True}

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Send ``text`` by ``author`` to the bot as a signed webhook (a follow-up under ``reply_to``)."""
        name = customer_name(author, platform=FORM_NAME)
        customer_text(text, platform=FORM_NAME, limit=MAX_TEXT)
        with self._lock:
            root = self._root(reply_to) if reply_to else None
            comment_id = f"form-{uuid.uuid4().hex[:12]}"
        payload: dict[str, Any] = {
            "id": comment_id,
            "thread_id": root,
            "text": text,
            "author": {"name": name, "id": "customer-" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:10]},
            "timestamp": datetime.now(UTC).isoformat(),
            "reply_url": self.reply_url,
            "channel": FORM_NAME,
        }
        body = json.dumps({k: v for k, v in payload.items() if v is not None}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SANDBOX_SECRET, body)}
        await notify_bot(bot_url, PATH, body, headers, platform=FORM_NAME)
        with self._lock:
            self._comments[comment_id] = _Comment(comment_id, name, text, payload["timestamp"], reply_to=root)
            if root is not None:
                self._comments[root].replies.append(comment_id)
            self._save()
        return comment_id

    def _root(self, comment_id: str) -> str:
        """The top-level comment of the thread ``comment_id`` is in (lock held)."""
        comment = self._comments.get(comment_id)
        if comment is None:
            raise SandboxPostError(f"contact form: no comment {comment_id!r} to answer")
        while comment.reply_to is not None:
            comment = self._comments[comment.reply_to]
        return comment.id

    async def _receive(self, request: Request) -> Response:
        """A team reply from the bot: checked, de-duplicated, shown under the comment it answers."""
        body = await request.body()
        if not verify(SANDBOX_SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            reply = json.loads(body)
            parent_id = str(reply["thread_id"] or reply["in_reply_to"])
            author = reply.get("author") or {}
            text = str(reply["text"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "not a reply"}, status_code=400)
        key = request.headers.get("idempotency-key") or str(reply.get("id"))
        with self._lock:
            reply_id = f"reply-{key}"
            if key not in self._keys:
                parent = self._comments.get(parent_id)
                if parent is None:
                    return JSONResponse({"error": f"no comment {parent_id}"}, status_code=404)
                self._keys.add(key)
                name = author.get("name") or "The team"
                stamp = str(reply.get("sent_at") or datetime.now(UTC).isoformat())
                self._comments[reply_id] = _Comment(
                    reply_id, str(name), text, stamp, from_team=True, reply_to=parent_id
                )
                parent.replies.append(reply_id)
                self._save()
        return JSONResponse({"id": reply_id, "url": f"{self.reply_url}#{reply_id}"})

    def feed(self) -> Sequence[CustomerPost]:
        """The comments, newest first, each with what was answered under it."""
        with self._lock:
            comments = dict(self._comments)

        def shown(comment: _Comment) -> CustomerPost:
            return CustomerPost(
                id=comment.id,
                author=comment.author,
                text=comment.text,
                at=_when(comment.at),
                from_team=comment.from_team,
                replies=tuple(shown(comments[r]) for r in comment.replies if r in comments),
            )

        roots = [c for c in comments.values() if c.reply_to is None]
        return [shown(c) for c in reversed(roots)]


def _when(stamp: str) -> datetime:
    try:
        found = datetime.fromisoformat(stamp)
    except ValueError:
        return datetime.now(UTC)
    return found if found.tzinfo else found.replace(tzinfo=UTC)
