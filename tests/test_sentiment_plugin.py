"""The built-in sentiment plugin: angry, threatening and unsafe comments read as negative and go first."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.sentiment.classifier import Classifier, Reading
from chatops_plugins.sentiment.config import SentimentConfig

ON = {"plugins": {"enabled": ["webhook", "sentiment"]}}


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("This is a SCAM, my lawyer will hear of it", Reading("negative", ("legal", "angry"))),
        ("The charger started to smoke and burned my table", Reading("negative", ("safety",))),
        ("Olen todella pettynyt, paketti on yhä hukassa eikä hyvitystä kuulu", Reading("negative", ())),
        ("Huijaus! Teen rikosilmoituksen", Reading("negative", ("legal", "angry"))),
        ("Zamówienie przyszło uszkodzone, skandal, idę do prawnika", Reading("negative", ("legal", "angry"))),
        ("Kiitos, tosi hyvää palvelua!", Reading("positive", ())),
        ("Dziękuję, polecam!", Reading("positive", ())),
        ("Do you open at nine?", Reading("neutral", ())),
        ("Ostin savustettua lohta ja perunoita", Reading("neutral", ())),  # "savu-", "peru-" are not stems here
    ],
)
def test_the_lexicon_reads_english_finnish_and_polish(text: str, reading: Reading) -> None:
    assert Classifier(SentimentConfig()).read(text) == reading


def test_a_language_can_be_switched_off_and_the_team_can_add_words() -> None:
    config = SentimentConfig(languages=("en", "pl"), negative=("kylmä*",), safety=("sirpale*",))
    classifier = Classifier(config)
    assert classifier.read("Olen pettynyt").sentiment == "neutral"
    assert classifier.read("Kahvi oli kylmää").sentiment == "negative"
    # A stem matches where a word begins, not inside a Finnish compound.
    assert classifier.read("Leivässä oli lasinsirpaleita!") == Reading("neutral", ())
    assert classifier.read("Sirpaleita leivässä!") == Reading("negative", ("safety",))
    assert classifier.priority(classifier.read("sirpale, lawyer")) == 60 + 50


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"languages": ["sv"]}, "languages"),
        ({"negative": ["a*"]}, "at least 3 letters"),
        ({"angry": ["x" * 101]}, "1 to 100"),
        ({"positive": ["word"] * 501}, "at most 500"),
        ({"legal_score": 5000}, "less than or equal"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_its_settings_are_checked(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SentimentConfig.model_validate(settings)


async def test_an_angry_comment_is_carded_first_and_shows_why(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = 0.1
    config = {**ON, "slack": {"post_interval_seconds": 0.1}, "team": {"language": "fi"}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        assert bot.app is not None
        await bot.app.delivery.stop()
        await bot.comment("Onko teillä lahjakortteja?", id="calm")
        await bot.comment("Kiitos nopeasta toimituksesta!", id="happy")
        await bot.comment("Tämä on HUIJAUS, otan yhteyttä kuluttajaneuvontaan!!", id="angry")
        bot.app.delivery.start()
        first = await bot.next_card()
        await bot.idle()
        calm, happy = (c for c in bot.cards() if c.ts != first.ts)
    assert "HUIJAUS" in first.text
    assert "⚑ *Kiireellisyys 100*: oikeustoimet · vihainen · negatiivinen" in first.text
    assert "⚑" not in calm.text and "⚑" not in happy.text


async def test_the_plugin_is_off_unless_enabled(fake_slack: FakeSlack, database_url: str) -> None:
    async with TestBot(fake_slack, database_url) as bot:
        await bot.comment("This is a SCAM, my lawyer will hear of it")
        card = await bot.next_card()
    assert "⚑" not in card.text
