"""The managers' digest, reports and the full log export.

Built on the plugin platform's public API only (``ctx``, the hooks in
:mod:`chatops.hookspecs`), reading the core's tables. The parts, each its own module:

- :mod:`.periods`: which days a digest covers, in the team's timezone, and when one is due;
- :mod:`.figures` (with :mod:`.sqltime`): the figures, as SQL aggregates, the same on SQLite
  and PostgreSQL; :mod:`.compose` reads a whole digest at once;
- :mod:`.render` and :mod:`.chart`: Block Kit, terminal text and the 14-day chart;
- :mod:`.schedule` and :mod:`.publish`: the daily and weekly posts, once across replicas;
- :mod:`.slash`: ``/chatops digest``; :mod:`.terminal`: ``chatops digest``;
- :mod:`.export`: ``chatops report``, reading :mod:`.log_rows` and writing :mod:`.log_csv` or
  :mod:`.log_xlsx` (each a :class:`~.log_sink.Sink`);
- :mod:`.tables` (and ``migrations/``): which scheduled digests were posted;
- :mod:`.words`: everything it writes, in en, fi and pl.

:func:`.service.digests_of` gives the running :class:`~.service.Digests` of a bot's ``ctx``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl
from chatops.plugin_migrations import PluginMigrations

from . import export, schedule, slash, tables, terminal
from .config import DigestConfig
from .service import digests_of
from .words import all_texts

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from chatops.context import PluginContext
    from chatops.jobs import Job

NAME = "digest"


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.digest]`` is a :class:`DigestConfig`."""
    return DigestConfig if name == NAME else None


@hookimpl
def chatops_texts() -> Mapping[str, Mapping[str, str]]:
    """The digest's words in en, fi and pl."""
    return all_texts()


@hookimpl
def chatops_migrations() -> PluginMigrations:
    """The digest's table (version table ``chatops_version_digest``)."""
    return tables.MIGRATIONS


@hookimpl
def chatops_cli_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``chatops digest`` and ``chatops report``."""
    terminal.add_command(subparsers)
    export.add_command(subparsers)


@hookimpl
async def chatops_startup(ctx: PluginContext) -> None:
    """Register the outbox kind that posts a digest."""
    schedule.register_kinds(digests_of(ctx))


@hookimpl
def chatops_slack_listeners(ctx: PluginContext, bolt: AsyncApp) -> None:
    """``/chatops digest``."""
    slash.register(digests_of(ctx), bolt)


@hookimpl
def chatops_jobs(ctx: PluginContext) -> Sequence[Job]:
    """The minute job that posts the daily and weekly digests."""
    return schedule.jobs(digests_of(ctx))
