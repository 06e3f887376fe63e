"""Config that tells everything at once: every mistake in one run, lists from the environment by type,
the config file that is (not) there, the database folder, Slack tokens and channel IDs, and what
``check --network`` proves against Slack. In-process ``chatops`` calls: fast, same code path as the script."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
from cli_runs import Run, cli_runner

from chatops.config import ConfigError, load_settings, parse_settings
from chatops.plugins import load_plugins
from chatops.slack.preflight import MANIFEST_SCOPES, TEST_MESSAGE, scope_result
from chatops.testing.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SECRET = "0123456789abcdef-secret"
SLACK = '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "C1"\n'
WEBHOOK = f"[plugins.webhook]\nsecret = '{SECRET}'\n"
GOOD = SLACK + WEBHOOK


@pytest.fixture
def chatops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``chatops <args>`` in ``tmp_path``, ``config`` (when not None) as ./config.toml; (exit code, stdout, stderr)."""
    run = cli_runner(tmp_path, monkeypatch, capsys)
    return lambda config, *args, env=None: run(*args, env=env, config=config)


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("config error: ")]


# 1. Every problem in one run ------------------------------------------------------------------------


def test_a_newcomer_without_config_sees_every_missing_key_at_once(chatops: Run) -> None:
    code, out, err = chatops(None, "check", env={"CHATOPS_HTTP__PORT": "eighty"})
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    # Where settings came from, then one line per mistake: the core's and the enabled webhook plugin's.
    assert lines[0].startswith("note: no ./config.toml in ")
    assert "settings come from CHATOPS_… environment variables only" in lines[0]
    assert lines[1:] == [
        "config error: slack.bot_token: missing (set it in the config file or as CHATOPS_SLACK__BOT_TOKEN)",
        "config error: slack.inbox_channel: missing (set it in the config file or as CHATOPS_SLACK__INBOX_CHANNEL)",
        'config error: slack.app_token: required when mode = "socket" (an app-level token, xapp-…)',
        "config error: http.port: Input should be a valid integer, unable to parse string as an integer",
        "config error: plugins.webhook.secret: missing (set it in the config file or as "
        "CHATOPS_PLUGINS__WEBHOOK__SECRET)",
    ]


def test_each_enabled_plugin_section_is_validated_even_when_the_core_fails(chatops: Run) -> None:
    config = (
        '[slack]\nbot_token = "xoxb-1"\nmode = "http"\ninbox_channel = "#inbox"\n'
        '[plugins]\nenabled = ["webhook", "discord", "myspace"]\n'
        "[plugins.webhook]\nsecret = 'short'\n[plugins.discord]\nguild_ids = ['1']\n"
    )
    for command in (["check"], ["run"]):
        code, _, err = chatops(config, *command)
        assert code == 2
        assert "note:" not in err  # the file was there
        keys = [line.split(": ")[1] for line in _errors(err)]
        assert keys == [
            "slack.inbox_channel",
            "slack.signing_secret",
            "plugins.enabled",
            "plugins.webhook.secret",
            "plugins.discord.token",
        ], err
        assert len(err.splitlines()) == 5


def test_config_error_holds_several_problems_and_stays_compatible() -> None:
    one = ConfigError("slack.bot_token", "missing")
    assert (one.key, one.problem, str(one)) == ("slack.bot_token", "missing", "slack.bot_token: missing")
    assert one.problems == [("slack.bot_token", "missing")]
    many = ConfigError(problems=[("a.b", "bad"), ("", "no key")], note="n")
    assert (many.key, many.problem, many.note) == ("a.b", "bad", "n")
    assert str(many) == "a.b: bad\nno key"
    assert many.lines() == ["config error: a.b: bad", "config error: no key"]
    with pytest.raises(ConfigError) as caught:
        parse_settings({"slack": {"bot_token": "x", "app_token": "xoxb-2", "inbox_channel": "c"}}, {})
    assert [p.key for p in caught.value.problems] == ["slack.bot_token", "slack.app_token", "slack.inbox_channel"]


