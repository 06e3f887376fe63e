"""Every extension point is documented, and plugins load through one path."""

from __future__ import annotations

import inspect

import pluggy
import pytest

from chatops import hookspecs
from chatops.config import ConfigError, parse_settings
from chatops.plugins import ENTRY_POINT_GROUP, discover, load_plugins


def _hooks() -> list[tuple[str, object]]:
    return [(name, fn) for name, fn in vars(hookspecs).items() if name.startswith("chatops_") and callable(fn)]


def test_there_are_hooks_for_every_kind_of_extension() -> None:
    names = {name for name, _ in _hooks()}
    assert {
        "chatops_config_model",
        "chatops_sources",
        "chatops_routes",
        "chatops_slack_listeners",
        "chatops_jobs",
        "chatops_card_blocks",
        "chatops_inbound",
        "chatops_event",
        "chatops_texts",
        "chatops_reply_inputs",
        "chatops_reply_check",
        "chatops_migrations",
        "chatops_cli_commands",
        "chatops_startup",
        "chatops_shutdown",
    } <= names


@pytest.mark.parametrize(("name", "fn"), _hooks(), ids=[n for n, _ in _hooks()])
def test_every_hook_has_a_docstring_that_says_what_it_is_for(name: str, fn: object) -> None:
    doc = inspect.getdoc(fn)
    assert doc and len(doc.splitlines()[0]) > 20, f"{name} has no useful docstring"


def test_every_hook_is_marked_as_a_spec() -> None:
    marker = f"{hookspecs.PROJECT}_spec"
    for name, fn in _hooks():
        assert hasattr(fn, marker), f"{name} is not a @hookspec"


def test_built_in_plugins_are_found_through_the_entry_point_group() -> None:
    found = discover()
    assert {"webhook", "facebook", "instagram"} <= set(found)
    assert all(ep.group == ENTRY_POINT_GROUP for ep in found.values())
    assert found["webhook"].value == "chatops_plugins.webhook"


def test_plugin_manager_is_per_instance_not_global() -> None:
    base = {
        "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
        "plugins": {"enabled": ["webhook"], "webhook": {"secret": "0123456789abcdef"}},
    }
    first, _ = load_plugins(parse_settings(base, {}))
    second, _ = load_plugins(parse_settings(base, {}))
    assert isinstance(first, pluggy.PluginManager) and first is not second


def test_an_extra_plugin_object_is_loaded_like_an_installed_one() -> None:
    from pydantic import BaseModel, ConfigDict

    class Cfg(BaseModel):
        model_config = ConfigDict(extra="forbid")
        greeting: str

    class Greeter:
        @hookspecs.hookimpl
        def chatops_config_model(self, name: str) -> type[BaseModel] | None:
            return Cfg if name == "greeter" else None

    settings = {
        "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
        "plugins": {"enabled": ["greeter"], "greeter": {"greeting": "moi"}},
    }
    _, configs = load_plugins(parse_settings(settings, {}), {"greeter": Greeter()})
    assert configs["greeter"] == Cfg(greeting="moi")
    settings["plugins"]["greeter"] = {"greeting": 5}
    with pytest.raises(ConfigError, match=r"plugins\.greeter\.greeting"):
        load_plugins(parse_settings(settings, {}), {"greeter": Greeter()})
