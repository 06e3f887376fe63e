"""Every extension point of chatops, in one place, each documented.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
match the specs below. Plugins are found through the ``chatops.plugins`` entry-point
group (built-in plugins too), enabled in ``[plugins] enabled``, and configured in
their own ``[plugins.<name>]`` table.

Hooks that work with the running bot take ``ctx``: the calling plugin's own
:class:`chatops.context.PluginContext` (its settings, the translator, a logger, the
database, the conversations it may act on as the bot, the outbox, its jobs, alerts
and state). An implementation may leave out arguments it does not use, as pluggy
allows. Implementations may be coroutine functions where a hook says so; they are
called in pluggy's order (``tryfirst``/``trylast``, ``wrapper=True``) by
:class:`chatops.hooks.HookRunner`, and an error propagates to the caller unless the
hook is a notification (then it is logged with the plugin's name, and the other
plugins are still told).

The order of ``[plugins] enabled`` is the order of start-up, of reply checks and of
migrations; shutdown runs in reverse. Plugins never call each other directly: they
meet through these hooks and the core's data.

``tests/test_hookspecs.py`` fails when a hook here lacks a docstring, and
``tests/test_plugin_hooks.py`` when no test or example plugin implements it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from pydantic import BaseModel
    from slack_bolt.async_app import AsyncApp
    from starlette.routing import BaseRoute

    from chatops.cards import CardData
    from chatops.context import PluginContext
    from chatops.events import ConversationEvent
    from chatops.interception import ReplyDraft, Verdict
    from chatops.jobs import Job
    from chatops.plugin_migrations import PluginMigrations
    from chatops.priority import Classification
    from chatops.sandbox.sources import SandboxSetup, SandboxSource
    from chatops.sources import InboundMessage, Source

PROJECT = "chatops"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- set-up (no running bot yet) ---------------------------------------------------------


@hookspec(firstresult=True)
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """Return the pydantic model of the ``[plugins.<name>]`` table when ``name`` is yours.

    Called for each enabled plugin at start-up (and by ``chatops check``); answer
    only for your own name and return None otherwise. The model should forbid
    unknown keys; validation errors are reported as ``plugins.<name>.<key>: …``.
    The validated model is ``ctx.config``.
    """


@hookspec
def chatops_texts() -> Mapping[str, Mapping[str, str]]:
    """Return the plugin's words: ``{"en": {...}, "fi": {...}, "pl": {...}}``.

    Start keys with the plugin's name and a dot (``hello.greeting``). Every language
    must have every key with the same ``{placeholders}``, and no key may replace the
    core's or give another plugin's key a different text; the bot refuses to start
    otherwise, naming the plugin and the key. Use them with ``ctx.t("hello.greeting")``.
    """


@hookspec
def chatops_cli_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add sub-commands to the ``chatops`` command line.

    Set ``func=`` on the parser to a callable taking the parsed namespace and
    returning an exit code.
    """


@hookspec
def chatops_sandbox_sources(setup: SandboxSetup) -> Sequence[SandboxSource]:
    """Return this plugin's customers' side for ``chatops sandbox`` (one per source it can show).

    Called before the bot starts, only by the sandbox. Each
    :class:`chatops.sandbox.sources.SandboxSource` starts the plugin's fake, gives the
    plugin settings pointing at it, posts comments as a customer and shows what the
    customer sees. A plugin with no customers' side (the rota, the digest) does not
    implement it.
    """


# -- the running bot ---------------------------------------------------------------------


@hookspec
def chatops_sources(ctx: PluginContext) -> Sequence[Source]:
    """Return the sources this plugin provides (webhook, Facebook Page, X account, …).

    Each :class:`chatops.sources.Source` declares its capabilities (the card offers
    only those buttons), its HTTP routes and scheduled jobs, and answers on its
    platform. A source is started with its plugin's ``ctx`` and hands inbound events
    to ``ctx.ingest(event)``.
    """


@hookspec
def chatops_routes(ctx: PluginContext) -> Sequence[BaseRoute]:
    """Return extra HTTP routes (Starlette) to mount on the bot's server.

    For features that are not sources, such as a calendar feed. Paths must not
    collide with ``/slack/events``, ``/webhooks/…``, ``/healthz`` or ``/readyz``.
    """


@hookspec
def chatops_slack_listeners(ctx: PluginContext, bolt: AsyncApp) -> None:
    """Register Slack listeners (slash commands such as ``/rota``, actions, views) on ``bolt``.

    Listeners must ``ack()`` at once and do slow work afterwards: Slack allows 3 s.
    A command in the app manifest that no enabled plugin registers is answered with
    a generic "not enabled" by the core.
    """


@hookspec
def chatops_jobs(ctx: PluginContext) -> Sequence[Job]:
    """Return scheduled jobs (digests, hand-off messages, reminders).

    Each occurrence is claimed in the database, so with several replicas exactly
    one runs it; a failed run is retried within the job's grace time and reported
    to the ops channel if it is given up. Triggers carry a timezone (``ctx.tz``) so
    local times survive DST changes. Ids are prefixed with the plugin's name.
    """


@hookspec
def chatops_startup(ctx: PluginContext) -> None:
    """Get ready once the schema is current, before sources start; may be a coroutine function.

    Register outbox job kinds here (``ctx.outbox.register``), open clients, load caches.
    Plugins start in the order of ``[plugins] enabled``; an error stops the bot with
    one line naming the plugin.
    """


