"""The sandbox's web page: its routes (the page, the fragment it polls, and what its script sends).

Plain server-rendered HTML with a little JavaScript (``static/sandbox.js``), everything
served from here (no build step, nothing from the internet). The page polls
``/fragment`` about once a second for the channel, the feeds and the open modal, and
replaces only what changed (never a form being typed into). Each click, submission,
closed modal and slash command goes through :class:`~chatops.sandbox.slack_bridge.SlackBridge`,
which checks it and sends it to the bot as a signed Slack request.

The HTML is drawn by :mod:`chatops.sandbox.page_html` (every text escaped). The page
answers only requests addressed to ``127.0.0.1``/``localhost`` (a web page elsewhere
cannot reach it through DNS rebinding), and its POST routes want the ``X-Sandbox``
header, which a form on another site cannot send without the browser asking first.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.resources
import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from chatops.sandbox import people
from chatops.sandbox.blockkit_html import form_state
from chatops.sandbox.page_html import IMAGE_TYPES, PageHtml
from chatops.sandbox.runtime import Sandbox
from chatops.sandbox.slack_bridge import Answer, Refused, SlackBridge
from chatops.sandbox.sources import SandboxPostError
from chatops.testing.bot import INBOX

log = logging.getLogger(__name__)

#: The header every POST from the page carries (see the module docstring).
PAGE_HEADER = "X-Sandbox"
#: Host names the page answers to.
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: Longest body the page's routes read.
MAX_BODY = 64_000
#: The scripted day's module (from the sources' work; the button answers 503 without it).
SCRIPTED_DAY = "chatops.sandbox.scripted_day"

Handler = Callable[[Request], Awaitable[Response]]

#: A UTF-16 surrogate on its own: JSON may spell one (``"\\ud800"``), but no text can hold it
#: (encoding it for the bot, a source or the page's own answer would fail).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: object) -> str:
    """``value`` as text that can be encoded: a lone surrogate becomes U+FFFD, as a browser's form does."""
    return _LONE_SURROGATE.sub("\ufffd", str(value))


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
    """The page's routes over a running :class:`~chatops.sandbox.runtime.Sandbox`."""

    def __init__(self, sandbox: Sandbox, bridge: SlackBridge) -> None:
        """Show ``sandbox``; send what people do through ``bridge``."""
        self.sandbox = sandbox
        self.bridge = bridge
        self.html = PageHtml(sandbox, bridge)
        #: How the last scripted day went (shown beside its button).
        self.script_status = ""
        self._script: asyncio.Task[None] | None = None

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
                _text(k): [_text(x) for x in v] if isinstance(v, list) else ([] if v is None else [_text(v)])
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
        return HTMLResponse(self.html.page_html(), headers={"Cache-Control": "no-store"})

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
                "channel": self.html.channel_html(user, channel),
                "counts": self.html.channel_counts(),
                "feeds": {key: self.html.feed_html(source) for key, source in self.sandbox.sources.items()},
                "modal": self.html.modal(user),
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
                "html": self.html.view_block(view, answer.errors, values),
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
        ``{"script": "crisis"}`` plays a crisis hour instead: 120 comments on one post in 30 s.
        """
        try:
            wanted = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(400, "not JSON")
        kind = wanted.get("script", "day") if isinstance(wanted, dict) else None
        if kind not in ("day", "crisis"):
            return _error(400, "script must be 'day' or 'crisis'")
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
        if kind == "crisis":
            script = scripted_day.crisis_hour()
            self.script_status = f"Playing a crisis: {len(script)} comments on one post in 30 s."
        else:
            script = scripted_day.SCRIPT
            self.script_status = "Playing a scripted day: the comments arrive over a minute or so."
        self._script = asyncio.create_task(self._play(scripted_day, script))
        return JSONResponse({"ok": True, "text": self.script_status}, status_code=202)

    async def _play(self, scripted_day: Any, script: Any) -> None:
        try:
            result = await scripted_day.play(list(self.sandbox.sources.values()), self.sandbox.bot_url, script=script)
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
