"""Finding, enabling and configuring plugins.

Every plugin, built-in or third-party, comes from the ``chatops.plugins``
entry-point group and is enabled by name in ``[plugins] enabled``. The pluggy
manager belongs to one app instance (no import-time global), so tests can run
several bots side by side.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError

from chatops import hookspecs
from chatops.config import (
    ConfigError,
    ConfigProblem,
    PluginsConfig,
    RawConfig,
    Settings,
    validate_plugins_section,
    validation_problems,
)
from chatops.plugin_errors import PluginFailed, describe_error
from chatops.plugin_migrations import PluginMigrations, version_table

ENTRY_POINT_GROUP = "chatops.plugins"


#: :attr:`PluginInfo.state` when the config could not be read: whether the plugin runs is not known.
UNKNOWN = "unknown (config not loaded)"
#: :attr:`PluginInfo.state` of a name in ``plugins.enabled`` that no installed package provides.
NOT_INSTALLED = "enabled, NOT INSTALLED"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A plugin (discovered, or named in ``plugins.enabled``) and whether it runs (``chatops plugins``)."""

    name: str
    target: str
    enabled: bool
    reason: str
    #: What ``chatops plugins`` shows: "enabled", "disabled", "broken", :data:`UNKNOWN` or :data:`NOT_INSTALLED`.
    state: str = ""


def discover() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed plugins by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def describe(settings: Settings | PluginsConfig | None) -> list[PluginInfo]:
    """Every discovered plugin, enabled or not, and why; then enabled names nothing provides.

    ``settings`` None means the config could not be read: each plugin's state is then
    :data:`UNKNOWN`, not "disabled", since it may well be enabled.
    """
    plugins = settings.plugins if isinstance(settings, Settings) else settings
    enabled = list(plugins.enabled) if plugins is not None else []
    available = discover()
    infos = []
    for name, ep in sorted(available.items()):
        try:
            ep.load()
        except Exception as exc:  # a broken third-party plugin must not hide the others
            reason = f"cannot be imported: {type(exc).__name__}: {exc}"
            infos.append(PluginInfo(name, ep.value, False, reason, "broken"))
            continue
        if plugins is None:
            infos.append(PluginInfo(name, ep.value, False, "the config could not be read", UNKNOWN))
        elif name in enabled:
            infos.append(PluginInfo(name, ep.value, True, "listed in plugins.enabled", "enabled"))
        else:
            infos.append(PluginInfo(name, ep.value, False, "not listed in plugins.enabled", "disabled"))
    known = ", ".join(sorted(available)) or "none"
    for name in dict.fromkeys(enabled):
        if name not in available:
            reason = f"listed in plugins.enabled, but no installed package provides it (installed: {known})"
            infos.append(PluginInfo(name, "-", True, reason, NOT_INSTALLED))
    return infos


