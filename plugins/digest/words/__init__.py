"""Everything the digest plugin writes, in en, fi and pl, gathered from one module per part."""

from __future__ import annotations

from . import commands, digest, report

LANGUAGES = ("en", "fi", "pl")


def all_texts() -> dict[str, dict[str, str]]:
    """Every part's words, by language (``chatops_texts``); a key two parts define is a mistake."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for part in (digest, commands, report):
        for lang in LANGUAGES:
            for key, text in part.TEXTS[lang].items():
                if key in merged[lang]:
                    raise ValueError(f"digest text {key!r} is defined twice")
                merged[lang][key] = text
    return merged