def test_the_app_reports_every_plugin_problem_at_once() -> None:
    settings = parse_settings(
        {
            "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
            "plugins": {"enabled": ["webhook", "nope", "webhook"], "webhook": {"secret": "x"}, "ghost": {}},
        },
        {},
    )
    from chatops.app import ChatOps

    with pytest.raises(ConfigError) as caught:
        ChatOps(settings)
    problems = [str(p) for p in caught.value.problems]
    assert problems[0].startswith("plugins.enabled: unknown plugin 'nope' (installed: digest, discord, ")
    assert problems[1:] == [
        "plugins.enabled: plugin 'webhook' is listed twice",
        "plugins.ghost: configures a plugin that is not installed",
        "plugins.webhook.secret: String should have at least 16 characters",
    ]


# 2. Lists from the environment: by the field's type, never by the value -----------------------------


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        ("webhook", ["webhook"]),
        ("webhook,", ["webhook"]),
        (" webhook , rota ", ["webhook", "rota"]),
        ('["webhook", "rota"]', ["webhook", "rota"]),
        ("", []),
    ],
)
def test_plugins_enabled_from_the_environment(value: str, enabled: list[str]) -> None:
    env = {
        "CHATOPS_SLACK__BOT_TOKEN": "xoxb-1",
        "CHATOPS_SLACK__APP_TOKEN": "xapp-1",
        "CHATOPS_SLACK__INBOX_CHANNEL": "C1",
        "CHATOPS_PLUGINS__ENABLED": value,
    }
    settings = parse_settings({}, env)
    assert settings.plugins.enabled == enabled


def test_only_list_keys_are_split_and_secrets_with_commas_stay_whole() -> None:
    env = {
        "CHATOPS_SLACK__BOT_TOKEN": "xoxb-a,b",
        "CHATOPS_SLACK__APP_TOKEN": "xapp-1",
        "CHATOPS_SLACK__INBOX_CHANNEL": "C1",
        "CHATOPS_SLACK__ESCALATION_LEADS": "U1, S2",
        "CHATOPS_WORKFLOW__TAGS": '["a, b", "c"]',
        "CHATOPS_PLUGINS__ENABLED": "webhook,discord",
        "CHATOPS_PLUGINS__WEBHOOK__SECRET": "0123456789,abcdef,ghij",
        "CHATOPS_PLUGINS__DISCORD__TOKEN": "discord,token",
        # JSON in a plugin's list field: shaped by the plugin's model (discord's own splitting would break it).
        "CHATOPS_PLUGINS__DISCORD__GUILD_IDS": '["123456789012345678", "223456789012345678"]',
    }
    settings = parse_settings({}, env)
    assert settings.slack.bot_token.get_secret_value() == "xoxb-a,b"
    assert settings.slack.escalation_leads == ["U1", "S2"]
    assert settings.workflow.tags == ["a, b", "c"]
    configs = load_plugins(settings)[1]
    assert configs["webhook"].secret.get_secret_value() == "0123456789,abcdef,ghij"  # type: ignore[union-attr]
    discord = configs["discord"]
    assert discord.token.get_secret_value() == "discord,token"  # type: ignore[union-attr]
    assert discord.guild_ids == ["123456789012345678", "223456789012345678"]  # type: ignore[union-attr]


def test_a_broken_json_list_names_the_variable_and_the_syntax() -> None:
    env = {"CHATOPS_SLACK__BOT_TOKEN": "xoxb-1", "CHATOPS_SLACK__APP_TOKEN": "xapp-1"}
    env |= {"CHATOPS_SLACK__INBOX_CHANNEL": "C1", "CHATOPS_PLUGINS__ENABLED": '["webhook"'}
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, env)
    assert caught.value.key == "plugins.enabled"
    assert caught.value.problem == (
        'Input should be a valid list (in the file: ["a", "b"]; in CHATOPS_PLUGINS__ENABLED: a,b or a JSON list '
        '["a","b"])'
    )


def test_the_example_config_documents_quoting_of_lists() -> None:
    header = (ROOT / "config.example.toml").read_text(encoding="utf-8").split("\n\n")[0]
    assert "CHATOPS_PLUGINS__ENABLED=webhook,rota" in header
    assert "JSON" in header and "comma" in header


