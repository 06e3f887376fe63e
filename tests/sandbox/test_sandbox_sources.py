"""The customers' sides ``chatops sandbox`` shows: a comment becomes a card, and the team's answer reaches the feed.

Each source starts its plugin's fake, and the real bot (TestBot, on SQLite like the sandbox) runs
with nothing but the source's ``config`` for that plugin. A customer's comment goes through the
platform's production path (a signed Meta change notification, a signed X Account Activity event,
a Discord gateway MESSAGE_CREATE); the team answers with the card's buttons; the feed shows what
the customer would see on the platform.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import pytest
from discord_globals import restore_discord_globals

from chatops.sandbox.sources import CustomerPost, SandboxPostError, SandboxSource
from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.discord.sandbox import DiscordSandbox
from chatops_plugins.facebook.sandbox import FacebookSandbox
from chatops_plugins.instagram.sandbox import InstagramSandbox
from chatops_plugins.x.sandbox import XSandbox

#: The sandbox runs on SQLite; these tests are about the sources, not the database.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The Discord plugin repoints discord.py process-wide; each test puts it back.
pytestmark = pytest.mark.usefixtures(restore_discord_globals.__name__)

SOURCES: dict[str, Callable[[], SandboxSource]] = {
    "facebook": FacebookSandbox,
    "instagram": InstagramSandbox,
    "x": XSandbox,
    "discord": DiscordSandbox,
}
#: The sources whose comments reach the bot as signed webhooks (Discord's come over the gateway).
WEBHOOK_SOURCES = ["facebook", "instagram", "x"]


@pytest.fixture(params=list(SOURCES))
def source(request: pytest.FixtureRequest) -> Iterator[SandboxSource]:
    """One sandbox source, its fake serving."""
    made = SOURCES[request.param]()
    made.start()
    yield made
    made.stop()


@pytest.fixture(params=list(SOURCES))
def unstarted(request: pytest.FixtureRequest) -> SandboxSource:
    """One sandbox source whose fake is not serving (for what is refused before the platform is reached)."""
    return SOURCES[request.param]()


def bot_config(source: SandboxSource, **overrides: Any) -> dict[str, Any]:
    """The bot's settings with only this source's plugin, configured as the sandbox configures it."""
    return {
        "delivery": {"backoff_max_seconds": 0.2},
        "plugins": {"enabled": [source.plugin], source.plugin: {**source.config, **overrides}},
    }


@pytest.fixture
async def bot(fake_slack: FakeSlack, database_url: str, source: SandboxSource) -> AsyncIterator[TestBot]:
    """The real bot with the source's plugin pointed at the source's fake."""
    async with TestBot(fake_slack, database_url, config=bot_config(source), customer=NoCustomer) as running:
        yield running


def bot_url(bot: TestBot) -> str:
    """Where the bot under test serves."""
    assert bot.http is not None
    return str(bot.http.base_url)


async def feed_until(
    source: SandboxSource,
    predicate: Callable[[Sequence[CustomerPost]], bool],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> Sequence[CustomerPost]:
    """The source's feed once ``predicate`` holds for it; fails with the feed when it never does."""
    deadline = time.monotonic() + timeout
    while not predicate(feed := source.feed()):
        if time.monotonic() > deadline:
            raise AssertionError(f"the feed never matched; it is {feed}")
        await asyncio.sleep(0.02)
    return feed


@sqlite_only
async def test_a_comment_becomes_a_card_and_the_teams_reply_shows_under_it(bot: TestBot, source: SandboxSource) -> None:
    comment_id = await source.post(bot_url(bot), "Aino Virtanen", "Onko teillä gluteenittomia leivonnaisia?")
    card = await bot.next_card()
    assert "Onko teillä gluteenittomia leivonnaisia?" in card.text
    await bot.reply(bot.person("Anna"), card, "On! Gluteeniton mustikkapiirakka joka päivä.")
    feed = await feed_until(source, lambda f: bool(f and f[0].replies))
    (post,) = feed
    assert post.id == comment_id and "Onko teillä gluteenittomia leivonnaisia?" in post.text
    assert not post.from_team and post.note == ""
    (reply,) = post.replies
    assert reply.from_team
    assert reply.text.endswith("On! Gluteeniton mustikkapiirakka joka päivä.")
    assert "Aurinko" in reply.author or "aurinko" in reply.author


