"""What a plugin gives ``chatops sandbox``: its customers' side, running against the plugin's own fake.

A source plugin answers the ``chatops_sandbox_sources`` hook with one
:class:`SandboxSource` per source it can show. The sandbox merges each one's
:attr:`~SandboxSource.config` into the bot's ``[plugins.<plugin>]`` section (pointing
the plugin at its fake), starts the fakes before the bot, lets people on the page
post as customers through :meth:`~SandboxSource.post`, and shows
:meth:`~SandboxSource.feed`: the customers' comments with the team's replies under
them, as the customer sees them on the platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable


@dataclass(frozen=True)
class SandboxSetup:
    """What the sandbox tells plugins before anything starts.

    Attributes:
        data_dir: the sandbox's data folder (a plugin may keep files there).
        public_url: where the sandbox's page is served, e.g. ``http://127.0.0.1:8765``.
    """

    data_dir: str
    public_url: str


@dataclass(frozen=True)
class CustomerPost:
    """One comment as the customer sees it on the platform, with what was answered under it.

    Attributes:
        id: the platform's id of the comment (unique within its source).
        author: who wrote it (a customer's name, or the brand's page/account name for the team's replies).
        text: what it says (plain text, shown escaped).
        at: when it was written (timezone-aware).
        from_team: true for the team's replies (sent by the bot on the platform).
        replies: comments under it, oldest first.
        note: a short status the platform would show ("hidden", "deleted"), or "".
    """

    id: str
    author: str
    text: str
    at: datetime
    from_team: bool = False
    replies: Sequence[CustomerPost] = field(default_factory=tuple)
    note: str = ""


@runtime_checkable
class SandboxSource(Protocol):
    """A source's customers' side in the sandbox: its fake, its config, a way to comment, and its feed.

    :meth:`start` and :meth:`stop` run on the sandbox's event loop thread (fakes serve from
    their own threads, see :class:`chatops.testing.server.LoopbackFake`). :meth:`post`
    is awaited on that loop once the bot is serving at ``bot_url``.
    """

    #: The plugin that provides it (its ``[plugins.<name>]`` section gets :attr:`config`).
    plugin: str
    #: A short unique key for the page and the scripted day ("webhook", "facebook", "x", …).
    key: str
    #: What the page calls it ("Facebook · Kahvila Aurinko").
    label: str

    def start(self) -> None:
        """Start the source's fake (no-op when it needs none)."""
        ...

    def stop(self) -> None:
        """Stop the source's fake."""
        ...

    @property
    def config(self) -> Mapping[str, Any]:
        """The plugin's settings in the sandbox bot (read after :meth:`start`, so fakes' URLs are known)."""
        ...

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Have customer ``author`` write ``text`` (under the comment ``reply_to`` when given).

        Delivers it to the bot at ``bot_url`` the way the platform would (a signed webhook,
        a Graph API change notification, a gateway event, a post the bot polls) and returns
        the comment's id. Raises :class:`SandboxPostError` when the bot refused it.
        """
        ...

    def feed(self) -> Sequence[CustomerPost]:
        """The customers' comments, newest first, each with the replies under it."""
        ...


class ServedFake(Protocol):
    """A platform fake served on loopback from its own thread (a :class:`chatops.testing.server.LoopbackFake`)."""

    def start(self) -> Any:
        """Start serving."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...


F = TypeVar("F", bound=ServedFake)


class FakeBackedSource(Generic[F]):
    """Base of a :class:`SandboxSource` whose platform is one served fake, ``self.fake``: start and stop serve it."""

    fake: F

    def start(self) -> None:
        """Serve the fake."""
        self.fake.start()

    def stop(self) -> None:
        """Stop the fake (a gateway's connections close with it)."""
        self.fake.stop()


class SandboxPostError(Exception):
    """The bot (or the source's fake) refused a customer's comment; the message says why."""
