"""Discord community messages in the inbox, answered from the cards (see docs/discord.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .config import DiscordConfig
from .source import NAME, DiscordSource

if TYPE_CHECKING:
    from chatops.context import PluginContext


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.discord]`` is a DiscordConfig."""
    return DiscordConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[DiscordSource]:
    """One Discord bot source, configured from ``[plugins.discord]``."""
    return [DiscordSource(ctx.config)]
