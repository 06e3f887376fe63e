"""Typed configuration: one TOML file, with any key overridable from the environment.

A key ``a.b.c`` can be set as the variable ``CHATOPS_A__B__C`` (double underscores
separate levels), which is how secrets are kept out of the file. A variable's value is
split on commas only when its key is a list (decided by the field's type, never by the
value: :mod:`chatops.config_env`), so a secret containing a comma stays one string.
Validation happens once, at start-up; every mistake is collected into one
:class:`ConfigError`, one line per key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from chatops.config_env import ENV_PREFIX, env_overrides, typed_env_values

ModelT = TypeVar("ModelT", bound=BaseModel)
DEFAULT_CONFIG_PATH = "config.toml"


class ConfigProblem(NamedTuple):
    """One configuration mistake: the key it is about (may be empty) and what is wrong with it."""

    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}" if self.key else self.problem


class ConfigError(Exception):
    """Configuration mistakes, reported together, one line each naming the key.

    ``ConfigError(key, problem)`` holds one; ``ConfigError(problems=[...])`` several, so that
    a person fixes everything after one run. ``key`` and ``problem`` are the first one's,
    ``problems`` all of them, and ``str()`` is one line per problem. ``note`` is context
    worth printing before them (no config file was found, …); it is not a problem itself.
    """

    def __init__(
        self,
        key: str = "",
        problem: str = "",
        *,
        problems: Iterable[tuple[str, str]] = (),
        note: str | None = None,
    ) -> None:
        # The same mistake can be found twice (the core and the plugins both read [plugins]): say it once.
        found = list(dict.fromkeys(ConfigProblem(*item) for item in problems)) or [ConfigProblem(key, problem)]
        super().__init__("\n".join(str(item) for item in found))
        self.problems: list[ConfigProblem] = found
        self.key, self.problem = found[0]
        self.note = note

    def lines(self) -> list[str]:
        """One line per problem, as ``chatops`` prints them: ``config error: key: problem``."""
        return [f"config error: {item}" for item in self.problems]


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

    @field_validator("bot_token", "app_token", "signing_secret", mode="before")
    @classmethod
    def _strip_secret(cls, value: object) -> object:
        # A secret pasted with its line break (a Kubernetes secret made from a file, `echo` into
        # .env) would sign every request wrong, or not start with xoxb-: whitespace is never part of it.
        if isinstance(value, SecretStr):
            return SecretStr(value.get_secret_value().strip())
        return value.strip() if isinstance(value, str) else value

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        problem = bot_token_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        problem = app_token_problem(secret_value(value))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("inbox_channel", "escalation_channel", "ops_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        problem = channel_id_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _mode_credentials(self) -> SlackConfig:
        missing = missing_mode_credential(self.mode, secret_value(self.app_token), secret_value(self.signing_secret))
        if missing is not None:
            raise _KeyedValueError(*missing)
        return self


#: Slack channel IDs: C… (public), G… (private, older); capitals, digits and, for test
#: channels such as the test kit's, underscores.
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9_]+")


def bot_token_problem(token: str) -> str | None:
    """What is wrong with ``token`` as ``slack.bot_token`` (None when it looks right)."""
    if not token:
        return "is empty (the Bot User OAuth Token, xoxb-…, from OAuth & Permissions)"
    if token.startswith("xoxb-"):
        return None
    if token.startswith("xapp-"):
        return "this is an app-level token (xapp-…); slack.app_token takes it. Here: the Bot User OAuth Token (xoxb-…)"
    if token.startswith("xoxp-"):
        return "this is a user token (xoxp-…), which acts as you; use the Bot User OAuth Token (xoxb-…)"
    if token.startswith("xoxe.xoxb-"):
        return (
            "a rotating bot token (token rotation is on): chatops needs one that does not expire; "
            "turn token rotation off (OAuth & Permissions) and use the Bot User OAuth Token (xoxb-…)"
        )
    if token.startswith("xoxe-"):
        return "this is a refresh token (xoxe-…); use the Bot User OAuth Token (xoxb-…)"
    return "must be the Bot User OAuth Token, starting with xoxb- (OAuth & Permissions)"


def app_token_problem(token: str) -> str | None:
    """What is wrong with ``token`` as ``slack.app_token`` (None when it looks right or is unset)."""
    if not token or token.startswith("xapp-"):
        return None
    if token.startswith("xoxb-"):
        return "this is the bot token (xoxb-…); slack.bot_token takes it. Here: an app-level token (xapp-…)"
    if token.startswith("xoxp-"):
        return "this is a user token (xoxp-…); use an app-level token (xapp-…) with connections:write"
    return "must be an app-level token starting with xapp- (Basic Information → App-Level Tokens)"


def channel_id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a Slack channel ID (None when it is one)."""
    if _CHANNEL_ID.fullmatch(value):
        return None
    if value.startswith("#") or value != value.upper() or "-" in value:
        return f"{value!r} looks like a channel name; use the channel ID (C…), not its name: channel → About → copy ID"
    return f"{value!r} is not a channel ID (C… or G… followed by capitals and digits): channel → About → copy ID"


