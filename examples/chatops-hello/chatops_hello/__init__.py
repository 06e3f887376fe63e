"""hello: an example third-party chatops plugin that uses every hook.

It counts the replies the team sends in a table of its own and shows the count on each
card, answers ``/hello`` in the team's language, posts a greeting on a schedule through
the outbox, adds a "sign it" checkbox to the reply dialog (and refuses replies that still
say TODO), notes on the card when a customer says hello, serves ``GET /hello/stats`` and
adds ``chatops hello-stats``. It imports only chatops's public modules; every hook gets
the plugin's own ``ctx`` (:class:`chatops.context.PluginContext`).

Enable it with ``[plugins] enabled = ["webhook", "hello"]`` and configure ``[plugins.hello]``
(:class:`HelloConfig`); ``chatops db upgrade`` then creates its table.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chatops.hookspecs import hookimpl
from chatops.interception import ReplyDraft, Rewrite, Veto
from chatops.jobs import Job
from chatops.plugin_migrations import PluginMigrations
from chatops_hello import tables
from chatops_hello.texts import TEXTS

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from chatops.cards import CardData
    from chatops.context import PluginContext
    from chatops.events import ConversationEvent
    from chatops.outbox.plugin import PluginJob
    from chatops.sources import InboundMessage, Source

NAME = "hello"
#: The outbox job kind of the scheduled greeting (stored as ``hello:greet``).
GREET_KIND = "greet"
#: The reply dialog's checkbox (its values come back in ``ReplyDraft.inputs["sign"]``).
SIGN_INPUT = "sign"
#: Words that count as a customer saying hello, in the three languages.
_HELLO_WORDS = re.compile(r"\b(hello|hi|hey|hei|moi|terve|cześć|czesc|dzień dobry)\b", re.IGNORECASE)


class HelloConfig(BaseModel):
    """``[plugins.hello]``: where and how often to greet, and how to sign replies."""

    model_config = ConfigDict(extra="forbid")

    #: Channel id for the scheduled greeting; the inbox channel when not given.
    greeting_channel: str | None = None
    #: Minutes between greetings (fractions allowed, for tests).
    every_minutes: float = Field(default=24 * 60, gt=0)
    #: What "sign it" appends to a reply.
    signature: str = Field(default="The team", min_length=1, max_length=80)


def _config(ctx: PluginContext) -> HelloConfig:
    # ctx.config is the validated model (chatops_config_model answered for "hello").
    return ctx.config if isinstance(ctx.config, HelloConfig) else HelloConfig()


# -- set-up ------------------------------------------------------------------------------


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """The model of ``[plugins.hello]``; None for other plugins' names."""
    return HelloConfig if name == NAME else None


@hookimpl
def chatops_texts() -> Mapping[str, Mapping[str, str]]:
    """The plugin's words in en, fi and pl."""
    return TEXTS


@hookimpl
def chatops_migrations() -> PluginMigrations:
    """The Alembic scripts creating ``hello_reply_counts`` (version table ``chatops_version_hello``)."""
    return tables.MIGRATIONS


@hookimpl
def chatops_cli_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``chatops hello-stats``: print the replies counted, one line per conversation."""
    parser = subparsers.add_parser("hello-stats", help="replies counted by the hello plugin")
    parser.set_defaults(func=_cmd_stats)


def _cmd_stats(args: argparse.Namespace) -> int:
    # The CLI hook gets no ctx (no bot is running): read the config file the command was given.
    from chatops.config import load_settings
    from chatops.db import Database

    settings = load_settings(args.config)

    async def read() -> dict[int, int]:
        db = Database(settings.database.url)
        try:
            async with db.read() as session:
                return await tables.all_counts(session)
        finally:
            await db.dispose()

    try:
        counts = asyncio.run(read())
    except DBAPIError as exc:
        # Most likely the table is not there yet: say what to do rather than show a traceback.
        print(
            f"hello-stats: cannot read hello_reply_counts ({type(exc.orig).__name__}); "
            "run `chatops db upgrade` with hello enabled",
            file=sys.stderr,
        )
        return 2
    for conversation_id, replies in counts.items():
        print(f"conversation {conversation_id}: {replies}")
    print(f"total: {sum(counts.values())} replies in {len(counts)} conversations")
    return 0


# -- the running bot -----------------------------------------------------------------------


@hookimpl
def chatops_sources(ctx: PluginContext) -> Sequence[Source]:
    """None: hello is not a source (it brings no customer messages in), so it provides no Source."""
    return []


@hookimpl
async def chatops_startup(ctx: PluginContext) -> None:
    """Register the greeting's outbox kind and remember when the plugin started."""
    ctx.outbox.register(GREET_KIND, functools.partial(_post_greeting, ctx))
    await ctx.state.set("started_at", datetime.now(UTC).isoformat())
    ctx.log.info("hello started; greeting every %s minutes", _config(ctx).every_minutes)


@hookimpl
async def chatops_shutdown(ctx: PluginContext) -> None:
    """Remember when the plugin stopped (``GET /hello/stats`` shows it after the next start)."""
    await ctx.state.set("stopped_at", datetime.now(UTC).isoformat())


