"""``TestBot``: the real bot, driven over real HTTP, so tests read like conversations.

    async with TestBot(fake_slack, database_url) as bot:
        anna = bot.person("Anna")
        await bot.comment("Where is my order?")
        card = await bot.next_card()
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)

The bot runs in HTTP mode on 127.0.0.1 with a real uvicorn server; Slack interactions
are signed with the signing secret, and everything the bot sends to Slack lands in a
:class:`FakeSlack`. Comments arrive through the bot's customer side, which a source
plugin provides (:mod:`chatops.testing.customers`): the kit itself names no plugin.
Third-party plugin authors use the same class (pass ``extra_plugins``, ``plugins``,
``customer`` and ``config``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import func, or_, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatops.app import ChatOps
from chatops.config import Settings, parse_settings
from chatops.models import Message, OutboxJob, OutboxStatus, utcnow
from chatops.server import serve_in_background
from chatops.slack.card import ACTION_PREFIX, METADATA_EVENT_TYPE
from chatops.slack.posting import SUBSCRIBED_EVENT_TYPES
from chatops.sockets import bind
from chatops.testing.customers import Customer, CustomerFactory, NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.server import ThreadedServer
from chatops.testing.slack_requests import (
    block_actions_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SIGNING_SECRET = "test-signing-secret"  # noqa: S105 - a test fixture value
INBOX = "CINBOX"
ESCALATIONS = "CESCALATE"
OPS = "COPS"
LEADS = ("ULEAD", "SLEADS")


@dataclass(frozen=True, slots=True)
class Person:
    """A member of the Slack workspace."""

    id: str
    name: str


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_card(message: dict[str, Any]) -> bool:
    """A conversation's card (other posts may carry metadata of their own)."""
    return (message.get("metadata") or {}).get("event_type") == METADATA_EVENT_TYPE


def block_text(blocks: list[dict[str, Any]]) -> str:
    """All text a person can read in ``blocks``, one block per line (mrkdwn as sent)."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                lines.append(node["text"])
                return
            for key, value in node.items():
                if key not in ("confirm",):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(lines)


class Card:
    """A card as the fake Slack holds it now (every property reads the latest version)."""

    def __init__(self, bot: TestBot, channel: str, ts: str) -> None:
        self.bot = bot
        self.channel = channel
        self.ts = ts

    @property
    def message(self) -> dict[str, Any]:
        """The current message (text, blocks, metadata)."""
        return self.bot.slack.message(self.channel, self.ts)

    @property
    def text(self) -> str:
        """Everything readable on the card."""
        return block_text(self.message.get("blocks") or [])

    @property
    def conversation_id(self) -> int:
        """The conversation id carried in the message metadata."""
        return int(self.message["metadata"]["event_payload"]["conversation_id"])

    @property
    def buttons(self) -> dict[str, dict[str, Any]]:
        """Buttons by name (action_id without the ``chatops:`` prefix and any ``:suffix``)."""
        found: dict[str, dict[str, Any]] = {}
        for block in self.message.get("blocks") or []:
            elements = list(block.get("elements") or [])
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                action = element.get("action_id", "")
                if element.get("type") == "button" and action.startswith(ACTION_PREFIX):
                    found[action[len(ACTION_PREFIX) :].split(":")[0]] = {
                        **element,
                        "block_id": block.get("block_id"),
                    }
        return found

    def thread(self) -> list[dict[str, Any]]:
        """Replies in the card's thread, oldest first."""
        return self.bot.slack.thread(self.channel, self.ts)

    def thread_text(self) -> str:
        """Everything readable in the thread."""
        return "\n".join(block_text(m.get("blocks") or []) or m.get("text", "") for m in self.thread())

    async def wait_for(self, predicate: Callable[[Card], bool], timeout: float = 5.0) -> Card:  # noqa: ASYNC109
        """Wait until ``predicate(card)`` holds; fails with the card's text if it never does."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"card never matched; it reads:\n{self.text}\nthread:\n{self.thread_text()}")
            await asyncio.sleep(0.02)
        return self


class CallbackReceiver:
    """A sender's reply_url: records the team's replies; can be told to fail."""

    def __init__(self, reply_id: str | None = None) -> None:
        #: When set, every accepted reply is answered with this id (a receiver that reuses ids).
        self.reply_id = reply_id
        self.received: list[dict[str, Any]] = []
        self._failures: list[tuple[int, str]] = []
        self._server = ThreadedServer(Starlette(routes=[Route("/reply", self._receive, methods=["POST"])]))

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        entry = {"body": json.loads(body), "headers": dict(request.headers), "raw": body}
        if self._failures:
            status, text = self._failures.pop(0)
            entry["answered"] = status
            self.received.append(entry)
            return Response(text, status_code=status)
        entry["answered"] = 200
        self.received.append(entry)
        number = len(self.received)
        return JSONResponse({"id": self.reply_id or f"reply-{number}", "url": f"https://example.test/r/{number}"})

    def fail_next(self, status: int = 500, text: str = "server error", times: int = 1) -> None:
        """Answer the next ``times`` replies with ``status``."""
        self._failures.extend([(status, text)] * times)

    @property
    def url(self) -> str:
        """The URL to give as ``reply_url``."""
        return self._server.base_url + "/reply"

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Bodies of replies answered with 200."""
        return [e["body"] for e in self.received if e["answered"] == 200]

    async def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Wait until ``count`` replies were accepted."""
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} accepted replies, got {self.received}")
            await asyncio.sleep(0.02)
        return self.accepted

    def start(self) -> None:
        """Start serving."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()


