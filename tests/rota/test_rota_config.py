"""``[plugins.rota]`` mistakes through the real config loader: one line naming the key, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chatops.cli import main
from chatops.config import load_settings
from chatops_plugins.rota.config import service_hours_from_settings

BASE = """\
[slack]
bot_token = "xoxb-1"
app_token = "xapp-1"
inbox_channel = "C1"

[team]
timezone = "Europe/Helsinki"

[plugins]
enabled = ["webhook", "rota"]

[plugins.webhook]
secret = "0123456789abcdef-secret"

[plugins.rota]
"""
HOURS = '\n[plugins.rota.service_hours]\nmon = "08:00-18:00"\n'


@pytest.fixture(autouse=True)
def _no_chatops_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config comes from the file alone."""
    for name in list(os.environ):
        if name.startswith("CHATOPS_"):
            monkeypatch.delenv(name)


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str) -> tuple[int, str, str]:
    if "leads =" not in config:
        config = config.replace("[plugins.rota]\n", '[plugins.rota]\nleads = ["ULENA", "SLEADS"]\n')
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    code = main(["-c", str(path), "check"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("rota", "tables", "line"),
    [
        ('leads = ["anna"]\n', "", "plugins.rota.leads: 'anna' is not a Slack user id (U…) or user group id (S…)"),
        (
            "",
            '\n[plugins.rota.service_hours]\nmon = "18:00-08:00"\n',
            "plugins.rota.service_hours.mon: '18:00-08:00' must end after it opens",
        ),
        (
            "",
            '\n[plugins.rota.service_hours]\ntue = "8-18"\n',
            "plugins.rota.service_hours.tue: '8' is not a 24-hour time",
        ),
        (
            "",
            '\n[plugins.rota.service_hours]\nwed = ["08:00-12:00", "11:00-16:00"]\n',
            "plugins.rota.service_hours.wed: ranges ['08:00-12:00', '11:00-16:00'] overlap",
        ),
        (
            "",
            '\n[plugins.rota.service_hours]\n"mon-fri" = "08:00-18:00"\n',
            "plugins.rota.service_hours.mon-fri: unknown key",
        ),
        (
            "out_of_hours_reply = true\n",
            "",
            "plugins.rota.out_of_hours_reply: true needs opening hours in [plugins.rota.service_hours]",
        ),
        (
            "out_of_hours_reply = true\n",
            '\n[plugins.rota.service_hours]\nsun = "closed"\n',
            "plugins.rota.out_of_hours_reply: true needs opening hours",
        ),
        (
            "",
            '\n[plugins.rota.service_hours]\nmon = "08:00-18:00"\nholidays = ["2026-13-01"]\n',
            "plugins.rota.service_hours.holidays.0: Input should be a valid date",
        ),
        ("colour = 'red'\n", "", "plugins.rota.colour: unknown key"),
        (
            'public_url = "ftp://chatops.example.com"\n',
            "",
            "plugins.rota.public_url: 'ftp://chatops.example.com' is not an http(s) address",
        ),
        ('public_url = "https://"\n', "", "plugins.rota.public_url: 'https://' is not an http(s) address"),
        ('assign = "random"\n', "", "plugins.rota.assign: Input should be 'off', 'round_robin' or 'least_loaded'"),
        (
            "",
            '\n[plugins.rota.out_of_hours_text]\nen = "Back at {open}"\n',
            "plugins.rota.out_of_hours_text.en: {open} is not a placeholder here; use {hours} or {opens}",
        ),
        (
            "",
            '\n[plugins.rota.out_of_hours_text]\nfi = "Palaamme {opens"\n',
            "plugins.rota.out_of_hours_text.fi: has an unpaired { or }",
        ),
    ],
    ids=[
        "bad-lead",
        "hours-backwards",
        "hours-not-times",
        "overlapping-ranges",
        "weekday-range-as-key",
        "reply-without-hours",
        "reply-with-only-closed-days",
        "bad-holiday",
        "unknown-key",
        "public-url-not-http",
        "public-url-no-host",
        "bad-assign",
        "unknown-placeholder",
        "unpaired-brace",
    ],
)
def test_each_rota_config_mistake_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rota: str, tables: str, line: str
) -> None:
    code, out, err = check(tmp_path, capsys, BASE + rota + tables)
    assert code == 2
    assert out == ""
    assert err.startswith(f"config error: {line}"), err
    assert err.count("\n") == 1


def test_a_good_rota_config_passes_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = (
        BASE
        + 'out_of_hours_reply = true\npublic_url = "https://chatops.example.com/"\nassign = "least_loaded"\n'
        + '\n[plugins.rota.service_hours]\nmon = "08:00-18:00"\ntue = ["08:00-12:00", "12:00-16:00"]\n'
        + 'sat = "closed"\nholidays = [2026-12-24, "2026-12-25"]\n'
        + '\n[plugins.rota.out_of_hours_text]\nen = "We answer {hours}, next at {opens} {{really}}"\n'
    )
    code, out, err = check(tmp_path, capsys, config)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "config ok: 2 plugin(s) enabled: webhook, rota"
    # The digest reads the same hours from the same file, without a running bot.
    office = service_hours_from_settings(load_settings(tmp_path / "config.toml"))
    assert office.tz == ZoneInfo("Europe/Helsinki")
    assert office.describe() == "mon 08:00-18:00; tue 08:00-12:00, 12:00-16:00"
    assert not office.is_open(datetime(2026, 12, 24, 10, tzinfo=UTC))  # a Thursday, and a holiday


def test_the_command_line_exits_2_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        BASE + 'leads = ["ULENA"]\n' + HOURS + 'tue = "18:00-08:00"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    result = subprocess.run(
        [sys.executable, "-m", "chatops.cli", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("config error: plugins.rota.service_hours.tue: '18:00-08:00' must end after")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
