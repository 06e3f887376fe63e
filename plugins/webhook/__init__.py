"""The generic signed JSON webhook source: web forms, e-mail gateways, any system that can POST."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl

from .source import WebhookConfig, WebhookSource

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sandbox.sources import SandboxSetup, SandboxSource

NAME = "webhook"


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.webhook]`` is a WebhookConfig."""
    return WebhookConfig if name == NAME else None


@hookimpl
def chatops_sources(ctx: PluginContext) -> list[WebhookSource]:
    """One webhook source, configured from ``[plugins.webhook]``."""
    return [WebhookSource(ctx.config)]


@hookimpl
def chatops_sandbox_sources(setup: SandboxSetup) -> list[SandboxSource]:
    """The contact form of ``chatops sandbox``: signed webhooks in, the team's replies back (see :mod:`.sandbox`)."""
    from .sandbox import WebhookSandbox

    return [WebhookSandbox(setup)]
