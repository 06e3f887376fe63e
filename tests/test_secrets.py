"""Secrets never show in a repr of the settings or a plugin's config, and log lines mask them by value."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from chatops import hookspecs
from chatops.cli import SecretMaskingFormatter, secrets_of
from chatops.config import parse_settings
from chatops.plugins import load_plugins
from chatops_plugins.graph_api.client import appsecret_proof

SECRETS = {
    "bot_token": "xoxb-bot-token-value-1",
    "app_token": "xapp-app-token-value-2",
    "signing_secret": "signing-secret-value-3",
    "db_password": "db-password-value-4",
    "webhook_secret": "webhook-secret-value-5-long",
    "page_token": "EAAG-page-token-value-6",
    "app_secret": "meta-app-secret-value-7",
    "verify_token": "meta-verify-token-value-8",
    "odd_key": "plugin-credential-value-9",
}


class OddConfig(BaseModel):
    """A third-party plugin whose secret's key says nothing of being one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    credential_material: SecretStr
    nested: dict[str, SecretStr] = {}


class OddPlugin:
    @hookspecs.hookimpl
    def chatops_config_model(self, name: str) -> type[BaseModel] | None:
        return OddConfig if name == "odd" else None


def _settings(mode: str = "http") -> Any:
    meta = {
        "page_access_token": SECRETS["page_token"],
        "app_secret": SECRETS["app_secret"],
        "verify_token": SECRETS["verify_token"],
    }
    return parse_settings(
        {
            "slack": {
                "mode": mode,
                "bot_token": SECRETS["bot_token"],
                "app_token": SECRETS["app_token"],
                "signing_secret": SECRETS["signing_secret"],
                "inbox_channel": "C1",
            },
            "database": {"url": f"postgresql://chatops:{SECRETS['db_password']}@db.internal/chatops"},
            "plugins": {
                "enabled": ["webhook", "facebook", "instagram", "odd"],
                "webhook": {"secret": SECRETS["webhook_secret"]},
                "facebook": {"page_id": "1000", **meta},
                "instagram": {"ig_user_id": "2000", **meta},
                "odd": {"credential_material": SECRETS["odd_key"], "nested": {"x": SECRETS["odd_key"] + "-n"}},
            },
        },
        environ={},
    )


def _plugin_configs(settings: Any) -> dict[str, Any]:
    return load_plugins(settings, {"odd": OddPlugin()})[1]


def test_no_secret_shows_in_a_repr_or_str_of_the_settings_or_any_plugin_config() -> None:
    settings = _settings()
    configs = _plugin_configs(settings)
    shown = [repr(settings), str(settings), repr(settings.slack), repr(settings.database), str(settings.database)]
    for name in ("webhook", "facebook", "instagram", "odd"):
        shown += [repr(configs[name]), str(configs[name])]
    for text in shown:
        for secret in SECRETS.values():
            assert secret not in text, (secret, text)
    assert "***" in repr(settings.database) and "db.internal" in repr(settings.database)


def test_log_lines_and_tracebacks_mask_every_secret_whatever_its_key() -> None:
    settings = _settings()
    formatter = SecretMaskingFormatter("%(message)s", secrets_of(settings, _plugin_configs(settings).values()))
    leaked = " ".join([*SECRETS.values(), SECRETS["odd_key"] + "-n"])
    try:
        raise RuntimeError(f"the service answered with {leaked}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", (leaked,), sys.exc_info())
    line = formatter.format(record)
    assert "Traceback" in line and "RuntimeError: the service answered with ***" in line
    for secret in SECRETS.values():
        assert secret not in line, secret


def test_the_appsecret_proof_in_graph_request_lines_is_masked() -> None:
    # httpx logs every request's URL at INFO, and Graph calls carry appsecret_proof in the query:
    # with the token, it is all a caller needs when the app has "Require App Secret" on.
    settings = _settings()
    formatter = SecretMaskingFormatter("%(message)s", secrets_of(settings, _plugin_configs(settings).values()))
    proof = appsecret_proof(SECRETS["page_token"], SECRETS["app_secret"])
    url = f"https://graph.facebook.com/v26.0/1000_1?fields=message&appsecret_proof={proof}"
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: GET %s "HTTP/1.1 200 OK"', (url,), None
    )
    line = formatter.format(record)
    assert proof not in line and "appsecret_proof=***" in line
