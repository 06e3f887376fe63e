"""One log format for chatops and uvicorn, text or JSON lines, with no configured secret in it; ``run --host/--port``."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger

import chatops.server
from chatops.app import ChatOps
from chatops.cli import main, secrets_of
from chatops.config import parse_settings
from chatops.jobs import Job
from chatops.observability.logs import UVICORN_LOGGERS, configure_logging
from chatops.plugins import load_plugins
from chatops.server import http_server
from chatops.testing.bot import SIGNING_SECRET, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import signed_headers
from chatops_plugins.webhook.testing import WEBHOOK_SECRET

APP_TOKEN = "xapp-1-A0TESTAPP-0000-app-token-secret"
#: ``2026-11-29 10:15:03,123 INFO uvicorn.error: …``
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the process's logging back as it was: other tests (and pytest's capture) rely on it."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    named = [logging.getLogger(name) for name in (*UVICORN_LOGGERS, "alembic.runtime.migration")]
    saved = [(logger, list(logger.handlers), logger.level, logger.propagate, list(logger.filters)) for logger in named]
    yield
    root.handlers[:], root.level = saved_root[0], saved_root[1]
    for logger, handlers, level, propagate, filters in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.filters[:] = filters


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of a JSON log, parsed (fails on a line that is not one JSON object)."""
    parsed = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(entry, dict) for entry in parsed)
    return parsed


def test_json_lines_carry_time_level_logger_message_and_the_traceback() -> None:
    out = io.StringIO()
    configure_logging("info", "json", [], stream=out)
    log = logging.getLogger("chatops.test")
    log.info("card %s posted", 7)
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("it broke")
    info, error = json_lines(out.getvalue())
    assert {key: info[key] for key in ("level", "logger", "message")} == {
        "level": "INFO",
        "logger": "chatops.test",
        "message": "card 7 posted",
    }
    assert datetime.fromisoformat(info["time"]).utcoffset() is not None
    assert "exception" not in info
    assert error["level"] == "ERROR" and error["message"] == "it broke"
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert error["exception"].endswith("ValueError: bad value")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_masked_however_they_are_written(log_format: str) -> None:
    password = 'pa"ss\\wörd-123'  # escaped differently by JSON: masked all the same
    settings = parse_settings(
        {
            "slack": {"bot_token": "xoxb-bot-token-1234", "app_token": APP_TOKEN, "inbox_channel": "C1"},
            "database": {"url": "postgresql://chatops:pa%22ss%5Cw%C3%B6rd-123@db.example/chatops"},
        },
        environ={},
    )
    secrets = secrets_of(settings)
    assert password in secrets
    out = io.StringIO()
    configure_logging("info", log_format, secrets, stream=out)
    log = logging.getLogger("chatops.test")
    log.info("connecting with %s and %s", password, settings.slack.app_token.get_secret_value())  # type: ignore[union-attr]
    log.info({"token": "xoxb-bot-token-1234"})
    text = out.getvalue()
    for secret in ("xoxb-bot-token-1234", APP_TOKEN, password, json.dumps(password)[1:-1]):
        assert secret not in text
    assert text.count("***") == 3
    if log_format == "json":
        assert [entry.get("message") or entry.get("token") for entry in json_lines(text)] == [
            "connecting with *** and ***",
            "***",
        ]


