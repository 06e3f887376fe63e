"""The core's reply-length seam: the dialog shows how a source counts, and the core refuses what it would.

A source says how long the platform counts a text (``Source.reply_length``), how that counting
works (``reply_length_note``) and how many characters the reply box should take
(``reply_input_max``). Shown end to end through the fake Slack with the X source (weighted: a URL
23, most emoji and CJK 2; the box takes 3,000 characters so long links fit) and with a plain source
(characters as typed; the box stops at the limit). An over-long reply is refused in the dialog,
naming the length as the platform counts it, before anything is stored or queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from chatops.hookspecs import hookimpl
from chatops.models import Message, OutboxJob
from chatops.sources import Answer, Capability, InboundMessage, SendResult, Source, Target
from chatops.testing.bot import Card, TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x.testing import FakeX

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ACCOUNT = "1500000000000000001"
LONG_URL = "https://kahvila.example.fi/tilaukset/seuranta?tilaus=4411&kieli=fi&" + "x" * 200
X_NOTE = "X counts a link as 23 characters and most emoji and Chinese, Japanese or Korean characters as 2."


@pytest.fixture(scope="module")
def _x_server() -> Iterator[FakeX]:
    with FakeX(account_id=ACCOUNT) as fake:
        yield fake


@pytest.fixture
def fake_x(_x_server: FakeX) -> FakeX:
    """The X fake, empty."""
    _x_server.reset()
    return _x_server


def _x_config(fake: FakeX, language: str = "en") -> dict[str, Any]:
    return {
        "team": {"language": language},
        "plugins": {
            "enabled": ["x"],
            "x": {
                "user_id": ACCOUNT,
                "username": fake.username,
                "bearer_token": fake.bearer_token,
                "consumer_key": fake.consumer_key,
                "consumer_secret": fake.consumer_secret,
                "access_token": fake.access_token,
                "access_token_secret": fake.access_token_secret,
                "api_url": fake.base_url,
                # No polling pass runs during a test: the mention is stored directly.
                "poll_interval_seconds": 3600,
            },
        },
    }


class Forum(Source):
    """A plain source: characters counted as typed, at most 140; replies recorded."""

    name = "forum"
    display_name = "Forum"
    capabilities = frozenset({Capability.REPLY})
    max_reply_length = 140

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        self.sent.append(answer.text)
        return SendResult(external_id=f"r{len(self.sent)}")


class ForumPlugin:
    def __init__(self) -> None:
        self.source = Forum()

    @hookimpl
    def chatops_sources(self, ctx: Any) -> list[Source]:
        return [self.source]


async def _card(bot: TestBot, source: str, external_id: str, text: str) -> Card:
    assert bot.app is not None
    await bot.app.ingest(
        InboundMessage(
            source=source, external_id=external_id, thread_id=external_id, text=text, created_at=datetime.now(UTC)
        )
    )
    return await bot.next_card()


async def _queued(bot: TestBot) -> tuple[int, int]:
    """Stored answers and outbox jobs that send one."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        answers = await session.scalar(select(func.count(Message.id)).where(Message.direction == "outbound"))
        jobs = await session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.message_id.is_not(None)))
    return int(answers or 0), int(jobs or 0)


def _text_input(view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reply box's hint and element."""
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "text"]
    return block["hint"]["text"], block["element"]


@sqlite_only
async def test_the_x_dialog_shows_280_with_xs_counting_and_takes_long_links(
    fake_slack: FakeSlack, database_url: str, fake_x: FakeX
) -> None:
    async with TestBot(fake_slack, database_url, config=_x_config(fake_x), customer=NoCustomer) as bot:
        mention = fake_x.mention("Missä tilaukseni on?")
        card = await _card(bot, "x", mention, "Missä tilaukseni on?")
        view = await bot.open_modal(bot.person("Anna"), card, "reply")
        hint, element = _text_input(view)
        assert hint == f"Posted publicly under the customer's message on X. At most 280 characters. {X_NOTE}"
        # More than 280 characters fit in the box: a 250-character link counts as 23.
        assert element["max_length"] == 3000


@sqlite_only
async def test_x_refuses_over_280_weighted_naming_the_weighted_length_and_queues_nothing(
    fake_slack: FakeSlack, database_url: str, fake_x: FakeX
) -> None:
    async with TestBot(fake_slack, database_url, config=_x_config(fake_x), customer=NoCustomer) as bot:
        anna = bot.person("Anna")
        mention = fake_x.mention("Hei?")
        card = await _card(bot, "x", mention, "Hei?")
        view = await bot.open_modal(anna, card, "reply")
        for text, weighted in [("😀" * 141, 282), ("漢" * 140 + "!", 281), ("a" * 257 + " " + LONG_URL, 281)]:
            refused = await bot.submit(anna, view, {"text": {"text": text}})
            assert refused.json() == {
                "response_action": "errors",
                "errors": {"text": f"That is {weighted} characters; X accepts at most 280."},
            }
        await bot.idle()
        assert await _queued(bot) == (0, 0)
        assert fake_x.calls_to("post") == []

        # 280 as X counts it, though 532 characters long: accepted and posted as typed.
        text = "a" * 256 + " " + LONG_URL
        assert len(text) > 500
        accepted = await bot.submit(anna, view, {"text": {"text": text}})
        assert accepted.status_code == 200 and not accepted.content
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        (call,) = fake_x.calls_to("post")
        assert call.body["text"] == text
        (reply,) = fake_x.replies_to(mention)
        assert reply["text"].startswith("a" * 256 + " https://t.co/")  # X shows its own short link


@sqlite_only
async def test_the_x_dialog_speaks_the_teams_language(fake_slack: FakeSlack, database_url: str, fake_x: FakeX) -> None:
    config = _x_config(fake_x, language="fi")
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        anna = bot.person("Anna")
        card = await _card(bot, "x", fake_x.mention("Moi"), "Moi")
        view = await bot.open_modal(anna, card, "reply")
        hint, _ = _text_input(view)
        assert hint.endswith(
            "X laskee linkin 23 merkiksi ja useimmat emojit sekä kiinan, japanin ja korean merkit 2 merkiksi."
        )
        refused = await bot.submit(anna, view, {"text": {"text": "😀" * 141}})
        assert refused.json()["errors"]["text"] == "Tekstissä on 282 merkkiä; X hyväksyy enintään 280."


@sqlite_only
async def test_a_plain_source_counts_characters_shows_no_note_and_stops_the_box_at_its_limit(
    fake_slack: FakeSlack, database_url: str
) -> None:
    plugin = ForumPlugin()
    config = {"plugins": {"enabled": ["forum"]}}
    async with TestBot(
        fake_slack, database_url, config=config, extra_plugins={"forum": plugin}, customer=NoCustomer
    ) as bot:
        anna = bot.person("Anna")
        card = await _card(bot, "forum", "f-1", "Kysymys")
        view = await bot.open_modal(anna, card, "reply")
        hint, element = _text_input(view)
        assert hint == "Posted publicly under the customer's message on Forum. At most 140 characters."
        assert element["max_length"] == 140
        refused = await bot.submit(anna, view, {"text": {"text": "x" * 141}})
        assert refused.json()["errors"]["text"] == "That is 141 characters; Forum accepts at most 140."
        await bot.idle()
        assert await _queued(bot) == (0, 0)
        # 140 emoji are 140 characters here (X would count 280): accepted.
        await bot.submit(anna, view, {"text": {"text": "😀" * 140}})
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        assert plugin.source.sent == ["😀" * 140]