# 3. Which config file ------------------------------------------------------------------------------


def test_a_missing_chatops_config_file_is_an_error(chatops: Run) -> None:
    code, out, err = chatops(GOOD, "check", env={"CHATOPS_CONFIG": "missing.toml"})
    assert (code, out) == (2, "")
    assert err == "config error: CHATOPS_CONFIG: config file missing.toml not found\n"
    code, _, err = chatops(GOOD, "-c", "other.toml", "check")
    assert (code, err) == (2, "config error: other.toml: config file not found\n")


def test_check_says_when_settings_come_from_the_environment_only(chatops: Run) -> None:
    env = {"CHATOPS_SLACK__BOT_TOKEN": "xoxb-1", "CHATOPS_SLACK__APP_TOKEN": "xapp-1"}
    env |= {"CHATOPS_SLACK__INBOX_CHANNEL": "C1", "CHATOPS_PLUGINS__WEBHOOK__SECRET": SECRET}
    code, out, err = chatops(None, "check", env=env)
    assert (code, err) == (0, "")
    assert out.splitlines()[1].startswith("note: no ./config.toml in ")
    code, out, _ = chatops(GOOD, "check")
    assert code == 0
    assert "note:" not in out


# 4. The SQLite folder ------------------------------------------------------------------------------


def test_an_sqlite_file_in_a_missing_folder_is_one_line_for_check_db_and_run(chatops: Run, tmp_path: Path) -> None:
    folder = tmp_path / "x" / "y"
    config = GOOD + f"[database]\nurl = 'sqlite:///{folder}/chatops.db'\n"
    for command in (["check"], ["db", "upgrade"], ["db", "status"], ["outbox"], ["run"]):
        code, out, err = chatops(config, *command)
        assert (code, out) == (2, ""), command
        assert err == f"config error: database.url: folder {folder} does not exist\n", command


def test_an_sqlite_folder_that_is_a_file_or_unwritable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        parse_settings({"database": {"url": f"sqlite:///{tmp_path}/plain/c.db"}}, {})
    assert dict(caught.value.problems)["database.url"] == f"{tmp_path}/plain is not a folder"
    # A relative path is relative to the working folder: the line says which one.
    with pytest.raises(ConfigError, match=r"folder nowhere does not exist \(relative to /"):
        parse_settings({"database": {"url": "sqlite:///nowhere/c.db"}}, {})

    if os.geteuid() == 0:
        return  # root writes anywhere: the unwritable case cannot be made here
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="is not writable"):
        parse_settings({"database": {"url": f"sqlite:///{locked}/c.db"}}, {})


# 5. The database commands need only the database ---------------------------------------------------


def test_db_commands_work_with_only_the_database_url(chatops: Run, tmp_path: Path) -> None:
    from chatops.migrate import head_revision

    env = {"CHATOPS_DATABASE__URL": f"sqlite:///{tmp_path}/only.db"}
    code, out, err = chatops(None, "db", "upgrade", env=env)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"core: none -> {head_revision()}"
    code, out, err = chatops(None, "db", "status", env=env)
    assert (code, err) == (0, ""), err
    code, out, err = chatops(None, "outbox", env=env)
    assert (code, out, err) == (0, "no pending or dead jobs\n", "")
    # Their own sections are still checked, every mistake at once.
    code, out, err = chatops(
        "[database]\necho = 'loud'\n[plugins]\nenabled = 'webhook'\n[slack]\nnonsense = 1\n", "db", "upgrade"
    )
    assert code == 2
    assert [line.split(": ")[1] for line in _errors(err)] == ["database.echo", "plugins.enabled"]


# 6. chatops plugins ---------------------------------------------------------------------------------


def _states(out: str) -> dict[str, str]:
    return {line.split()[0]: line[13:41].strip() for line in out.splitlines()}


