"""An operator's mistakes and an unfriendly network, tried on purpose: config files that are not text,
environment names with empty parts, databases that do not answer, Slack answering 429 or breaking off,
tokens pasted with a newline. Each must end in plain lines naming the problem: no traceback, no secret.
In-process ``chatops`` calls (the console script's code path), fast."""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runs import Run, cli_runner
from sqlalchemy.engine import make_url

from chatops.config import ConfigError, parse_settings, secret_value
from chatops.observability.logs import configure_logging
from chatops.testing.fake_slack import FakeSlack

SLACK_ENV = {
    "CHATOPS_SLACK__BOT_TOKEN": "xoxb-1-hostile",
    "CHATOPS_SLACK__APP_TOKEN": "xapp-1-hostile",
    "CHATOPS_SLACK__INBOX_CHANNEL": "C1",
}
NO_PLUGINS = {"CHATOPS_PLUGINS__ENABLED": "[]"}


@pytest.fixture
def chatops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``chatops <args>`` in ``tmp_path`` with only the given CHATOPS_ variables; (exit code, stdout, stderr)."""
    return cli_runner(tmp_path, monkeypatch, capsys)


def _lines(err: str) -> list[str]:
    return err.splitlines()


# Config files -----------------------------------------------------------------------------------------


def test_a_config_file_that_is_not_utf8_is_one_line(chatops: Run, tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes(b'[team]\ntimezone = "Europe/Z\xfcrich"\n')
    code, out, err = chatops("-c", "latin1.toml", "check")
    assert (code, out) == (2, "")
    assert _lines(err) == ["config error: latin1.toml: is not UTF-8 text (save it as UTF-8)"]


@pytest.mark.parametrize("how", ["-c", "CHATOPS_CONFIG"])
def test_a_config_path_that_is_a_folder_says_so(chatops: Run, tmp_path: Path, how: str) -> None:
    (tmp_path / "conf.d").mkdir()
    args, env = (["-c", "conf.d"], {}) if how == "-c" else ([], {"CHATOPS_CONFIG": "conf.d"})
    code, _, err = chatops(*args, "check", env=env)
    assert code == 2
    assert _lines(err) == [f"config error: {how}: conf.d is a folder, not a config file"]


def test_the_no_config_file_note_comes_with_plugin_only_mistakes(chatops: Run) -> None:
    # The core settings are fine; only the webhook plugin's secret is missing. The person must still
    # learn that ./config.toml was not read (they may think they set the secret there).
    code, _, err = chatops("check", env=SLACK_ENV)
    assert code == 2
    lines = _lines(err)
    assert lines[0].startswith("note: no ./config.toml in ")
    assert lines[1:] == [
        "config error: plugins.webhook.secret: missing (set it in the config file or as "
        "CHATOPS_PLUGINS__WEBHOOK__SECRET)"
    ]


def test_one_mistake_is_one_line_not_two(chatops: Run) -> None:
    code, _, err = chatops("check", env={**SLACK_ENV, "CHATOPS_PLUGINS__ENABLED": "[webhook"})
    assert code == 2
    errors = [line for line in _lines(err) if line.startswith("config error: ")]
    assert len(errors) == 1, errors
    assert errors[0].startswith("config error: plugins.enabled: Input should be a valid list")


@pytest.mark.parametrize("name", ["CHATOPS_SLACK__", "CHATOPS___X", "CHATOPS_SLACK____BOT_TOKEN"])
def test_a_variable_with_an_empty_part_is_named(chatops: Run, name: str) -> None:
    code, _, err = chatops("check", env={**SLACK_ENV, **NO_PLUGINS, name: "x"})
    assert code == 2
    assert [line for line in _lines(err) if line.startswith("config error: ")] == [
        f"config error: {name}: not a config key (an empty part between the __ separators)"
    ]


def test_a_tilde_in_an_sqlite_url_is_refused_by_check_not_by_the_driver(chatops: Run) -> None:
    # The folder check expanded ~ while SQLite opens a file literally named ~/…: check passed,
    # then db upgrade failed with "unable to open database file".
    env = {**NO_PLUGINS, "CHATOPS_DATABASE__URL": "sqlite:///~/chatops.db"}
    code, _, err = chatops("db", "upgrade", env=env)
    assert code == 2
    assert "config error: database.url: ~ is not expanded in a database URL" in err


# Databases that do not answer ------------------------------------------------------------------------


def test_a_database_host_that_does_not_resolve_is_one_line(chatops: Run) -> None:
    env = {**NO_PLUGINS, "CHATOPS_DATABASE__URL": "postgresql://u:pw-hostile-123@db.invalid/chatops"}
    code, out, err = chatops("outbox", env=env)
    assert (code, out) == (1, "")
    assert len(_lines(err)) == 1
    assert err.startswith("connection: ")
    assert "pw-hostile-123" not in err


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_database_that_never_answers_is_one_line(chatops: Run, black_hole: int) -> None:
    url = f"postgresql://u:pw-hostile-123@127.0.0.1:{black_hole}/chatops"
    env = {**NO_PLUGINS, "CHATOPS_DATABASE__URL": url, "CHATOPS_DATABASE__LOCK_TIMEOUT_SECONDS": "0.5"}
    code, out, err = chatops("db", "status", env=env)
    assert (code, out) == (1, "")
    assert len(_lines(err)) == 1, err
    assert err.startswith("connection: ")
    assert "pw-hostile-123" not in err


# check --network against a Slack that misbehaves -----------------------------------------------------


def _network_env(api_url: str) -> dict[str, str]:
    return {
        **NO_PLUGINS,
        "CHATOPS_SLACK__BOT_TOKEN": "xoxb-test",
        "CHATOPS_SLACK__APP_TOKEN": "xapp-test",
        "CHATOPS_SLACK__API_URL": api_url,
        "CHATOPS_SLACK__INBOX_CHANNEL": "CINBOX",
    }


def _by_key(out: str) -> dict[str, str]:
    return {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in out.splitlines()[1:]}


def test_check_network_says_a_broken_answer_in_words(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.lose_answers("auth.test", times=1)
    code, out, _ = chatops("check", "--network", env=_network_env(fake_slack.api_url))
    assert code == 2
    line = _by_key(out)["slack.api_url"]
    assert line.endswith("the connection broke before the whole answer arrived)"), line
    assert "Error" not in line  # no aiohttp class names (ContentLengthError, ClientPayloadError)


def test_check_network_does_not_blame_the_token_for_a_429(chatops: Run, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=429, retry_after=1)
    code, out, _ = chatops("check", "--network", env=_network_env(fake_slack.api_url))
    assert code == 2
    assert "rate-limiting" in _by_key(out)["slack.bot_token"]


@pytest.fixture
def not_slack() -> Iterator[str]:
    """An HTTP server answering every POST with a JSON list: some service that is not Slack's API."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b'["not", "slack"]'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def test_check_network_against_a_json_service_that_is_not_slack(chatops: Run, not_slack: str) -> None:
    code, out, _ = chatops("check", "--network", env=_network_env(not_slack))
    assert code == 2
    assert "is api_url Slack's API?" in _by_key(out)["slack.api_url"]


