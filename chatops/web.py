"""The bot's HTTP surface: ``/slack/events`` (HTTP mode), source webhooks, ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` is liveness (the process answers; no database call, so a database outage never
gets a healthy bot restarted); ``/readyz`` is readiness (the database can take a write now).
A request that meets a database that cannot take a write is answered 503 with
``Retry-After``, never 500: senders (Meta, webhook callers) retry a 503.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatops.db import DatabaseUnavailable
from chatops.inbound_checks import replace_unstorable
from chatops.observability.endpoint import metrics_routes
from chatops.observability.slack_acks import time_http_ack

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from chatops.db import Database
    from chatops.observability.metrics import Metrics

log = logging.getLogger(__name__)

#: Seconds a sender is asked to wait before retrying while the database cannot take a write.
RETRY_AFTER_SECONDS = 10


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the raw body, refusing more than ``limit`` bytes without buffering them."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, message: str) -> JSONResponse:
    """A JSON error answer ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status)


class Rejected(Exception):
    """A webhook request refused before anything is stored; ``response`` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


#: Deepest nesting of arrays and objects a webhook body may have. Meta's deepest is about 6; Python's
#: parser would otherwise recurse until RecursionError (a 500) on ``[[[[…]]]]``.
MAX_JSON_DEPTH = 64
#: Longest number literal accepted. Ids and unix times need at most 20; Python refuses to turn more
#: than 4,300 digits into an int (ValueError, a 500) and overflows on huge ones in date arithmetic.
MAX_NUMBER_LENGTH = 40

#: A JSON string literal (the unrolled-loop form, linear on long strings), for the depth scan.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
#: A JSON escape: ``\\uXXXX`` (its code in group 1) or a backslash and one character.
_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def has_unstorable_escape(text: str) -> bool:
    """True when valid JSON ``text`` decodes to a string holding U+0000 or a lone UTF-16 surrogate.

    Only an escape can put one there (raw control characters are not valid JSON). A surrogate
    *pair* is an ordinary character: Slack writes every emoji that way, and every card carries
    some, so treating pairs as suspect walked each click's whole payload (half a millisecond).
    Escapes are read left to right, so an escaped backslash before ``ud800`` is not taken for one.
    """
    if "\\u" not in text:
        return False
    high_ends_at = -1  # where the escape of a high surrogate waiting for its low half ended
    for escape in _JSON_ESCAPE.finditer(text):
        code = escape.group(1)
        value = int(code, 16) if code is not None else -1
        if high_ends_at >= 0:
            if escape.start() != high_ends_at or not 0xDC00 <= value <= 0xDFFF:
                return True
            high_ends_at = -1
            continue
        if value == 0 or 0xDC00 <= value <= 0xDFFF:
            return True
        if 0xD800 <= value <= 0xDBFF:
            high_ends_at = escape.end()
    return high_ends_at >= 0


class UnacceptableJSON(ValueError):
    """Valid or not, JSON this bot will not parse: too deep, a number too long, NaN or Infinity."""


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays and objects in ``text`` nest deeper than ``limit``, without parsing it.

    Brackets inside strings do not count. Linear in the length and cheap: a body with fewer
    opening brackets than the limit cannot be too deep, so usual payloads are not walked.
    """
    outside = _JSON_STRING.sub("", text)
    if outside.count("[") + outside.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(outside):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise UnacceptableJSON(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise UnacceptableJSON(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise UnacceptableJSON(f"the number {literal} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise UnacceptableJSON(f"{name} is not a JSON number")


def parse_json_body(body: bytes) -> Any:
    """Decode a webhook body with limits set before parsing; ValueError saying why it was refused.

    UTF-8 only (RFC 8259 for JSON between systems). A lone surrogate (``"\\ud800"``, legal JSON
    grammar but not text: it cannot be stored or sent to Slack) becomes U+FFFD, so a customer's
    comment that a platform cut mid-emoji is still shown rather than refused. U+0000 is legal
    JSON and text, but PostgreSQL cannot store it: it becomes U+FFFD too, on SQLite alike.
    """
    text = body.decode("utf-8-sig")
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise UnacceptableJSON(f"arrays and objects nested deeper than {MAX_JSON_DEPTH} levels")
    data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    if has_unstorable_escape(text):
        data = replace_unstorable(data)
    return data


async def read_signed_json(
    request: Request, *, limit: int, signature_header: str, verify: Callable[[bytes, str | None], bool]
) -> Any:
    """The JSON body of a signed webhook, checked in the order that stores nothing on failure.

    Size first (413, without buffering more than ``limit``), then the signature over the
    raw bytes (401; never re-serialised JSON), then JSON syntax and limits (400: see
    :func:`parse_json_body`). Raises :class:`Rejected` carrying the answer.
    """
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        raise Rejected(error(413, f"body over {limit} bytes")) from None
    if not verify(body, request.headers.get(signature_header)):
        raise Rejected(error(401, f"missing or wrong {signature_header}"))
    try:
        return parse_json_body(body)
    except UnacceptableJSON as exc:
        raise Rejected(error(400, f"body is refused: {exc}")) from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Rejected(error(400, f"body is not valid JSON: {exc}")) from None


#: Unix seconds: digits only, and few enough that int() is instant and the value sane.
_SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def slack_header_problem(request: Request) -> str | None:
    """Why a request's Slack signature headers cannot be checked, or None when they are well-formed.

    Exactly one of each header: two differing values would make what is verified ambiguous.
    """
    for name, pattern in (("X-Slack-Request-Timestamp", _SLACK_TIMESTAMP), ("X-Slack-Signature", _SLACK_SIGNATURE)):
        values = request.headers.getlist(name)
        if len(values) != 1 or not pattern.fullmatch(values[0]):
            return f"missing, repeated or malformed {name}"
    return None


def read_slack_body(body: bytes, content_type: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """Why Bolt could not read ``body`` (or None), and the payload as Bolt would parse it, when it is JSON.

    Mirrors ``slack_bolt.request.internals.parse_body``, which trusts the body: JSON when so
    declared or when it starts with ``{``, else the form field ``payload`` when there is one.
    The payload comes back so that Bolt need not parse it a second time (see
    :func:`bolt_request`); a form body without ``payload`` (a slash command) comes back as None.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8", None
    if not text:
        return None, None
    if content_type == "application/json" or text.startswith("{"):
        document: str | None = text
    elif "payload" in text:
        document = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
    else:
        return None, None
    if document is None:
        return None, None
    try:
        parsed = parse_json_body(document.encode("utf-8", "surrogatepass"))
    except UnacceptableJSON as exc:
        return f"payload is refused: {exc}", None
    except ValueError as exc:
        return f"payload is not valid JSON: {exc}", None
    if not isinstance(parsed, dict):
        return "payload must be a JSON object", None
    return slack_payload_problem(parsed), parsed


def bolt_request(request: Request, body: bytes, payload: dict[str, Any] | None) -> AsyncBoltRequest:
    """Bolt's request for ``body``, given the ``payload`` already parsed from it (None: Bolt parses).

    Parsing a card click's payload (the whole card comes with it) was about 40% of the Slack
    path's time on a click, and it was done twice. Bolt takes a parsed body only in Socket Mode, so
    the request is built that way and then made an HTTP one again: its ``raw_body`` is what
    the signature middleware verifies, and ``mode`` decides that it does.
    """
    if payload is None:
        return to_async_bolt_request(request, body)
    made = AsyncBoltRequest(
        body=payload,
        query=request.query_params,  # type: ignore[arg-type]
        headers=request.headers,  # type: ignore[arg-type]
        mode="socket_mode",
    )
    made.raw_body = body.decode("utf-8")
    made.mode = "http"
    return made


#: What Bolt reads from a payload without checking its type (a wrong type raised inside Bolt, which
#: answers 500): top-level ids that may be an object, a string or null (Slack sends ``"enterprise": null``),
#: parts that must be objects, and texts.
#: Only the top level, each action and the view are checked: deeper down (a message's ``user``, an
#: event's ``channel``) Slack itself sends strings where the top level has objects.
_SLACK_ID_OR_OBJECT = ("user", "team", "enterprise", "channel")
_SLACK_OBJECTS = ("container", "view", "message", "event", "state")
_SLACK_TEXTS = (
    "type", "token", "team_id", "user_id", "channel_id", "enterprise_id", "api_app_id", "trigger_id",
    "response_url", "callback_id", "id", "action_id", "block_id", "private_metadata", "hash",
)  # fmt: skip


def slack_payload_problem(payload: dict[str, Any]) -> str | None:
    """The first field of a Slack payload whose type Bolt would trip over, or None."""
    problem = _shape_problem(payload, "payload")
    if problem:
        return problem
    kind = payload.get("type")
    actions = payload.get("actions")
    if kind in ("block_actions", "interactive_message") or actions is not None:
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "payload.actions: must be a non-empty list of objects"
        for i, action in enumerate(actions):
            problem = _shape_problem(action, f"payload.actions[{i}]")
            if problem:
                return problem
            if "action_id" not in action:
                return f"payload.actions[{i}].action_id: is required"
    if kind in ("view_submission", "view_closed") and "view" not in payload:
        return "payload.view: is required"
    view = payload.get("view")
    if isinstance(view, dict):
        missing = [key for key in ("id", "type", "callback_id") if key not in view]
        if missing:
            return f"payload.view.{missing[0]}: is required"
        return _shape_problem(view, "payload.view")
    return None


def _shape_problem(node: dict[str, Any], where: str) -> str | None:
    for key, value in node.items():
        if key in _SLACK_ID_OR_OBJECT and not (value is None or isinstance(value, dict | str)):
            return f"{where}.{key}: must be an object or an id"
        if key in _SLACK_OBJECTS and not isinstance(value, dict):
            return f"{where}.{key}: must be an object"
        if key in _SLACK_TEXTS and not isinstance(value, str):
            return f"{where}.{key}: must be a string"
    return None


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """Answer any request that met a database unable to take a write: 503 with ``Retry-After``.

    The request's transaction was rolled back, so nothing of it is stored; the platform's
    retry (or Slack's) will find the database back.
    """
    reason = exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
    log.warning("%s %s answered 503: database unavailable: %s", request.method, request.url.path, reason)
    return JSONResponse(
        {"error": "the database cannot take a write just now; try again later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def health_routes(db: Database) -> list[BaseRoute]:
    """``GET /healthz`` (liveness) and ``GET /readyz`` (readiness: the database takes a write)."""

    async def healthz(_request: Request) -> Response:
        # Liveness only: the event loop answers. A database outage is /readyz's business;
        # failing here would make an orchestrator restart a bot that recovers by itself.
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            await db.check_writable()
        except DatabaseUnavailable as exc:
            log.warning("readiness: database cannot take a write: %s", exc.reason)
            return JSONResponse(
                {"status": "unavailable", "database": exc.reason},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return JSONResponse({"status": "ready", "database": "writable"})

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]


def build_web(
    *,
    bolt: AsyncApp,
    db: Database,
    slack_mode: str,
    max_body_bytes: int,
    routes: Sequence[BaseRoute],
    metrics: Metrics | None = None,
    serve_metrics: bool = True,
) -> Starlette:
    """The Starlette application for one bot: health, metrics, Slack (in HTTP mode), sources' and plugins' routes.

    With ``metrics``, Slack's acks are timed, and ``GET /metrics`` is served unless ``serve_metrics`` is False.
    """
    served: list[BaseRoute] = health_routes(db)
    if metrics is not None and serve_metrics:
        served.extend(metrics_routes(metrics, db))

    if slack_mode == "http":

        async def slack_events(request: Request) -> Response:
            # Bolt's own checks answer 500 (or raise) on some malformed requests: a non-numeric
            # timestamp (int() in the verifier), a non-ASCII signature (compare_digest on str), a
            # body that is not UTF-8. They are refused here first, with what Slack would be told.
            started = time.perf_counter()
            limit = max_body_bytes
            try:
                body = await read_body(request, limit)
            except BodyTooLarge:
                return error(413, f"body over {limit} bytes")
            problem = slack_header_problem(request)
            if problem is not None:
                return error(401, problem)
            # Bolt's reading of the header (slack_bolt.request.internals.extract_content_type).
            content_type = request.headers.get("content-type", "").split(";")[0] or None
            problem, payload = read_slack_body(body, content_type)
            if problem is not None:
                return error(400, problem)
            try:
                made = bolt_request(request, body, payload)
            except (TypeError, KeyError, IndexError, AttributeError, ValueError) as exc:
                # Bolt reads ids out of the payload as it builds the request, trusting their types.
                return error(400, f"payload is not shaped like a Slack request ({type(exc).__name__})")
            response = to_starlette_response(await bolt.async_dispatch(made))
            if metrics is not None and response.status_code != 401:  # 401: not Slack's, not an ack
                return time_http_ack(response, started, metrics.slack_acked)
            return response

        served.append(Route("/slack/events", slack_events, methods=["POST"]))

    served.extend(routes)
    return Starlette(routes=served, exception_handlers={DatabaseUnavailable: database_unavailable})
