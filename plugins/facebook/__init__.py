"""Facebook Page comments in the inbox, answered from Slack (see docs/facebook-instagram.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .source import NAME, FacebookConfig, FacebookSource

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sandbox.sources import SandboxSetup, SandboxSource


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.facebook]`` is a FacebookConfig."""
    return FacebookConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[FacebookSource]:
    """One Facebook Page source, configured from ``[plugins.facebook]``."""
    return [FacebookSource(ctx.config)]


@hookimpl
def chatops_sandbox_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """The café's Facebook Page, on a Graph API fake."""
    # Imported here: the fake (Starlette, uvicorn) is needed only when the sandbox runs.
    from .sandbox import FacebookSandbox

    return [FacebookSandbox()]