async def serve_and_stop(app: ChatOps) -> None:
    """Serve the bot's web app as ``chatops run`` does (same uvicorn config; port 0 here), then stop it."""
    assert app.settings.http.port == 0
    server = http_server(app)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)
    server.should_exit = True
    await task


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_configured_secret_reaches_the_log(fake_slack: FakeSlack, database_url: str, log_format: str) -> None:
    config = {"slack": {"app_token": APP_TOKEN}}
    bot = TestBot(fake_slack, database_url, config=config)
    out = io.StringIO()
    # Before the bot starts, as `chatops run` does: the start itself is in the log.
    settings = bot.settings
    plugin_configs = load_plugins(settings)[1].values()  # validated, as `chatops run` masks them
    configure_logging("debug", log_format, secrets_of(settings, plugin_configs), stream=out)
    bot_token = settings.slack.bot_token.get_secret_value()
    secrets = [bot_token, APP_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET]
    async with bot:
        assert bot.app is not None and bot.http is not None
        # A request with a bad signature, whose body carries the secrets: Bolt logs the body.
        body = f"command=%2Fchatops&text={'+'.join(secrets)}&user_id=UMALLORY"
        refused = await bot.http.post("/slack/events", content=body, headers=signed_headers("not-the-secret", body))
        assert refused.status_code == 401

        # An error with a traceback that names them.
        async def leaky(due_at: datetime) -> None:
            raise RuntimeError(f"Slack refused {bot_token}; app {APP_TOKEN}; webhook {WEBHOOK_SECRET}")

        bot.app.scheduler.jobs["leaky"] = Job("leaky", IntervalTrigger(minutes=5), leaky)
        assert await bot.app.scheduler.run_claimed("leaky", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        await bot.comment("a customer's comment, to have some traffic in the log")
        await bot.next_card()
        # uvicorn's own messages, from a server configured as `chatops run` configures it (TestBot's own
        # server quiets uvicorn to warnings, process-wide: logging is set up again, as `run` has it).
        configure_logging("debug", log_format, secrets_of(settings, plugin_configs), stream=out)
        await serve_and_stop(bot.app)
    text = out.getvalue()
    for secret in secrets:
        assert secret not in text
    if log_format == "json":
        entries = json_lines(text)
        lines = [f"{e['level']} {e['logger']}: {e['message']} {e.get('exception', '')}" for e in entries]
        assert not any("color_message" in e for e in entries)
    else:
        lines = text.splitlines()
    log = "\n".join(lines)
    # What was logged is there, masked: the test saw the secrets go in.
    assert "Invalid request signature detected" in log
    assert "RuntimeError: Slack refused ***; app ***; webhook ***" in log
    assert "Traceback (most recent call last)" in log
    uvicorn_lines = [line for line in lines if "uvicorn.error: " in line]
    assert any("Uvicorn running on http://127.0.0.1:" in line for line in uvicorn_lines), uvicorn_lines
    assert any("Started server process" in line for line in uvicorn_lines)
    if log_format == "text":
        # uvicorn's lines are in chatops' format, not uvicorn's ("INFO:     Uvicorn running on …").
        assert all(TEXT_LINE.match(line) for line in uvicorn_lines)
        assert not any(line.startswith("INFO:") for line in lines)


async def test_starting_on_an_up_to_date_database_logs_no_migration_chatter(
    fake_slack: FakeSlack, database_url: str
) -> None:
    out = io.StringIO()
    configure_logging("info", "text", [], stream=out)
    async with TestBot(fake_slack, database_url):
        pass
    assert "Context impl" not in out.getvalue()
    assert "Will assume" not in out.getvalue()
    assert "alembic" not in out.getvalue()


async def test_a_migration_that_runs_is_logged(tmp_path: Path) -> None:
    from chatops.db import Database
    from chatops.migrate import ensure_schema

    out = io.StringIO()
    configure_logging("info", "text", [], stream=out)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        await ensure_schema(db)
    finally:
        await db.dispose()
    text = out.getvalue()
    assert "alembic.runtime.migration: Running upgrade  -> " in text
    assert "Context impl" not in text


def write_config(tmp_path: Path, extra: str = "") -> Path:
    """A config file for an HTTP-mode bot on 127.0.0.1:8080, with ``extra`` TOML at the end."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[slack]
mode = "http"
bot_token = "xoxb-test-token"
signing_secret = "test-signing-secret"
inbox_channel = "C1"
[database]
url = "sqlite:///{tmp_path / "chatops.db"}"
[http]
host = "127.0.0.1"
port = 8080
[plugins]
enabled = []
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ChatOps]:
    """``chatops run`` up to serving: the app it would serve is recorded instead."""
    apps: list[ChatOps] = []

    async def record(app: ChatOps) -> None:
        apps.append(app)
        await app.db.dispose()

    monkeypatch.setattr(chatops.server, "run", record)
    return apps


def test_run_host_and_port_override_the_config(tmp_path: Path, served: list[ChatOps]) -> None:
    config = write_config(tmp_path)
    assert main(["-c", str(config), "run", "--host", "0.0.0.0", "--port", "9123"]) == 0  # noqa: S104
    [app] = served
    assert (app.settings.http.host, app.settings.http.port) == ("0.0.0.0", 9123)  # noqa: S104
    assert main(["-c", str(config), "run"]) == 0
    assert (served[1].settings.http.host, served[1].settings.http.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize("port", ["70000", "http", "-1"])
def test_a_bad_port_is_one_line_naming_the_option(
    tmp_path: Path, served: list[ChatOps], port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["-c", str(config), "run", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: --port: ") and err.count("\n") == 1, err
    assert served == []


def test_log_format_and_level_come_from_the_config_unless_given(
    tmp_path: Path, served: list[ChatOps], capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, '[logging]\nformat = "json"\nlevel = "warning"')
    assert main(["-c", str(config), "run"]) == 0
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert type(root.handlers[0].formatter).__name__ == "SecretMaskingJsonFormatter"
    assert main(["-c", str(config), "--log-format", "text", "--log-level", "debug", "run"]) == 0
    assert root.level == logging.DEBUG
    assert type(root.handlers[0].formatter).__name__ == "SecretMaskingFormatter"
