"""Every extension point of chatops, in one place, each documented.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
match the specs below. Plugins are found through the ``chatops.plugins`` entry-point
group (built-in plugins too), enabled in ``[plugins] enabled``, and configured in
their own ``[plugins.<name>]`` table. Every hook receives the running
:class:`chatops.app.ChatOps` instance as ``app``; a plugin reads its validated
config with ``app.plugin_config(<name>)``. Plugins never call each other directly:
they meet through these hooks and the core's data.

``tests/test_hookspecs.py`` fails when a hook here lacks a docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from pydantic import BaseModel
    from slack_bolt.async_app import AsyncApp
    from starlette.routing import BaseRoute

    from chatops.app import ChatOps
    from chatops.cards import CardData
    from chatops.scheduler import Job
    from chatops.sources import InboundMessage, Source

PROJECT = "chatops"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """Return the pydantic model of the ``[plugins.<name>]`` table when ``name`` is yours.

    Called for each enabled plugin at start-up (and by ``chatops check``); answer
    only for your own name and return None otherwise. The model should forbid
    unknown keys; validation errors are reported as ``plugins.<name>.<key>: …``.
    """


@hookspec
def chatops_sources(app: ChatOps) -> Sequence[Source]:
    """Return the sources this plugin provides (webhook, Facebook Page, X account, …).

    Each :class:`chatops.sources.Source` declares its capabilities (the card offers
    only those buttons), its HTTP routes and scheduled jobs, and answers on its
    platform. Sources hand inbound events to ``app.ingest(event)``.
    """


@hookspec
def chatops_routes(app: ChatOps) -> Sequence[BaseRoute]:
    """Return extra HTTP routes (Starlette) to mount on the bot's server.

    For features that are not sources, such as a calendar feed. Paths must not
    collide with ``/slack/events``, ``/webhooks/…``, ``/healthz`` or ``/readyz``.
    """


@hookspec
def chatops_slack_listeners(app: ChatOps, bolt: AsyncApp) -> None:
    """Register Slack listeners (slash commands such as ``/rota``, actions, views) on ``bolt``.

    Listeners must ``ack()`` at once and do slow work afterwards: Slack allows 3 s.
    """


@hookspec
def chatops_jobs(app: ChatOps) -> Sequence[Job]:
    """Return scheduled jobs (digests, hand-off messages, reminders).

    Each occurrence is claimed in the database, so with several replicas exactly
    one runs it. Triggers carry a timezone so local times survive DST changes.
    """


@hookspec
def chatops_card_blocks(app: ChatOps, card: CardData) -> Sequence[dict[str, Any]]:
    """Return extra Block Kit blocks to show on a conversation's card, after the message.

    Used for decorations such as "on shift: Anna" or a sentiment badge. Escape any
    user-supplied text with ``chatops.slack.escape.mrkdwn_escape``. Keep it short:
    a message holds at most 50 blocks. Each block is checked before it is shown: one
    Slack would refuse (a limit exceeded, an empty text, a ``block_id`` the card uses),
    or one the card has no room left for (blocks or text), is dropped with a warning in
    the log, and the card is posted without it. Check yours in a test with
    ``chatops.testing.card_checks.assert_postable(render_card(card, ctx, blocks))``.
    """


@hookspec
def chatops_inbound(app: ChatOps, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """React to a customer message that was just stored (not called for duplicates).

    ``new`` is true when it started a conversation. For auto-replies outside service
    hours, assignment to the person on shift, language and sentiment detection.
    May be a coroutine function.
    """


@hookspec
def chatops_action(app: ChatOps, conversation_id: int, action: str, actor: str, detail: dict[str, Any]) -> None:
    """React to something a person did to a conversation (claimed, replied, resolved, …).

    Called after the change is committed; ``action`` uses the audit log's names.
    May be a coroutine function.
    """


@hookspec
def chatops_digest_sections(app: ChatOps, since: Any, until: Any) -> Sequence[dict[str, Any]]:
    """Return Block Kit blocks for the managers' daily digest covering [since, until).

    Each plugin contributes its own section (per-source figures, shift coverage, …).
    """


@hookspec
def chatops_cli_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add sub-commands to the ``chatops`` command line.

    Set ``func=`` on the parser to a callable taking the parsed namespace and
    returning an exit code.
    """


@hookspec
def chatops_shutdown(app: ChatOps) -> None:
    """Release what the plugin holds when the bot stops. May be a coroutine function."""
