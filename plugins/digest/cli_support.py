"""What ``chatops digest`` and ``chatops report`` share: the config read and checked, without a running bot."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from chatops.cli import load_settings_of
from chatops.config import ConfigError, Settings
from chatops.i18n import Translator
from chatops.plugins import load_plugins

from .config import DigestConfig
from .figures import Hours, Options
from .service import options_of, rota_hours
from .words import all_texts

NAME = "digest"
#: The years a date on the command line may name: anything else is a typo (``20226-12-01``,
#: ``0202-12-01``), and near datetime's own limits the local days around it do not exist.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, slots=True)
class Loaded:
    """The settings, ``[plugins.digest]`` validated, the team's timezone and words, and how figures are counted."""

    settings: Settings
    config: DigestConfig
    tz: ZoneInfo
    t: Translator
    hours: Hours | None
    options: Options


def load(args: argparse.Namespace) -> Loaded:
    """Read the config named on the command line; a mistake is a :class:`ConfigError` (one line, exit 2).

    The enabled plugins' sections are validated by the core, as the running bot validates
    them: the rota's service hours come from its own config model, as ``ctx.plugin_config``
    gives them to the bot, without this plugin importing the rota.
    """
    settings = load_settings_of(args)
    if NAME not in settings.plugins.enabled:
        raise ConfigError("plugins.enabled", f'add "{NAME}" to use the digest and reports')
    _manager, configs = load_plugins(settings)
    config = configs[NAME]
    assert isinstance(config, DigestConfig), "the digest's chatops_config_model is DigestConfig"
    tz = settings.team.tz
    hours = rota_hours(configs.get("rota"), tz)
    t = Translator(settings.team.language)
    t.add(all_texts())
    return Loaded(settings, config, tz, t, hours, options_of(config, hours))
