"""The sandbox's web page: the Slack channel pane, the customers' pane, and the routes the page's script calls.

Plain server-rendered HTML with a little JavaScript (``static/sandbox.js``), everything
served from here (no build step, nothing from the internet). The page polls
``/fragment`` about once a second for the channel, the feeds and the open modal, and
replaces only what changed (never a form being typed into). Each click, submission,
closed modal and slash command goes through :class:`~chatops.sandbox.slack_bridge.SlackBridge`,
which checks it and sends it to the bot as a signed Slack request.

Every text shown is escaped here or by :mod:`chatops.sandbox.blockkit_html`. The page
answers only requests addressed to ``127.0.0.1``/``localhost`` (a web page elsewhere
cannot reach it through DNS rebinding), and its POST routes want the ``X-Sandbox``
header, which a form on another site cannot send without the browser asking first.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import importlib
import importlib.resources
import json
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from chatops.sandbox import people
from chatops.sandbox.blockkit_html import form_state, message_html, view_html
from chatops.sandbox.runtime import Sandbox
from chatops.sandbox.slack_bridge import Answer, Refused, SlackBridge
from chatops.sandbox.sources import CustomerPost, SandboxPostError, SandboxSource
from chatops.testing.bot import INBOX

log = logging.getLogger(__name__)

#: The header every POST from the page carries (see the module docstring).
PAGE_HEADER = "X-Sandbox"
#: Host names the page answers to.
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: The customer's name the form starts with.
DEFAULT_AUTHOR = "Maija Virtanen"
#: Longest body the page's routes read.
MAX_BODY = 64_000
#: The scripted day's module (from the sources' work; the button answers 503 without it).
SCRIPTED_DAY = "chatops.sandbox.scripted_day"
#: File types shown as images (the digest's chart).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

Handler = Callable[[Request], Awaitable[Response]]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def _answer(answer: Answer) -> JSONResponse:
    ok = answer.status == 200
    return JSONResponse(
        {"ok": ok, "text": answer.text, "errors": answer.errors}
        | ({} if ok else {"error": f"the bot answered {answer.status}"}),
        status_code=200 if ok else 502,
    )


class Page:
    """The page's HTML and routes over a running :class:`~chatops.sandbox.runtime.Sandbox`."""

    def __init__(self, sandbox: Sandbox, bridge: SlackBridge) -> None:
        """Show ``sandbox``; send what people do through ``bridge``."""
        self.sandbox = sandbox
        self.bridge = bridge
        self.users = people.names()
        #: How the last scripted day went (shown beside its button).
        self.script_status = ""
        self._script: asyncio.Task[None] | None = None
        bot = sandbox.bot
        #: The team's timezone: feeds show times as the cards do.
        self.tz: tzinfo = bot.settings.team.tz if bot is not None else UTC

    # -- HTML ---------------------------------------------------------------------------

    def message_block(self, message: dict[str, Any], *, testid: str) -> str:
        """One message as Slack shows it: who posted it, its blocks, its files."""
        edited = ' <span class="edited">(edited)</span>' if message.get("edits") else ""
        files = "".join(self.file_html(f) for f in message.get("files") or [])
        shown = message.get("blocks") or message.get("text")
        prefix = "m" + str(message["ts"]).replace(".", "-")
        body = message_html(message, users=self.users, channels=people.CHANNELS, id_prefix=prefix) if shown else ""
        return (
            f'<div class="msg" data-testid="{testid}" data-ts="{_e(message["ts"])}"'
            f' data-channel="{_e(message["channel"])}">'
            f'<div class="msg-head"><span class="author">chatops</span> <span class="badge">APP</span>{edited}</div>'
            f'<div class="msg-body">{body}{files}</div>'
        )

    def file_html(self, file: dict[str, Any]) -> str:
        """A shared file: an image inline, anything else as a link."""
        url = f"/files/{_e(file.get('id', ''))}"
        title = _e(file.get("title") or file.get("name") or "file")
        kind = mimetypes.guess_type(str(file.get("name") or ""))[0]
        if kind in IMAGE_TYPES:
            return f'<figure class="file"><img src="{url}" alt="{title}"><figcaption>{title}</figcaption></figure>'
        return f'<a class="file" href="{url}" download>{title}</a>'

    def note_block(self, text: str, blocks: Sequence[Any], number: int) -> str:
        """A message only the current person sees."""
        message = {"text": text, "blocks": list(blocks)}
        body = message_html(message, users=self.users, channels=people.CHANNELS, id_prefix=f"e{number}")
        return (
            '<div class="msg ephemeral" data-testid="ephemeral">'
            '<div class="msg-head"><span class="author">chatops</span> <span class="badge">APP</span>'
            ' <span class="only-you">Only visible to you</span></div>'
            f'<div class="msg-body">{body}</div></div>'
        )

    def channel_html(self, user: str, channel: str) -> str:
        """The channel as ``user`` sees it: messages with their threads, and what only ``user`` sees, in order."""
        slack = self.sandbox.slack
        live = slack.messages(channel)
        replies: dict[str, list[str]] = {}
        for message in live:
            if message["thread_ts"] is not None:
                replies.setdefault(message["thread_ts"], []).append(
                    self.message_block(message, testid="reply") + "</div>"
                )
        items: list[tuple[tuple[int, int], int, str]] = []
        for number, ephemeral in enumerate(slack.ephemerals(user)):
            if ephemeral["channel"] != channel:
                continue
            block = self.note_block(ephemeral["text"], ephemeral.get("blocks") or [], number)
            if ephemeral.get("thread_ts") and ephemeral["thread_ts"] in replies:
                replies[ephemeral["thread_ts"]].append(block)
            else:
                items.append((_ts_key(ephemeral["message_ts"]), 1, block))
        for message in live:
            if message["thread_ts"] is not None:
                continue
            thread = replies.get(message["ts"], [])
            shown = f'<div class="thread" data-testid="thread">{"".join(thread)}</div>' if thread else ""
            items.append((_ts_key(message["ts"]), 0, self.message_block(message, testid="message") + shown + "</div>"))
        for number, note in enumerate(self.bridge.notes):
            if note.user == user and note.channel == channel:
                block = self.note_block(note.text, note.blocks, 100_000 + number)
                items.append((_ts_key(note.after_ts), 2 + number, block))
        if not items:
            return '<p class="empty">Nothing here yet. Post as a customer on the right, or play a scripted day.</p>'
        return "".join(block for _key, _order, block in sorted(items, key=lambda item: (item[0], item[1])))

    def channel_counts(self) -> dict[str, int]:
        """How many top-level messages each channel has (the sidebar shows them)."""
        return {channel: len(self.sandbox.slack.top_level_messages(channel)) for channel in people.CHANNELS}

    def feed_html(self, source: SandboxSource) -> str:
        """A source's feed as the customers see it: their comments, newest first, the team's replies under them."""
        try:
            posts = list(source.feed())
        except Exception:
            log.exception("sandbox source %s: its feed could not be read", source.key)
            return '<p class="empty">The feed could not be read (see the terminal).</p>'
        if not posts:
            return '<p class="empty">No comments yet.</p>'
        return "".join(self.post_html(post) for post in posts)

    def post_html(self, post: CustomerPost, *, reply: bool = False) -> str:
        """One comment, with the replies under it."""
        testid = ("team-reply" if post.from_team else "customer-reply") if reply else "customer-post"
        team = " team" if post.from_team else ""
        note = f' <span class="note">{_e(post.note)}</span>' if post.note else ""
        replies = "".join(self.post_html(r, reply=True) for r in post.replies)
        # A customer may write again under their comment (a follow-up lands in the card's thread).
        follow_up = (
            ""
            if reply
            else f'<button type="button" class="follow-up" data-post-id="{_e(post.id)}" data-author="{_e(post.author)}"'
            f' title="Write under this comment as its customer">Follow up</button>'
        )
        return (
            f'<article class="post{team}" data-testid="{testid}" data-id="{_e(post.id)}">'
            f'<div class="post-head"><b>{_e(post.author)}</b> <time>{_e(self.local_time(post.at))}</time>{note}</div>'
            f'<div class="post-text">{_e(post.text)}</div>{replies}{follow_up}</article>'
        )

    def local_time(self, at: datetime) -> str:
        """``at`` as the team reads it (the bot's timezone, as on the cards)."""
        return at.astimezone(self.tz).strftime("%H:%M")

    def modal(self, user: str) -> dict[str, str] | None:
        """The modal ``user`` sees now (id, hash, HTML), or None."""
        view = self.bridge.modals.top(user)
        if view is None:
            return None
        return {"id": str(view["id"]), "hash": str(view.get("hash", "")), "html": self.view_block(view)}

    def view_block(self, view: dict[str, Any], errors: dict[str, str] | None = None, state: Any = None) -> str:
        """A modal as a form (with the bot's validation errors and what was typed, when sent back)."""
        return view_html(view, users=self.users, channels=people.CHANNELS, errors=errors, state=state)

    def customers_html(self) -> str:
        """The customers' pane: the scripted day, then one section per source."""
        sections = []
        for source in self.sandbox.sources.values():
            key = _e(source.key)
            sections.append(
                f'<section class="customer" data-testid="customer-{key}" data-key="{key}">'
                f"<h3>{_e(source.label)}</h3>"
                f'<form class="customer-form" data-key="{key}">'
                f'<label>Customer <input name="author" value="{_e(DEFAULT_AUTHOR)}" maxlength="80" required></label>'
                f'<label>Comment <textarea name="text" rows="3" required></textarea></label>'
                f'<input type="hidden" name="reply_to" value=""><p class="answering" hidden></p>'
                f'<button type="submit">Post as customer</button><p class="form-error" role="alert"></p></form>'
                f'<div class="feed" data-testid="feed" data-feed="{key}">{self.feed_html(source)}</div></section>'
            )
        if not sections:
            sections.append('<p class="empty">No installed plugin has a customers\' side.</p>')
        return (
            '<div class="script"><button type="button" data-testid="play-script" id="play-script">'
            'Play a scripted day</button><p class="script-status" role="status"></p></div>' + "".join(sections)
        )

    def page_html(self) -> str:
        """The whole page (the first person in the switcher, the inbox channel)."""
        user = people.TEAM[0].id
        options = "".join(
            f'<option value="{_e(p.id)}" data-role="{_e(p.role)}">{_e(p.label)}</option>' for p in people.TEAM
        )
        channels = "".join(
            f'<button type="button" class="channel-link{" active" if cid == INBOX else ""}" data-channel="{_e(cid)}">'
            f'# {_e(name)} <span class="count"></span></button>'
            for cid, name in people.CHANNELS.items()
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatops sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/sandbox.css"></head>
<body data-user="{_e(user)}" data-channel="{_e(INBOX)}">
<header class="top"><h1>chatops sandbox</h1>
<label class="switcher">You are <select data-testid="user-switcher" id="user-switcher">{options}</select></label>
<span class="role" id="role">{_e(people.TEAM[0].role)}</span>
<span class="hint">Everything here runs on your computer:
 a Slack stand-in, the real bot, and the customers.</span></header>
<main>
<nav class="sidebar" aria-label="Channels">{channels}</nav>
<section class="slack" aria-label="Slack">
<h2 class="channel-title" id="channel-title"># {_e(people.CHANNELS[INBOX])}</h2>
<div class="channel" data-testid="channel" id="channel">{self.channel_html(user, INBOX)}</div>
<form class="composer" id="composer-form"><input data-testid="composer" id="composer" autocomplete="off"
 placeholder="Type /rota help or /chatops digest and press Enter" aria-label="Message box"></form>
</section>
<section class="customers" aria-label="Customers" id="customers">{self.customers_html()}</section>
</main>
<div class="overlay" id="modal-overlay" hidden></div>
<dialog class="confirm" data-testid="confirm" id="confirm"><h2 id="confirm-title"></h2><div id="confirm-text"></div>
<div class="actions"><button type="button" id="confirm-deny"></button>
<button type="button" id="confirm-yes"></button></div></dialog>
<script src="/static/sandbox.js"></script></body></html>"""

    # -- routes ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        """The page's ASGI app."""
        guarded = self._guarded
        return Starlette(
            routes=[
                Route("/", guarded(self.index, post=False)),
                Route("/favicon.ico", guarded(self.favicon, post=False)),
                Route("/fragment", guarded(self.fragment, post=False)),
                Route("/static/{name}", guarded(self.static, post=False)),
                Route("/files/{file_id}", guarded(self.file, post=False)),
                Route("/actions", guarded(self.action), methods=["POST"]),
                Route("/views/{view_id}/submit", guarded(self.submit), methods=["POST"]),
                Route("/views/{view_id}/close", guarded(self.close), methods=["POST"]),
                Route("/commands", guarded(self.command), methods=["POST"]),
                Route("/customers/{key}/posts", guarded(self.post), methods=["POST"]),
                Route("/script", guarded(self.script), methods=["POST"]),
                # The bot's own posts to a response_url it was given: no page header.
                Route("/slack/response/{token}", self._local(self.respond), methods=["POST"]),
            ]
        )

    def _local(self, handler: Handler) -> Handler:
        async def checked(request: Request) -> Response:
            host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
            if host not in LOCAL_HOSTS:
                return _error(403, "the sandbox answers only on 127.0.0.1 and localhost")
            return await handler(request)

        return checked

    def _guarded(self, handler: Handler, *, post: bool = True) -> Handler:
        async def checked(request: Request) -> Response:
            if post and request.headers.get(PAGE_HEADER) != "1":
                return _error(403, f"send the {PAGE_HEADER}: 1 header (the page's script does)")
            try:
                return await handler(request)
            except Refused as refused:
                return _error(400, str(refused))

        return self._local(checked)

    async def _fields(self, request: Request) -> dict[str, list[str]]:
        """A JSON object or a url-encoded form, as lists of strings; :class:`Refused` when it is neither."""
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Refused("the request is too large")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                raise Refused("the body is not JSON") from None
            if not isinstance(data, dict):
                raise Refused("the body must be a JSON object")
            return {
                str(k): [str(x) for x in v] if isinstance(v, list) else ([] if v is None else [str(v)])
                for k, v in data.items()
            }
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

    @staticmethod
    def _one(fields: dict[str, list[str]], name: str, *, required: bool = True) -> str:
        found = fields.get(name) or []
        if required and (not found or not found[0]):
            raise Refused(f"{name}: missing")
        return found[0] if found else ""

    async def index(self, request: Request) -> Response:
        """``GET /``: the page."""
        return HTMLResponse(self.page_html(), headers={"Cache-Control": "no-store"})

    async def favicon(self, request: Request) -> Response:
        """``GET /favicon.ico``: none (answered, so the browser's console shows no error)."""
        return Response(status_code=204)

    async def fragment(self, request: Request) -> Response:
        """``GET /fragment?user=…&channel=…``: what the page refreshes (channel, counts, feeds, modal)."""
        user = request.query_params.get("user", "")
        channel = request.query_params.get("channel", INBOX)
        if people.teammate(user) is None:
            raise Refused(f"unknown user {user!r}")
        if channel not in people.CHANNELS:
            raise Refused(f"unknown channel {channel!r}")
        return JSONResponse(
            {
                "channel": self.channel_html(user, channel),
                "counts": self.channel_counts(),
                "feeds": {key: self.feed_html(source) for key, source in self.sandbox.sources.items()},
                "modal": self.modal(user),
                "script": self.script_status,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def static(self, request: Request) -> Response:
        """``GET /static/sandbox.js|sandbox.css``: the page's script and style (package data)."""
        name = request.path_params["name"]
        kinds = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}
        if name not in kinds:
            return _error(404, "no such file")
        text = importlib.resources.files("chatops.sandbox").joinpath("static", name).read_text(encoding="utf-8")
        return Response(text, media_type=kinds[name], headers={"Cache-Control": "no-store"})

    async def file(self, request: Request) -> Response:
        """``GET /files/<id>``: a file the bot uploaded to Slack (the digest's chart)."""
        try:
            record = self.sandbox.slack.file(request.path_params["file_id"])
        except KeyError:
            return _error(404, "no such file")
        if record.get("content") is None:
            return _error(404, "the file was never uploaded")
        kind = mimetypes.guess_type(str(record.get("filename") or ""))[0] or "application/octet-stream"
        if kind not in IMAGE_TYPES:
            kind = "application/octet-stream"  # never served as HTML or script
        return Response(record["content"], media_type=kind, headers={"X-Content-Type-Options": "nosniff"})

    async def action(self, request: Request) -> Response:
        """``POST /actions``: a click or a choice on a message (user, channel, ts, block_id, action_id, selected)."""
        fields = await self._fields(request)
        answer = await self.bridge.click(
            self._one(fields, "user"),
            self._one(fields, "channel"),
            self._one(fields, "ts"),
            self._one(fields, "block_id"),
            self._one(fields, "action_id"),
            self._one(fields, "selected", required=False) or None,
        )
        return _answer(answer)

    async def submit(self, request: Request) -> Response:
        """``POST /views/<id>/submit``: the modal's form (url-encoded, with ``user``)."""
        fields = await self._fields(request)
        user = self._one(fields, "user")
        view = self.bridge.modals.open_view(user, request.path_params["view_id"])
        values = form_state(view, {k: v for k, v in fields.items() if k != "user"})
        answer = await self.bridge.submit(user, view["id"], values)
        response = _answer(answer)
        if answer.errors:
            # The form again, with the errors under their fields and what was typed still there.
            content = {
                "ok": True,
                "text": "",
                "errors": answer.errors,
                "html": self.view_block(view, answer.errors, values),
            }
            return JSONResponse(content)
        return response

    async def close(self, request: Request) -> Response:
        """``POST /views/<id>/close``: the modal's close button."""
        fields = await self._fields(request)
        return _answer(await self.bridge.close(self._one(fields, "user"), request.path_params["view_id"]))

    async def command(self, request: Request) -> Response:
        """``POST /commands``: a line typed in the message box (user, channel, text)."""
        fields = await self._fields(request)
        answer = await self.bridge.command(
            self._one(fields, "user"), self._one(fields, "channel"), self._one(fields, "text")
        )
        return _answer(answer)

    async def post(self, request: Request) -> Response:
        """``POST /customers/<key>/posts``: a customer writes (author, text, optional reply_to)."""
        source = self.sandbox.sources.get(request.path_params["key"])
        if source is None:
            return _error(404, "no such source")
        fields = await self._fields(request)
        author = self._one(fields, "author", required=False)
        text = self._one(fields, "text", required=False)
        if not text.strip():
            return _error(400, "write a comment first")
        try:
            posted = await source.post(
                self.sandbox.bot_url, author, text, reply_to=self._one(fields, "reply_to", required=False) or None
            )
        except SandboxPostError as exc:
            return _error(400, str(exc))
        return JSONResponse({"ok": True, "id": posted}, status_code=201)

    async def script(self, request: Request) -> Response:
        """``POST /script``: start playing a scripted day (503 without :mod:`chatops.sandbox.scripted_day`).

        The day takes a minute or so; it plays in the background and the fragment tells how it went.
        """
        try:
            scripted_day = importlib.import_module(SCRIPTED_DAY)
        except ModuleNotFoundError as exc:
            if exc.name != SCRIPTED_DAY:
                raise
            return _error(503, "scripted day not available in this version of chatops")
        if self._script is not None and not self._script.done():
            return _error(409, "a scripted day is already playing")
        if not self.sandbox.sources:
            return _error(409, "no source to play the day through")
        self.script_status = "Playing a scripted day: the comments arrive over a minute or so."
        self._script = asyncio.create_task(self._play(scripted_day))
        return JSONResponse({"ok": True, "text": self.script_status}, status_code=202)

    async def _play(self, scripted_day: Any) -> None:
        try:
            result = await scripted_day.play(list(self.sandbox.sources.values()), self.sandbox.bot_url)
        except Exception as exc:
            log.exception("the scripted day stopped")
            self.script_status = f"The scripted day stopped: {exc}"
            return
        for failure in result.failed:
            log.warning("scripted day: not posted: %s", failure)
        self.script_status = f"The scripted day is over: {result.posted} comments posted" + (
            f", {len(result.failed)} not posted (see the terminal)." if result.failed else "."
        )

    async def aclose(self) -> None:
        """Stop a scripted day still playing."""
        if self._script is not None and not self._script.done():
            self._script.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._script

    async def respond(self, request: Request) -> Response:
        """``POST /slack/response/<token>``: the bot answers through a response_url the page gave it."""
        try:
            message = json.loads(await request.body())
        except ValueError:
            return _error(400, "not JSON")
        if not isinstance(message, dict) or not self.bridge.respond(request.path_params["token"], message):
            return _error(404, "no such response_url")
        return JSONResponse({"ok": True})
