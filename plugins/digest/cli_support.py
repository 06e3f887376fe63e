"""What ``chatops digest`` and ``chatops report`` share: the config read and checked, without a running bot."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chatops.cli import load_settings_of
from chatops.config import ConfigError, Settings, describe_validation_error
from chatops.i18n import Translator

from .config import DigestConfig
from .figures import Hours, Options
from .service import options_of, rota_hours
from .words import all_texts

NAME = "digest"


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
    """Read the config named on the command line; a mistake is a :class:`ConfigError` (one line, exit 2)."""
    settings = load_settings_of(args)
    if NAME not in settings.plugins.enabled:
        raise ConfigError("plugins.enabled", f'add "{NAME}" to use the digest and reports')
    try:
        config = DigestConfig.model_validate(settings.plugins.section(NAME))
    except ValidationError as exc:
        raise describe_validation_error(exc, prefix=f"plugins.{NAME}") from None
    tz = settings.team.tz
    hours = None
    if "rota" in settings.plugins.enabled:
        from ..rota.config import RotaConfig

        try:
            rota = RotaConfig.model_validate(settings.plugins.section("rota"))
        except ValidationError as exc:
            raise describe_validation_error(exc, prefix="plugins.rota") from None
        hours = rota_hours(rota, tz)
    t = Translator(settings.team.language)
    t.add(all_texts())
    return Loaded(settings, config, tz, t, hours, options_of(config, hours))
