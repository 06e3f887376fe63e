"""X mentions in the inbox, answered from the cards (see docs/x.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .config import XConfig
from .source import NAME, XSource

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sandbox.sources import SandboxSetup, SandboxSource


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.x]`` is an XConfig."""
    return XConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[XSource]:
    """One X account source, configured from ``[plugins.x]``."""
    return [XSource(ctx.config)]


@hookimpl
def chatops_sandbox_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """The café's X account, on an X API fake, mentions delivered by Account Activity webhooks."""
    # Imported here: the fake (Starlette, uvicorn) is needed only when the sandbox runs.
    from .sandbox import XSandbox

    return [XSandbox()]
