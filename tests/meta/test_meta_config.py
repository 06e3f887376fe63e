"""``[plugins.facebook]`` / ``[plugins.instagram]``: secrets from the environment, mistakes named at start-up."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from chatops.config import ConfigError, parse_settings
from chatops.plugins import load_plugins
from chatops_plugins.facebook.source import FacebookConfig, FacebookSource
from chatops_plugins.instagram.source import InstagramConfig

BASE: dict[str, Any] = {"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"}}


def _load(plugins: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    settings = parse_settings({**BASE, "plugins": plugins}, environ=environ or {})
    return load_plugins(settings)[1]


def test_secrets_come_from_the_environment_and_never_show_in_a_repr() -> None:
    environ = {
        "CHATOPS_PLUGINS__FACEBOOK__PAGE_ACCESS_TOKEN": "EAAG-from-env",
        "CHATOPS_PLUGINS__FACEBOOK__APP_SECRET": "app-secret-from-env",
        "CHATOPS_PLUGINS__FACEBOOK__VERIFY_TOKEN": "verify-from-env",
        "CHATOPS_PLUGINS__FACEBOOK__POLL_INTERVAL_SECONDS": "300",
    }
    configs = _load({"enabled": ["facebook"], "facebook": {"page_id": "1000"}}, environ)
    config = configs["facebook"]
    assert isinstance(config, FacebookConfig)
    assert config.page_access_token.get_secret_value() == "EAAG-from-env"
    assert config.secret("app_secret") == "app-secret-from-env"
    assert config.poll_interval_seconds == 300
    assert "EAAG-from-env" not in repr(config) and "app-secret-from-env" not in repr(config)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"page_id": "1000", "page_access_token": "t", "verify_token": "v"}, "app_secret is required when webhook"),
        ({"page_id": "1000", "page_access_token": "t", "webhook": False}, "turn on webhook, polling or both"),
        ({"page_id": "Kahvila", "page_access_token": "t", "webhook": False, "polling": True}, "page_id: must be"),
        (
            {"page_id": "1000", "page_access_token": "t", "api_version": "26", "polling": True, "webhook": False},
            "api_version",
        ),
        ({"page_id": "1000", "page_access_token": "t", "pages_id": "1"}, "pages_id: unknown key"),
        ({"page_access_token": "t", "webhook": False, "polling": True}, "plugins.facebook.page_id: missing"),
    ],
)
def test_mistakes_are_reported_by_key(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load({"enabled": ["facebook"], "facebook": section})
    assert problem in str(caught.value)


def test_polling_only_needs_no_webhook_secrets_and_serves_no_webhook() -> None:
    configs = _load(
        {
            "enabled": ["facebook", "instagram"],
            "facebook": {"page_id": "1000", "page_access_token": "t", "webhook": False, "polling": True},
            "instagram": {
                "ig_user_id": "1784",
                "page_access_token": "t",
                "webhook": False,
                "polling": True,
                "ig_username": "@kahvila.aurinko",
            },
        }
    )
    source = FacebookSource(configs["facebook"])
    assert source.routes() == ()
    (job,) = source.jobs()
    assert job.id == "facebook.poll"
    assert job.trigger.interval.total_seconds() == 120
    instagram = configs["instagram"]
    assert isinstance(instagram, InstagramConfig)
    assert instagram.ig_username == "kahvila.aurinko"
    assert instagram.max_reply_length == 1000


@pytest.mark.parametrize(("name", "model"), [("facebook", FacebookConfig), ("instagram", InstagramConfig)])
def test_documented_config_lists_every_key_and_is_valid(name: str, model: type) -> None:
    text = (Path(__file__).parents[2] / "config.example.toml").read_text(encoding="utf-8")
    section = text.split(f"\n[plugins.{name}]\n", 1)[1].split("\n[", 1)[0]
    for key in model.model_fields:
        assert re.search(rf"^(# )?{key} = ", section, re.MULTILINE), f"config.example.toml lacks {name}.{key}"
    values = tomllib.loads(text)["plugins"][name]
    secrets = {"page_access_token": "EAAG-x", "app_secret": "s", "verify_token": "v"}
    assert model.model_validate({**values, **secrets})
