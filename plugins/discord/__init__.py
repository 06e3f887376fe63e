"""Discord community messages in the inbox, answered from the cards (see docs/discord.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .config import DiscordConfig
from .source import NAME, DiscordSource

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sandbox.sources import SandboxSetup, SandboxSource


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.discord]`` is a DiscordConfig."""
    return DiscordConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[DiscordSource]:
    """One Discord bot source, configured from ``[plugins.discord]``."""
    return [DiscordSource(ctx.config)]


@hookimpl
def chatops_sandbox_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """The café's Discord server, on a Discord fake the plugin's client connects to."""
    # Imported here: the fake (Starlette, uvicorn) is needed only when the sandbox runs.
    from .sandbox import DiscordSandbox

    return [DiscordSandbox()]
