"""What the Facebook Page and Instagram sources share: webhook, polling, ingestion and error handling.

A :class:`MetaSource` subclass says how to read its platform's payloads and how to answer; this base
does the rest the same way for both:

* ``GET /webhooks/<name>``: Meta's subscription handshake (verify token compared in constant time).
* ``POST /webhooks/<name>``: body size limit (413), ``X-Hub-Signature-256`` over the raw bytes (401),
  then the *whole* batch is validated (400 naming the bad field) before anything is stored, so a
  rejected request stores nothing. Meta retries deliveries for 36 hours; duplicates are dropped by
  the core, which stores each comment once by its id.
* Polling: a scheduled job reads recent posts' comments since a cursor kept in the database. Webhook
  and polling hand the same comment ids to the same de-duplicating ingest, so running both is safe.
* Graph failures become :class:`~chatops.sources.SendError` with a message that tells an admin what
  to renew or grant; token and permission problems carry ``alert=`` so the core raises one ops alert
  and keeps the answer queued instead of failing every card.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from apscheduler.triggers.interval import IntervalTrigger
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from chatops.inbound_checks import believable_or_none
from chatops.models import utcnow
from chatops.scheduler import Job
from chatops.sources import (
    Capability,
    Context,
    InboundEvent,
    InboundMessage,
    MessageEdited,
    MessageRemoved,
    SendError,
    Source,
    SourceContext,
    Target,
)
from chatops.web import Rejected, error, read_signed_json

from .client import GraphClient
from .config import MetaConfig
from .errors import (
    PRIVATE_REPLY_ALREADY_SENT,
    GraphError,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    TokenError,
)
from .events import CommentEvent, PayloadError, array, obj, required_id, timestamp
from .signature import SIGNATURE_HEADER, verify, verify_token_matches

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Meta allows one private reply per comment, within 7 days of it.
PRIVATE_REPLY_WINDOW = timedelta(days=7)
#: Messenger's "outside of allowed window" error subcode. (unverified for comment replies)
WINDOW_SUBCODE = 2018278
#: "This person isn't available right now": they blocked the Page or cannot be messaged.
USER_UNAVAILABLE = 551
#: Polling re-reads this much before its cursor: comments can become readable a little after their
#: created_time, and clocks differ. Re-read comments are dropped as duplicates.
POLL_OVERLAP = timedelta(minutes=5)
#: How long a post's text is reused for new cards before it is read again.
CONTEXT_TTL_SECONDS = 600.0
CONTEXT_CACHE_SIZE = 512
#: Posts read from Meta at the same time for one webhook batch.
CONTEXT_READS_AT_ONCE = 10
#: How long a webhook batch waits for posts' texts before it is stored without the missing ones:
#: Meta gives a delivery a few seconds and redelivers what is not answered in time.
CONTEXT_READ_BUDGET_SECONDS = 2.0
#: After a failed read in the webhook path, how long to store cards without asking Meta for the post's
#: text again, so an outage or a dead token does not slow every delivery down by a timeout.
READ_PAUSE_SECONDS = 30.0
#: Ids of comments this process just posted, so their webhook echo is never mistaken for news.
SENT_MEMORY = 1000
#: Longest ``hub.challenge`` echoed (Meta sends a short number).
MAX_CHALLENGE = 256


class MetaSource(Source):
    """A Meta comment source; subclasses supply the platform's payload shapes and answer calls."""

    #: The webhook's ``object`` field: "page" or "instagram".
    webhook_object: ClassVar[str]
    #: What the Page or account is called in messages to admins ("Facebook Page", "Instagram account").
    account_noun: ClassVar[str]
    #: The Meta permission each action needs, named in alerts so an admin knows what to grant.
    permissions: ClassVar[dict[str, str]]
    capabilities = frozenset({Capability.REPLY, Capability.PRIVATE_REPLY, Capability.HIDE})
    private_reply_once = True
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "en": {
            "meta.private_reply_sent": (
                "a private reply was already sent for this comment (Meta allows one per comment)"
            ),
            "meta.private_reply_window": (
                "Meta allows a private reply only within 7 days of the comment, "
                "and this one was written {days} days ago"
            ),
        },
        "fi": {
            "meta.private_reply_sent": (
                "tähän kommenttiin on jo lähetetty yksityisviesti (Meta sallii yhden kommenttia kohden)"
            ),
            "meta.private_reply_window": (
                "Meta sallii yksityisviestin vain 7 päivän sisällä kommentista, "
                "ja tämä kirjoitettiin {days} päivää sitten"
            ),
        },
        "pl": {
            "meta.private_reply_sent": (
                "do tego komentarza wysłano już prywatną wiadomość (Meta pozwala na jedną na komentarz)"
            ),
            "meta.private_reply_window": (
                "Meta pozwala na prywatną odpowiedź tylko w ciągu 7 dni od komentarza, a ten napisano {days} dni temu"
            ),
        },
    }

    def __init__(self, config: MetaConfig) -> None:
        self.config = config
        self.display_name = config.display_name  # type: ignore[misc]
        self.inbox_channel = config.channel
        self.max_reply_length = config.max_reply_length
        # Read by the core's Move to DM dialog: offer the public "we've sent you a message" note.
        self.private_reply_notice = config.private_reply_notice
        self._ctx: SourceContext | None = None
        self._graph: GraphClient | None = None
        self._contexts: OrderedDict[str, tuple[float, Context]] = OrderedDict()
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._channel_name: str | None = None
        self._reads_paused_until = 0.0

    # -- what subclasses provide -----------------------------------------------------------

    @property
    def account_id(self) -> str:
        """The Page or Instagram account id this source serves (webhook ``entry[].id``)."""
        raise NotImplementedError

    def parse_change(
        self, account_id: str, field: str, value: dict[str, Any], where: str, entry_time: datetime | None
    ) -> CommentEvent | None:
        """Turn one webhook ``changes[]`` item into an event; None for changes that are not comments.

        Raise :class:`PayloadError` for a comment change without the documented fields.
        """
        raise NotImplementedError

    async def fetch_context(self, graph: GraphClient, container_id: str) -> Context:
        """Read the post (or media) a comment is on: its text and link."""
        raise NotImplementedError

    async def fetch_channel_name(self, graph: GraphClient) -> str | None:
        """Read the name the cards show for the account (the Page's name, the @username)."""
        raise NotImplementedError

    async def fetch_since(self, graph: GraphClient, since: datetime) -> list[CommentEvent]:
        """Polling: every comment on recent posts created at or after ``since``."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def webhook_path(self) -> str:
        """Where Meta delivers this source's webhooks."""
        return f"/webhooks/{self.name}"

    @property
    def poll_job_id(self) -> str:
        """The scheduled polling job's id."""
        return f"{self.name}.poll"

    def routes(self) -> Sequence[BaseRoute]:
        """``GET`` (subscription handshake) and ``POST`` (events) on the webhook path."""
        if not self.config.webhook:
            return ()
        return [Route(self.webhook_path, self.webhook, methods=["GET", "POST"])]

    def jobs(self) -> Sequence[Job]:
        """The polling job, when polling is on."""
        if not self.config.polling:
            return ()
        trigger = IntervalTrigger(seconds=self.config.poll_interval_seconds)
        return [Job(self.poll_job_id, trigger, self._poll_job)]

    async def start(self, ctx: SourceContext) -> None:
        """Keep the plugin's context and open the Graph client."""
        self._ctx = ctx
        cfg = self.config
        self._graph = GraphClient(
            access_token=cfg.secret("page_access_token"),
            base_url=cfg.graph_api_url,
            api_version=cfg.api_version,
            timeout=cfg.timeout_seconds,
            app_secret=(cfg.secret("app_secret") or None) if cfg.appsecret_proof else None,
        )

    async def stop(self) -> None:
        """Close the Graph client."""
        if self._graph is not None:
            await self._graph.aclose()
            self._graph = None

    @property
    def graph(self) -> GraphClient:
        """The running Graph client."""
        if self._graph is None:
            raise SendError(f"{self.display_name} source is not started", retryable=True)
        return self._graph

    # -- webhook -----------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """Answer the subscription handshake (GET) or receive a batch of events (POST)."""
        if request.method == "GET":
            return self._handshake(request)
        return await self._receive(request)

    def _handshake(self, request: Request) -> Response:
        """Echo ``hub.challenge`` only when ``hub.verify_token`` is ours (403 otherwise)."""
        params = request.query_params
        if params.get("hub.mode") != "subscribe" or not verify_token_matches(
            self.config.secret("verify_token"), params.get("hub.verify_token")
        ):
            return error(403, "hub.mode must be subscribe and hub.verify_token must match verify_token")
        challenge = params.get("hub.challenge")
        if not challenge or len(challenge) > MAX_CHALLENGE:
            return error(400, "hub.challenge is missing or too long")
        return PlainTextResponse(challenge)

    async def _receive(self, request: Request) -> Response:
        """Verify, validate the whole batch, then store it. 413, 401 and 400 store nothing."""
        if self._ctx is None:
            return error(503, "not started")
        try:
            data = await read_signed_json(
                request,
                limit=self.config.max_body_bytes,
                signature_header=SIGNATURE_HEADER,
                verify=lambda body, header: verify(self.config.secret("app_secret"), body, header),
            )
        except Rejected as rejected:
            return rejected.response
        try:
            events = self.parse_webhook(data)
        except PayloadError as exc:
            return error(400, str(exc))
        counts = await self.apply(events)
        return JSONResponse(counts)

    def parse_webhook(self, data: Any) -> list[CommentEvent]:
        """Every comment event of a webhook body, in order; PayloadError for any malformed part.

        Entries of other accounts (an app subscribed to several Pages) and changes that are not
        comments (likes, posts, reactions) are skipped, not errors.
        """
        body = obj(data, "body")
        if body.get("object") != self.webhook_object:
            raise PayloadError(f"object: must be {self.webhook_object!r}, got {body.get('object')!r}")
        events: list[CommentEvent] = []
        for i, raw_entry in enumerate(array(body, "entry", "body")):
            where = f"entry[{i}]"
            entry = obj(raw_entry, where)
            account_id = required_id(entry, "id", where)
            entry_time = timestamp(entry, "time", where)
            # Messenger-style entries carry "messaging" instead of "changes"; they are not comments.
            for j, raw_change in enumerate(array(entry, "changes", where, required=False)):
                cwhere = f"{where}.changes[{j}]"
                change = obj(raw_change, cwhere)
                field = change.get("field")
                if not isinstance(field, str):
                    raise PayloadError(f"{cwhere}.field: is required")
                value = obj(change.get("value"), f"{cwhere}.value")
                event = self.parse_change(account_id, field, value, f"{cwhere}.value", entry_time)
                if event is None:
                    continue
                if account_id != self.account_id:
                    log.info("%s webhook: skipping an event of account %s", self.name, account_id)
                    continue
                events.append(event)
        return events

    # -- ingestion ---------------------------------------------------------------------------

    async def apply(self, events: Sequence[CommentEvent]) -> dict[str, int]:
        """Hand events to the core in order; return how many were stored, duplicates, updates, ignored.

        The events are stored in one transaction (all or none, before the webhook is answered), split
        only around an edit, whose outcome decides whether it must be stored as a new comment.
        """
        ctx = self._require_ctx()
        counts = {"received": len(events), "stored": 0, "duplicates": 0, "updated": 0, "ignored": 0}
        if not events:
            return counts
        channel_name = await self._get_channel_name()
        # Only comments that may start a card need the post's text.
        wanted = [e.container_id for e in events if e.verb != "remove" and not e.from_account and e.context is None]
        contexts = await self._contexts_for(wanted)
        run: list[InboundEvent] = []
        for event in events:
            if event.verb == "edit" and not event.from_account:
                await self._store_run(ctx, run, counts)
                run = []
                counts[await self._apply_edit(ctx, event, contexts, channel_name)] += 1
                continue
            inbound = self._inbound(event, contexts, channel_name)
            if isinstance(inbound, str):
                counts[inbound] += 1
            else:
                run.append(inbound)
        await self._store_run(ctx, run, counts)
        return counts

    async def _store_run(self, ctx: SourceContext, run: Sequence[InboundEvent], counts: dict[str, int]) -> None:
        """Store consecutive events in one transaction and count what each one did."""
        if not run:
            return
        for inbound, result in zip(run, await ctx.ingest_many(run), strict=True):
            if isinstance(inbound, MessageRemoved):
                counts["updated" if result.conversation_id is not None else "ignored"] += 1
            elif result.duplicate:
                counts["duplicates"] += 1
            else:
                # The account's own comment outside any customer thread is not work (no loops).
                counts["stored" if result.message_id is not None else "ignored"] += 1

    async def _apply_edit(
        self, ctx: SourceContext, event: CommentEvent, contexts: dict[str, Context], channel_name: str | None
    ) -> str:
        found = await ctx.ingest(MessageEdited(self.name, event.comment_id, event.text))
        if found.conversation_id is not None:
            return "updated"
        # An edit of a comment never seen: its "add" was lost or is still being retried by
        # Meta. Store it now, with the current text; the late "add" will be a duplicate.
        inbound = self._inbound(event, contexts, channel_name)
        assert isinstance(inbound, InboundMessage)
        result = await ctx.ingest(inbound)
        if result.duplicate:
            return "duplicates"
        return "stored" if result.message_id is not None else "ignored"

    def _inbound(
        self, event: CommentEvent, contexts: dict[str, Context], channel_name: str | None
    ) -> InboundEvent | str:
        """The core's event for a comment event, or the count it falls under when there is nothing to store."""
        if event.verb == "remove":
            if event.from_account:
                return "ignored"  # the Page removing its own comment is not a customer's doing
            return MessageRemoved(self.name, event.comment_id)
        if event.verb == "edit" and event.from_account:
            return "ignored"
        if event.from_account and event.comment_id in self._sent:
            return "duplicates"  # our own reply, echoed back by the webhook
        context = event.context or contexts.get(event.container_id)
        if context is None and event.container_url:
            context = Context(None, event.container_url)
        return InboundMessage(
            source=self.name,
            external_id=event.comment_id,
            thread_id=event.thread_id,
            text=event.text,
            author=event.author,
            url=event.permalink,
            created_at=believable_or_none(event.created_at),
            channel_name=channel_name,
            context=context,
            extra={
                "account_id": event.account_id,
                "container_id": event.container_id,
                "parent_id": event.parent_id,
                **event.extra,
            },
            from_account=event.from_account,
        )

    async def _contexts_for(self, container_ids: Iterable[str]) -> dict[str, Context]:
        """The post behind each id, read once per post and cached, several at a time, within a time budget.

        A batch of comments on 400 posts read one after another took 400 round trips to Meta before
        the webhook was answered. Posts not read within :data:`CONTEXT_READ_BUDGET_SECONDS` (and all
        of them after a failure) are left out: their cards show the post's link instead of its text.
        """
        found: dict[str, Context] = {}
        now = time.monotonic()
        missing: list[str] = []
        for container_id in dict.fromkeys(container_ids):
            cached = self._contexts.get(container_id)
            if cached is not None and cached[0] > now:
                found[container_id] = cached[1]
            else:
                missing.append(container_id)
        if not missing or self._reads_paused():
            return found
        slots = asyncio.Semaphore(CONTEXT_READS_AT_ONCE)
        failures: list[GraphError] = []

        async def read(container_id: str) -> None:
            async with slots:
                if failures:
                    return  # an outage or a dead token: do not wait for every other read to fail too
                try:
                    context = await self.fetch_context(self.graph, container_id)
                except GraphError as exc:
                    failures.append(exc)
                    return
            self.remember_context(container_id, context)
            found[container_id] = context

        tasks = [asyncio.create_task(read(container_id)) for container_id in missing]
        _done, late = await asyncio.wait(tasks, timeout=CONTEXT_READ_BUDGET_SECONDS)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
            log.info(
                "%s: %d posts not read within %.1f s; their cards show a link",
                self.name,
                len(late),
                CONTEXT_READ_BUDGET_SECONDS,
            )
        if failures:
            # Cards still arrive without the post's text; the failure is an admin's business.
            await self._read_failed(failures[0], "reading the post a comment is on")
            self._pause_reads()
        return dict(found)

    def remember_context(self, container_id: str, context: Context) -> None:
        """Cache a post's text and link (polling reads them anyway)."""
        self._contexts[container_id] = (time.monotonic() + CONTEXT_TTL_SECONDS, context)
        self._contexts.move_to_end(container_id)
        while len(self._contexts) > CONTEXT_CACHE_SIZE:
            self._contexts.popitem(last=False)

    async def _get_channel_name(self) -> str | None:
        """The account's name for cards: configured, or read once from the Graph API."""
        if self._channel_name is None and not self._reads_paused():
            try:
                self._channel_name = await self.fetch_channel_name(self.graph)
            except GraphError as exc:
                await self._read_failed(exc, f"reading the {self.account_noun}'s name")
                self._pause_reads()
        return self._channel_name

    def _reads_paused(self) -> bool:
        return time.monotonic() < self._reads_paused_until

    def _pause_reads(self) -> None:
        self._reads_paused_until = time.monotonic() + READ_PAUSE_SECONDS

    def remember_sent(self, comment_id: str) -> None:
        """Note a comment this process posted, so its webhook echo is recognised."""
        self._sent[comment_id] = None
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)

    # -- polling -----------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str:
        """The source_state key of the polling cursor (per account, so switching Pages starts fresh)."""
        return f"poll_cursor:{self.account_id}"

    async def _poll_job(self, due_at: datetime) -> None:
        await self.poll()

    async def poll(self) -> dict[str, int]:
        """One polling pass: comments since the stored cursor, ingested; then the cursor moves on.

        The cursor is the newest comment time seen. It only moves after everything read was stored,
        so a failed pass is simply repeated by the next one.
        """
        ctx = self._require_ctx()
        raw = await ctx.state.get(self.cursor_key)
        cursor = _parse_cursor(raw)
        since = cursor - POLL_OVERLAP if cursor else utcnow() - timedelta(hours=self.config.poll_lookback_hours)
        try:
            events = await self.fetch_since(self.graph, since)
        except GraphError as exc:
            await self._read_failed(exc, "polling for new comments")
            raise
        # A pass that could read proves the token and the read permissions work again.
        await ctx.alerts.clear("token", "permission:read")
        events.sort(key=lambda e: (e.created_at or since, e.parent_id is not None))
        counts = await self.apply(events)
        newest = max((e.created_at for e in events if e.created_at), default=None)
        mark = max(filter(None, (newest, cursor)), default=since)
        if mark != cursor:
            await ctx.state.set(self.cursor_key, mark.astimezone(UTC).isoformat())
        log.info("%s poll since %s: %s", self.name, since.isoformat(), counts)
        return counts

    # -- answers -----------------------------------------------------------------------------

    def unavailable_reason(self, capability: Capability, target: Target) -> str | None:
        """Private replies: once per comment, within 7 days of it."""
        if capability is Capability.PRIVATE_REPLY:
            if "private_reply" in target.answered_kinds:
                return self.t("meta.private_reply_sent")
            if target.created_at is not None:
                age = utcnow() - _aware(target.created_at)
                if age > PRIVATE_REPLY_WINDOW:
                    return self.t("meta.private_reply_window", days=age.days)
        return None

    def send_error(self, exc: GraphError, action: str) -> SendError:
        """The SendError for a failed Graph call: what failed, whether to retry, what an admin must do."""
        refusal = self._known_refusal(exc, action)
        if refusal is not None:
            return SendError(refusal, retryable=False)
        if isinstance(exc, TokenError):
            return SendError(self._token_problem(exc), retryable=True, alert="token")
        if isinstance(exc, PermissionDenied):
            return SendError(self._permission_problem(exc, action), retryable=True, alert=f"permission:{action}")
        if isinstance(exc, RateLimited):
            return SendError(str(exc), retryable=True, retry_after=exc.retry_after)
        return SendError(str(exc), retryable=exc.retryable)

    def _known_refusal(self, exc: GraphError, action: str) -> str | None:
        """A plain explanation of Meta's documented refusals of a private reply (no alert, no retry)."""
        if action != "private_reply":
            return None
        if exc.subcode == WINDOW_SUBCODE or (exc.code == 10 and "window" in exc.message.lower()):
            return f"Meta refused the private reply: the 7-day window has passed. Meta said: {exc.message}"
        if exc.code == PRIVATE_REPLY_ALREADY_SENT:
            return f"Meta says a private reply was already sent for this comment. Meta said: {exc.message}"
        if exc.code == USER_UNAVAILABLE:
            return f"This person cannot receive messages from the {self.account_noun}. Meta said: {exc.message}"
        return None

    def _config_key(self, key: str) -> str:
        return f"plugins.{self.name}.{key} (env CHATOPS_PLUGINS__{self.name.upper()}__{key.upper()})"

    def _token_problem(self, exc: GraphError) -> str:
        return (
            f"the Page access token used for {self.account_noun} {self.account_id} was rejected (expired, "
            "revoked or invalid): an admin must issue a new "
            f"one and set {self._config_key('page_access_token')}, then restart chatops. "
            f"Meta said: {exc.message}{_code(exc)}"
        )

    def _permission_problem(self, exc: GraphError, action: str) -> str:
        needed = self.permissions.get(action, "the permissions listed in docs/facebook-instagram.md")
        return (
            f"Meta refused {action.replace('_', ' ')} for lack of permission: an admin must grant {needed} "
            f"to the Meta app and issue a new Page access token "
            f"({self._config_key('page_access_token')}). Meta said: {exc.message}{_code(exc)}"
        )

    async def _read_failed(self, exc: GraphError, doing: str) -> None:
        """Token and permission failures while reading raise the same one-time alert as sends."""
        ctx = self._require_ctx()
        if isinstance(exc, TokenError | PermissionDenied):
            problem = self.send_error(exc, "read")
            assert problem.alert is not None
            await ctx.alerts.raise_once(problem.alert, str(problem))
        log.warning("%s: %s failed: %s", self.name, doing, exc)

    def _require_ctx(self) -> SourceContext:
        if self._ctx is None:
            raise RuntimeError(f"{self.name} source is not started")
        return self._ctx

    async def _call_once(self, action: str, call: Awaitable[T]) -> T:
        """Like :meth:`_call`, for a call that must not be repeated blindly (it posts in public).

        When Meta's answer is lost, Meta may have done it: the failure is final and says to check
        the platform, instead of a retry that could post it again.
        """
        try:
            return await call
        except OutcomeUnknown as exc:
            error = self.send_error(exc, action)
            raise SendError(
                f"{error} It may have been posted anyway: check {self.display_name} before pressing Retry.",
                retryable=False,
            ) from None
        except GraphError as exc:
            raise self.send_error(exc, action) from None
        except ValueError as exc:
            raise SendError(f"cannot {action.replace('_', ' ')}: {exc}", retryable=False) from None

    async def _call(self, action: str, call: Awaitable[T]) -> T:
        """Await a Graph call, turning its failure into the SendError the delivery worker expects."""
        try:
            return await call
        except GraphError as exc:
            raise self.send_error(exc, action) from None
        except ValueError as exc:  # an id the client refuses to put in a path
            raise SendError(f"cannot {action.replace('_', ' ')}: {exc}", retryable=False) from None


def _code(exc: GraphError) -> str:
    if exc.code is None:
        return ""
    return f" (code {exc.code}" + (f"/{exc.subcode}" if exc.subcode else "") + ")"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _parse_cursor(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return _aware(datetime.fromisoformat(raw))
    except ValueError:
        log.warning("ignoring an unreadable polling cursor %r", raw)
        return None


__all__ = ["PRIVATE_REPLY_WINDOW", "MetaSource"]
