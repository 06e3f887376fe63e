"""The neutral shapes a source plugin speaks: inbound events in, answers out.

A source plugin (webhook, Facebook, X, …) turns platform payloads into these
events and performs answers on its platform. It never touches Slack; the core
never touches a platform.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from chatops.i18n import Translator

if TYPE_CHECKING:
    import logging

    from starlette.routing import BaseRoute

    from chatops.jobs import Job


class Capability(enum.StrEnum):
    """What a source can do with a customer's message; the card offers only these buttons."""

    REPLY = "reply"  # a public answer under the customer's message
    PRIVATE_REPLY = "private_reply"  # move the conversation to a private message
    HIDE = "hide"  # hide / unhide the customer's message


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a message, as the platform names them."""

    id: str | None = None
    name: str | None = None
    handle: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What the message is about: the post, ad or page it was written under."""

    text: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A new message from a source: a customer's comment, or an answer made on the platform itself.

    ``external_id`` is unique within the source (it is how duplicates are found);
    ``thread_id`` groups messages into one conversation, i.e. one Slack card.
    ``from_account`` marks an answer posted directly on the platform by the
    account the team runs (e.g. the Page replying on Facebook): it is recorded in
    the card's thread, never treated as a customer message.
    """

    source: str
    external_id: str
    thread_id: str
    text: str
    author: Author = field(default_factory=Author)
    url: str | None = None
    created_at: datetime | None = None
    channel_name: str | None = None
    context: Context | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    from_account: bool = False


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """The author changed the text of a message already stored."""

    source: str
    external_id: str
    text: str
    edited_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageRemoved:
    """The author (or the platform) removed a message already stored."""

    source: str
    external_id: str
    removed_at: datetime | None = None


InboundEvent = InboundMessage | MessageEdited | MessageRemoved


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one inbound message did."""

    conversation_id: int | None
    message_id: int | None
    duplicate: bool = False
    new_conversation: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """The message an answer is for, with what the source stored about it."""

    conversation_id: int
    message_id: int
    external_id: str
    thread_id: str
    extra: dict[str, Any]
    created_at: datetime | None
    author: Author
    #: Kinds of answers ("reply", "private_reply") already sent or queued for this message.
    answered_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Answer:
    """A team member's answer, stored before it is sent; ``id`` is stable across retries."""

    id: int
    kind: str
    text: str
    sent_by: str | None = None
    sent_by_name: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform said when it accepted an answer."""

    external_id: str | None = None
    url: str | None = None


class SendError(Exception):
    """The platform refused or failed an answer.

    ``retryable`` says whether trying again later may work (timeouts, 5xx, rate
    limits); ``alert`` names a condition an admin must fix (an expired token) and
    is raised once to the ops channel rather than once per message.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        alert: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.alert = alert


class SourceState(Protocol):
    """Small durable strings a source keeps (``ctx.state``): a polling cursor, a ``since_id``."""

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""

    async def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""


class SourceAlerts(Protocol):
    """A source's operational alerts (``ctx.alerts``): one ops-channel post per problem."""

    async def raise_once(self, key: str, problem: str) -> bool:
        """Post ``problem`` unless the alert ``key`` is raised already."""

    async def clear(self, *keys: str) -> None:
        """The problems are gone."""


class SourceContext(Protocol):
    """What a started source uses of its plugin's :class:`~chatops.context.PluginContext`.

    Declared here, as the part of the context a source needs, so that the neutral source
    types do not depend on the bot; a ``PluginContext`` is one.
    """

    name: str
    log: logging.Logger

    @property
    def state(self) -> SourceState:
        """Durable strings."""

    @property
    def alerts(self) -> SourceAlerts:
        """Operational alerts."""

    async def ingest(self, event: InboundEvent) -> IngestResult:
        """Store one inbound event."""

    async def ingest_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        """Store a batch of inbound events in one transaction."""

    async def thread_of(self, source: str, external_id: str) -> str | None:
        """The thread (card) of a message already stored for ``source``: a customer's or a sent answer.

        How a platform whose replies name only their parent message (X's ``in_reply_to``,
        Discord's message reference) finds the conversation a reply belongs to.
        """


class Source:
    """Base class of a source: its name, what it can do, and how it answers.

    Subclasses set ``name``, ``display_name`` and ``capabilities``, hand inbound
    events to ``ctx.ingest()``, and implement the answer methods they declare.
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: frozenset[Capability] = frozenset()
    #: Longest answer the platform accepts (shown in the reply dialog).
    max_reply_length: int = 3000
    #: The platform allows one private reply per message (Meta): a second one is refused up front.
    private_reply_once: bool = False
    #: The platform cannot hide, only delete (Discord): Hide is offered as Delete, with a confirmation
    #: that says the message is gone for good, and nothing to undo afterwards.
    hide_deletes: bool = False
    #: Slack channel for this source's cards; None means the global inbox channel.
    inbox_channel: str | None = None

    #: The plugin's own texts, ``{"en": {...}, "fi": {...}, "pl": {...}}``, keys prefixed with its name.
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    #: The team's translator (core and plugin texts); the app sets it before the source is used.
    t: Translator = Translator("en")

    def routes(self) -> Sequence[BaseRoute]:
        """HTTP routes this source serves (webhooks); mounted on the bot's server."""
        return ()

    def jobs(self) -> Sequence[Job]:
        """Scheduled jobs (polling); each occurrence runs on exactly one replica."""
        return ()

    async def start(self, ctx: SourceContext) -> None:
        """Called once the bot is running, with its plugin's context (open clients, connect gateways).

        Keep ``ctx``: inbound events go to ``ctx.ingest(event)``, state to ``ctx.state``,
        operational problems to ``ctx.alerts``.
        """

    async def stop(self) -> None:
        """Called at shutdown (close clients)."""

    def reply_length(self, text: str) -> int:
        """How long the platform counts ``text``, compared with ``max_reply_length`` before sending.

        Plain characters by default; a platform that weighs characters (X counts a URL as 23 and
        most emoji and CJK characters as 2) says so here, so a reply it would refuse is refused
        in the dialog, with a clear message, before it is queued.
        """
        return len(text)

    def reply_length_note(self) -> str | None:
        """A sentence shown under the reply box on how this platform counts length, or None."""
        return None

    @property
    def reply_input_max(self) -> int:
        """The most characters the reply box accepts; more than the limit when the platform weighs them."""
        return self.max_reply_length

    def unavailable_reason(self, capability: Capability, target: Target) -> str | None:
        """Why ``capability`` cannot be used on ``target`` right now, or None when it can.

        The card shows the reason instead of a button that would only fail (for
        example a private reply after the platform's 7-day window). Write it in the
        team's language: ``self.t("<plugin>.<key>")`` with the plugin's ``texts``.
        """
        return None

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """Post the answer publicly under the customer's message."""
        raise SendError(f"{self.display_name} cannot reply", retryable=False)

    async def private_reply(self, target: Target, answer: Answer) -> SendResult:
        """Send the answer to the customer privately, in answer to their message."""
        raise SendError(f"{self.display_name} cannot send private replies", retryable=False)

    async def set_hidden(self, target: Target, hidden: bool) -> None:
        """Hide or unhide the customer's message on the platform."""
        raise SendError(f"{self.display_name} cannot hide messages", retryable=False)