def missing_mode_credential(mode: object, app_token: object, signing_secret: object) -> tuple[str, str] | None:
    """The credential ``mode`` needs and lacks, as (key, problem), or None."""
    if mode == "socket" and not app_token:
        return "app_token", 'required when mode = "socket" (an app-level token, xapp-…)'
    if mode == "http" and not signing_secret:
        return "signing_secret", 'required when mode = "http" (Basic Information → Signing Secret)'
    return None


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
        url = normalise_database_url(value)
        problem = sqlite_folder_problem(url)
        if problem:
            raise ValueError(problem)
        return url

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


class PriorityConfig(Section):
    """What makes a customer's comment urgent: its score is the sum of the rules it meets (see chatops.priority)."""

    #: Words or phrases (any language, case-insensitive, whole words) that make a comment urgent;
    #: ``stem*`` matches every word starting with the stem (``hyvity*``: hyvitys, hyvityksen).
    keywords: list[str] = Field(default_factory=list, max_length=500)
    keyword_score: int = Field(default=40, ge=0, le=1000)
    #: Authors whose comments are urgent: handles (with or without ``@``) or the platform's ids.
    vip_authors: list[str] = Field(default_factory=list, max_length=5000)
    vip_score: int = Field(default=50, ge=0, le=1000)
    #: A comment the source or a classifier plugin marks negative.
    negative_score: int = Field(default=30, ge=0, le=1000)
    #: A customer writing again after the team answered them.
    reply_to_us_score: int = Field(default=60, ge=0, le=1000)
    #: During a flood, conversations scoring at least this get their own card instead of a roll-up's line.
    own_card_at: int = Field(default=40, ge=1, le=10_000)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        for word in value:
            stem = word.strip().removesuffix("*")
            if len(word) > 100:
                raise ValueError(f"{word[:20]!r}…: a keyword is at most 100 characters")
            if "*" in stem:
                raise ValueError(f"{word!r}: * may only end a keyword (stem*, a prefix match)")
            if word.strip().endswith("*") and len(stem.strip()) < 3:
                raise ValueError(f"{word!r}: a prefix keyword needs at least 3 letters before the *")
        return value

    @field_validator("vip_authors")
    @classmethod
    def _vips(cls, value: list[str]) -> list[str]:
        long = next((v for v in value if len(v) > 255), None)
        if long is not None:
            raise ValueError(f"{long[:20]!r}…: a handle or id is at most 255 characters")
        return value


class CrisisConfig(Section):
    """A flood of comments: roll-up cards, the crisis banner, the backlog alert and overflow channels."""

    #: Gather a flood of new conversations on one card per post; false: one card each, always.
    rollups: bool = True
    #: New conversations on one post within the window before the post's next ones are rolled up.
    rollup_per_post: int = Field(default=20, ge=2, le=100_000)
    #: New conversations from one source within the window before all its next ones are rolled up.
    rollup_per_source: int = Field(default=100, ge=2, le=1_000_000)
    rollup_window_seconds: float = Field(default=600.0, gt=0.0, le=86_400.0)
    #: A roll-up card is redrawn at most this often while comments keep joining it.
    rollup_update_seconds: float = Field(default=10.0, ge=0.0, le=3600.0)
    #: How often the delivery worker looks for floods among the cards waiting to be posted.
    rollup_check_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    #: An urgent card (priority >= [priority] own_card_at) on a flooded post or source that has waited this
    #: long for its post is gathered on the roll-up too, marked urgent there: Slack's pace of about one post
    #: a second per channel cannot give hundreds of urgent comments cards of their own within minutes.
    #: The most urgent still go first, so only those that would wait longer anyway are gathered.
    rollup_own_card_wait_seconds: float = Field(default=60.0, ge=0.0, le=86_400.0)
    #: How many members "Open the most urgent" turns into cards of their own at once.
    rollup_open_count: int = Field(default=10, ge=1, le=100)
    #: Show the crisis banner in the inbox channel while more comments than this wait for a card.
    banner: bool = True
    banner_backlog: int = Field(default=50, ge=1, le=1_000_000)
    #: The banner is redrawn (chat.update) at most this often while the crisis lasts.
    banner_update_seconds: float = Field(default=30.0, ge=0.0, le=3600.0)
    #: Raise the ops alert while the oldest comment waiting for a card has waited longer than this.
    backlog_alert_seconds: float = Field(default=300.0, ge=10.0, le=86_400.0)
    #: How often each replica counts the comments waiting for a card (one indexed COUNT).
    backlog_check_seconds: float = Field(default=5.0, ge=0.0, le=600.0)
    #: Extra channels a source's new cards spread to while its inbox channel's pace is the bottleneck.
    overflow_channels: list[str] = Field(default_factory=list)
    #: New cards overflow only while at least this many wait for their post (a quiet day stays in the inbox).
    overflow_backlog: int = Field(default=10, ge=1, le=1_000_000)

    @field_validator("overflow_channels")
    @classmethod
    def _overflow_channel_ids(cls, value: list[str]) -> list[str]:
        for channel in value:
            problem = channel_id_problem(channel)
            if problem:
                raise ValueError(problem)
        if len(set(value)) != len(value):
            raise ValueError("names a channel twice")
        return value


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
        """The raw ``[plugins.<name>]`` table (empty when absent).

        Values from environment variables are still strings here, lists included: validate
        with :meth:`validate_section`, which shapes them by the model's field types.
        """
        raw = (self.model_extra or {}).get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"plugins.{name}", "must be a table")
        return raw

    def validate_section(self, name: str, model: type[ModelT]) -> ModelT:
        """``[plugins.<name>]`` validated by the plugin's ``model`` (environment lists split by its types).

        Raises pydantic's ValidationError; the loader turns it into one line per key.
        """
        return model.model_validate(typed_env_values(model, self.section(name)))