def test_plugins_when_the_config_cannot_be_read_are_unknown_not_disabled(chatops: Run) -> None:
    code, out, err = chatops("[slack\n", "plugins")
    assert code == 2
    assert err.splitlines()[0] == "the config could not be loaded (1 problem(s)):"
    assert err.splitlines()[1].startswith("  config error: config.toml: not valid TOML")
    states = _states(out)
    assert states["webhook"] == states["facebook"] == "unknown (config not loaded)"


def test_plugins_with_a_broken_core_config_still_show_what_is_enabled(chatops: Run) -> None:
    code, out, err = chatops("[plugins]\nenabled = ['webhook', 'rota']\n", "plugins")
    assert code == 2
    assert "  config error: slack.bot_token: missing" in err
    states = _states(out)
    assert (states["webhook"], states["rota"], states["facebook"]) == ("enabled", "enabled", "disabled")


def test_plugins_names_an_enabled_plugin_that_is_not_installed(chatops: Run) -> None:
    code, out, err = chatops(SLACK + "[plugins]\nenabled = ['webhook', 'myspace']\n" + WEBHOOK, "plugins")
    assert (code, err) == (2, "")
    line = next(line for line in out.splitlines() if line.startswith("myspace"))
    assert "enabled, NOT INSTALLED" in line and "no installed package provides it" in line
    assert _states(out)["webhook"] == "enabled"
    code, out, _ = chatops(GOOD, "plugins")
    assert code == 0


# 7. Slack tokens and channel IDs, refused at validation (so `run` refuses too) -----------------------


@pytest.mark.parametrize(
    ("slack", "key", "problem"),
    [
        ({"bot_token": "xapp-1"}, "slack.bot_token", "this is an app-level token (xapp-…); slack.app_token takes it"),
        ({"bot_token": "xoxp-1"}, "slack.bot_token", "this is a user token (xoxp-…)"),
        ({"bot_token": "abc"}, "slack.bot_token", "must be the Bot User OAuth Token, starting with xoxb-"),
        ({"app_token": "xoxb-2"}, "slack.app_token", "this is the bot token (xoxb-…); slack.bot_token takes it"),
        ({"app_token": "xoxp-2"}, "slack.app_token", "this is a user token (xoxp-…)"),
        ({"inbox_channel": "#customer-inbox"}, "slack.inbox_channel", "use the channel ID (C…), not its name"),
        ({"inbox_channel": "customer-inbox"}, "slack.inbox_channel", "channel → About → copy ID"),
        ({"escalation_channel": "escalations"}, "slack.escalation_channel", "not its name"),
        ({"ops_channel": "C12 3"}, "slack.ops_channel", "is not a channel ID (C… or G…"),
    ],
)
def test_wrong_tokens_and_channel_names_are_explained(slack: dict[str, str], key: str, problem: str) -> None:
    base = {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"}
    with pytest.raises(ConfigError) as caught:
        parse_settings({"slack": base | slack}, {})
    assert [(p.key, problem in p.problem) for p in caught.value.problems] == [(key, True)], caught.value


def test_swapped_tokens_are_two_lines_and_run_refuses(chatops: Run) -> None:
    config = '[slack]\nbot_token = "xapp-1"\napp_token = "xoxb-1"\ninbox_channel = "#inbox"\n' + WEBHOOK
    code, _, err = chatops(config, "run")
    assert code == 2
    assert [line.split(": ")[1] for line in _errors(err)] == [
        "slack.bot_token",
        "slack.app_token",
        "slack.inbox_channel",
    ]


def test_the_test_kit_defaults_are_valid() -> None:
    from chatops.testing.bot import ESCALATIONS, INBOX, OPS

    fake = FakeSlack()
    settings = parse_settings(
        {
            "slack": {
                "bot_token": fake.bot_token,
                "app_token": fake.app_token,
                "inbox_channel": INBOX,
                "escalation_channel": ESCALATIONS,
                "ops_channel": OPS,
            }
        },
        {},
    )
    assert settings.slack.ops_channel == OPS
    parse_settings({"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C_INBOX"}}, {})


# 8. check --network ----------------------------------------------------------------------------------


