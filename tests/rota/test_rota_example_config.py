"""config.example.toml documents every ``[plugins.rota]`` key, and its table is valid as written."""

from __future__ import annotations

import tomllib
from pathlib import Path

from chatops_plugins.rota.config import RotaConfig, ServiceHoursConfig

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_the_example_rota_table_is_valid_and_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    table = tomllib.loads(text)["plugins"]["rota"]
    config = RotaConfig.model_validate(table)
    assert config.service_hours is not None and config.service_hours.holidays
    for model in (RotaConfig, ServiceHoursConfig):
        for key in model.model_fields:
            assert f"{key} =" in text or f"[plugins.rota.{key}]" in text, f"plugins.rota.{key} is not documented"
