"""The test kit (``chatops.testing``) stands apart from the built-in plugins, as a third-party author needs it to."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

import chatops.testing
from chatops import hookspecs
from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack

KIT = Path(chatops.testing.__file__).resolve().parent


def plugin_imports(source: str) -> list[str]:
    """Every module named ``chatops_plugins`` or below that ``source`` imports (at any depth)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found += [name for name in names if name == "chatops_plugins" or name.startswith("chatops_plugins.")]
    return found


def test_the_scan_sees_every_kind_of_import() -> None:
    source = (
        "import chatops_plugins.webhook\n"
        "def f():\n    from chatops_plugins.webhook.signature import sign\n"
        "import importlib\nimportlib.import_module('chatops_plugins.facebook')\n"
        "import chatops_pluginsque\nfrom chatops import testing\n"
    )
    assert plugin_imports(source) == [
        "chatops_plugins.webhook",
        "chatops_plugins.webhook.signature",
        "chatops_plugins.facebook",
    ]


def test_no_module_of_the_test_kit_imports_a_built_in_plugin() -> None:
    modules = sorted(KIT.rglob("*.py"))
    # The fake Slack package and the bot are in the scan, so an empty glob cannot pass.
    assert {"bot.py", "fixtures.py", "customers.py", "fake.py"} <= {p.name for p in modules}
    offenders = {
        str(path.relative_to(KIT)): imports
        for path in modules
        if (imports := plugin_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"chatops.testing must not import built-in plugins: {offenders}"


class Doorbell:
    """A third-party plugin: one HTTP route that counts the rings it receives."""

    def __init__(self) -> None:
        self.rings: list[dict[str, Any]] = []

    async def _ring(self, request: Request) -> JSONResponse:
        self.rings.append(await request.json())
        return JSONResponse({"rings": len(self.rings)}, status_code=201)

    @hookspecs.hookimpl
    def chatops_routes(self) -> Sequence[BaseRoute]:
        return [Route("/doorbell", self._ring, methods=["POST"])]


class DoorbellCustomer:
    """The doorbell's customer side: a "comment" is a ring."""

    plugins: Sequence[str] = ("doorbell",)
    config: Mapping[str, Any] = {}

    def __init__(self, bot: TestBot) -> None:
        self.bot = bot

    def payload(self, text: str, **fields: Any) -> dict[str, Any]:
        return {"text": text, **fields}

    async def send(self, payload: Mapping[str, Any] | bytes, **options: Any) -> httpx.Response:
        assert self.bot.http is not None
        return await self.bot.http.post("/doorbell", json=payload)

    async def comment(self, text: str, **fields: Any) -> httpx.Response:
        response = await self.send(self.payload(text, **fields))
        assert response.status_code == 201, response.text
        return response


async def test_a_plugin_author_runs_the_bot_with_their_own_plugin_and_customer_and_no_webhook(
    fake_slack: FakeSlack, database_url: str
) -> None:
    doorbell = Doorbell()
    async with TestBot(
        fake_slack, database_url, extra_plugins={"doorbell": doorbell}, customer=DoorbellCustomer
    ) as bot:
        assert bot.settings.plugins.enabled == ["doorbell"]
        response = await bot.comment("ding", loud=True)
        assert response.json() == {"rings": 1}
        assert doorbell.rings == [{"text": "ding", "loud": True}]
        assert bot.comment_payload("dong") == {"text": "dong"}
        # The webhook source is not enabled: its door is not there.
        assert (await bot.http.post("/webhooks/webhook", content=b"{}")).status_code == 404  # type: ignore[union-attr]


async def test_plugins_names_the_enabled_plugins_over_the_customers(fake_slack: FakeSlack, database_url: str) -> None:
    bot = TestBot(fake_slack, database_url, plugins=[], customer=DoorbellCustomer)
    assert bot.settings.plugins.enabled == []


async def test_a_bot_without_a_customer_enables_nothing_and_says_what_to_pass(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TestBot, "default_customer", None)
    bot = TestBot(fake_slack, database_url)
    assert isinstance(bot.customer, NoCustomer)
    assert bot.settings.plugins.enabled == []
    with pytest.raises(AssertionError, match="customer="):
        await bot.comment("anyone there?")


async def test_this_suites_default_customer_is_the_webhook(bot: TestBot) -> None:
    from chatops_plugins.webhook.testing import WebhookCustomer

    assert isinstance(bot.customer, WebhookCustomer)
    assert bot.settings.plugins.enabled == ["webhook"]
    await bot.comment("Where is my order?")
    card = await bot.next_card()
    assert "Where is my order?" in card.text
