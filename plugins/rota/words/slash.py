"""The rota plugin's words for slash (en, fi, pl); keys start with ``rota.``."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {"en": {}, "fi": {}, "pl": {}}