def _network_config(api_url: str, *, bot: str = "xoxb-test", app: str = "xapp-test", extra: str = "") -> str:
    return (
        f'[slack]\nbot_token = "{bot}"\napp_token = "{app}"\napi_url = "{api_url}"\n'
        'inbox_channel = "CINBOX"\nescalation_channel = "CESC"\n' + extra + WEBHOOK
    )


def _by_key(out: str) -> dict[str, str]:
    return {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in out.splitlines()[1:]}


def test_check_without_network_says_what_it_did_not_check(chatops: Run) -> None:
    code, out, _ = chatops(GOOD, "check")
    assert code == 0
    assert out.splitlines()[1] == (
        "not checked: the tokens against Slack, the Socket Mode connection, that the bot can post in its "
        "channels (add --network)"
    )


def test_check_network_with_good_tokens(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("CINBOX", "customer-inbox")
    fake_slack.add_channel("CESC", "escalations")
    code, out, err = chatops(_network_config(fake_slack.api_url), "check", "--network")
    assert (code, err) == (0, ""), out
    lines = _by_key(out)
    assert lines["slack.bot_token"] == "ok (auth.test: bot @chatops (UBOT) in chatops-test)"
    assert lines["slack.bot_token scopes"] == "not checked (Slack did not list the token's scopes)"
    assert lines["slack.app_token"] == "ok (apps.connections.open handed out a Socket Mode URL)"
    assert lines["slack.inbox_channel"] == "ok (#customer-inbox (CINBOX); the bot is a member)"
    assert lines["slack.escalation_channel"] == "ok (#escalations (CESC); the bot is a member)"


def test_check_network_says_what_a_missing_scope_keeps_it_from_checking(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("conversations.info", error="missing_scope", times=2)
    code, out, _ = chatops(_network_config(fake_slack.api_url), "check", "--network")
    assert code == 0, out
    assert _by_key(out)["slack.inbox_channel"] == (
        "not checked (could not check that the bot is in CINBOX: conversations.info needs channels:read, which "
        "the manifest does not ask for; `chatops check --network --post` posts and deletes a test message)"
    )


def test_check_network_names_slack_errors(chatops: Run, fake_slack: FakeSlack) -> None:
    config = _network_config(fake_slack.api_url, bot="xoxb-wrong", app="xapp-wrong")
    code, out, err = chatops(config, "check", "--network")
    assert code == 2
    assert err == "check failed: slack.bot_token, slack.app_token\n"
    lines = _by_key(out)
    assert lines["slack.bot_token"].startswith("FAILED (auth.test: Slack answered invalid_auth: the token is wrong")
    assert lines["slack.app_token"].startswith("FAILED (apps.connections.open: Slack answered invalid_auth")
    assert lines["slack.inbox_channel"] == "not checked (the bot token did not work)"
    # The fake's own tokens, each in the other's place (past the offline prefix checks): Slack says so.
    fake_slack.fail_next("apps.connections.open", error="not_allowed_token_type")
    code, out, _ = chatops(_network_config(fake_slack.api_url), "check", "--network")
    assert code == 2
    assert "bot and app-level tokens swapped?" in _by_key(out)["slack.app_token"]


def test_check_network_says_plainly_when_slack_cannot_be_reached(chatops: Run) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api_url = f"http://127.0.0.1:{port}/api/"
    code, out, err = chatops(_network_config(api_url), "check", "--network")
    assert code == 2
    assert err == "check failed: slack.api_url\n"
    assert out.splitlines()[1:] == [
        f"slack.api_url: FAILED (cannot reach Slack at {api_url}: connection refused (nothing listens there))",
        "slack.bot_token: not checked (Slack could not be reached)",
        "slack.app_token: not checked (Slack could not be reached)",
        "slack.inbox_channel: not checked (Slack could not be reached)",
        "slack.escalation_channel: not checked (Slack could not be reached)",
    ]
    assert "Client" not in out


def test_check_network_post_proves_the_bot_can_post_and_cleans_up(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.strict_channels = True
    fake_slack.add_channel("CINBOX", "customer-inbox")
    code, out, err = chatops(_network_config(fake_slack.api_url), "check", "--post")
    assert code == 2
    assert err == "check failed: slack.escalation_channel\n"
    lines = _by_key(out)
    assert lines["slack.inbox_channel"] == "ok (posted a test message in CINBOX and deleted it)"
    assert lines["slack.escalation_channel"] == (
        "FAILED (chat.postMessage: Slack knows no channel CESC the bot can see "
        "(a wrong ID, or a private channel it is not in))"
    )
    methods = [(call.method, call.args.get("channel")) for call in fake_slack.calls]
    assert ("chat.postMessage", "CINBOX") in methods and ("chat.delete", "CINBOX") in methods
    assert [m for m in fake_slack.top_level_messages("CINBOX") if m.get("text") == TEST_MESSAGE] == []


def test_check_network_unknown_channel_without_post_fails(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.strict_channels = True
    fake_slack.add_channel("CINBOX", "customer-inbox")
    code, out, _ = chatops(_network_config(fake_slack.api_url), "check", "--network")
    assert code == 2
    assert _by_key(out)["slack.escalation_channel"].startswith("FAILED (Slack knows no channel CESC")


def test_scopes_listed_by_slack_are_compared_with_the_manifest() -> None:
    manifest = (ROOT / "slack-app-manifest.yml").read_text(encoding="utf-8")
    bot_scopes = manifest.split("    bot:\n")[1].split("settings:")[0]
    assert tuple(re.findall(r"^      - ([\w:.]+)", bot_scopes, re.MULTILINE)) == MANIFEST_SCOPES
    assert scope_result({"X-OAuth-Scopes": ",".join(MANIFEST_SCOPES)}).outcome == "ok"
    short = scope_result({"x-oauth-scopes": "chat:write,commands"})
    assert short.outcome == "FAILED"
    assert short.detail.startswith("missing files:write, users:read, usergroups:read, metadata.message:read")


def test_load_settings_still_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_settings(path, {}).slack.inbox_channel == "C1"


def test_a_plugin_read_outside_the_loader_gets_its_environment_lists_too() -> None:
    from zoneinfo import ZoneInfo

    from chatops_plugins.rota.config import RotaConfig, service_hours_from_settings

    env = {"CHATOPS_SLACK__BOT_TOKEN": "xoxb-1", "CHATOPS_SLACK__APP_TOKEN": "xapp-1"}
    env |= {"CHATOPS_SLACK__INBOX_CHANNEL": "C1", "CHATOPS_PLUGINS__ROTA__LEADS": "U0123ABCD,S0123ABCD"}
    env |= {"CHATOPS_PLUGINS__ROTA__SERVICE_HOURS__MON": "08:00-12:00"}
    settings = parse_settings({}, env)
    assert settings.plugins.validate_section("rota", RotaConfig).leads == ["U0123ABCD", "S0123ABCD"]
    assert service_hours_from_settings(settings).tz == ZoneInfo("UTC")


def test_a_dns_failure_is_said_in_words_not_as_an_exception_class() -> None:
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from chatops.slack.preflight import unreachable_reason

    key = ConnectionKey("slack.example", 443, True, True, None, None, None)
    error = aiohttp.ClientConnectorDNSError(key, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert unreachable_reason(error) == "the host name slack.example does not resolve (DNS)"
    assert unreachable_reason(TimeoutError()) == "no answer in time"


def test_check_network_in_http_mode_says_the_signing_secret_is_not_checked(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("CINBOX", "customer-inbox")
    config = (
        f'[slack]\nmode = "http"\nbot_token = "xoxb-test"\nsigning_secret = "s"\napi_url = "{fake_slack.api_url}"\n'
        'inbox_channel = "CINBOX"\n' + WEBHOOK
    )
    code, out, _ = chatops(config, "check", "--network")
    assert code == 0, out
    assert list(_by_key(out)) == [
        "slack.bot_token",
        "slack.bot_token scopes",
        "slack.signing_secret",
        "slack.inbox_channel",
    ]
    assert _by_key(out)["slack.signing_secret"].startswith("not checked (only a request Slack signs proves it")
