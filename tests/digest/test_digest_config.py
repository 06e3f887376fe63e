"""``[plugins.digest]``: the example documents every key and is valid; mistakes are one line naming the key, exit 2."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from chatops.cli import main
from chatops_plugins.digest.config import DigestConfig

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
BASE = """\
[slack]
bot_token = "xoxb-1"
app_token = "xapp-1"
inbox_channel = "CMANAGERS"

[plugins]
enabled = ["webhook", "digest"]

[plugins.webhook]
secret = "0123456789abcdef-secret"

[plugins.digest]
"""


@pytest.fixture(autouse=True)
def _no_chatops_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config comes from the file alone."""
    for name in list(os.environ):
        if name.startswith("CHATOPS_"):
            monkeypatch.delenv(name)


def test_the_example_digest_table_is_valid_and_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    config = DigestConfig.model_validate(tomllib.loads(text)["plugins"]["digest"])
    assert config.daily_minute == 8 * 60 and config.weekly_weekday == 0
    for key in DigestConfig.model_fields:
        assert f"\n{key} =" in text, f"plugins.digest.{key} is not documented in config.example.toml"


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ("", "plugins.digest.channel: missing (set it in the config file or as CHATOPS_PLUGINS__DIGEST__CHANNEL)"),
        ('channel = "#managers"\n', "plugins.digest.channel: '#managers' is not a channel id"),
        ('channel = "CMANAGERS"\ndaily_at = "8:00"\n', "plugins.digest.daily_at: '8:00' is not a time like 08:00"),
        ('channel = "CMANAGERS"\ndaily_at = "24:00"\n', "plugins.digest.daily_at: '24:00' is not a time like 08:00"),
        ('channel = "CMANAGERS"\nweekly_on = "monday"\n', "plugins.digest.weekly_on: Input should be"),
        (
            'channel = "CMANAGERS"\ngrace_hours = -1\n',
            "plugins.digest.grace_hours: Input should be greater than or equal to 0",
        ),
        (
            'channel = "CMANAGERS"\nresponse_target_minutes = 0\n',
            "plugins.digest.response_target_minutes: Input should be",
        ),
        ('channel = "CMANAGERS"\ntop = 1000\n', "plugins.digest.top: Input should be less than or equal to 20"),
        ('channel = "CMANAGERS"\nnegative_tag = ["complaint"]\n', "plugins.digest.negative_tag: unknown key"),
    ],
    ids=[
        "no-channel",
        "channel-name",
        "short-time",
        "midnight-24",
        "weekday-word",
        "negative-grace",
        "zero-target",
        "top",
        "typo",
    ],
)
def test_a_mistake_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, line: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE + table, encoding="utf-8")
    assert main(["-c", str(path), "check"]) == 2
    _out, err = capsys.readouterr()
    assert err.startswith(f"config error: {line}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_negative_tags_are_compared_as_the_core_stores_tags() -> None:
    config = DigestConfig.model_validate(
        {"channel": "CMANAGERS", "negative_tags": [" Complaint ", "Bad  Service", "", "complaint"]}
    )
    assert config.negative_tags == ("bad service", "complaint")