class TestBot:
    """The real ChatOps app under test, served on loopback."""

    __test__ = False  # not a pytest test class

    #: The customer side of bots built without ``customer=``; a suite sets it once in conftest.py.
    default_customer: ClassVar[CustomerFactory | None] = None

    def __init__(
        self,
        slack: FakeSlack,
        database_url: str,
        *,
        config: Mapping[str, Any] | None = None,
        extra_plugins: Mapping[str, object] | None = None,
        plugins: Sequence[str] | None = None,
        customer: CustomerFactory | None = None,
        instance_id: str = "test",
        deliver: bool = True,
        metadata_events: bool = True,
    ) -> None:
        """Describe the bot; :meth:`start` (or ``async with``) builds and serves it.

        Args:
            slack: the fake Slack the bot talks to.
            database_url: a migrated database (see the ``database_url`` fixture).
            config: settings merged over the test defaults (``plugins.enabled`` here wins too).
            extra_plugins: plugin objects by name, loaded beside the installed ones (enable them by name).
            plugins: the plugins to enable; default: those the customer side needs.
            customer: builds the customer side (:mod:`chatops.testing.customers`); default:
                :attr:`default_customer`, else :class:`~chatops.testing.customers.NoCustomer`.
            instance_id: this replica's id (several bots may share one database).
            deliver: run the delivery worker.
            metadata_events: have the fake send ``message_metadata_posted`` to this bot.
        """
        self.slack = slack
        #: Whether the fake Slack sends ``message_metadata_posted`` to this bot, as the manifest subscribes.
        self.metadata_events = metadata_events
        self.events_url: str | None = None
        self.database_url = database_url
        self._config = dict(config or {})
        self.extra_plugins = extra_plugins
        factory = customer or type(self).default_customer or NoCustomer
        #: The customer side: how a comment reaches this bot (see :mod:`chatops.testing.customers`).
        self.customer: Customer = factory(self)
        #: The plugins enabled in :attr:`settings` (before ``config``, which may name others).
        self.plugins = list(plugins if plugins is not None else self.customer.plugins)
        self.instance_id = instance_id
        self.deliver = deliver
        self.app: ChatOps | None = None
        self.http: httpx.AsyncClient | None = None
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._known_cards: set[str] = set()

    @property
    def settings(self) -> Settings:
        """The settings the bot runs with: HTTP mode against the fake, plus ``config``."""
        base = {
            "team": {"timezone": "Europe/Helsinki", "language": "en"},
            "slack": {
                "mode": "http",
                "bot_token": self.slack.bot_token,
                "signing_secret": SIGNING_SECRET,
                "api_url": self.slack.api_url,
                "inbox_channel": INBOX,
                "escalation_channel": ESCALATIONS,
                "escalation_leads": list(LEADS),
                "ops_channel": OPS,
                "post_interval_seconds": 0.0,
            },
            "database": {"url": self.database_url},
            "http": {"host": "127.0.0.1", "port": 0},
            "delivery": {
                "poll_interval_seconds": 0.05,
                "backoff_base_seconds": 0.05,
                "backoff_max_seconds": 0.5,
                # Slack's metadata event arrives within milliseconds from the fake.
                "reconcile_seconds": 1.0,
            },
            "plugins": {"enabled": list(self.plugins)},
        }
        return parse_settings(_merge(_merge(base, self.customer.config), self._config), environ={})

    async def start(self) -> TestBot:
        """Build the app, start it, and serve it on a free loopback port."""
        self.app = ChatOps(self.settings, extra_plugins=self.extra_plugins, instance_id=self.instance_id)
        await self.app.start(deliver=self.deliver)
        sock = bind("127.0.0.1", 0)
        self._server, self._task = await serve_in_background(self.app, sock)
        port = sock.getsockname()[1]
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
        if self.metadata_events:
            self.events_url = f"http://127.0.0.1:{port}/slack/events"
            self.slack.subscribe_events(self.events_url, SIGNING_SECRET, metadata_event_types=SUBSCRIBED_EVENT_TYPES)
        return self

    async def stop(self) -> None:
        """Stop serving and stop the app (pending outbox rows stay in the database)."""
        if self.events_url is not None:
            self.slack.unsubscribe_events(self.events_url)
            self.events_url = None
        if self.http is not None:
            await self.http.aclose()
        if self._server is not None:
            self._server.should_exit = True
            assert self._task is not None
            await self._task
        if self.app is not None:
            await self.app.stop()
        self.app = self.http = self._server = self._task = None

    async def __aenter__(self) -> TestBot:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- people ----------------------------------------------------------------------

    def person(self, name: str) -> Person:
        """A workspace member named ``name`` (id ``U`` + upper-case name)."""
        person = Person(f"U{name.upper()}", name)
        self.slack.add_user(person.id, name=name.lower(), real_name=name, display_name=name)
        return person

    # -- the customer side ---------------------------------------------------------

    async def comment(self, text: str, **fields: Any) -> httpx.Response:
        """A customer's message arrives through this bot's customer side; fails the test unless it is stored."""
        return await self.customer.comment(text, **fields)

    def comment_payload(self, text: str, **fields: Any) -> dict[str, Any]:
        """A customer's message in the customer side's own shape (for :meth:`webhook`)."""
        return self.customer.payload(text, **fields)

    async def webhook(self, payload: Mapping[str, Any] | bytes, **options: Any) -> httpx.Response:
        """Deliver ``payload`` as the customer side's source would (``options`` are the customer's, e.g. ``secret``)."""
        return await self.customer.send(payload, **options)

    # -- the Slack side --------------------------------------------------------------

    async def next_card(self, channel: str = INBOX, timeout: float = 5.0) -> Card:  # noqa: ASYNC109
        """Wait for a card this test has not seen yet in ``channel``."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.slack.top_level_messages(channel):
                if message["ts"] not in self._known_cards and _is_card(message):
                    self._known_cards.add(message["ts"])
                    return Card(self, channel, message["ts"])
            if time.monotonic() > deadline:
                raise AssertionError(f"no new card in {channel}; calls: {[c.method for c in self.slack.calls[-10:]]}")
            await asyncio.sleep(0.02)

    def cards(self, channel: str = INBOX) -> list[Card]:
        """Every card in ``channel``."""
        return [Card(self, channel, m["ts"]) for m in self.slack.top_level_messages(channel) if _is_card(m)]

    async def slack_request(self, body: str) -> httpx.Response:
        """POST a signed interaction to ``/slack/events``."""
        assert self.http is not None
        return await self.http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))

    async def command(self, person: Person, command: str, text: str = "", *, channel: str = INBOX) -> httpx.Response:
        """``person`` types ``command text`` in ``channel`` (a signed slash command); returns the bot's answer.

        A listener that answers with ``ack(text=...)`` shows that text to the person only:
        it is the response's body (``response.text``).
        """
        body = slash_command_body(
            command=command,
            text=text,
            user_id=person.id,
            user_name=person.name.lower(),
            channel_id=channel,
            trigger_id=self.slack.new_trigger_id(person.id),
        )
        return await self.slack_request(body)

    async def replay_request(
        self, body: str, times: int, *, concurrently: bool = False, to: TestBot | None = None
    ) -> list[httpx.Response]:
        """POST the very same signed interaction ``times`` times, as a replay within Slack's 5 minutes would.

        One signature (same timestamp, same body) for every copy. ``concurrently`` sends
        them all at once; ``to`` sends every second copy to another replica on the same
        database. Fails unless every copy got the same answer (status and body).
        """
        assert self.http is not None
        headers = signed_headers(SIGNING_SECRET, body)
        targets = [self if i % 2 == 0 or to is None else to for i in range(times)]

        async def send(bot: TestBot) -> httpx.Response:
            assert bot.http is not None
            return await bot.http.post("/slack/events", content=body, headers=headers)

        if concurrently:
            responses = list(await asyncio.gather(*(send(bot) for bot in targets)))
        else:
            responses = [await send(bot) for bot in targets]
        answers = {(r.status_code, r.content) for r in responses}
        assert len(answers) == 1, f"a replay was answered differently: {answers}"
        return responses

    async def click(
        self,
        person: Person,
        card: Card,
        button: str,
        *,
        replay: int = 1,
        concurrently: bool = False,
        to: TestBot | None = None,
    ) -> httpx.Response:
        """``person`` presses ``button`` on ``card`` (a signed block_actions request).

        ``replay=3`` delivers the same signed click three times (see :meth:`replay_request`).
        """
        buttons = card.buttons
        assert button in buttons, f"no {button!r} button on the card; it has {sorted(buttons)}"
        element = buttons[button]
        body = block_actions_body(
            user_id=person.id,
            user_name=person.name.lower(),
            channel_id=card.channel,
            message_ts=card.ts,
            action_id=element["action_id"],
            value=element.get("value", ""),
            block_id=element.get("block_id") or "actions",
            trigger_id=self.slack.new_trigger_id(person.id),
            message=card.message,
        )
        response = (await self.replay_request(body, replay, concurrently=concurrently, to=to))[0]
        assert response.status_code == 200, response.text
        return response

    async def open_modal(self, person: Person, card: Card, button: str) -> dict[str, Any]:
        """Press ``button`` and return the modal the bot opened."""
        before = len(self.slack.views())
        await self.click(person, card, button)
        calls = await self.slack.wait_for("views.open", lambda c: c.ok, count=before + 1)
        return calls[-1].response["view"]

    async def submit(
        self,
        person: Person,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        replay: int = 1,
        concurrently: bool = False,
        to: TestBot | None = None,
    ) -> httpx.Response:
        """``person`` submits ``view`` with ``values`` ({block_id: {action_id: value}}).

        ``replay=3`` delivers the same signed submission three times (see :meth:`replay_request`).
        """
        body = view_submission_body(user_id=person.id, user_name=person.name.lower(), view=view, values=values)
        return (await self.replay_request(body, replay, concurrently=concurrently, to=to))[0]

    async def reply(self, person: Person, card: Card, text: str, button: str = "reply") -> httpx.Response:
        """``person`` presses Reply, types ``text`` and sends it."""
        view = await self.open_modal(person, card, button)
        return await self.submit(person, view, {"text": {"text": text}})

    async def reply_while_delivery_stopped(self, person: Person, card: Card, text: str) -> Message:
        """Stop the delivery worker once the card settles (a crash, a deploy), then reply: stored, not sent."""
        assert self.app is not None
        await self.idle()
        await self.app.delivery.stop()
        await self.reply(person, card, text)
        return await self.stored_answer()

    async def stored_answer(self, timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        """The latest team answer in the database, waiting for it (a modal is acknowledged before it is stored)."""
        assert self.app is not None
        deadline = time.monotonic() + timeout
        while True:
            async with self.app.db.read() as session:
                answer = await session.scalar(
                    select(Message).where(Message.direction == "outbound").order_by(Message.id.desc()).limit(1)
                )
            if answer is not None:
                return answer
            if time.monotonic() > deadline:
                raise AssertionError("no team answer was stored")
            await asyncio.sleep(0.02)

    def ephemerals(self, person: Person) -> list[str]:
        """Texts shown only to ``person``."""
        return [e.get("text", "") for e in self.slack.ephemerals(person.id)]

    async def idle(self, timeout: float = 10.0, horizon: float = 2.0) -> None:  # noqa: ASYNC109
        """Wait until no outbox job is in progress or due within ``horizon`` seconds (retries included)."""
        assert self.app is not None
        deadline = time.monotonic() + timeout
        while True:
            async with self.app.db.read() as session:
                busy = await session.scalar(
                    select(func.count(OutboxJob.id)).where(
                        OutboxJob.status == OutboxStatus.PENDING.value,
                        or_(
                            OutboxJob.due_at <= utcnow() + timedelta(seconds=horizon),
                            OutboxJob.leased_by.is_not(None),
                        ),
                    )
                )
            if not busy:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{busy} outbox jobs still due after {timeout}s")
            await asyncio.sleep(0.02)
