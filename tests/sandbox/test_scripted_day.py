"""The scripted day: every comment reaches the bot as a card or a thread reply, whichever sources are present.

The webhook source's own customers' side belongs to the sandbox page; here a small stand-in posts
the webhook's documented, signed payload to the real bot, as any sender would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest
from discord_globals import restore_discord_globals

from chatops.sandbox import scripted_day
from chatops.sandbox.scripted_day import SCRIPT, ScriptedComment, choose_source, play
from chatops.sandbox.sources import CustomerPost, SandboxPostError, SandboxSource
from chatops.testing.bot import Card, TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.discord.sandbox import DiscordSandbox
from chatops_plugins.facebook.sandbox import FacebookSandbox
from chatops_plugins.instagram.sandbox import InstagramSandbox
from chatops_plugins.webhook.signature import SIGNATURE_HEADER, sign
from chatops_plugins.webhook.testing import WEBHOOK_PATH, WEBHOOK_SECRET
from chatops_plugins.x.length import weighted_length
from chatops_plugins.x.sandbox import XSandbox

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The Discord plugin repoints discord.py process-wide; each test puts it back.
pytestmark = pytest.mark.usefixtures(restore_discord_globals.__name__)


class WebhookStandIn:
    """The webhook's customers' side: a web form POSTing signed messages; follow-ups share the thread id."""

    plugin = "webhook"
    key = "webhook"
    label = "Web form"

    def __init__(self) -> None:
        self._threads: dict[str, str] = {}

    def start(self) -> None:
        """Nothing to start: the sender is this object."""

    def stop(self) -> None:
        """Nothing to stop."""

    @property
    def config(self) -> Mapping[str, Any]:
        """The webhook plugin's secret."""
        return {"secret": WEBHOOK_SECRET}

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """POST the signed message; SandboxPostError with the bot's reason when it is refused."""
        message_id = f"form-{len(self._threads) + 1}"
        thread = message_id if reply_to is None else self._threads[reply_to]
        self._threads[message_id] = thread
        body = json.dumps({"id": message_id, "text": text, "author": {"name": author}, "thread_id": thread}).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)}
        async with httpx.AsyncClient() as client:
            response = await client.post(bot_url + WEBHOOK_PATH, content=body, headers=headers)
        if not response.is_success:
            raise SandboxPostError(f"webhook: the bot refused it (HTTP {response.status_code}): {response.text}")
        return message_id

    def feed(self) -> Sequence[CustomerPost]:
        """Not needed here."""
        return []


