"""The ``chatops`` command: run the bot, check the config, upgrade the database, list plugins.

Mistakes a person makes (config, schema) print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable, Sequence

from chatops import __version__
from chatops.config import ConfigError, Settings, load_settings, secret_value, secret_values
from chatops.migrate import SchemaOutOfDate

EXIT_CONFIG = 2

log = logging.getLogger("chatops")


class SecretMaskingFormatter(logging.Formatter):
    """Masks configured secrets in every formatted log line, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def secrets_of(settings: Settings, plugin_configs: Iterable[object] = ()) -> list[str]:
    """Every secret value in the settings and the plugins' validated configs.

    Found by type (every ``SecretStr`` field, plus the database URL's password), not by
    key name, so a plugin's secret is masked whatever its key is called.
    """
    return secret_values(settings, *plugin_configs)


def _configure_logging(level: str, settings: Settings | None = None, plugin_configs: Iterable[object] = ()) -> None:
    handler = logging.StreamHandler()
    secrets = secrets_of(settings, plugin_configs) if settings is not None else []
    handler.setFormatter(SecretMaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _load(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until interrupted."""
    from chatops.app import ChatOps
    from chatops.server import run

    settings = _load(args)
    _configure_logging(args.log_level, settings)
    app = ChatOps(settings)
    # Again, now that the plugins' configs are validated and their secrets known.
    _configure_logging(args.log_level, settings, app.plugin_configs.values())
    asyncio.run(run(app))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config (and plugins' sections); with --network, check the Slack token."""
    from chatops.plugins import load_plugins

    settings = _load(args)
    load_plugins(settings)
    print(f"config ok: {len(settings.plugins.enabled)} plugin(s) enabled: {', '.join(settings.plugins.enabled)}")
    if args.network:
        from slack_sdk.web.async_client import AsyncWebClient

        async def auth_test() -> dict[str, object]:
            client = AsyncWebClient(token=secret_value(settings.slack.bot_token), base_url=settings.slack.api_url)
            return dict((await client.auth_test()).data)  # type: ignore[arg-type]

        try:
            data = asyncio.run(auth_test())
        except Exception as exc:
            error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error") or type(exc).__name__
            print(f"slack.bot_token: auth.test failed: {error}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"slack ok: bot {data.get('user')} ({data.get('user_id')}) in team {data.get('team')}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from chatops.db import Database
    from chatops.migrate import upgrade

    settings = _load(args)

    async def go() -> tuple[str | None, str]:
        db = Database(settings.database.url)
        try:
            return await upgrade(db)
        finally:
            await db.dispose()

    before, after = asyncio.run(go())
    print(f"database at {after}" + (f" (was {before or 'empty'})" if before != after else " (already current)"))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List discovered plugins, whether they run, and why."""
    from chatops.plugins import describe

    try:
        settings: Settings | None = _load(args)
    except ConfigError as exc:
        print(f"(config not loaded: {exc})", file=sys.stderr)
        settings = None
    for info in describe(settings):
        state = "enabled " if info.enabled else "disabled"
        print(f"{info.name:<12} {state}  {info.target:<32} {info.reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, including plugins' sub-commands."""
    parser = argparse.ArgumentParser(prog="chatops", description="Social-media customer service in Slack.")
    parser.add_argument("--version", action="version", version=f"chatops {__version__}")
    parser.add_argument("-c", "--config", help="config file (default: $CHATOPS_CONFIG or ./config.toml)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot").set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate the config")
    check.add_argument("--network", action="store_true", help="also check the Slack token with auth.test")
    check.set_defaults(func=cmd_check)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    sub.add_parser("plugins", help="list plugins").set_defaults(func=cmd_plugins)

    from chatops.plugins import discover, new_manager

    pm = new_manager()
    for name, ep in discover().items():
        try:
            pm.register(ep.load(), name=name)
        except Exception as exc:  # one broken plugin must not break the command line
            log.debug("plugin %s not loaded for CLI: %s", name, exc)
    pm.hook.chatops_cli_commands(subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chatops`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SchemaOutOfDate as exc:
        print(f"database: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConnectionError as exc:
        print(f"connection: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