def new_manager() -> pluggy.PluginManager:
    """A plugin manager that knows every chatops hook."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(
    settings: Settings, extra: Mapping[str, object] | None = None
) -> tuple[pluggy.PluginManager, dict[str, BaseModel | None]]:
    """Register the enabled plugins and validate their config sections.

    ``extra`` maps names to plugin objects that are not installed (tests, embedding);
    they count as discovered. Returns the manager and each plugin's validated config.
    Every config problem (unknown names, each section's mistakes) is raised together as
    one :class:`ConfigError`; a plugin that cannot be imported raises :class:`PluginFailed`.
    """
    pm, configs, problems = _load(settings.plugins, extra)
    if problems:
        raise ConfigError(problems=problems)
    return pm, configs


def plugin_config_problems(config: RawConfig | Mapping[str, Any]) -> list[ConfigProblem]:
    """Every problem in ``[plugins]`` and the enabled plugins' sections of unvalidated config data.

    Used when the core settings failed, so that one run reports the plugins' mistakes too
    (each enabled plugin's section is validated whatever the rest of the config holds).
    """
    try:
        plugins = validate_plugins_section(config)
    except ConfigError as exc:
        return exc.problems
    return _load(plugins, None)[2]


def _load(
    plugins: PluginsConfig, extra: Mapping[str, object] | None
) -> tuple[pluggy.PluginManager, dict[str, BaseModel | None], list[ConfigProblem]]:
    available: dict[str, Any] = dict(discover())
    available.update(extra or {})
    pm = new_manager()
    problems: list[ConfigProblem] = []
    known = ", ".join(sorted(available)) or "none"
    for name in plugins.enabled:
        if name not in available:
            problems.append(ConfigProblem("plugins.enabled", f"unknown plugin {name!r} (installed: {known})"))
            continue
        found = available[name]
        try:
            plugin = found.load() if isinstance(found, importlib.metadata.EntryPoint) else found
        except Exception as exc:
            raise PluginFailed(name, f"cannot be imported: {describe_error(exc)}") from exc
        if pm.is_registered(plugin):
            problems.append(ConfigProblem("plugins.enabled", f"plugin {name!r} is listed twice"))
            continue
        try:
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            # pluggy's message spans lines (the hook, its signature, the problem): one line here.
            raise PluginFailed(name, f"a hook does not match its spec: {describe_error(exc)}") from exc
    for name in plugins.model_extra or {}:
        if name not in available:
            problems.append(ConfigProblem(f"plugins.{name}", "configures a plugin that is not installed"))
    configs: dict[str, BaseModel | None] = {}
    for name in dict.fromkeys(plugins.enabled):  # a name listed twice is validated (and reported) once
        if pm.has_plugin(name):
            try:
                configs[name] = _validate_section(pm, plugins, name)
            except ConfigError as exc:
                problems.extend(exc.problems)
    return pm, configs, problems


def _validate_section(pm: pluggy.PluginManager, plugins: PluginsConfig, name: str) -> BaseModel | None:
    raw = plugins.section(name)
    model = pm.hook.chatops_config_model(name=name)
    if model is None:
        if raw:
            key = next(iter(raw))
            raise ConfigError(f"plugins.{name}.{key}", "unknown key (this plugin takes no settings)")
        return None
    try:
        # Environment values become lists only where this plugin's model has a list.
        return plugins.validate_section(name, model)
    except ValidationError as exc:
        raise ConfigError(problems=validation_problems(exc, prefix=f"plugins.{name}")) from None


def enabled_migrations(pm: pluggy.PluginManager, enabled: Sequence[str]) -> list[tuple[str, PluginMigrations]]:
    """The migrations of the enabled plugins that keep tables, in ``[plugins] enabled`` order.

    Each plugin's ``chatops_migrations`` is called on its own, so the answer is known to be
    that plugin's (a broadcast hook call returns answers without saying whose they are).
    """
    by_plugin: dict[str, PluginMigrations] = {}
    for impl in pm.hook.chatops_migrations.get_hookimpls():
        answer = impl.function()
        if answer is None:
            continue
        if not isinstance(answer, PluginMigrations):
            raise TypeError(
                f"plugin {impl.plugin_name!r}: chatops_migrations must return PluginMigrations or None, "
                f"not {type(answer).__name__}"
            )
        by_plugin[impl.plugin_name] = answer
    found = [(name, by_plugin[name]) for name in enabled if name in by_plugin]
    tables: dict[str, str] = {}
    for name, _migrations in found:
        table = version_table(name)
        if table in tables:
            # Sharing one, the second would take the first's revision for its own and skip its tables.
            raise PluginFailed(
                name, f"keeps its schema version in {table}, as plugin {tables[table]} does: rename one of them"
            )
        tables[table] = name
    return found


__all__ = [
    "ENTRY_POINT_GROUP",
    "NOT_INSTALLED",
    "UNKNOWN",
    "PluginFailed",
    "PluginInfo",
    "describe",
    "describe_error",
    "discover",
    "enabled_migrations",
    "load_plugins",
    "new_manager",
    "plugin_config_problems",
]
