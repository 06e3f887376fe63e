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
from chatops.config import ConfigError, Settings, describe_validation_error
from chatops.plugin_errors import PluginFailed, describe_error
from chatops.plugin_migrations import PluginMigrations, version_table

ENTRY_POINT_GROUP = "chatops.plugins"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A discovered plugin and whether it runs (``chatops plugins`` prints these)."""

    name: str
    target: str
    enabled: bool
    reason: str


def discover() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed plugins by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def describe(settings: Settings | None) -> list[PluginInfo]:
    """Every discovered plugin, enabled or not, and why."""
    enabled = set(settings.plugins.enabled) if settings else set()
    infos = []
    for name, ep in sorted(discover().items()):
        try:
            ep.load()
        except Exception as exc:  # a broken third-party plugin must not hide the others
            infos.append(PluginInfo(name, ep.value, False, f"cannot be imported: {type(exc).__name__}: {exc}"))
            continue
        if name in enabled:
            infos.append(PluginInfo(name, ep.value, True, "listed in plugins.enabled"))
        else:
            infos.append(PluginInfo(name, ep.value, False, "not listed in plugins.enabled"))
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
    """
    available: dict[str, Any] = dict(discover())
    available.update(extra or {})
    pm = new_manager()
    for name in settings.plugins.enabled:
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise ConfigError("plugins.enabled", f"unknown plugin {name!r} (installed: {known})")
        found = available[name]
        try:
            plugin = found.load() if isinstance(found, importlib.metadata.EntryPoint) else found
        except Exception as exc:
            raise PluginFailed(name, f"cannot be imported: {describe_error(exc)}") from exc
        if pm.is_registered(plugin):
            raise ConfigError("plugins.enabled", f"plugin {name!r} is listed twice")
        try:
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            # pluggy's message spans lines (the hook, its signature, the problem): one line here.
            raise PluginFailed(name, f"a hook does not match its spec: {describe_error(exc)}") from exc
    for name in settings.plugins.model_extra or {}:
        if name not in available:
            raise ConfigError(f"plugins.{name}", "configures a plugin that is not installed")
    configs: dict[str, BaseModel | None] = {}
    for name in settings.plugins.enabled:
        configs[name] = _validate_section(pm, settings, name)
    return pm, configs


def _validate_section(pm: pluggy.PluginManager, settings: Settings, name: str) -> BaseModel | None:
    raw = settings.plugins.section(name)
    model = pm.hook.chatops_config_model(name=name)
    if model is None:
        if raw:
            key = next(iter(raw))
            raise ConfigError(f"plugins.{name}.{key}", "unknown key (this plugin takes no settings)")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise describe_validation_error(exc, prefix=f"plugins.{name}") from None


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
    "PluginFailed",
    "PluginInfo",
    "describe",
    "describe_error",
    "discover",
    "enabled_migrations",
    "load_plugins",
    "new_manager",
]