@hookimpl
def chatops_jobs(ctx: PluginContext) -> Sequence[Job]:
    """The greeting, every ``every_minutes`` (id ``hello:greeting``)."""
    trigger = IntervalTrigger(minutes=_config(ctx).every_minutes, timezone=ctx.tz)
    return [Job(id="greeting", trigger=trigger, func=functools.partial(queue_greeting, ctx))]


async def queue_greeting(ctx: PluginContext, due_at: datetime) -> None:
    """The scheduled job: queue the greeting due at ``due_at`` in the outbox (never Slack directly).

    The outbox posts it paced with the channel's other posts, retries it, and posts it once
    even if Slack's answer is lost.
    """
    channel = _config(ctx).greeting_channel or ctx.channels.inbox
    await ctx.outbox.enqueue(GREET_KIND, {"due_at": due_at.isoformat()}, channel=channel)


async def _post_greeting(ctx: PluginContext, job: PluginJob) -> None:
    """The outbox kind ``hello:greet``: post the greeting, naming the local time it was due."""
    due = datetime.fromisoformat(job.payload["due_at"]).astimezone(ctx.tz)
    channel = job.channel or ctx.channels.inbox
    await job.post(channel=channel, text=ctx.t("hello.greeting", time=due.strftime("%H:%M")))


@hookimpl
def chatops_slack_listeners(ctx: PluginContext, bolt: AsyncApp) -> None:
    """``/hello``: greets the person in the team's language with the replies counted so far."""

    @bolt.command("/hello")
    async def hello(ack: Any, command: dict[str, Any]) -> None:
        # One small query, well within Slack's 3 s; the answer is the acknowledgement itself.
        async with ctx.db.read() as session:
            counts = await tables.all_counts(session)
        await ack(text=ctx.t("hello.hello", user=f"<@{command['user_id']}>", count=sum(counts.values())))


@hookimpl
def chatops_routes(ctx: PluginContext) -> Sequence[BaseRoute]:
    """``GET /hello/stats``: the counts as JSON, and when the plugin last started and stopped."""

    async def stats(request: Request) -> JSONResponse:
        async with ctx.db.read() as session:
            counts = await tables.all_counts(session)
        return JSONResponse(
            {
                "replies": {str(cid): n for cid, n in counts.items()},
                "total": sum(counts.values()),
                "started_at": await ctx.state.get("started_at"),
                "stopped_at": await ctx.state.get("stopped_at"),
            }
        )

    return [Route("/hello/stats", stats, methods=["GET"])]


# -- cards and replies -----------------------------------------------------------------------


@hookimpl
async def chatops_card_blocks(ctx: PluginContext, card: CardData) -> Sequence[dict[str, Any]]:
    """ "👋 2 replies so far" under the message, once a reply was counted."""
    async with ctx.db.read() as session:
        count = await tables.replies_of(session, card.conversation_id)
    if not count:
        return []
    return [
        {
            "type": "context",
            "block_id": "hello_count",
            "elements": [{"type": "mrkdwn", "text": ctx.t("hello.reply_count", count=count)}],
        }
    ]


@hookimpl
def chatops_reply_inputs(ctx: PluginContext, card: CardData, kind: str) -> Sequence[dict[str, Any]]:
    """A checkbox: sign the reply with the configured signature."""
    signature = _config(ctx).signature
    return [
        {
            "type": "input",
            "block_id": SIGN_INPUT,
            "optional": True,
            "label": {"type": "plain_text", "text": ctx.t("hello.sign_label")},
            "element": {
                "type": "checkboxes",
                "action_id": "sign",
                "options": [
                    {
                        "text": {"type": "plain_text", "text": ctx.t("hello.sign_option", signature=signature)[:75]},
                        "value": "sign",
                    }
                ],
            },
        }
    ]


@hookimpl
def chatops_reply_check(ctx: PluginContext, draft: ReplyDraft) -> Veto | Rewrite | None:
    """Refuse a reply that still says TODO; sign it when the checkbox is ticked."""
    if "TODO" in draft.text:
        return Veto(ctx.t("hello.todo_veto"))
    if "sign" in (draft.inputs.get(SIGN_INPUT) or ()) and draft.text.strip():
        signature = _config(ctx).signature
        return Rewrite(f"{draft.text.rstrip()}\n— {signature}", ctx.t("hello.signed", signature=signature))
    return None


# -- what happened ---------------------------------------------------------------------------


@hookimpl
async def chatops_inbound(ctx: PluginContext, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """Note on a new card's thread when the customer opens with a hello."""
    if new and _HELLO_WORDS.search(message.text or ""):
        await ctx.conversations.note(conversation_id, ctx.t("hello.waved"))


@hookimpl
async def chatops_event(ctx: PluginContext, event: ConversationEvent) -> None:
    """Count each public reply the platform accepted, then redraw the card to show the count."""
    if event.action != "reply_sent" or event.conversation_id is None:
        return
    async with ctx.db.write() as session:
        await tables.count_reply(session, event.conversation_id, event.at)
    await ctx.conversations.refresh_card(event.conversation_id)
