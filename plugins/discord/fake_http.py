"""The HTTP side of :class:`~chatops_plugins.discord.testing.FakeDiscord`: Discord's REST API under ``/api/v10``.

Every request needs ``Authorization: Bot <token>`` (401 otherwise, as Discord answers); scripted
failures (:meth:`FakeDiscord.rate_limit_next`, :meth:`FakeDiscord.fail_next`) come next, then the
endpoint. Errors carry Discord's JSON (``{"message", "code"}``, ``errors`` for 50035 "Invalid Form
Body"), so discord.py raises the same ``HTTPException``/``Forbidden``/``NotFound`` it raises against
Discord. What the bot posted and deleted is recorded on the fake (``sent``, ``deleted``,
``deduplicated``, ``requests``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .fake_world import (
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    iso,
    pings,
)

if TYPE_CHECKING:
    from .testing import FakeDiscord

#: Discord messages are at most this long (for bots; Nitro's 4000 is for people).
MAX_CONTENT = 2000
#: A message nonce is at most 25 characters.
MAX_NONCE = 25


@dataclass
class SentMessage:
    """A message the bot posted through ``POST /channels/{id}/messages``."""

    channel_id: str
    message_id: str
    content: str
    #: The ``message_reference`` sent (None for a plain message).
    message_reference: dict[str, Any] | None
    #: The ``allowed_mentions`` sent (None when the request had none: then every mention pings).
    allowed_mentions: dict[str, Any] | None
    #: Who Discord would notify: user ids, ``role:<id>``, ``@everyone`` (see :func:`.fake_world.pings`).
    pings: list[str]
    #: The whole JSON body of the request.
    payload: dict[str, Any]

    @property
    def reply_to(self) -> str | None:
        """The id of the message this one replies to."""
        return None if self.message_reference is None else str(self.message_reference.get("message_id"))


@dataclass
class DeletedMessage:
    """A message the bot deleted through ``DELETE /channels/{id}/messages/{id}``."""

    channel_id: str
    message_id: str
    #: The deleted message as it was.
    message: dict[str, Any]
    #: The ``X-Audit-Log-Reason`` header, if any.
    reason: str | None


@dataclass
class HttpCall:
    """One HTTP request the fake answered."""

    method: str
    #: Path without ``/api/v10``, e.g. ``/channels/200/messages``.
    path: str
    query: dict[str, str]
    body: Any
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class Scripted:
    method: str | None
    path: re.Pattern[str] | None
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int
    #: Do the request's work, then answer the failure anyway (a response lost on the way back).
    after_processing: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or bool(self.path.search(path)))


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _form_error(field_name: str, code: str, message: str) -> JSONResponse:
    """Discord's 400 "Invalid Form Body" (code 50035) naming one field."""
    return _error(400, 50035, "Invalid Form Body", {field_name: {"_errors": [{"code": code, "message": message}]}})


def _unknown_channel() -> JSONResponse:
    return _error(404, 10003, "Unknown Channel")


def _unknown_message() -> JSONResponse:
    return _error(404, 10008, "Unknown Message")


def _missing_access() -> JSONResponse:
    return _error(403, 50001, "Missing Access")


def _missing_permissions() -> JSONResponse:
    return _error(403, 50013, "Missing Permissions")


