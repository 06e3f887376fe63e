"""``chatops digest --period today|yesterday|week [--post]``: the digest in a terminal.

Reads the same config and the same figures as the running bot (:func:`.compose.compose`),
so the text printed here says what the digest in Slack says. ``--post`` posts it to the
managers' channel as the scheduled one is posted (:func:`.publish.publish`, chart included
when configured), with a Web API client of its own: the bot need not be running.
``--as-of`` shows a digest as it stood at an earlier moment (the one posted on Monday).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chatops.cli import with_database
from chatops.config import ConfigError, Settings, secret_value

from . import cli_support, publish, render
from .compose import DigestReport, compose
from .periods import PERIODS, Period

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from chatops.db import Database


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chatops digest``."""
    parser = subparsers.add_parser(
        "digest",
        help="print the managers' digest (and post it with --post)",
        description="Print the digest the bot posts to the managers' channel, for any period.",
    )
    parser.add_argument(
        "--period",
        choices=PERIODS,
        default="yesterday",
        help="today so far, the whole of yesterday (default), or the seven days before today",
    )
    parser.add_argument(
        "--post", action="store_true", help="also post it to the managers' channel ([plugins.digest] channel)"
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="the digest as it stood at TIME (ISO 8601, e.g. 2026-12-01T08:00; without an offset: the team's time)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``chatops digest``: print it; with ``--post``, post it and say where."""
    loaded = cli_support.load(args)
    now = as_of(args.as_of, loaded.tz)
    period: Period = args.period
    wanted_chart = bool(args.post) and loaded.config.chart

    async def read(db: Database) -> DigestReport:
        return await compose(db, period, now, loaded.tz, loaded.options, chart=wanted_chart)

    report = with_database(loaded.settings, read)
    source_name = source_names(loaded.settings)
    if not args.post:
        # Offline: people are shown by their Slack ids (names need users.info, and so the network).
        return _print(render.digest_text(report, loaded.t, source_name=source_name))
    try:
        channel, link = asyncio.run(_post(loaded, report))
    except Exception as exc:  # Slack refused or is unreachable: one line, not a traceback
        print(f"slack: {_slack_error(exc)}", file=sys.stderr)
        return 1
    key = "digest.cli.posted" if link else "digest.cli.posted_no_link"
    print(loaded.t(key, channel=channel, link=link))
    return 0


def _print(text: str) -> int:
    """Print the digest; a reader that went away (`| head`) ends it quietly with 1, not as a connection error."""
    try:
        print(text, end="", flush=True)
    except BrokenPipeError:
        # Whatever is still buffered goes nowhere instead of failing again at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def as_of(text: str | None, tz: ZoneInfo) -> datetime:
    """``--as-of`` as a UTC instant (now when not given); a mistake is a config error (one line, exit 2)."""
    if not text:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("--as-of", f"{text!r} is not a time like 2026-12-01T08:00") from None
    if not cli_support.FIRST_YEAR <= parsed.year <= cli_support.LAST_YEAR:
        raise ConfigError("--as-of", f"{text!r} is not between {cli_support.FIRST_YEAR} and {cli_support.LAST_YEAR}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


async def _post(loaded: cli_support.Loaded, report: DigestReport) -> tuple[str, str | None]:
    """Print ``report`` as it is posted, post it with a client of its own; returns the channel and its permalink."""
    from slack_sdk.web.async_client import AsyncWebClient

    settings = loaded.settings
    client = AsyncWebClient(token=secret_value(settings.slack.bot_token), base_url=settings.slack.api_url)
    slack = publish.ClientSlack(client)
    names = await render.people_names(report, user_name_by(client))
    source_name = source_names(settings)
    # Printed first: when Slack refuses the post, the digest has still been read.
    print(render.digest_text(report, loaded.t, source_name=source_name, names=names), end="", flush=True)
    posted = await publish.publish(report, loaded.t, slack, loaded.config.channel, names=names, source_name=source_name)
    return posted["channel"], await slack.permalink(posted["channel"], posted["ts"])


def user_name_by(client: AsyncWebClient) -> Callable[[str], Awaitable[str | None]]:
    """A teammate's display name by ``users.info`` (as the bot's ``ctx.user_name`` finds it); None when unknown."""

    async def user_name(user: str) -> str | None:
        found: Any = (await client.users_info(user=user))["user"]
        profile = found.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or found.get("name")
        return name if isinstance(name, str) and name else None

    return user_name


def source_names(settings: Settings) -> Callable[[str], str]:
    """A source's display name without a running bot: its ``display_name`` setting, else its name capitalised."""

    def name(source: str) -> str:
        configured = settings.plugins.section(source).get("display_name")
        return configured if isinstance(configured, str) and configured else source[:1].upper() + source[1:]

    return name


def _slack_error(exc: Exception) -> str:
    """Slack's error code (``not_in_channel``) or the exception's name, never its whole text (it may hold a URL)."""
    response = getattr(exc, "response", None)
    code = response.get("error") if response is not None and hasattr(response, "get") else None
    return str(code) if code else type(exc).__name__
