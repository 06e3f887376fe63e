"""The digest's words in en, fi and pl: complete, same placeholders, really translated; a digest in Finnish and Polish."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from report_kit import block_texts, digest_report, field, period_report, translator

from chatops.i18n import catalog_problems
from chatops.testing.card_checks import assert_postable
from chatops_plugins.digest.render import (
    compare_count,
    counted,
    days_label,
    digest_blocks,
    digest_summary,
    digest_text,
    duration,
)
from chatops_plugins.digest.words import all_texts, digest

#: Texts that are the same in every language (formats, symbols, numbers).
SAME_EVERYWHERE = {
    "digest.none",
    "digest.summary",
    "digest.range",
    "digest.unit.s",
    "digest.unit.min",
    "digest.chart.day",
}
#: Texts the same in English and Polish, or English and Finnish (a format the two share).
SHARED_FORMAT = {"digest.date", "digest.day_month", "digest.range.month", "digest.percent"}


def test_every_digest_text_is_in_every_language_with_the_same_placeholders() -> None:
    assert catalog_problems(all_texts()) == []
    assert catalog_problems(digest.TEXTS) == []
    english = digest.TEXTS["en"]
    for language in ("fi", "pl"):
        words = digest.TEXTS[language]
        assert set(words) == set(english)
        untranslated = [k for k in english if words[k] == english[k] and k not in SAME_EVERYWHERE | SHARED_FORMAT]
        assert untranslated == [], f"{language}: {untranslated}"
    assert all(key.startswith("digest.") for words in digest.TEXTS.values() for key in words)


@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_every_language_names_seven_weekdays_and_twelve_months(language: str) -> None:
    words = digest.TEXTS[language]
    assert len(words["digest.weekdays"].split(",")) == 7
    assert len(words["digest.months"].split(",")) == 12
    assert all(name.strip() == name and name for name in words["digest.months"].split(","))


@pytest.mark.parametrize(
    ("language", "first", "last", "expected"),
    [
        ("fi", date(2026, 11, 30), date(2026, 11, 30), "ma 30. marraskuuta"),
        ("fi", date(2026, 11, 23), date(2026, 11, 29), "23.–29. marraskuuta"),
        ("fi", date(2026, 11, 26), date(2026, 12, 2), "26. marraskuuta – 2. joulukuuta"),
        ("pl", date(2026, 11, 30), date(2026, 11, 30), "pon. 30 listopada"),
        ("pl", date(2026, 11, 23), date(2026, 11, 29), "23–29 listopada"),
        ("pl", date(2026, 11, 26), date(2026, 12, 2), "26 listopada – 2 grudnia"),
        ("pl", date(2026, 3, 1), date(2026, 3, 1), "niedz. 1 marca"),
    ],
)
def test_dates_are_written_from_the_words_not_the_system_locale(
    language: str, first: date, last: date, expected: str
) -> None:
    assert days_label(translator(language), first, last) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 rozmowa"),
        (2, "2 rozmowy"),
        (4, "4 rozmowy"),
        (5, "5 rozmów"),
        (12, "12 rozmów"),
        (22, "22 rozmowy"),
        (112, "112 rozmów"),
        (0, "0 rozmów"),
    ],
)
def test_polish_counts_take_the_right_plural(count: int, expected: str) -> None:
    assert counted(translator("pl"), "conversations", count) == expected


def test_finnish_counts_and_durations() -> None:
    fi = translator("fi")
    assert counted(fi, "conversations", 1) == "1 keskustelu"
    assert counted(fi, "conversations", 42) == "42 keskustelua"
    assert duration(fi, 4800) == "1 t 20 min"
    assert duration(fi, 2 * 86400 + 3 * 3600) == "2 pv 3 t"
    assert compare_count(fi, 1234, 1000) == "1\u00a0234 ▲ +234 (aiemmin 1\u00a0000)"


def test_a_digest_in_finnish() -> None:
    fi = translator("fi")
    report = digest_report()
    blocks = digest_blocks(report, fi, {})
    assert_postable({"text": digest_summary(report, fi), "blocks": blocks})
    assert blocks[0]["text"]["text"] == "Päivän kooste · ma 30. marraskuuta"
    assert field(blocks, "Uudet keskustelut") == "42 ▲ +5 (aiemmin 37)"
    assert field(blocks, "Vastausprosentti") == "88 % ▲ +4 %-yks. (aiemmin 84 %)"
    assert field(blocks, "90. persentiili") == "1 t 20 min → ei muutosta"
    assert field(blocks, "Tavoiteajassa (1 t)") == "79 % ▲ +3 %-yks. (aiemmin 76 %)"
    assert field(blocks, "Vanhin avoin") == "Winter sale post — Maija Meikäläinen · facebook · auki 2 pv 3 t"
    assert digest_summary(report, fi) == (
        "Päivän kooste · ma 30. marraskuuta: 42 keskustelua, 88 % vastattu, ensivastauksen mediaani 14 min"
    )
    assert "  • Maija Meikäläinen (@maija) · facebook, instagram · 3 keskustelua, 7 viestiä" in digest_text(report, fi)


def test_a_digest_in_polish() -> None:
    pl = translator("pl")
    report = digest_report()
    blocks = digest_blocks(report, pl, {})
    assert_postable({"text": digest_summary(report, pl), "blocks": blocks})
    assert blocks[0]["text"]["text"] == "Podsumowanie dnia · pon. 30 listopada"
    assert field(blocks, "Nowe rozmowy") == "42 ▲ +5 (wcześniej 37)"
    assert field(blocks, "Odsetek odpowiedzi") == "88% ▲ +4 p.p. (wcześniej 84%)"
    assert field(blocks, "Mediana czasu rozwiązania") == "3 godz. 10 min ▲ +10 min (wcześniej 3 godz.)"
    assert field(blocks, "Eskalacje") == "2 → bez zmian"
    assert digest_summary(report, pl) == (
        "Podsumowanie dnia · pon. 30 listopada: 42 rozmowy, 88% z odpowiedzią, mediana pierwszej odpowiedzi 14 min"
    )
    assert "• UANNA: 20 obsłużonych · mediana pierwszej odpowiedzi 12 min" in "\n".join(block_texts(blocks))


@pytest.mark.parametrize(
    ("language", "period", "expected"),
    [
        ("fi", "today", "Tänään (ti 1. joulukuuta) ei ole vielä tullut asiakasviestejä."),
        ("fi", "yesterday", "Asiakasviestejä ei tullut ma 30. marraskuuta."),
        ("fi", "week", "Asiakasviestejä ei tullut 24.–30. marraskuuta."),
        ("pl", "today", "Dziś (wt. 1 grudnia) nie ma jeszcze wiadomości od klientów."),
        ("pl", "yesterday", "Brak wiadomości od klientów w dniu pon. 30 listopada."),
        ("pl", "week", "Brak wiadomości od klientów w dniach 24–30 listopada."),
    ],
)
def test_an_empty_window_in_finnish_and_polish(language: str, period: str, expected: str) -> None:
    report = period_report(period, datetime(2026, 12, 1, 8, 15, tzinfo=UTC))  # type: ignore[arg-type]
    assert block_texts(digest_blocks(report, translator(language), {}))[2] == expected
