"""/rota: shifts, cover and swaps, service hours, hand-offs and routing of new cards.

Built on the plugin platform's public API only (``ctx``, the hooks in
:mod:`chatops.hookspecs`). The parts, each its own module:

- :mod:`.timespec`, :mod:`.schedule`, :mod:`.service_hours`: pure rules (who is on shift
  when, DST included; when the team answers);
- :mod:`.tables` (and ``migrations/``): shifts, covers, swaps and what was already done;
- :mod:`.records`: writing shifts, covers and swaps;
- :mod:`.slash` (with :mod:`.commands`, :mod:`.answers`, :mod:`.leads`, :mod:`.changes`,
  :mod:`.edit_dialog`): the ``/rota`` command and the ``/rota edit`` dialog;
- :mod:`.handoff`: the hand-off at each shift change and the "nobody on shift" notice;
- :mod:`.routing` (with :mod:`.out_of_hours`, :mod:`.when`): who is on shift on new cards,
  assignment, the out-of-hours reply;
- :mod:`.calendar`: the ``.ics`` feeds;
- :mod:`.words`: everything it writes, in en, fi and pl.

:func:`.service.rota_of` gives the running :class:`~.service.Rota` of a bot's ``ctx``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chatops.hookspecs import hookimpl
from chatops.plugin_migrations import PluginMigrations

from . import calendar, handoff, routing, slash, tables
from .config import RotaConfig
from .service import rota_of
from .words import all_texts

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from starlette.routing import BaseRoute

    from chatops.cards import CardData
    from chatops.context import PluginContext
    from chatops.jobs import Job
    from chatops.sources import InboundMessage

NAME = "rota"


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.rota]`` is a :class:`RotaConfig`."""
    return RotaConfig if name == NAME else None


@hookimpl
def chatops_texts() -> Mapping[str, Mapping[str, str]]:
    """The rota's words in en, fi and pl."""
    return all_texts()


@hookimpl
def chatops_migrations() -> PluginMigrations:
    """The rota's tables (version table ``chatops_version_rota``)."""
    return tables.MIGRATIONS


@hookimpl
async def chatops_startup(ctx: PluginContext) -> None:
    """Register the hand-off's outbox kinds."""
    handoff.register_kinds(rota_of(ctx))


@hookimpl
def chatops_slack_listeners(ctx: PluginContext, bolt: AsyncApp) -> None:
    """``/rota`` and its dialog."""
    slash.register(rota_of(ctx), bolt)


@hookimpl
def chatops_jobs(ctx: PluginContext) -> Sequence[Job]:
    """The minute job that posts hand-offs and "nobody on shift" notices."""
    return handoff.jobs(rota_of(ctx))


@hookimpl
def chatops_routes(ctx: PluginContext) -> Sequence[BaseRoute]:
    """The calendar feeds."""
    return calendar.routes(rota_of(ctx))


@hookimpl
async def chatops_card_blocks(ctx: PluginContext, card: CardData) -> Sequence[dict[str, Any]]:
    """Who is on shift, on a new card nobody owns yet."""
    return await routing.card_blocks(rota_of(ctx), card)


@hookimpl
async def chatops_inbound(ctx: PluginContext, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """Assign a new card to someone on shift; answer outside service hours."""
    await routing.on_inbound(rota_of(ctx), message, conversation_id, new)