class Recording:
    """A source that takes every comment and remembers it (or refuses each with ``refuse``)."""

    plugin = "recording"
    label = "Recording"
    config: Mapping[str, Any] = {}

    def __init__(self, key: str, refuse: Exception | None = None) -> None:
        self.key = key
        self.refuse = refuse
        self.posts: list[tuple[str, str, str | None]] = []

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Remember the comment, or refuse it."""
        if self.refuse is not None:
            raise self.refuse
        self.posts.append((author, text, reply_to))
        return f"{self.key}-{len(self.posts)}"

    def feed(self) -> Sequence[CustomerPost]:
        """Not needed here."""
        return []


async def no_pause(seconds: float) -> None:
    """Play the day without waiting."""


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the day asked for, instead of waiting them."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(scripted_day, "_pause", record)
    return asked


def test_the_script_is_a_realistic_day_in_three_languages() -> None:
    assert 12 <= len(SCRIPT) <= 16
    assert {c.language for c in SCRIPT} == {"en", "fi", "pl"}
    assert {"facebook", "instagram", "x", "discord", "webhook"} <= {c.source for c in SCRIPT}
    follow_ups = [(i, c) for i, c in enumerate(SCRIPT) if c.reply_to is not None]
    assert follow_ups, "a follow-up on an earlier comment"
    for index, comment in follow_ups:
        assert 0 <= comment.reply_to < index  # type: ignore[operator]
        assert comment.source == SCRIPT[comment.reply_to].source  # type: ignore[index]
    polish = " ".join(c.text for c in SCRIPT if c.language == "pl")
    finnish = " ".join(c.text for c in SCRIPT if c.language == "fi")
    assert re.search("[ąęłńśźż]", polish) and re.search("[äö]", finnish)
    for comment in SCRIPT:
        # Every comment fits every platform it may fall back to: X's 280 (with the @mention put in front).
        assert weighted_length(f"@kahvila_aurinko {comment.text}") <= 280
        assert comment.delay > 0


async def every_comment_arrived(bot: TestBot) -> None:
    """Each top-level scripted comment is one card; each follow-up is in its comment's card's thread."""
    await bot.idle()
    cards = bot.cards()
    top_level = [c for c in SCRIPT if c.reply_to is None]
    assert len(cards) == len(top_level)

    def card_of(comment: ScriptedComment) -> Card:
        # The card shows the text as mrkdwn (& < > escaped); an X post starts with the @mention.
        shown = comment.text[:40].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        (card,) = [c for c in cards if shown in c.text]
        return card

    for comment in top_level:
        card_of(comment)
    for comment in SCRIPT:
        if comment.reply_to is not None:
            card = card_of(SCRIPT[comment.reply_to])
            await card.wait_for(lambda c, text=comment.text[:40]: text in c.thread_text())


@sqlite_only
async def test_with_only_the_webhook_every_comment_becomes_a_card_or_a_thread_reply(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = {"plugins": {"enabled": ["webhook"], "webhook": {"secret": WEBHOOK_SECRET}}}
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        assert bot.http is not None
        result = await play([WebhookStandIn()], str(bot.http.base_url), speed=1000)
        assert result.failed == ()
        assert result.posted == len(SCRIPT)
        assert {key for key, _ in result.ids.values()} == {"webhook"}
        await every_comment_arrived(bot)


@sqlite_only
async def test_with_every_source_the_day_spreads_over_them_and_every_comment_arrives(
    fake_slack: FakeSlack, database_url: str
) -> None:
    sources: list[SandboxSource] = [FacebookSandbox(), InstagramSandbox(), XSandbox(), DiscordSandbox()]
    webhook = WebhookStandIn()
    plugins: dict[str, Any] = {"enabled": [s.plugin for s in [*sources, webhook]]}
    for source in [*sources, webhook]:
        source.start()
        plugins[source.plugin] = dict(source.config)
    try:
        async with TestBot(fake_slack, database_url, config={"plugins": plugins}, customer=NoCustomer) as bot:
            assert bot.http is not None
            result = await play([*sources, webhook], str(bot.http.base_url), speed=1000)
            assert result.failed == ()
            assert [key for key, _ in result.ids.values()] == [c.source for c in SCRIPT]
            await every_comment_arrived(bot)
    finally:
        for source in sources:
            source.stop()


def test_a_comment_goes_to_its_own_source_else_another_and_to_the_webhook_last() -> None:
    facebook, discord, webhook = Recording("facebook"), Recording("discord"), Recording("webhook")
    on_x = ScriptedComment("x", "Tom", "Hello", "en")
    on_webhook = ScriptedComment("webhook", "Laura", "Hi", "en")
    assert choose_source(0, ScriptedComment("discord", "Ville", "Moi", "fi"), [facebook, discord, webhook]) is discord
    assert choose_source(0, on_webhook, [facebook, webhook]) is webhook
    # A missing source's comments are spread over the others present, never onto the webhook while one is.
    assert {choose_source(i, on_x, [facebook, webhook, discord]).key for i in range(4)} == {"facebook", "discord"}
    assert choose_source(3, on_x, [webhook]) is webhook
    with pytest.raises(ValueError, match="at least one source"):
        choose_source(0, on_x, [])


async def test_a_follow_up_goes_under_its_comment_on_the_same_source(paused: list[float]) -> None:
    facebook, webhook = Recording("facebook"), Recording("webhook")
    result = await play([webhook, facebook], "http://127.0.0.1:9")
    assert result.posted == len(SCRIPT) and result.failed == ()
    for index, comment in enumerate(SCRIPT):
        key = result.ids[index][0]
        if comment.reply_to is not None:
            assert key == result.ids[comment.reply_to][0]
            source = facebook if key == "facebook" else webhook
            assert (comment.author, comment.text, result.ids[comment.reply_to][1]) in source.posts
    # Only the comments written for the webhook went there: Facebook was present for the rest.
    assert [text for _, text, _ in webhook.posts] == [c.text for c in SCRIPT if c.source == "webhook"]


async def test_speed_scales_the_pauses(paused: list[float]) -> None:
    script = [ScriptedComment("webhook", "A", "one", "en", delay=2.0), ScriptedComment("webhook", "B", "two", "en")]
    await play([Recording("webhook")], "http://127.0.0.1:9", speed=4, script=script)
    assert paused == [0.5, 1.0]
    paused.clear()
    await play([Recording("webhook")], "http://127.0.0.1:9", script=script)
    assert paused == [2.0, 4.0]
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="speed must be more than 0"):
            await play([Recording("webhook")], "http://127.0.0.1:9", speed=bad, script=script)
    with pytest.raises(ValueError, match="follows up 1"):
        await play([Recording("webhook")], "http://127.0.0.1:9", script=[ScriptedComment("x", "A", "a", "en", 1)])


async def test_a_failing_source_is_reported_and_the_rest_of_the_day_goes_on(paused: list[float]) -> None:
    broken = Recording("instagram", refuse=SandboxPostError("Instagram: the bot refused the comment (HTTP 401)"))
    crashing = Recording("discord", refuse=RuntimeError("connection reset"))
    facebook, webhook = Recording("facebook"), Recording("webhook")
    result = await play([facebook, broken, crashing, webhook], "http://127.0.0.1:9")
    failed = {f.index: f for f in result.failed}
    assert result.posted + len(failed) == len(SCRIPT)
    assert result.posted == len(facebook.posts) + len(webhook.posts) > 0
    for index, comment in enumerate(SCRIPT):
        if comment.source == "instagram":
            assert failed[index].reason == "Instagram: the bot refused the comment (HTTP 401)"
            assert failed[index].source == "instagram" and failed[index].author == comment.author
        if comment.source == "discord" and comment.reply_to is None:
            assert failed[index].reason == "connection reset"
        if comment.source == "discord" and comment.reply_to is not None:
            # Its first comment never got there: nothing to follow up.
            assert "was not posted" in failed[index].reason
        if comment.source in ("facebook", "webhook"):
            assert index in result.ids


def test_the_crisis_is_a_flood_on_one_post_in_three_languages_with_urgent_comments() -> None:
    crisis = scripted_day.crisis_hour()
    assert len(crisis) == 120 and crisis == scripted_day.crisis_hour()  # the same crowd every time
    assert {c.language for c in crisis} == {"en", "fi", "pl"}
    assert {c.source for c in crisis} == {"facebook"} and all(c.reply_to is None for c in crisis)
    assert sum(c.delay for c in crisis) == pytest.approx(30.0 * 119 / 120)
    assert len({c.text for c in crisis}) == len(crisis)  # each names its own order: no two look alike
    stems = [word.rstrip("*") for word in scripted_day.CRISIS_KEYWORDS]
    urgent = [c for c in crisis if any(stem in c.text.lower() for stem in stems)]
    assert 10 <= len(urgent) <= 80, "some, not all, of the crowd write what the sandbox scores as urgent"
    with pytest.raises(ValueError, match="at least one"):
        scripted_day.crisis_hour(0)
