"""Fixtures for the hello plugin's tests: chatops's own (fake Slack, both databases), and a migrated database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from chatops.cli import main
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.webhook.testing import WEBHOOK_SECRET, WebhookCustomer

pytest_plugins = ["chatops.testing.fixtures"]

#: The plugins these tests enable: a source for customers' messages, and hello.
PLUGINS = ["webhook", "hello"]


def write_config(path: Path, database_url: str, hello: Mapping[str, Any] | None = None) -> Path:
    """A config file for the ``chatops`` command: the database, and the plugins enabled."""
    lines = [
        "[slack]",
        'mode = "http"',
        'bot_token = "xoxb-test"',
        'signing_secret = "test-signing-secret"',
        'inbox_channel = "CINBOX"',
        "[database]",
        f"url = {json.dumps(database_url)}",
        "[plugins]",
        f"enabled = {json.dumps(PLUGINS)}",
        "[plugins.webhook]",
        f"secret = {json.dumps(WEBHOOK_SECRET)}",
        "[plugins.hello]",
        *(f"{key} = {json.dumps(value)}" for key, value in (hello or {}).items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    """A config file naming the test database, with hello enabled."""
    return write_config(tmp_path / "chatops.toml", database_url)


@pytest.fixture
def upgraded(config_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``chatops db upgrade`` run on the test database, as an operator would; returns what it printed."""
    assert main(["-c", str(config_file), "db", "upgrade"]) == 0
    return capsys.readouterr().out


HelloBot = Callable[..., Any]


@pytest.fixture
def hello_bot(fake_slack: FakeSlack, database_url: str, upgraded: str) -> HelloBot:
    """Builds a TestBot with hello enabled on the upgraded database: ``async with hello_bot(**hello) as bot``."""

    @asynccontextmanager
    async def build(*, language: str = "en", **hello: Any) -> AsyncIterator[TestBot]:
        # Customers' messages come in through the built-in webhook source (hello is not a source).
        config = {"team": {"language": language}, "plugins": {"hello": hello}}
        bot = TestBot(fake_slack, database_url, config=config, customer=WebhookCustomer, plugins=PLUGINS)
        async with bot:
            yield bot

    return build
