"""The sentiment plugin's words: the reasons a card shows for a strong negative."""

from __future__ import annotations

TEXTS = {
    "en": {
        "sentiment.safety": "safety",
        "sentiment.legal": "legal threat",
        "sentiment.angry": "angry",
    },
    "fi": {
        "sentiment.safety": "turvallisuus",
        "sentiment.legal": "oikeustoimet",
        "sentiment.angry": "vihainen",
    },
    "pl": {
        "sentiment.safety": "bezpieczeństwo",
        "sentiment.legal": "groźba prawna",
        "sentiment.angry": "zdenerwowany",
    },
}