@hookspec
def chatops_shutdown(ctx: PluginContext) -> None:
    """Release what the plugin holds when the bot stops; may be a coroutine function.

    Called in the reverse order of start-up, after delivery and the scheduler have
    stopped; an error is logged and the other plugins still stop.
    """


# -- cards and replies -------------------------------------------------------------------


@hookspec
def chatops_card_blocks(ctx: PluginContext, card: CardData) -> Sequence[dict[str, Any]]:
    """Return extra Block Kit blocks to show on a conversation's card, after the message.

    Used for decorations such as "on shift: Anna" or a sentiment badge; may be a
    coroutine function. Escape any user-supplied text with
    ``chatops.slack.escape.mrkdwn_escape``. Each block is checked before it is shown:
    one Slack would refuse (a limit exceeded, an empty text, a ``block_id`` the card
    uses), or one the card has no room left for, is dropped with a warning in the log,
    and the card is posted without it. Call ``ctx.conversations.refresh_card(id)`` when
    a decoration changes. Check yours in a test with
    ``chatops.testing.card_checks.assert_postable(...)``.
    """


@hookspec
def chatops_reply_inputs(ctx: PluginContext, card: CardData, kind: str) -> Sequence[dict[str, Any]]:
    """Return input blocks to add to the reply dialog (``kind`` is ``reply`` or ``private_reply``).

    For example a select of saved replies. Give each block a ``block_id`` unique
    within your plugin; the submitted values come back in ``ReplyDraft.inputs`` under
    that id (the core namespaces ids, so plugins never clash). Blocks other than
    ``input``, ``section``, ``context`` and ``divider`` are dropped with a log line, and
    when any plugin adds inputs the text box becomes optional (an empty reply is
    still refused after the checks). Sync only: the dialog must open within 3 s.
    """


@hookspec
def chatops_reply_check(ctx: PluginContext, draft: ReplyDraft) -> Verdict | None:
    """Look at a reply before it is queued: return None to let it pass, ``Veto`` or ``Rewrite``.

    ``Veto(reason)`` keeps the dialog open with the reason under the text;
    ``Rewrite(text, reason)`` sends ``text`` instead and tells the person why. Checks
    run in the order of ``[plugins] enabled``, each seeing the text the previous one
    left; may be a coroutine function, but the whole dialog must answer within 3 s.
    A check that raises or is too slow refuses the reply (a forbidden-word check must
    not be skipped silently), telling the person to try again.
    """


# -- what happened -----------------------------------------------------------------------


@hookspec
def chatops_classify(ctx: PluginContext, message: InboundMessage) -> Classification | None:
    """Say how urgent a customer's message is, before it is stored: a ``Classification`` or None.

    Its ``priority`` is added to the score of ``[priority]``'s rules (keywords, VIP authors,
    negative sentiment); a ``sentiment`` is kept in ``extra["sentiment"]`` when the source gave
    none; ``reasons`` are shown on the card. On a flood day the highest scores are carded first
    and keep their own cards instead of a roll-up's line (see ``chatops.priority``). Called for
    every message on the ingest path, so sync only and quick (no network, no database): a
    plugin that needs more should set what it learns later through its own events.
    """


@hookspec
def chatops_inbound(ctx: PluginContext, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """React to a customer message that was just stored (not called for duplicates).

    ``new`` is true when it started a conversation. For auto-replies outside service
    hours, assignment to the person on shift, language and sentiment detection.
    Called after the message is committed, off the source's request (a webhook is
    answered without waiting for plugins), in arrival order, on the plugin's own lane
    with its events (see ``chatops.events.EventBus``). May be a coroutine function;
    errors are logged and the other plugins still hear.
    """


@hookspec
def chatops_event(ctx: PluginContext, event: ConversationEvent) -> None:
    """Hear of a committed change: a reply sent or failed, a claim, an escalation, …

    ``event.action`` is the audit log's name for it; :mod:`chatops.events` lists every
    action with its ``actor`` and ``detail`` (for example ``reply_sent`` with the time
    and who sent it, ``reply_failed`` when an answer failed for good or was given up,
    ``reopened`` by a customer's follow-up, ``edited``/``removed`` by the author,
    ``retry``, ``hidden``/``unhidden``, ``claimed``/``unclaimed``/``assigned``,
    ``escalated``, ``resolved``). Called after the transaction commits, in commit
    order, off the path of the click or delivery that caused it; each plugin has its own
    lane, so a slow listener delays only itself (and is given up after 30 s per event).
    May be a coroutine function; errors are logged and the other plugins still hear.
    """


@hookspec
def chatops_migrations() -> PluginMigrations | None:
    """Return where this plugin's Alembic migrations live, when it keeps tables of its own.

    A :class:`chatops.plugin_migrations.PluginMigrations`: an Alembic script location
    (``"chatops_hello:migrations"`` or a path) whose ``env.py`` calls
    ``chatops.plugin_migrations.run_plugin_env()``, and optionally the plugin's
    ``MetaData``. ``chatops db upgrade`` (and the SQLite auto-upgrade at start-up) runs
    them after the core's, for enabled plugins only, in ``[plugins] enabled`` order, each
    in its own transaction; the plugin's revision is kept in ``chatops_version_<name>``.
    Disabling the plugin leaves its tables and data alone. Return None (or do not
    implement this) when the plugin stores nothing.
    """


__all__ = ["PROJECT", "hookimpl", "hookspec"]
