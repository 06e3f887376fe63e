"""The Discord bot as a source: watched channels' messages in, replies (and, if allowed, deletes) out.

Placeholder of the foundation: the gateway client, message conversion, catch-up and answers are
written next (see the module list in docs/discord.md once written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from chatops.sources import Capability, Source

from .config import DiscordConfig

NAME = "discord"


class DiscordSource(Source):
    """Messages in the watched Discord servers and channels."""

    name = NAME
    capabilities = frozenset({Capability.REPLY, Capability.HIDE})
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    def __init__(self, config: DiscordConfig) -> None:
        self.config = config
        self.display_name = config.display_name  # type: ignore[misc]
        self.inbox_channel = config.channel
        self.max_reply_length = config.max_reply_length