# Secrets ------------------------------------------------------------------------------------------------


def test_a_secret_pasted_with_a_newline_is_masked_without_it() -> None:
    # Tokens with a trailing newline work (the HTTP clients strip it), so the log may carry
    # the token without the newline: that form must be masked too.
    stream = io.StringIO()
    configure_logging("info", "json", ["xoxb-1-pasted-token\n"], stream=stream)
    try:
        logging.getLogger("chatops.test").warning("sent Authorization: Bearer %s", "xoxb-1-pasted-token")
    finally:
        logging.getLogger().handlers.clear()
    line = stream.getvalue().strip()
    assert "xoxb-1-pasted-token" not in line
    assert json.loads(line)["message"] == "sent Authorization: Bearer ***"


@pytest.mark.parametrize("url", ["sqlite://chatops.db", "sqlite+aiosqlite://u:pw-hostile-123@/chatops.db"])
def test_an_sqlite_url_with_two_slashes_is_a_config_error(chatops: Run, url: str) -> None:
    # It passed check, then db upgrade died in SQLAlchemy with "Invalid SQLite URL" and a traceback.
    code, _, err = chatops("db", "upgrade", env={**NO_PLUGINS, "CHATOPS_DATABASE__URL": url})
    assert code == 2
    assert "config error: database.url: an SQLite URL names no host: sqlite:///chatops.db" in err
    assert "pw-hostile-123" not in err


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_secret_quoted_with_repr_is_masked(log_format: str) -> None:
    # A generated password with a backslash, or a token pasted with a newline, shows escaped
    # in an exception message that quotes the value with !r (and in a dict printed whole).
    secret = 'pw\\Zq7"quote\n'
    stream = io.StringIO()
    configure_logging("info", log_format, [secret], stream=stream)
    try:
        try:
            raise ValueError(f"bad header value {secret!r}")
        except ValueError:
            logging.getLogger("chatops.test").exception("request failed: %r", {"password": secret})
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert "Zq7" not in text, text
    if log_format == "json":
        record = json.loads(text)
        assert record["message"] == "request failed: {'password': '***'}"
        assert record["exception"].endswith("ValueError: bad header value '***'")


