"""Typed configuration: one TOML file, with any key overridable from the environment.

A key ``a.b.c`` can be set as the variable ``CHATOPS_A__B__C`` (double underscores
separate levels), which is how secrets are kept out of the file. Validation happens
once, at start-up; every mistake becomes a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

ENV_PREFIX = "CHATOPS_"
DEFAULT_CONFIG_PATH = "config.toml"


class ConfigError(Exception):
    """A configuration mistake, reported as one line naming the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamConfig(Section):
    """Who the team is: its timezone (times shown on cards) and the bot's language."""

    timezone: str = "UTC"
    language: Literal["en", "fi", "pl"] = "en"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Helsinki)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The team's timezone as a ZoneInfo."""
        return ZoneInfo(self.timezone)


class SlackConfig(Section):
    """How the bot reaches Slack and where cards go."""

    mode: Literal["socket", "http"] = "socket"
    # Secrets are SecretStr: a repr, a validation error or a log of the settings shows "**********".
    bot_token: SecretStr
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    inbox_channel: str = Field(min_length=1)
    escalation_channel: str | None = None
    escalation_leads: list[str] = Field(default_factory=list)
    ops_channel: str | None = None
    post_interval_seconds: float = Field(default=1.0, ge=0.0, le=60.0)

    @field_validator("bot_token")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("String should have at least 1 character")
        return value

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _mode_credentials(self) -> SlackConfig:
        if self.mode == "socket" and not secret_value(self.app_token):
            raise _KeyedValueError("app_token", 'required when mode = "socket" (an xapp-… token)')
        if self.mode == "http" and not secret_value(self.signing_secret):
            raise _KeyedValueError("signing_secret", 'required when mode = "http"')
        return self


class DatabaseConfig(Section):
    """Where conversations live: an SQLite file by default, PostgreSQL by URL."""

    url: str = "sqlite+aiosqlite:///chatops.db"
    auto_upgrade_sqlite: bool = True
    echo: bool = False
    #: Longest wait for the write lock (or a connection) before a request is answered 503.
    lock_timeout_seconds: float = Field(default=5.0, gt=0.0, le=60.0)
    #: SQLite only: "wal" (faster; a file system turning read-only kills the process with SIGBUS)
    #: or "delete" (a rollback journal: slower writes, answers 503 through such an outage).
    sqlite_journal_mode: Literal["wal", "delete"] = "wal"

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    def __repr_args__(self) -> Any:
        # The URL may carry the database password: show it masked, as SQLAlchemy does.
        for name, value in super().__repr_args__():
            yield name, (make_url(value).render_as_string(hide_password=True) if name == "url" else value)

    @property
    def password(self) -> str | None:
        """The password inside the URL, if any (for log masking)."""
        password = make_url(self.url).password
        return str(password) if password else None


class HttpConfig(Section):
    """The bot's own HTTP server: Slack events (HTTP mode), source webhooks, health."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: Serve ``GET /metrics`` (Prometheus) on this port; it shows counts, never text or secrets.
    metrics: bool = True


class WorkflowConfig(Section):
    """Team rules for cards: the tag vocabulary offered in the Tag dialog."""

    tags: list[str] = Field(default_factory=lambda: ["question", "complaint", "praise", "bug", "billing"])
    allow_new_tags: bool = True


class DeliveryConfig(Section):
    """Outbox delivery: retries and backoff for Slack posts and platform replies."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_seconds: float = Field(default=2.0, ge=0.01)
    backoff_max_seconds: float = Field(default=300.0, ge=0.1)
    poll_interval_seconds: float = Field(default=1.0, ge=0.01)
    lease_seconds: float = Field(default=60.0, ge=1.0)
    #: After a chat.postMessage whose answer was lost, seconds to wait for Slack's
    #: message_metadata_posted event before posting again (chatops.slack.posting).
    reconcile_seconds: float = Field(default=20.0, ge=0.0, le=600.0)


class LoggingConfig(Section):
    """The log: its level and format (``text`` for people, ``json`` lines for log shippers).

    ``chatops --log-level`` and ``--log-format`` override these.
    """

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


