"""The digest's words: commands (en, fi, pl)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {"en": {}, "fi": {}, "pl": {}}
