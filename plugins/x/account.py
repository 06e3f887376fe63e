"""What polling, replies and the webhook use of the running X source: :class:`XAccount`.

Declared apart from :class:`~.source.XSource` so that those modules depend on this narrow face
and the source imports them, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import tweepy

    from chatops.i18n import Translator
    from chatops.sources import SourceContext

    from .config import XConfig


class XAccount(Protocol):
    """The X account being served: its settings, its started context and client, a clock and words."""

    config: XConfig
    #: Epoch seconds, compared with X's ``x-rate-limit-reset`` (tests share a hand-moved clock with the fake).
    clock: Callable[[], float]
    t: Translator

    @property
    def name(self) -> str:
        """The source's short name (``x``)."""

    @property
    def ctx(self) -> SourceContext:
        """The plugin's context (the source is started)."""

    @property
    def client(self) -> tweepy.Client:
        """The running tweepy client."""
