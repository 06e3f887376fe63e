"""The hook caller: each plugin its own context, pluggy's order and error behaviour, sync and async alike."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import pluggy
import pytest

from chatops.hooks import HookRunner, PluginHookError
from chatops.hookspecs import hookimpl
from chatops.plugins import new_manager


class First:
    @hookimpl(tryfirst=True)
    def chatops_card_blocks(self, ctx: str, card: Any) -> list[dict[str, Any]]:
        return [{"from": ctx}]


class Plain:
    @hookimpl
    async def chatops_card_blocks(self, ctx: str) -> list[dict[str, Any]]:  # leaves out ``card``, as pluggy allows
        return [{"from": ctx}]


class Last:
    @hookimpl(trylast=True)
    def chatops_card_blocks(self, ctx: str, card: Any) -> list[dict[str, Any]]:
        return [{"from": ctx, "card": card}]


class Wrapper:
    @hookimpl(wrapper=True)
    def chatops_card_blocks(self, ctx: str, card: Any) -> Generator[None, Any, Any]:
        results = yield
        return [*results, [{"wrapped_by": ctx}]]


class Broken:
    @hookimpl
    def chatops_card_blocks(self, ctx: str, card: Any) -> list[dict[str, Any]]:
        raise RuntimeError("broken decoration")


class Forgiving:
    @hookimpl(wrapper=True)
    def chatops_card_blocks(self, ctx: str, card: Any) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except RuntimeError:
            return [[{"recovered": ctx}]]


def _runner(**plugins: object) -> HookRunner:
    pm = new_manager()
    for name, plugin in plugins.items():
        pm.register(plugin, name=name)
    return HookRunner(pm, lambda name: f"ctx-of-{name}")


async def test_each_plugin_gets_its_own_context_in_pluggys_order_with_wrappers() -> None:
    runner = _runner(last=Last(), plain=Plain(), first=First(), wrapper=Wrapper())
    results = await runner.call("chatops_card_blocks", card="the card")
    assert results == [
        [{"from": "ctx-of-first"}],
        [{"from": "ctx-of-plain"}],
        [{"from": "ctx-of-last", "card": "the card"}],
        [{"wrapped_by": "ctx-of-wrapper"}],
    ]
    assert runner.implementers("chatops_card_blocks") == ["wrapper", "first", "plain", "last"]


async def test_the_order_is_pluggys_own() -> None:
    """The same plugins called through pluggy directly (one shared argument) come back in the same order."""
    runner = _runner(last=Last(), first=First(), second=First())
    ours = runner.call_sync("chatops_card_blocks", card="c")
    pluggys = runner.pm.hook.chatops_card_blocks(ctx="shared", card="c")
    assert [r[0]["from"].removeprefix("ctx-of-") for r in ours] == ["second", "first", "last"]
    assert [r[0]["from"] for r in pluggys] == ["shared"] * 3


async def test_an_error_propagates_like_pluggys_and_a_wrapper_can_handle_it() -> None:
    with pytest.raises(RuntimeError, match="broken decoration"):
        await _runner(broken=Broken(), plain=Plain()).call("chatops_card_blocks", card=None)
    with pytest.raises(RuntimeError, match="broken decoration"):
        _runner(broken=Broken()).pm.hook.chatops_card_blocks(ctx=None, card=None)
    recovered = await _runner(broken=Broken(), forgiving=Forgiving()).call("chatops_card_blocks", card=None)
    assert recovered == [[{"recovered": "ctx-of-forgiving"}]]


async def test_a_notification_logs_a_failing_plugin_and_tells_the_others(caplog: pytest.LogCaptureFixture) -> None:
    runner = _runner(plain=Plain(), broken=Broken(), first=First())
    with caplog.at_level(logging.ERROR, logger="chatops.hooks"):
        results = await runner.call("chatops_card_blocks", isolate=True, card=None)
    assert results == [[{"from": "ctx-of-first"}], [{"from": "ctx-of-plain"}]]
    assert "plugin broken failed in chatops_card_blocks" in caplog.text


def test_a_coroutine_in_a_synchronous_hook_call_is_refused_naming_the_plugin() -> None:
    with pytest.raises(PluginHookError, match="plugin plain: chatops_card_blocks: is a coroutine function"):
        _runner(plain=Plain()).call_sync("chatops_card_blocks", card=None)


async def test_firstresult_stops_at_the_first_answer_and_only_names_one_plugin() -> None:
    class Model:
        @hookimpl
        def chatops_config_model(self, name: str) -> Any:
            return dict if name == "model" else None

    runner = _runner(model=Model(), other=Model())
    assert await runner.call("chatops_config_model", name="model") is dict
    assert await runner.call("chatops_config_model", name="nobody") is None
    assert runner.call_sync("chatops_card_blocks", only="first", card=None) == []


def test_an_old_style_hookwrapper_is_refused_with_a_clear_error() -> None:
    class Old:
        @hookimpl(hookwrapper=True)
        def chatops_card_blocks(self, ctx: Any, card: Any) -> Generator[None, Any, None]:
            yield

    with pytest.raises(PluginHookError, match="hookwrapper=True is not supported; use wrapper=True"):
        _runner(old=Old()).call_sync("chatops_card_blocks", card=None)


def test_every_hook_in_hookspecs_is_implemented_by_some_test_or_the_example_plugin() -> None:
    """The issue's bar: every hook is exercised. A hook nobody implements in a test fails here."""
    from pathlib import Path

    from chatops import hookspecs

    root = Path(__file__).resolve().parent.parent
    sources = [p.read_text() for p in [*root.glob("tests/**/*.py"), *root.glob("examples/**/*.py")]]
    sources += [p.read_text() for p in root.glob("plugins/**/*.py")]
    names = [n for n in vars(hookspecs) if n.startswith("chatops_") and callable(getattr(hookspecs, n))]
    missing = [n for n in names if not any(f"def {n}(" in text for text in sources)]
    assert missing == []


def test_pluggy_is_the_version_whose_calling_order_this_mirrors() -> None:
    major, minor = (int(part) for part in pluggy.__version__.split(".")[:2])
    assert (major, minor) >= (1, 5)
