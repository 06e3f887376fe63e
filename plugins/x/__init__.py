"""X mentions in the inbox, answered from the cards (see docs/x.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .config import XConfig
from .source import NAME, XSource

if TYPE_CHECKING:
    from chatops.context import PluginContext


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.x]`` is an XConfig."""
    return XConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[XSource]:
    """One X account source, configured from ``[plugins.x]``."""
    return [XSource(ctx.config)]