class PluginsConfig(BaseModel):
    """Which plugins run, and each plugin's own section (validated by the plugin's model)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    enabled: list[str] = Field(default_factory=lambda: ["webhook"])

    def __repr_args__(self) -> Any:
        # The raw tables are plain TOML (secrets included) until each plugin validates them
        # into its own model: a repr names the sections, never their values.
        yield "enabled", self.enabled
        for name in self.model_extra or {}:
            yield name, "{…}"

    def section(self, name: str) -> dict[str, Any]:
        """The raw ``[plugins.<name>]`` table (empty when absent)."""
        raw = (self.model_extra or {}).get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"plugins.{name}", "must be a table")
        return raw


class Settings(Section):
    """The whole configuration."""

    team: TeamConfig = Field(default_factory=TeamConfig)
    slack: SlackConfig
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    workflow: WorkflowConfig = Field(default_factory=WorkflowConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)


class _KeyedValueError(ValueError):
    """A model-level validation error that knows which field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def secret_value(secret: SecretStr | None) -> str:
    """The plain value of an optional secret ("" when unset)."""
    return secret.get_secret_value() if secret is not None else ""


def secret_values(*nodes: object) -> list[str]:
    """Every ``SecretStr`` value inside ``nodes`` (models, their nested models, lists and dicts),
    plus what a model's ``derived_secrets()`` method returns.

    Log masking uses this: a secret is found by its type, whatever its key is called.
    """
    found: list[str] = []
    seen: set[int] = set()

    def walk(node: object) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, SecretStr):
            found.append(node.get_secret_value())
        elif isinstance(node, BaseModel):
            for value in node.__dict__.values():
                walk(value)
            for value in (node.model_extra or {}).values():
                walk(value)
            if isinstance(node, DatabaseConfig) and node.password:
                found.append(node.password)
            # A config may name secrets derived from its own (a signature computed from a token).
            derived = getattr(node, "derived_secrets", None)
            if callable(derived):
                found.extend(str(value) for value in derived())
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple, set, frozenset)):
            for value in node:
                walk(value)

    for node in nodes:
        walk(node)
    return [value for value in found if value]


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a plain database URL (``postgresql://`` → asyncpg)."""
    for plain, async_url in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return async_url + url[len(plain) :]
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql+psycopg://")):
        raise ValueError("use an sqlite:// or postgresql:// URL")
    return url


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn ``CHATOPS_A__B=v`` variables into a nested ``{"a": {"b": "v"}}`` mapping."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(value)
    return tree


def _parse_env_value(value: str) -> Any:
    # Lists (enabled plugins, leads) are written as comma-separated values.
    if "," in value and not value.startswith(("http://", "https://", "postgres", "sqlite")):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def describe_validation_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """Reduce a pydantic error to the first problem, as ``key: problem``."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    message = first["msg"]
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _KeyedValueError):
        loc.append(ctx_error.field)
        message = str(ctx_error)
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing" and len(loc) == 1 and not prefix:
        message = f"missing [{loc[0]}] section (in the config file, or {ENV_PREFIX}{loc[0].upper()}__… variables)"
    key = ".".join([prefix, *loc] if prefix else loc)
    if first["type"] == "missing" and (len(loc) > 1 or prefix):
        message = f"missing (set it in the config file or as {ENV_PREFIX}{key.replace('.', '__').upper()})"
    return ConfigError(key, message)


def parse_settings(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Validate a config mapping (plus environment overrides) into Settings."""
    merged = _merge(dict(data), env_overrides(os.environ if environ is None else environ))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise describe_validation_error(exc) from None


def load_settings(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file at ``path`` (default ``$CHATOPS_CONFIG`` or ``config.toml``) and validate it."""
    env = os.environ if environ is None else environ
    config_path = Path(path or env.get("CHATOPS_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(config_path), f"not valid TOML: {exc}") from None
    elif path is not None:
        raise ConfigError(str(config_path), "config file not found")
    return parse_settings(data, env)
