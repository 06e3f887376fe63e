"""Facebook Page comments in the inbox, answered from Slack (see docs/facebook-instagram.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .source import NAME, FacebookConfig, FacebookSource

if TYPE_CHECKING:
    from chatops.context import PluginContext


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.facebook]`` is a FacebookConfig."""
    return FacebookConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[FacebookSource]:
    """One Facebook Page source, configured from ``[plugins.facebook]``."""
    return [FacebookSource(ctx.config)]
