"""Priority first, through the real bot and a paced Slack: urgent comments are carded before the queue.

While posts wait for the inbox channel's pace, the most urgent comments (a configured keyword, a
VIP author, a negative comment, a customer writing again after the team answered) go first, and
card updates and answers on the platform keep their own lane. A classifier plugin that fails or
talks nonsense never costs a comment.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chatops.hookspecs import hookimpl
from chatops.priority import Classification
from chatops.testing.bot import CallbackReceiver, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack

#: Small enough to keep the tests quick, large enough that posts queue behind it.
PACE = 0.1


def paced(fake_slack: FakeSlack, interval: float = PACE, **config: Any) -> dict[str, Any]:
    """The bot's settings for a Slack that takes one post per ``interval`` per channel."""
    fake_slack.post_interval = interval
    return {
        "slack": {"post_interval_seconds": interval},
        "priority": {"keywords": ["hyvity*", "zwrot*", "money back"], "vip_authors": ["@HS_fi", "98765"]},
        **config,
    }


def posted(fake_slack: FakeSlack, labels: list[str]) -> list[str]:
    """Which of ``labels`` each message posted to the inbox (card or thread post) shows, in posting order."""
    texts = [block_text(c.args.get("blocks") or []) for c in fake_slack.calls_to("chat.postMessage") if c.ok]
    return [next((label for label in labels if label in text), text) for text in texts]


async def test_urgent_comments_are_carded_before_earlier_ordinary_ones(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    config = paced(fake_slack, plugins={"enabled": ["webhook", "sentiment"]})
    async with TestBot(fake_slack, database_url, config=config) as bot:
        anna = bot.person("Anna")
        await bot.comment("Is the shop open on Sunday?", thread_id="answered", reply_url=callback.url)
        answered = await bot.next_card()
        await bot.reply(anna, answered, "Yes, 10 to 16.")
        await callback.wait_for(1)
        await bot.idle()

        # A deploy: delivery stops while comments keep arriving, then catches up, paced.
        assert bot.app is not None
        await bot.app.delivery.stop()
        for i in range(3):
            await bot.comment(f"ordinary question {i}", id=f"ordinary-{i}")
        await bot.comment("Can I get my money back for the jacket?", id="keyword")
        await bot.comment("Ostin eilen takin.", id="vip", author={"name": "Helsingin Sanomat", "handle": "hs_FI"})
        await bot.comment("Terrible service, my parcel is missing.", id="negative")
        await bot.comment("Thanks, and what about Saturday?", id="again", thread_id="answered")
        await bot.comment("ordinary question 3", id="ordinary-3")
        await bot.comment("Fake VIP here", id="name-only", author={"name": "HS_fi", "handle": "someone"})
        bot.app.delivery.start()
        await bot.idle()

    order = posted(
        fake_slack, ["Sunday", "Yes, 10 to 16", "Saturday", "money back", "takin", "Terrible", "ordinary", "Fake VIP"]
    )
    # The reply to our reply scores highest (60), then the VIP (50), the keyword (40), the negative one (30);
    # the rest keep their arrival order, and a display name alone is not a VIP.
    assert order == [
        *("Sunday", "Yes, 10 to 16"),
        *("Saturday", "takin", "money back", "Terrible"),
        *("ordinary",) * 4,
        "Fake VIP",
    ], order
    # The customer who wrote again after our answer: their card says so, and how urgent it now is.
    assert "⚑ *Priority 60*" in answered.text and "The customer wrote again" in answered.text
    texts = "\n".join(c.text for c in bot.cards())
    assert "⚑ *Priority 50*: VIP" in texts
    assert "⚑ *Priority 40*: money back" in texts
    assert "⚑ *Priority 30*: negative" in texts
    ordinary = next(c for c in bot.cards() if "ordinary question 0" in c.text)
    assert "⚑" not in ordinary.text
    assert fake_slack.rate_limited == 0


async def test_card_updates_and_answers_keep_their_lane_while_new_cards_queue(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    async with TestBot(fake_slack, database_url, config=paced(fake_slack, 0.2)) as bot:
        assert bot.app is not None
        anna = bot.person("Anna")
        await bot.comment("Where is my order?", reply_url=callback.url)
        card = await bot.next_card()
        await bot.idle()
        # A flood queues while delivery is down; Anna claims and answers the card meanwhile.
        await bot.app.delivery.stop()
        for i in range(10):
            await bot.comment(f"flood {i}", id=f"flood-{i}")
        await bot.click(anna, card, "claim")
        await bot.reply(anna, card, "It left the warehouse today.")
        await bot.stored_answer()
        await bot.comment("I was promised my money back!", id="urgent")
        bot.app.delivery.start()
        [answer] = await callback.wait_for(1)
        await card.wait_for(lambda c: "Reply by <@UANNA>" in c.text)
        # The answer reached the customer and the card moved before the flood's cards (two seconds of
        # posts at this pace): in the posts' queue they would have waited behind all ten.
        assert answer["text"] == "It left the warehouse today."
        assert len(bot.cards()) <= 3
        await bot.idle()
        assert len(bot.cards()) == 12
    # The urgent comment, though it came last, is carded before the whole flood.
    order = posted(fake_slack, ["Where is my order", "warehouse", "money back", *(f"flood {i}" for i in range(10))])
    assert order.index("money back") < order.index("flood 0")
    assert fake_slack.rate_limited == 0


class Raising:
    """A classifier plugin with a bug."""

    @hookimpl
    def chatops_classify(self, ctx: Any, message: Any) -> Classification:
        raise RuntimeError("lexicon file missing")


class Boastful:
    """A classifier plugin that claims every message is the most urgent thing ever."""

    @hookimpl
    def chatops_classify(self, ctx: Any, message: Any) -> Any:
        if "garbage" in message.text:
            return {"priority": 10**9}
        if "words" in message.text:
            return Classification(priority="very", reasons=["ignored"])  # type: ignore[arg-type]
        return Classification(priority=10**12, reasons=["boast\n<!channel> " + "x" * 500])


async def test_a_failing_classifier_costs_no_message_and_a_boastful_one_is_bounded(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = {"raising": Raising(), "boastful": Boastful()}
    config = {"plugins": {"enabled": ["webhook", "raising", "boastful"]}}
    with caplog.at_level(logging.WARNING):
        async with TestBot(fake_slack, database_url, config=config, extra_plugins=plugins) as bot:
            await bot.comment("my order is late")
            bounded = await bot.next_card()
            await bot.comment("send garbage")
            refused = await bot.next_card()
            await bot.comment("just words")
            not_a_number = await bot.next_card()
            await bot.idle()

    assert "my order is late" in bounded.text
    # Bounded to the plugin limit; its reason shown on one line, cut short, and unable to ping.
    assert "⚑ *Priority 1000*: boast &lt;!channel&gt; xxxx" in bounded.text
    assert "<!channel>" not in bounded.text and "x" * 41 not in bounded.text
    for card in (refused, not_a_number):
        assert "⚑" not in card.text
    assert "send garbage" in refused.text and "just words" in not_a_number.text
    logged = caplog.text
    assert "plugin raising: chatops_classify failed" in logged
    assert "plugin boastful: chatops_classify returned dict, not a Classification" in logged
    assert "plugin boastful: classification priority 'very'" not in logged  # not dumped as given
    assert "plugin boastful: classification priority str is not a whole number" in logged
    assert "plugin boastful: classification priority 1000000000000 kept within ±1000" in logged
