"""Config mistakes: one line naming the key, exit code 2, no traceback; secrets from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatops.cli import SecretMaskingFormatter, main, secrets_of
from chatops.config import ConfigError, load_settings, parse_settings
from chatops.plugins import load_plugins

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = 'bot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "C1"\n'
SECRET = "0123456789abcdef-secret"


def _chatops(tmp_path: Path, config: str | None, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    if config is not None:
        (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chatops.cli", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ("[slack]\n" + MINIMAL + "colour = 'red'\n", "config error: slack.colour: unknown key"),
        ("[slack]\n" + 'app_token = "xapp-1"\ninbox_channel = "C1"\n', "config error: slack.bot_token: missing"),
        (
            "[slack]\n" + MINIMAL + "[http]\nport = 'eighty'\n",
            "config error: http.port: Input should be a valid integer",
        ),
        ("[slack]\n" + MINIMAL + "[team]\ntimezone = 'Mars/Base'\n", "config error: team.timezone: unknown timezone"),
        (
            "[slack]\n" + MINIMAL + "[plugins]\nenabled = ['webhook', 'myspace']\n",
            "config error: plugins.enabled: unknown plugin 'myspace'",
        ),
        (
            "[slack]\n" + MINIMAL + "[plugins.webhook]\nsecret = 'short'\n",
            "config error: plugins.webhook.secret: String should have at least 16 characters",
        ),
        (
            "[slack]\n" + MINIMAL + f"[plugins.webhook]\nsecret = '{SECRET}'\nsecrett = 'x'\n",
            "config error: plugins.webhook.secrett: unknown key",
        ),
        (
            "[slack]\n" + MINIMAL + "[plugins.myspace]\nx = 1\n",
            "config error: plugins.myspace: configures a plugin that is not installed",
        ),
        (
            "[slack]\nmode = 'http'\n" + 'bot_token = "xoxb-1"\ninbox_channel = "C1"\n',
            'config error: slack.signing_secret: required when mode = "http"',
        ),
        ("[slack\n", "config error: config.toml: not valid TOML"),
    ],
    ids=[
        "unknown-key",
        "missing-token",
        "wrong-type",
        "bad-timezone",
        "unknown-plugin",
        "plugin-bad-value",
        "plugin-unknown-key",
        "uninstalled-plugin-section",
        "http-needs-secret",
        "bad-toml",
    ],
)
def test_config_mistake_is_one_line_exit_2_no_traceback(tmp_path: Path, config: str, line: str) -> None:
    if "[plugins.webhook]" not in config:
        # The webhook plugin is enabled by default: its secret, so that the one mistake is the only one.
        config += f"[plugins.webhook]\nsecret = '{SECRET}'\n"
    result = _chatops(tmp_path, config, "check")
    assert result.returncode == 2
    assert result.stderr.startswith(line), result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_run_refuses_a_bad_config_the_same_way(tmp_path: Path) -> None:
    config = "[slack]\n" + MINIMAL + "[delivery]\nmax_attempts = 0\n" + f"[plugins.webhook]\nsecret = '{SECRET}'\n"
    result = _chatops(tmp_path, config, "run")
    assert result.returncode == 2
    assert result.stderr.startswith("config error: delivery.max_attempts: Input should be greater than or equal to 1")


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "CHATOPS_SLACK__BOT_TOKEN": "xoxb-from-env",
        "CHATOPS_SLACK__APP_TOKEN": "xapp-from-env",
        "CHATOPS_SLACK__INBOX_CHANNEL": "CENV",
        "CHATOPS_PLUGINS__WEBHOOK__SECRET": SECRET,
    }
    result = _chatops(tmp_path, None, "check", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "config ok: 1 plugin(s) enabled: webhook"
    settings = parse_settings({}, env)
    assert settings.slack.bot_token.get_secret_value() == "xoxb-from-env"
    assert settings.plugins.section("webhook") == {"secret": SECRET}


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[slack]\n" + MINIMAL, encoding="utf-8")
    settings = load_settings(
        path, {"CHATOPS_SLACK__INBOX_CHANNEL": "COVERRIDE", "CHATOPS_PLUGINS__ENABLED": "webhook,x"}
    )
    assert settings.slack.inbox_channel == "COVERRIDE"
    assert settings.plugins.enabled == ["webhook", "x"]


def test_the_example_config_is_valid_and_complete() -> None:
    env = {
        "CHATOPS_SLACK__BOT_TOKEN": "xoxb-1",
        "CHATOPS_SLACK__APP_TOKEN": "xapp-1",
        "CHATOPS_PLUGINS__WEBHOOK__SECRET": SECRET,
    }
    settings = load_settings(ROOT / "config.example.toml", env)
    assert settings.database.url == "sqlite+aiosqlite:///chatops.db"
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    # Every key of every core section is documented in the example.
    for section in ("team", "slack", "database", "http", "workflow", "delivery"):
        model = type(getattr(settings, section))
        for key in model.model_fields:
            assert f"{key} =" in example, f"{section}.{key} is not documented in config.example.toml"


def test_plugins_command_lists_what_is_installed_and_why(tmp_path: Path) -> None:
    result = _chatops(tmp_path, "[slack]\n" + MINIMAL + f"[plugins.webhook]\nsecret = '{SECRET}'\n", "plugins")
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "enabled" in lines["webhook"] and "listed in plugins.enabled" in lines["webhook"]
    assert "disabled" in lines["facebook"] and "not listed in plugins.enabled" in lines["facebook"]


def test_db_upgrade_creates_and_reports_the_schema(tmp_path: Path) -> None:
    from chatops.migrate import head_revision

    config = "[slack]\n" + MINIMAL + f"[database]\nurl = 'sqlite:///{tmp_path}/x.db'\n"
    first = _chatops(tmp_path, config, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    head = head_revision()
    assert first.stdout == f"core: none -> {head}\n"
    again = _chatops(tmp_path, config, "db", "upgrade")
    assert again.stdout == f"core: {head} -> {head}\n"


def test_config_error_carries_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            {"slack": {"bot_token": "x", "app_token": "y", "inbox_channel": "C", "mode": "carrier-pigeon"}}, {}
        )
    assert caught.value.key == "slack.mode"


def test_secrets_are_masked_in_log_lines_and_tracebacks() -> None:
    import logging

    settings = parse_settings(
        {
            "slack": {"bot_token": "xoxb-very-secret", "app_token": "xapp-also-secret", "inbox_channel": "C1"},
            "database": {"url": "postgresql://chatops:db-password-1@db/chatops"},
            "plugins": {"webhook": {"secret": SECRET}},
        },
        {},
    )
    formatter = SecretMaskingFormatter("%(message)s", secrets_of(settings, load_plugins(settings)[1].values()))
    try:
        raise RuntimeError(f"Slack refused xoxb-very-secret; db said db-password-1; hmac {SECRET}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s leaked", ("xapp-also-secret",), True)
        import sys as _sys

        record.exc_info = _sys.exc_info()
    line = formatter.format(record)
    assert line.startswith("token *** leaked")
    assert "Traceback" in line
    for secret in ("xoxb-very-secret", "xapp-also-secret", "db-password-1", SECRET):
        assert secret not in line


def test_main_returns_2_for_schema_out_of_date(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chatops import cli
    from chatops.migrate import SchemaOutOfDate

    def boom(_args: object) -> int:
        raise SchemaOutOfDate(
            "database schema is at an empty database, this chatops needs 0001: run `chatops db upgrade` first"
        )

    (tmp_path / "config.toml").write_text("[slack]\n" + MINIMAL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "cmd_run", boom)
    assert main(["run"]) == 2