@sqlite_only
async def test_a_follow_up_joins_the_cards_thread_and_the_feed_shows_it_under_the_first_comment(
    bot: TestBot, source: SandboxSource
) -> None:
    first = await source.post(bot_url(bot), "Piotr Nowak", "Gdzie jest moje zamówienie 4471?")
    card = await bot.next_card()
    later = await source.post(bot_url(bot), "Piotr Nowak", "Halo? Nadal cisza.", reply_to=first)
    await card.wait_for(lambda c: "Halo? Nadal cisza." in c.thread_text())
    await bot.idle()
    assert len(bot.cards()) == 1
    (post,) = source.feed()
    assert post.id == first
    assert [(r.id, r.from_team) for r in post.replies] == [(later, False)]
    assert post.replies[0].text.endswith("Halo? Nadal cisza.")
    # A newer comment comes first in the feed.
    newer = await source.post(bot_url(bot), "Emma Lindqvist", "Best flat white in town!")
    assert [p.id for p in source.feed()] == [newer, first]


async def test_what_the_platform_would_not_take_is_refused_with_the_reason(unstarted: SandboxSource) -> None:
    # No bot is needed: the platform refuses before anything is delivered.
    source = unstarted
    with pytest.raises(SandboxPostError, match="write something first"):
        await source.post("http://127.0.0.1:9", "Aino", "   ")
    with pytest.raises(SandboxPostError, match="give the customer a name"):
        await source.post("http://127.0.0.1:9", " ", "Hei!")
    with pytest.raises(SandboxPostError, match="to reply to"):
        await source.post("http://127.0.0.1:9", "Aino", "Hei!", reply_to="404404")
    with pytest.raises(SandboxPostError, match=r"at most \d+ characters"):
        await source.post("http://127.0.0.1:9", "Aino", "kahvi " * 1700)
    assert source.feed() == []


@sqlite_only
@pytest.mark.parametrize("source", WEBHOOK_SOURCES, indirect=True)
async def test_a_comment_the_bot_refuses_says_so(
    fake_slack: FakeSlack, database_url: str, source: SandboxSource
) -> None:
    # A bot configured with another secret than the platform signs with answers 401.
    secret_key = "consumer_secret" if source.plugin == "x" else "app_secret"
    config = bot_config(source, **{secret_key: "not-the-platforms-secret"})
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as wrong:
        url = bot_url(wrong)
        with pytest.raises(SandboxPostError, match=r"the bot refused the comment \(HTTP 401\)"):
            await source.post(url, "Tom Becker", "Hello?")
        assert wrong.cards() == []
    # The bot has stopped: nothing answers there any more.
    with pytest.raises(SandboxPostError, match="could not reach the bot"):
        await source.post(url, "Tom Becker", "Anyone there?")


async def test_a_discord_message_without_a_connected_bot_is_refused() -> None:
    source = DiscordSandbox()
    source.connect_wait_seconds = 0.1
    with pytest.raises(SandboxPostError, match="not connected to the Discord gateway"):
        await source.post("http://127.0.0.1:9", "Jari", "Moi!")


@sqlite_only
@pytest.mark.parametrize("source", ["facebook"], indirect=True)
async def test_a_hidden_comment_and_a_private_message_show_in_the_feed(bot: TestBot, source: SandboxSource) -> None:
    await source.post(bot_url(bot), "Troll Account", "Ylihinnoiteltua hipsterikahvia 🤡")
    card = await bot.next_card()
    await bot.click(bot.person("Anna"), card, "hide")
    await feed_until(source, lambda f: f[0].note == "hidden")
    await source.post(bot_url(bot), "Piotr Nowak", "To skandal, żądam zwrotu pieniędzy!")
    complaint = await bot.next_card()
    await bot.reply(bot.person("Jari"), complaint, "Przepraszamy, napisaliśmy do Pana.", button="private_reply")
    feed = await feed_until(source, lambda f: bool(f[0].replies))
    (message,) = feed[0].replies
    assert message.from_team and message.note == "private message"
    assert message.text == "Przepraszamy, napisaliśmy do Pana."


@sqlite_only
@pytest.mark.parametrize("make", [FacebookSandbox, XSandbox], ids=["facebook", "x"])
async def test_a_sandbox_started_again_on_the_same_data_makes_new_cards(
    fake_slack: FakeSlack, database_url: str, make: Callable[[], SandboxSource]
) -> None:
    # `chatops sandbox --data DIR` keeps the database between runs, while the fakes start empty:
    # the second run's comments must not carry ids the bot already stored (it would take them as repeats).
    for run, text in enumerate(["Ensimmäinen kerta täällä!", "Toinen kerta, yhtä hyvää!"], start=1):
        source = make()
        source.start()
        try:
            async with TestBot(fake_slack, database_url, config=bot_config(source), customer=NoCustomer) as bot:
                await source.post(bot_url(bot), "Aino Virtanen", text)
                await bot.idle()
                assert len(bot.cards()) == run
                card = bot.cards()[-1]
                assert text in card.text
                # The team's answer goes out and is recorded as this run's, not taken for the last run's.
                await bot.reply(bot.person("Anna"), card, f"Kiitos käynnistä, kerta {run}!")
                await feed_until(source, lambda f: bool(f[0].replies))
                await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        finally:
            source.stop()
