"""A careless or hostile plugin, or an unlucky operator, against the real bot: limits worth keeping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from chatops.events import ConversationEvent
from chatops.hookspecs import hookimpl
from chatops.interception import ReplyDraft
from chatops.plugins import PluginFailed
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack

WEBHOOK_AND = ["webhook"]


def _bot(fake_slack: FakeSlack, database_url: str, **plugins: object) -> TestBot:
    config = {"plugins": {"enabled": [*WEBHOOK_AND, *plugins]}}
    return TestBot(fake_slack, database_url, config=config, extra_plugins=plugins)


async def test_a_listener_that_never_returns_does_not_hang_shutdown(fake_slack: FakeSlack, database_url: str) -> None:
    class Stuck:
        @hookimpl
        async def chatops_event(self, event: ConversationEvent) -> None:
            await asyncio.Event().wait()  # a plugin waiting on something that never comes

    bot = await _bot(fake_slack, database_url, stuck=Stuck()).start()
    await bot.comment("hello")
    await bot.next_card()
    started = time.monotonic()
    await asyncio.wait_for(bot.stop(), 30)
    assert time.monotonic() - started < 15


async def test_a_failed_start_up_stops_the_plugins_that_had_started(fake_slack: FakeSlack, database_url: str) -> None:
    log: list[str] = []

    class Opens:
        @hookimpl
        def chatops_startup(self, ctx: Any) -> None:
            log.append(f"start {ctx.name}")

        @hookimpl
        def chatops_shutdown(self, ctx: Any) -> None:
            log.append(f"stop {ctx.name}")

    class Fails:
        @hookimpl
        def chatops_startup(self, ctx: Any) -> None:
            raise RuntimeError("no calendar")

        @hookimpl
        def chatops_shutdown(self, ctx: Any) -> None:
            log.append(f"stop {ctx.name}")

    bot = _bot(fake_slack, database_url, first=Opens(), second=Fails())
    with pytest.raises(PluginFailed, match="plugin second: failed to start"):
        await bot.start()
    # As `chatops run` does: the failure ends the process without a stop(); nothing may stay open.
    assert log == ["start first", "stop first"]
    assert bot.app is not None
    assert bot.app.events._task is None
    await bot.stop()
    assert log == ["start first", "stop first"], "stop() after a failed start must not stop anything twice"


class OddVerdict:
    """A check written carelessly: it returns True/a string for "refuse" instead of Veto."""

    @hookimpl
    def chatops_reply_check(self, ctx: Any, draft: ReplyDraft) -> Any:
        return "forbidden word" if "darn" in draft.text else None


async def test_a_check_answering_something_that_is_not_a_verdict_refuses_the_reply(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    async with _bot(fake_slack, database_url, odd=OddVerdict()) as bot:
        anna = bot.person("Anna")
        await bot.comment("Hi!", reply_url=callback.url)
        card = await bot.next_card()
        view = await bot.open_modal(anna, card, "reply")
        answer = await bot.submit(anna, view, {"text": {"text": "darn late"}})
        assert answer.json()["errors"]["text"].startswith("The reply could not be checked (odd)")
        await asyncio.sleep(0.3)
    assert callback.accepted == []