class HttpApi:
    """The REST endpoints, answering from (and recording on) the :class:`FakeDiscord` that owns them."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def routes(self) -> list[Route]:
        """The HTTP API's routes, relative to ``/api/v10``."""
        return [
            Route("/users/@me", self._endpoint(self._get_me)),
            Route("/users/{user_id}", self._endpoint(self._get_user)),
            Route("/oauth2/applications/@me", self._endpoint(self._get_application)),
            Route("/gateway", self._endpoint(self._get_gateway, auth=False)),
            Route("/gateway/bot", self._endpoint(self._get_gateway_bot)),
            Route("/guilds/{guild_id}", self._endpoint(self._get_guild)),
            Route("/guilds/{guild_id}/channels", self._endpoint(self._get_guild_channels)),
            Route("/guilds/{guild_id}/threads/active", self._endpoint(self._get_active_threads)),
            Route("/channels/{channel_id}", self._endpoint(self._get_channel)),
            Route(
                "/channels/{channel_id}/messages",
                self._endpoint(self._messages),
                methods=["GET", "POST"],
            ),
            Route(
                "/channels/{channel_id}/messages/{message_id}",
                self._endpoint(self._message),
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route("/channels/{channel_id}/typing", self._endpoint(self._typing), methods=["POST"]),
            Route("/channels/{channel_id}/threads/archived/public", self._endpoint(self._archived_threads)),
        ]

    def _endpoint(
        self, handler: Callable[[Request, Any], Awaitable[Response]], *, auth: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: read the body, check the token, play scripted failures, record the call."""

        async def endpoint(request: Request) -> Response:
            path = request.url.path.removeprefix("/api/v10")
            body = await _read_body(request)
            response: Response
            if isinstance(body, _BadBody):
                response = _error(400, 50109, "The request body contains invalid JSON.")
            elif auth and request.headers.get("authorization") != f"Bot {self.fake.token}":
                response = _error(401, 0, "401: Unauthorized")
            else:
                scripted = self._take_scripted(request.method, path)
                if scripted is None:
                    response = await handler(request, body)
                else:
                    if scripted.after_processing:
                        await handler(request, body)
                    response = JSONResponse(scripted.body, status_code=scripted.status, headers=scripted.headers)
            with self.fake.lock:
                self.fake.requests.append(
                    HttpCall(
                        method=request.method,
                        path=path,
                        query=dict(request.query_params),
                        body=None if isinstance(body, _BadBody) else body,
                        status=response.status_code,
                    )
                )
            return response

        return endpoint

    def _take_scripted(self, method: str, path: str) -> Scripted | None:
        with self.fake.lock:
            for scripted in self.fake.scripted:
                if scripted.matches(method, path):
                    scripted.remaining -= 1
                    if scripted.remaining <= 0:
                        self.fake.scripted.remove(scripted)
                    return scripted
        return None

    async def _get_me(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            return JSONResponse(self.fake.world.me_payload())

    async def _get_user(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            user = self.fake.world.users.get(request.path_params["user_id"])
            return JSONResponse(user) if user else _error(404, 10013, "Unknown User")

    async def _get_application(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            return JSONResponse(
                {
                    "id": self.fake.application_id,
                    "name": self.fake.bot_name,
                    "icon": None,
                    "description": "",
                    "summary": "",
                    "type": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "flags": self.fake.application_flags(),
                    "owner": self.fake.world.user_payload(self.fake.world.owner_id),
                    "team": None,
                    "bot": self.fake.world.user_payload(self.fake.bot_user_id),
                    "approximate_guild_count": len(self.fake.world.guilds),
                    "redirect_uris": [],
                    "interactions_endpoint_url": None,
                }
            )

    async def _get_gateway(self, request: Request, body: Any) -> Response:
        return JSONResponse({"url": self.fake.gateway_url})

    async def _get_gateway_bot(self, request: Request, body: Any) -> Response:
        return JSONResponse(
            {
                "url": self.fake.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.fake.identify_count,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_guild(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            guild = self.fake.world.guilds.get(request.path_params["guild_id"])
            if guild is None:
                return _error(404, 10004, "Unknown Guild")
            data = self.fake.world.guild_payload(guild, all_members=False)
            for key in ("members", "channels", "threads", "voice_states", "presences", "joined_at", "member_count"):
                data.pop(key, None)
            return JSONResponse(data)

    async def _get_guild_channels(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            guild_id = request.path_params["guild_id"]
            if guild_id not in self.fake.world.guilds:
                return _error(404, 10004, "Unknown Guild")
            return JSONResponse(
                [
                    self.fake.world.channel_payload(c)
                    for c in self.fake.world.channels.values()
                    if c.guild_id == guild_id and not c.is_thread
                ]
            )

    async def _get_active_threads(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            guild_id = request.path_params["guild_id"]
            if guild_id not in self.fake.world.guilds:
                return _error(404, 10004, "Unknown Guild")
            threads = [
                self.fake.world.channel_payload(c)
                for c in self.fake.world.channels.values()
                if c.guild_id == guild_id and c.is_thread and not c.archived
            ]
            return JSONResponse({"threads": threads, "members": []})

    def _visible_channel(self, channel_id: str) -> Channel | Response:
        """The channel, or the error Discord gives when it is unknown or the bot cannot see it."""
        channel = self.fake.world.channels.get(channel_id)
        if channel is None:
            return _unknown_channel()
        if not self.fake.world.permissions(channel.id) & VIEW_CHANNEL:
            return _missing_access()
        return channel

    async def _get_channel(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            if isinstance(channel, Response):
                return channel
            return JSONResponse(self.fake.world.channel_payload(channel))

    async def _archived_threads(self, request: Request, body: Any) -> Response:
        """A text channel's archived public threads, latest archived first, paged by ``before`` (ISO time)."""
        params = request.query_params
        try:
            limit = int(params.get("limit", "50"))
            before = datetime.fromisoformat(params["before"]) if "before" in params else None
            if before is not None and before.tzinfo is None:
                before = before.replace(tzinfo=UTC)  # Discord reads a time without offset as UTC
        except ValueError:
            return _form_error("before", "DATE_TYPE_PARSE", "Could not parse the time or the limit.")
        if not 2 <= limit <= 100:
            return _form_error("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN", "limit must be 2-100.")
        with self.fake.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            if isinstance(channel, Response):
                return channel
            if not self.fake.world.permissions(channel.id) & READ_MESSAGE_HISTORY:
                return _missing_access()
            threads = [
                self.fake.world.channel_payload(c)
                for c in self.fake.world.channels.values()
                if c.parent_id == channel.id and c.archived
            ]
            threads.sort(key=lambda t: t["thread_metadata"]["archive_timestamp"], reverse=True)
            if before is not None:
                threads = [
                    t for t in threads if datetime.fromisoformat(t["thread_metadata"]["archive_timestamp"]) < before
                ]
            return JSONResponse({"threads": threads[:limit], "members": [], "has_more": len(threads) > limit})

    async def _typing(self, request: Request, body: Any) -> Response:
        with self.fake.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            return channel if isinstance(channel, Response) else Response(status_code=204)

    async def _messages(self, request: Request, body: Any) -> Response:
        if request.method == "POST":
            return self._create_message(request.path_params["channel_id"], body)
        return self._history(request)

    def _history(self, request: Request) -> Response:
        params = request.query_params
        cursors = {k: params[k] for k in ("before", "after", "around") if k in params}
        try:
            limit = int(params.get("limit", "50"))
            values = {k: int(v) for k, v in cursors.items()}
        except ValueError:
            return _form_error(
                "limit" if "limit" in params else next(iter(cursors)), "NUMBER_TYPE_COERCE", "Value is not int."
            )
        if not 1 <= limit <= 100:
            return _form_error("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN", "limit must be 1-100.")
        with self.fake.lock:
            channel = self._visible_channel(request.path_params["channel_id"])
            if isinstance(channel, Response):
                return channel
            if not self.fake.world.permissions(channel.id) & READ_MESSAGE_HISTORY:
                # Discord answers an empty list, not an error, without Read Message History.
                return JSONResponse([])
            # Discord uses one cursor: around, then before, then after.
            if "around" in values:
                found = self.fake.world.history(channel.id, limit=limit, around=values["around"])
            elif "before" in values:
                found = self.fake.world.history(channel.id, limit=limit, before=values["before"])
            elif "after" in values:
                found = self.fake.world.history(channel.id, limit=limit, after=values["after"])
            else:
                found = self.fake.world.history(channel.id, limit=limit)
            return JSONResponse(found)

    def _create_message(self, channel_id: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, 50035, "Invalid Form Body")
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            return _form_error("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        content = content or ""
        if len(content) > MAX_CONTENT:
            return _form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
        nonce = body.get("nonce")
        if nonce is not None and (
            isinstance(nonce, bool) or not isinstance(nonce, str | int) or len(str(nonce)) > MAX_NONCE
        ):
            return _form_error("nonce", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_NONCE} or fewer in length.")
        allowed = body.get("allowed_mentions")
        if allowed is not None:
            problem = _check_allowed_mentions(allowed)
            if problem:
                return _form_error("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", problem)
        with self.fake.lock:
            channel = self._visible_channel(channel_id)
            if isinstance(channel, Response):
                return channel
            needed = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
            if not self.fake.world.permissions(channel.id) & needed:
                return _missing_permissions()
            if channel.is_thread and channel.archived and channel.locked:
                return _error(400, 50083, "Operation cannot be performed on an archived thread")
            if not content and not body.get("embeds") and not body.get("sticker_ids") and not body.get("attachments"):
                return _error(400, 50006, "Cannot send an empty message")
            if nonce is not None and body.get("enforce_nonce"):
                earlier = self._earlier_with_nonce(str(nonce))
                if earlier is not None:
                    self.fake.deduplicated.append(self._sent_record(channel, earlier, body))
                    return JSONResponse({**self.fake.world.rest_message(earlier), "nonce": nonce})
            reference = body.get("message_reference")
            reply_to: str | None = None
            replied_author: str | None = None
            if reference is not None:
                if not isinstance(reference, dict) or "message_id" not in reference:
                    return _form_error("message_reference", "MODEL_TYPE_CONVERT", "Invalid message reference.")
                target = self.fake.world.find_message(str(reference["message_id"]))
                same_guild = (
                    target is not None and self.fake.world.channel(target["channel_id"]).guild_id == channel.guild_id
                )
                if target is None or not same_guild:
                    if reference.get("fail_if_not_exists", True):
                        return _form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                else:
                    reply_to = target["id"]
                    replied_author = target["author"]["id"]
            self.fake.unarchive_for_post(channel.id)
            message = self.fake.world.add_message(
                channel.id,
                self.fake.bot_user_id,
                content,
                reply_to=reply_to,
                extra={"embeds": list(body.get("embeds") or [])},
            )
            if nonce is not None:
                self.fake.nonces[str(nonce)] = (message["id"], time.monotonic())
            self.fake.sent.append(self._sent_record(channel, message, body, replied_author))
            # Discord sends the bot its own message on the gateway too (with the nonce, as in the answer).
            self.fake.dispatch_message("MESSAGE_CREATE", message, nonce=nonce)
            return JSONResponse({**self.fake.world.rest_message(message), "nonce": nonce})

    def _earlier_with_nonce(self, nonce: str) -> dict[str, Any] | None:
        """The bot's message made with ``nonce`` within the window, if it still exists."""
        seen = self.fake.nonces.get(nonce)
        if seen is None or time.monotonic() - seen[1] > self.fake.nonce_window_seconds:
            return None
        return self.fake.world.find_message(seen[0])

    def _sent_record(
        self, channel: Channel, message: dict[str, Any], body: dict[str, Any], replied_author: str | None = None
    ) -> SentMessage:
        content = str(body.get("content") or "")
        allowed = body.get("allowed_mentions")
        return SentMessage(
            channel_id=channel.id,
            message_id=message["id"],
            content=content,
            message_reference=body.get("message_reference"),
            allowed_mentions=allowed,
            pings=pings(self.fake.world, content, allowed, replied_author),
            payload=body,
        )

    async def _message(self, request: Request, body: Any) -> Response:
        channel_id = request.path_params["channel_id"]
        message_id = request.path_params["message_id"]
        with self.fake.lock:
            channel = self._visible_channel(channel_id)
            if isinstance(channel, Response):
                return channel
            try:
                message = channel.messages.get(int(message_id))
            except ValueError:
                message = None
            if message is None:
                return _unknown_message()
            perms = self.fake.world.permissions(channel.id)
            if request.method == "GET":
                if not perms & READ_MESSAGE_HISTORY:
                    return _missing_permissions()
                return JSONResponse(self.fake.world.rest_message(message))
            own = message["author"]["id"] == self.fake.bot_user_id
            if request.method == "PATCH":
                if not own:
                    return _error(403, 50005, "Cannot edit a message authored by another user")
                content = (body or {}).get("content") if isinstance(body, dict) else None
                if isinstance(content, str):
                    if len(content) > MAX_CONTENT:
                        return _form_error(
                            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
                        )
                    message["content"] = content
                message["edited_timestamp"] = iso(int(time.time() * 1000))
                self.fake.dispatch_message("MESSAGE_UPDATE", message)
                return JSONResponse(self.fake.world.rest_message(message))
            # DELETE: the bot's own messages always; anyone else's only with Manage Messages.
            if not own and not perms & MANAGE_MESSAGES:
                return _missing_permissions()
            del channel.messages[int(message_id)]
            self.fake.deleted.append(
                DeletedMessage(
                    channel_id=channel.id,
                    message_id=message["id"],
                    message=message,
                    reason=request.headers.get("x-audit-log-reason"),
                )
            )
            self.fake.gateway.dispatch(
                "MESSAGE_DELETE", {"id": message["id"], "channel_id": channel.id, "guild_id": channel.guild_id}
            )
            return Response(status_code=204)


class _BadBody:
    """A request body that is not valid JSON."""


async def _read_body(request: Request) -> Any:
    """The JSON body, ``payload_json`` of a multipart body, None when empty, or _BadBody."""
    if request.method in ("GET", "DELETE", "HEAD"):
        return None
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        raw = form.get("payload_json")
        try:
            return json.loads(str(raw)) if raw is not None else {}
        except ValueError:
            return _BadBody()
    raw_bytes = await request.body()
    if not raw_bytes:
        return None
    try:
        return json.loads(raw_bytes)
    except ValueError:
        return _BadBody()


def _check_allowed_mentions(allowed: Any) -> str | None:
    """Discord's checks on ``allowed_mentions``: known parse types, not both ``parse`` and an id list."""
    if not isinstance(allowed, dict):
        return "allowed_mentions must be an object."
    parse = allowed.get("parse") or []
    if not isinstance(parse, list) or any(p not in ("users", "roles", "everyone") for p in parse):
        return "parse may contain only users, roles and everyone."
    if "users" in parse and allowed.get("users"):
        return 'parse:["users"] and users: [ids...] are mutually exclusive.'
    if "roles" in parse and allowed.get("roles"):
        return 'parse:["roles"] and roles: [ids...] are mutually exclusive.'
    return None
