"""Instagram comments in the inbox, answered from Slack (see docs/facebook-instagram.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .source import NAME, InstagramConfig, InstagramSource

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sandbox.sources import SandboxSetup, SandboxSource


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.instagram]`` is an InstagramConfig."""
    return InstagramConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[InstagramSource]:
    """One Instagram account source, configured from ``[plugins.instagram]``."""
    return [InstagramSource(ctx.config)]


@hookimpl
def chatops_sandbox_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """The café's Instagram account, on a Graph API fake."""
    # Imported here: the fake (Starlette, uvicorn) is needed only when the sandbox runs.
    from .sandbox import InstagramSandbox

    return [InstagramSandbox()]
