"""The shift texts in en, fi and pl: complete, same placeholders, really translated; a hand-off in Finnish."""

from __future__ import annotations

from datetime import UTC, datetime

from rota_kit import RotaBot
from shift_kit import handoffs, readable, tick, two_shifts

from chatops.i18n import catalog_problems
from chatops_plugins.rota.words import all_texts, shifts

#: Texts that are the same in every language (a format only).
SAME_EVERYWHERE = {"rota.shifts.day_time", "rota.shifts.gap_leads"}


def test_every_shift_text_is_in_every_language_with_the_same_placeholders() -> None:
    assert catalog_problems(all_texts()) == []
    english = shifts.TEXTS["en"]
    for language in ("fi", "pl"):
        words = shifts.TEXTS[language]
        assert set(words) == set(english)
        untranslated = [k for k in english if words[k] == english[k] and k not in SAME_EVERYWHERE]
        assert untranslated == [], f"{language}: {untranslated}"
        assert all(key.startswith("rota.shifts.") for key in words)


async def test_a_hand_off_in_finnish(rota_bot: RotaBot) -> None:
    async with rota_bot(language="fi", now=datetime(2026, 12, 1, 14, 0, tzinfo=UTC)) as bot:
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "Vuoronvaihto klo 16:00" in text
    assert "Vuorossa nyt: <@UJARI>, 22:00 asti." in text
    assert "Vuoro päättyy: Anna. Kiitos!" in text
    assert "Ei mitään auki" in text