def test_slack_secrets_pasted_with_a_line_break_are_used_without_it() -> None:
    # A signing secret with its newline would verify no request at all (every click: 401).
    slack = {
        "bot_token": " xoxb-1-pasted\n",
        "app_token": "xapp-1-pasted\r\n",
        "signing_secret": "0123456789abcdef\n",
        "inbox_channel": "C1",
    }
    settings = parse_settings({"slack": slack, "plugins": {"enabled": []}}, {})
    assert secret_value(settings.slack.bot_token) == "xoxb-1-pasted"
    assert secret_value(settings.slack.app_token) == "xapp-1-pasted"
    assert secret_value(settings.slack.signing_secret) == "0123456789abcdef"


@pytest.mark.parametrize(
    ("token", "words"), [("xoxe.xoxb-1-rotating", "token rotation is on"), ("xoxe-1-refresh", "a refresh token")]
)
def test_token_rotation_tokens_are_named(token: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"slack": {"bot_token": token, "app_token": "xapp-1", "inbox_channel": "C1"}}, {})
    assert caught.value.key == "slack.bot_token"
    assert words in caught.value.problem


@pytest.mark.parametrize("command", [["db", "status"], ["outbox"]])
def test_a_database_role_that_does_not_exist_is_one_line(chatops: Run, command: list[str]) -> None:
    base = os.environ.get("CHATOPS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CHATOPS_TEST_POSTGRES_URL is not set")
    url = make_url(base).set(username="nobody_hostile", password="pw-hostile-123")
    env = {**NO_PLUGINS, "CHATOPS_DATABASE__URL": url.render_as_string(hide_password=False)}
    code, out, err = chatops(*command, env=env)
    assert (code, out) == (1, "")
    assert len(_lines(err)) == 1, err
    assert err.startswith("database: ") and "nobody_hostile" in err
    assert "pw-hostile-123" not in err


@pytest.fixture
def saved_logging() -> Iterator[None]:
    """Put the root logger back as it was (the JSON log configured here would outlive the test)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("saved_logging")
@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        ({}, ["check"], "config error: slack.bot_token: missing"),
        (
            {**NO_PLUGINS, "CHATOPS_DATABASE__URL": "postgresql://u:pw-hostile-123@db.invalid/x"},
            ["outbox"],
            "connection:",
        ),
        # As compose.yaml sets it, with the config wrong elsewhere (so it never validated).
        ({"CHATOPS_LOGGING__FORMAT": "json"}, ["check"], "config error: slack.bot_token: missing"),
    ],
)
def test_under_log_format_json_why_it_stopped_is_json_too(
    chatops: Run, env: dict[str, str], args: list[str], words: str
) -> None:
    # `--log-format json` for a log shipper: the last line, the one that says why the bot is not
    # running, was printed plain and dropped by the shipper.
    flag = [] if "CHATOPS_LOGGING__FORMAT" in env else ["--log-format", "json"]
    code, _, err = chatops(*flag, *args, env=env)
    assert code in (1, 2)
    records = [json.loads(line) for line in err.splitlines()]
    assert any(words in record["message"] and record["level"] == "ERROR" for record in records), records
    assert "pw-hostile-123" not in err
