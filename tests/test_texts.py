"""The bot's words: complete in English, Finnish and Polish; customer text escaped at the Slack edge."""

from __future__ import annotations

import string

import pytest

from chatops.i18n import CATALOG, LANGUAGES, Translator
from chatops.slack.escape import escape_truncated, link, mrkdwn_escape, safe_url
from chatops.testing.bot import TestBot


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    english = CATALOG["en"]
    for language in LANGUAGES:
        assert set(CATALOG[language]) == set(english), language
        for key, text in english.items():
            assert _fields(CATALOG[language][key]) == _fields(text), f"{language}:{key}"


def test_every_built_in_source_brings_complete_texts() -> None:
    from chatops.i18n import catalog_problems
    from chatops_plugins.facebook.source import FacebookSource
    from chatops_plugins.instagram.source import InstagramSource
    from chatops_plugins.webhook.source import WebhookSource

    for source in (WebhookSource, FacebookSource, InstagramSource):
        assert source.texts, f"{source.__name__} has no texts"
        assert catalog_problems(source.texts) == [], source.__name__


def test_a_plugin_with_a_missing_translation_is_refused() -> None:
    translator = Translator("fi")
    with pytest.raises(ValueError, match=r"pl: 'forum\.x' missing"):
        translator.add({"en": {"forum.x": "x"}, "fi": {"forum.x": "x"}, "pl": {}})
    with pytest.raises(ValueError, match="placeholders differ"):
        translator.add({"en": {"forum.x": "{n} days"}, "fi": {"forum.x": "{m} päivää"}, "pl": {"forum.x": "{n}"}})
    translator.add({"en": {"forum.x": "{n} days"}, "fi": {"forum.x": "{n} päivää"}, "pl": {"forum.x": "{n} dni"}})
    assert translator("forum.x", n=3) == "3 päivää"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        Translator("sv")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123> hi", "&lt;@U123&gt; hi"),
        ("a & b", "a &amp; b"),
        ("&amp;", "&amp;amp;"),
        ("<https://evil.example|x>", "&lt;https://evil.example|x&gt;"),
    ],
)
def test_mrkdwn_escape_makes_slack_syntax_literal(raw: str, escaped: str) -> None:
    assert mrkdwn_escape(raw) == escaped


def test_truncation_never_cuts_an_entity_in_half() -> None:
    text, cut = escape_truncated("a" * 8 + "&&&&", 15)
    assert cut and text == "aaaaaaaa&amp;…"
    for limit in range(5, 40):
        out, _ = escape_truncated("x&<>" * 10, limit)
        assert len(out) <= limit
        body = out.removesuffix("…")
        assert body.count("&") == body.count(";")


def test_only_plain_http_links_are_linked() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://ok.example/a?b=1&c=2") == "https://ok.example/a?b=1&amp;c=2"
    assert safe_url("https://evil.example|label") is None
    assert link("https://x.example/p", "<b>") == "<https://x.example/p|&lt;b&gt;>"
    assert link("data:text/html,x", "label") == "label"


async def test_cards_speak_the_team_language(fake_slack, database_url: str) -> None:  # type: ignore[no-untyped-def]
    async with TestBot(fake_slack, database_url, config={"team": {"language": "fi"}}) as bot:
        await bot.comment("Moi, onko kauppa auki?")
        card = await bot.next_card()
        assert "Vastaanotettu 2026-11-23 12:00 EET" in card.text
        assert "Ota käsittelyyn" in card.text and "Eskaloi" in card.text
        assert "Vastaa ei käytettävissä: lähettäjä ei antanut vastausosoitetta (reply_url)" in card.text
    fake_slack.reset()
    async with TestBot(fake_slack, database_url, config={"team": {"language": "pl"}}) as bot:
        await bot.comment("Dzień dobry, czy sklep jest otwarty?", id="pl-1")
        card = await bot.next_card()
        assert "Otrzymano" in card.text and "Przejmij" in card.text


async def test_rota_command_says_it_is_not_enabled_yet(bot: TestBot) -> None:
    from chatops.testing.slack_requests import slash_command_body

    body = slash_command_body(command="/rota", text="now", user_id="UANNA", user_name="anna", channel_id="C1")
    response = await bot.slack_request(body)
    assert response.status_code == 200
    assert "/rota is not enabled here: ask your chatops admin" in response.text