class Settings(Section):
    """The whole configuration."""

    team: TeamConfig = Field(default_factory=TeamConfig)
    slack: SlackConfig
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    workflow: WorkflowConfig = Field(default_factory=WorkflowConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    priority: PriorityConfig = Field(default_factory=PriorityConfig)
    crisis: CrisisConfig = Field(default_factory=CrisisConfig)
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


def sqlite_folder_problem(url: str) -> str | None:
    """Why an SQLite database file at ``url`` could not be created or written (None when it can).

    Checked at validation, so ``check`` reports it and ``run``/``db upgrade`` refuse with one
    line instead of failing deep inside the driver.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.drivername.startswith("sqlite") and (parsed.host or parsed.username or parsed.port):
        # sqlite://chatops.db (two slashes) names a host: SQLAlchemy refuses it only when connecting.
        return (
            "an SQLite URL names no host: sqlite:///chatops.db (relative) or sqlite:////var/lib/chatops.db (absolute)"
        )
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    if database.startswith("file:") or "uri" in parsed.query:
        return None  # an SQLite URI (shared memory, read-only modes…): the driver decides
    if database.startswith("~"):
        return f"~ is not expanded in a database URL: write the full path ({Path(database).expanduser()})"
    file = Path(database)
    folder = file.parent
    where = "" if folder.is_absolute() else f" (relative to {Path.cwd()})"
    if not folder.exists():
        return f"folder {folder} does not exist{where}"
    if not folder.is_dir():
        return f"{folder} is not a folder{where}"
    if file.is_dir():
        return f"{file} is a folder, not a database file{where}"
    if file.exists():
        if not os.access(file, os.R_OK | os.W_OK):
            return f"file {file} is not writable{where}"
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable, so the database file cannot be created there{where}"
    return None


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


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validation_problems(exc: ValidationError, prefix: str = "") -> list[ConfigProblem]:
    """Every problem in a pydantic error as ``key: problem``, the first per key."""
    problems: dict[str, ConfigProblem] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        message = error["msg"]
        ctx_error = (error.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _KeyedValueError):
            loc.append(ctx_error.field)
            message = str(ctx_error)
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        key = ".".join([prefix, *loc] if prefix else loc)
        variable = f"{ENV_PREFIX}{key.replace('.', '__').upper()}"
        if error["type"] == "extra_forbidden" and loc[0].startswith(ENV_PREFIX):
            key, message = loc[0], "not a config key (an empty part between the __ separators)"
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing" and len(loc) == 1 and not prefix:
            message = f"missing [{loc[0]}] section (in the config file, or {ENV_PREFIX}{loc[0].upper()}__… variables)"
        elif error["type"] == "missing":
            message = f"missing (set it in the config file or as {variable})"
        elif error["type"] in ("list_type", "tuple_type", "set_type"):
            message += f' (in the file: ["a", "b"]; in {variable}: a,b or a JSON list ["a","b"])'
        problems.setdefault(key, ConfigProblem(key, message))
    return list(problems.values())


def describe_validation_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """A pydantic error as one :class:`ConfigError` holding every problem, ``key: problem`` each."""
    return ConfigError(problems=validation_problems(exc, prefix))


class StorageSettings(BaseModel):
    """The part of the configuration the database commands need (``db``, ``outbox``).

    Only ``[database]`` and ``[plugins]`` (which plugins' tables exist) are validated: the
    schema can be upgraded before any Slack token exists. Other sections are ignored here.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)


@dataclass(frozen=True, slots=True)
class RawConfig:
    """The config file's tables merged with the environment's overrides, not validated yet."""

    data: dict[str, Any]
    #: Context for a person reading the errors (e.g. that no config file was read), or None.
    note: str | None = None


def read_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> RawConfig:
    """Read the TOML file at ``path`` (default ``$CHATOPS_CONFIG`` or ``./config.toml``) plus the environment.

    A file named by ``path`` or ``CHATOPS_CONFIG`` must exist; ``./config.toml`` may be
    absent (settings then come from the environment only, which the note says).
    """
    env = os.environ if environ is None else environ
    named_by = "-c" if path is not None else "CHATOPS_CONFIG" if env.get("CHATOPS_CONFIG") else None
    config_path = Path(path or env.get("CHATOPS_CONFIG") or DEFAULT_CONFIG_PATH)
    note = None
    data: dict[str, Any] = {}
    if config_path.is_file():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(config_path), f"not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(str(config_path), f"cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(str(config_path), "is not UTF-8 text (save it as UTF-8)") from None
    elif named_by is not None and config_path.is_dir():
        raise ConfigError(named_by, f"{config_path} is a folder, not a config file")
    elif named_by == "-c":
        raise ConfigError(str(config_path), "config file not found")
    elif named_by == "CHATOPS_CONFIG":
        raise ConfigError("CHATOPS_CONFIG", f"config file {config_path} not found")
    elif config_path.exists():
        raise ConfigError(str(config_path), "is not a file")
    else:
        note = (
            f"note: no ./{DEFAULT_CONFIG_PATH} in {Path.cwd()} (and no -c or CHATOPS_CONFIG): "
            f"settings come from {ENV_PREFIX}… environment variables only"
        )
    return RawConfig(_merge(data, env_overrides(env)), note)


def _as_raw(config: RawConfig | Mapping[str, Any]) -> RawConfig:
    return config if isinstance(config, RawConfig) else RawConfig(dict(config))


def validate_settings(config: RawConfig | Mapping[str, Any]) -> Settings:
    """Validate merged config data into :class:`Settings`, reporting every core problem at once."""
    raw = _as_raw(config)
    # Without a [slack] table, name each key it needs rather than the table alone.
    data = {"slack": {}, **raw.data}
    try:
        return Settings.model_validate(typed_env_values(Settings, data))
    except ValidationError as exc:
        problems = validation_problems(exc)
    slack = data.get("slack")
    if isinstance(slack, Mapping):
        # A model-level rule runs only once every field is valid: say it now, with the rest.
        missing = missing_mode_credential(
            slack.get("mode", "socket"), slack.get("app_token"), slack.get("signing_secret")
        )
        if missing is not None and not any(p.key == f"slack.{missing[0]}" for p in problems):
            # With the other [slack] lines, so the section reads as one list of what to fix.
            at = max((i + 1 for i, p in enumerate(problems) if p.key.startswith("slack.")), default=len(problems))
            problems.insert(at, ConfigProblem(f"slack.{missing[0]}", missing[1]))
    raise ConfigError(problems=problems, note=raw.note)


def validate_storage_settings(config: RawConfig | Mapping[str, Any]) -> StorageSettings:
    """Validate only ``[database]`` and ``[plugins]``: what the database commands need."""
    raw = _as_raw(config)
    try:
        return StorageSettings.model_validate(typed_env_values(StorageSettings, raw.data))
    except ValidationError as exc:
        raise ConfigError(problems=validation_problems(exc), note=raw.note) from None


def validate_plugins_section(config: RawConfig | Mapping[str, Any]) -> PluginsConfig:
    """Validate ``[plugins]`` alone (the list of enabled plugins), whatever the other sections hold."""
    raw = _as_raw(config)
    data = raw.data.get("plugins", {})
    try:
        if not isinstance(data, Mapping):
            raise ConfigError("plugins", "must be a table")
        return PluginsConfig.model_validate(typed_env_values(PluginsConfig, data))
    except ValidationError as exc:
        raise ConfigError(problems=validation_problems(exc, prefix="plugins"), note=raw.note) from None


def parse_settings(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Validate a config mapping (plus environment overrides) into Settings."""
    return validate_settings(_merge(dict(data), env_overrides(os.environ if environ is None else environ)))


def load_settings(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file at ``path`` (default ``$CHATOPS_CONFIG`` or ``config.toml``) and validate it."""
    return validate_settings(read_config(path, environ))


def load_storage_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> StorageSettings:
    """Like :func:`load_settings`, validating only what the database commands need."""
    return validate_storage_settings(read_config(path, environ))
