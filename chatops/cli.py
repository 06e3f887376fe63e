"""The ``chatops`` command: run the bot, check the config, upgrade the database, list plugins, see the outbox.

Mistakes a person makes (config, schema) print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import DBAPIError

from chatops import __version__
from chatops.config import (
    ConfigError,
    RawConfig,
    Settings,
    StorageSettings,
    read_config,
    secret_values,
    validate_settings,
    validate_storage_settings,
)
from chatops.migrate import SchemaOutOfDate
from chatops.observability.logs import LOG_FORMATS, LOG_LEVELS, SecretMaskingJsonFormatter, configure_logging
from chatops.observability.logs import SecretMaskingFormatter as SecretMaskingFormatter  # its old home: re-exported
from chatops.plugins import PluginFailed

if TYPE_CHECKING:
    from chatops.db import Database
    from chatops.plugin_migrations import PluginMigrations

EXIT_CONFIG = 2
T = TypeVar("T")

log = logging.getLogger("chatops")


def secrets_of(settings: Settings, plugin_configs: Iterable[object] = ()) -> list[str]:
    """Every secret value in the settings and the plugins' validated configs.

    Found by type (every ``SecretStr`` field, plus the database URL's password), not by
    key name, so a plugin's secret is masked whatever its key is called.
    """
    return secret_values(settings, *plugin_configs)


def _configure_logging(args: argparse.Namespace, settings: Settings, plugin_configs: Iterable[object] = ()) -> None:
    """Log in the format and level of the command line, else of the config (``[logging]``), secrets masked."""
    configure_logging(
        args.log_level or settings.logging.level,
        args.log_format or settings.logging.format,
        secrets_of(settings, plugin_configs),
    )


def with_http_overrides(settings: Settings, host: str | None, port: str | None) -> Settings:
    """``settings`` with ``run --host/--port`` in place of ``http.host``/``http.port``, validated as the config is.

    A bad value is a :class:`ConfigError` naming the option (``--port: …``).
    """
    from pydantic import ValidationError

    from chatops.config import HttpConfig

    given = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    if not given:
        return settings
    try:
        http = HttpConfig.model_validate({**settings.http.model_dump(), **given})
    except ValidationError as exc:
        first = exc.errors()[0]  # only the options given can be wrong: the config's values were valid
        raise ConfigError(f"--{first['loc'][0]}", first["msg"].removeprefix("Value error, ")) from None
    return settings.model_copy(update={"http": http})


def load_settings_of(args: argparse.Namespace, *, plugin_sections: bool = True) -> Settings:
    """The settings of the config file a command was given (``-c``), for plugins' sub-commands too.

    When the core settings are wrong, the enabled plugins' sections are validated as well,
    so the one :class:`ConfigError` raised names every mistake; with ``plugin_sections``
    (the default) they are validated when the core settings are right, too.
    """
    return _settings_and_config(args, plugin_sections=plugin_sections)[0]


def _settings_and_config(args: argparse.Namespace, *, plugin_sections: bool) -> tuple[Settings, RawConfig]:
    """:func:`load_settings_of`, plus the config as read (its note says where settings came from)."""
    from chatops.plugins import plugin_config_problems

    raw = read_config(args.config)
    try:
        settings = validate_settings(raw)
    except ConfigError as exc:
        raise ConfigError(problems=[*exc.problems, *plugin_config_problems(raw)], note=exc.note) from None
    # Only the plugins' sections wrong: raised here, with the note on where settings came from
    # (the person may believe the secret they miss is in a ./config.toml that was never read).
    problems = plugin_config_problems(raw) if plugin_sections else []
    if problems:
        raise ConfigError(problems=problems, note=raw.note)
    return settings, raw


def load_storage_settings_of(args: argparse.Namespace) -> StorageSettings:
    """Only ``[database]`` and ``[plugins]`` of the config: the database commands need no Slack token."""
    return validate_storage_settings(read_config(args.config))


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until interrupted."""
    from chatops.app import ChatOps
    from chatops.server import run

    settings = with_http_overrides(load_settings_of(args), args.host, args.port)
    _configure_logging(args, settings)
    app = ChatOps(settings)
    # Again, now that the plugins' configs are validated and their secrets known.
    _configure_logging(args, settings, app.plugin_configs.values())
    asyncio.run(run(app))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config (and plugins' sections); with --network, check what Slack can prove."""
    # Every enabled plugin's section is validated here too (plugin_sections), once.
    settings, raw = _settings_and_config(args, plugin_sections=True)
    print(f"config ok: {len(settings.plugins.enabled)} plugin(s) enabled: {', '.join(settings.plugins.enabled)}")
    if raw.note:
        print(raw.note)
    if not (args.network or args.post):
        print(
            "not checked: the tokens against Slack, the Socket Mode connection, that the bot can post in "
            "its channels (add --network)"
        )
        return 0
    from chatops.slack.preflight import check_slack

    results = asyncio.run(check_slack(settings, post=args.post))
    for result in results:
        print(result.line())
    failed = [result.subject for result in results if result.outcome == "FAILED"]
    if failed:
        print(f"check failed: {', '.join(dict.fromkeys(failed))}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _plugin_migrations(settings: Settings | StorageSettings) -> list[tuple[str, PluginMigrations]]:
    """The enabled plugins' migrations, in ``[plugins] enabled`` order.

    The plugins are registered but their config sections are not validated: database
    commands (``db``, ``outbox``) work with a config that lacks, say, a plugin's secret.
    """
    from chatops.plugins import discover, enabled_migrations, new_manager

    available = discover()
    pm = new_manager()
    for name in settings.plugins.enabled:
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise ConfigError("plugins.enabled", f"unknown plugin {name!r} (installed: {known})")
        if not pm.has_plugin(name):  # listed twice: `chatops run` says so, here it changes nothing
            pm.register(available[name].load(), name=name)
    return enabled_migrations(pm, settings.plugins.enabled)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Bring the database schema up to date: the core's, then each enabled plugin's, one line each."""
    from chatops.db import Database
    from chatops.migrate import MigrationFailed, PartUpgrade, upgrade_all

    settings = load_storage_settings_of(args)
    plugins = _plugin_migrations(settings)

    async def go() -> list[PartUpgrade]:
        db = Database(settings.database.url)
        try:
            return await upgrade_all(db, plugins)
        finally:
            await db.dispose()

    try:
        done = asyncio.run(go())
    except MigrationFailed as exc:
        for part in exc.done:
            print(part.describe())
        print(f"database: {exc}", file=sys.stderr)
        return 1
    for part in done:
        print(part.describe())
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    """Show where the core's and each enabled plugin's tables are; exit 1 when one is not current."""
    from chatops.db import Database
    from chatops.migrate import PartState, schema_status

    settings = load_storage_settings_of(args)
    plugins = _plugin_migrations(settings)

    async def go() -> list[PartState]:
        db = Database(settings.database.url)
        try:
            return await schema_status(db, plugins)
        finally:
            await db.dispose()

    states = asyncio.run(go())
    for state in states:
        print(state.describe())
    if all(state.up_to_date for state in states):
        return 0
    if all(state.known for state in states):
        print("run `chatops db upgrade` to bring it up to date", file=sys.stderr)
    return 1


def cmd_plugins(args: argparse.Namespace) -> int:
    """List discovered plugins, whether they run, and why; exit 2 when the config is wrong or names a missing one.

    When the config has mistakes, they are printed and the plugins' states come from
    ``[plugins]`` alone if it can be read, else they are "unknown", never "disabled".
    """
    from chatops.config import PluginsConfig, validate_plugins_section
    from chatops.plugins import NOT_INSTALLED, describe

    known: Settings | PluginsConfig | None
    try:
        # The plugins' own states (not installed, misconfigured) are what the list shows.
        known = load_settings_of(args, plugin_sections=False)
        failed = False
    except ConfigError as exc:
        failed = True
        if exc.note:
            print(exc.note, file=sys.stderr)
        print(f"the config could not be loaded ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for line in exc.lines():
            print(f"  {line}", file=sys.stderr)
        try:
            known = validate_plugins_section(read_config(args.config))
        except ConfigError:
            known = None
    infos = describe(known)
    for info in infos:
        print(f"{info.name:<12} {info.state:<27} {info.target:<32} {info.reason}")
    return EXIT_CONFIG if failed or any(info.state == NOT_INSTALLED for info in infos) else 0


def _ago(seconds: float) -> str:
    """A short human duration: 45s, 12m, 3h, 2d."""
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def with_database(settings: Settings | StorageSettings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database, after checking its schema (and enabled plugins') is current."""
    from chatops.db import Database
    from chatops.migrate import ensure_schema

    plugins = _plugin_migrations(settings)

    async def go() -> T:
        db = Database(settings.database.url)
        try:
            await ensure_schema(db, plugins=plugins, auto_upgrade_sqlite=False)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def cmd_outbox(args: argparse.Namespace) -> int:
    """List pending and dead outbox jobs, one line each."""
    from chatops.models import utcnow
    from chatops.outbox import list_jobs

    settings = load_storage_settings_of(args)
    jobs = with_database(settings, lambda db: list_jobs(db, args.status, args.limit))
    if not jobs:
        print({"all": "no pending or dead jobs", "pending": "no pending jobs", "dead": "no dead jobs"}[args.status])
        return 0
    now = utcnow()
    print(f"{'ID':>6}  {'KIND':<16} {'STATUS':<8} {'CONVERSATION':<22} {'TRIES':>5}  {'WHEN':<14} LAST ERROR")
    for job in jobs:
        about = f"{job.conversation_id} ({job.source})" if job.conversation_id is not None else "-"
        if job.status == "dead":
            when = f"dead, {_ago((now - job.created_at).total_seconds())} old"
        else:
            wait = (job.due_at - now).total_seconds()
            when = f"due in {_ago(wait)}" if wait > 1 else "due now"
        error = " ".join((job.last_error or "").split())
        error = error if len(error) <= 80 else error[:79] + "…"
        print(f"{job.id:>6}  {job.kind:<16} {job.status:<8} {about:<22} {job.attempts:>5}  {when:<14} {error}")
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    """Put dead jobs back to pending (attempts reset, due now); the running bot delivers them."""
    from chatops.outbox import retry_jobs

    if bool(args.ids) == bool(args.all_dead):
        print("outbox retry: give job ids or --all-dead (not both)", file=sys.stderr)
        return EXIT_CONFIG
    settings = load_storage_settings_of(args)
    result = with_database(settings, lambda db: retry_jobs(db, None if args.all_dead else args.ids))
    if result.unknown:
        print(f"outbox retry: no job {', '.join(map(str, result.unknown))}; nothing changed", file=sys.stderr)
        return EXIT_CONFIG
    for job_id, status in result.not_dead:
        print(f"job {job_id} is {status}, not dead: left as it is")
    if result.retried:
        print(f"put back {len(result.retried)} job(s), due now: {', '.join(map(str, result.retried))}")
    elif args.all_dead:
        print("no dead jobs")
    return 0


def connection_problem(exc: BaseException) -> str:
    """Why a connection failed, in words (a bare TimeoutError or gaierror says little by itself)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time (a wrong host or port, or a firewall dropping the packets?)"
    if isinstance(exc, socket.gaierror):
        return f"a host name does not resolve ({exc.strerror or exc})"
    return str(exc) or type(exc).__name__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, including plugins' sub-commands."""
    parser = argparse.ArgumentParser(prog="chatops", description="Social-media customer service in Slack.")
    parser.add_argument("--version", action="version", version=f"chatops {__version__}")
    parser.add_argument("-c", "--config", help="config file (default: $CHATOPS_CONFIG or ./config.toml)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="default: [logging] level in the config, else info")
    parser.add_argument(
        "--log-format", choices=LOG_FORMATS, help="text, or json lines for log shippers (default: [logging] format)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the bot")
    run_parser.add_argument("--host", help="listen on this address (overrides http.host)")
    run_parser.add_argument("--port", help="listen on this port (overrides http.port)")
    run_parser.set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate the config")
    check.add_argument(
        "--network",
        action="store_true",
        help="also check against Slack: the tokens, Socket Mode, that the bot is in its channels",
    )
    check.add_argument(
        "--post", action="store_true", help="--network, proving each channel by posting a test message and deleting it"
    )
    check.set_defaults(func=cmd_check)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations: the core's, then enabled plugins'").set_defaults(
        func=cmd_db_upgrade
    )
    db_sub.add_parser("status", help="where each part of the schema is; exit 1 if one is behind").set_defaults(
        func=cmd_db_status
    )
    sub.add_parser("plugins", help="list plugins").set_defaults(func=cmd_plugins)
    outbox = sub.add_parser("outbox", help="list pending and dead outbox jobs; retry dead ones")
    outbox.add_argument("--status", choices=["pending", "dead", "all"], default="all", help="all: pending and dead")
    outbox.add_argument("--limit", type=int, default=50, help="at most this many jobs (default 50)")
    outbox.set_defaults(func=cmd_outbox)
    outbox_sub = outbox.add_subparsers(dest="outbox_command")
    retry = outbox_sub.add_parser("retry", help="put dead jobs back to pending, attempts reset, due now")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="job ids (from `chatops outbox`)")
    retry.add_argument("--all-dead", action="store_true", help="every dead job")
    retry.set_defaults(func=cmd_outbox_retry)
    from chatops.sandbox.command import add_parser as add_sandbox_parser

    add_sandbox_parser(sub)

    from chatops.plugins import discover, new_manager

    pm = new_manager()
    for name, ep in discover().items():
        try:
            pm.register(ep.load(), name=name)
        except Exception as exc:  # one broken plugin must not break the command line
            log.debug("plugin %s not loaded for CLI: %s", name, exc)
    pm.hook.chatops_cli_commands(subparsers=sub)
    return parser


def _says_json(args: argparse.Namespace) -> bool:
    """Whether stderr is a JSON log: ``--log-format json``, or a config that set it and was read."""
    if args.log_format is not None:
        return bool(args.log_format == "json")
    if any(isinstance(handler.formatter, SecretMaskingJsonFormatter) for handler in logging.getLogger().handlers):
        return True
    # The config did not validate, so logging was never set up: its [logging] format may still be read.
    try:
        section = read_config(args.config).data.get("logging")
    except ConfigError:
        return False
    return isinstance(section, dict) and section.get("format") == "json"


def report_stop(args: argparse.Namespace, lines: Iterable[str]) -> None:
    """Why the command stopped, on stderr: plain lines for a person, JSON log records in a JSON log.

    A log shipper reading ``--log-format json`` would otherwise drop (or mangle) the one line
    that says why the bot is not running.
    """
    if not _says_json(args):
        for line in lines:
            print(line, file=sys.stderr)
        return
    if not any(isinstance(h.formatter, SecretMaskingJsonFormatter) for h in logging.getLogger().handlers):
        configure_logging(args.log_level or "info", "json")  # the config could not be read: no secrets known
    for line in lines:
        log.error("%s", line)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chatops`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        report_stop(args, [*([exc.note] if exc.note else []), *exc.lines()])
        return EXIT_CONFIG
    except SchemaOutOfDate as exc:
        report_stop(args, [f"database: {exc}"])
        return EXIT_CONFIG
    except (OSError, TimeoutError) as exc:
        # A database or server that cannot be reached (refused, a name that does not resolve,
        # no answer in time): one line, as for the other mistakes of the surroundings.
        report_stop(args, [f"connection: {connection_problem(exc)}"])
        return 1
    except PluginFailed as exc:
        report_stop(args, [str(exc)])
        return 1
    except DBAPIError as exc:
        # The database refused (a file it cannot open, a role or password it does not know, a
        # database that does not exist): its own words, one line.
        report_stop(args, [f"database: {' '.join(str(exc.orig or exc).split())}"])
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
