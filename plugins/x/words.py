"""The X plugin's words in English, Finnish and Polish."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "x.length_note": "X counts a link as 23 characters and most emoji and Chinese, Japanese or Korean characters as 2.",
    },
    "fi": {
        "x.length_note": "X laskee linkin 23 merkiksi ja useimmat emojit sekä kiinan, japanin ja korean merkit 2 merkiksi.",
    },
    "pl": {
        "x.length_note": "X liczy link jako 23 znaki, a większość emoji oraz znaków chińskich, japońskich i koreańskich jako 2.",
    },
}
