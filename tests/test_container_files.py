"""The Dockerfile and compose.yaml hold together with the code they run.

No Docker daemon runs where the tests run, so the images are not built here; these
tests check what can be checked without one: the final image runs as a non-root user,
its health check asks a route the bot serves, its command and the compose services'
commands are commands ``chatops`` accepts, and every ``CHATOPS_…`` variable they set
is a key the config knows, with values that validate.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatops.cli import build_parser
from chatops.config import parse_settings

ROOT = Path(__file__).resolve().parent.parent

#: Values for the secrets compose takes from .env (``${NAME:?message}``), shaped as the config wants them.
SAMPLE_SECRETS = {
    "CHATOPS_SLACK__BOT_TOKEN": "xoxb-1-sample",
    "CHATOPS_SLACK__APP_TOKEN": "xapp-1-sample",
    "CHATOPS_SLACK__INBOX_CHANNEL": "C0123456789",
    "CHATOPS_PLUGINS__WEBHOOK__SECRET": "a-webhook-secret-of-32-characters",
}


def final_stage(dockerfile: str) -> list[tuple[str, str]]:
    """The instructions of the Dockerfile's last stage as ``(INSTRUCTION, arguments)``, continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    stages: list[list[tuple[str, str]]] = []
    for line in lines:
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages[-1]


def exec_form(arguments: str) -> list[str]:
    """A JSON exec-form command (``["chatops", "run"]``), or a shell-form one split as the shell would."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def dockerfile_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """Every ``ENV NAME=value`` of a stage."""
    env: dict[str, str] = {}
    for instruction, arguments in stage:
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


@pytest.fixture(scope="module")
def image() -> list[tuple[str, str]]:
    return final_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_the_image_runs_as_a_user_that_is_not_root(image: list[tuple[str, str]]) -> None:
    users = [arguments for instruction, arguments in image if instruction == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1] not in {"root", "0", "0:0"}


def test_the_health_check_asks_the_bots_liveness_route(image: list[tuple[str, str]]) -> None:
    [check] = [arguments for instruction, arguments in image if instruction == "HEALTHCHECK"]
    url = re.search(r"http://127\.0\.0\.1:\{port\}(/\w+)", check)
    assert url is not None, check
    # The port the bot listens on: the variable the config reads, defaulting to the image's own.
    default = re.search(r"os\.environ\.get\('CHATOPS_HTTP__PORT', '(\d+)'\)", check)
    assert default is not None, "the health check does not follow CHATOPS_HTTP__PORT"
    assert default.group(1) == dockerfile_env(image)["CHATOPS_HTTP__PORT"]
    assert url.group(1) == "/healthz"
    from chatops.web import health_routes

    served = {route.path for route in health_routes(db=None)}  # type: ignore[arg-type]
    assert url.group(1) in served


def test_the_image_command_is_one_chatops_accepts(image: list[tuple[str, str]]) -> None:
    [command] = [exec_form(arguments) for instruction, arguments in image if instruction == "CMD"]
    assert command[0] == "chatops"
    args = build_parser().parse_args(command[1:])
    assert args.command == "run"


def test_the_image_environment_is_valid_config(image: list[tuple[str, str]], tmp_path: Path) -> None:
    env = dockerfile_env(image)
    assert env["CHATOPS_HTTP__HOST"] == "0.0.0.0"  # noqa: S104 - inside a container, by design
    # The image's /data folder does not exist here: the same URL shape, in a folder that does.
    assert env["CHATOPS_DATABASE__URL"] == "sqlite:////data/chatops.db"
    env["CHATOPS_DATABASE__URL"] = f"sqlite:///{tmp_path}/chatops.db"
    settings = parse_settings({}, environ={**env, **SAMPLE_SECRETS})
    assert settings.http.port == 8080
    assert settings.http.host == "0.0.0.0"  # noqa: S104


def resolved(environment: dict[str, str]) -> dict[str, str]:
    """compose's ``${NAME:-default}`` and ``${NAME:?message}`` resolved with the sample secrets."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.group(1), match.group(2), match.group(3)
        if name in SAMPLE_SECRETS:
            return SAMPLE_SECRETS[name]
        assert kind == ":-", f"{name} has no default and is not a sample secret"
        return rest

    return {key: re.sub(r"\$\{(\w+)(:[-?])([^}]*)\}", one, str(value)) for key, value in environment.items()}


def test_every_compose_secret_is_required_with_a_message_naming_it(compose: dict[str, Any]) -> None:
    environment = compose["services"]["chatops"]["environment"]
    for name in SAMPLE_SECRETS:
        assert re.fullmatch(rf"\$\{{{name}:\?set {name} .+\}}", environment[name]), environment[name]


def test_the_compose_bot_environment_is_valid_config(compose: dict[str, Any]) -> None:
    environment = resolved(compose["services"]["chatops"]["environment"])
    settings = parse_settings({}, environ=environment)
    assert settings.database.url.startswith("postgresql+asyncpg://chatops:")
    assert settings.database.url.endswith("@postgres:5432/chatops")
    assert settings.logging.format == "text"


def test_the_migrate_service_needs_only_the_database(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    args = build_parser().parse_args(migrate["command"][1:])
    assert (args.command, args.db_command) == ("db", "upgrade")
    assert set(migrate["environment"]) == {"CHATOPS_DATABASE__URL"}
    bot = compose["services"]["chatops"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Both run the image the migrate service builds.
    assert migrate["image"] == bot["image"]
    assert "build" in migrate


def test_the_license_file_matches_pyproject() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]["text"]
    assert declared == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
