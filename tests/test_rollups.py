"""Roll-up cards: a flood on one post becomes one card listing every comment, and stays workable.

Through the real bot: comments arrive as signed webhooks, the delivery worker's flood watch
gathers waiting cards, and everything is asserted on what reached the fake Slack.
"""

from __future__ import annotations

import logging

import pytest
from rollup_kit import (
    FLOOD,
    POST,
    buttons_of,
    click_line,
    click_rollup,
    every_text,
    flood,
    listing,
    pick_body,
    rollup_cards,
    until,
)

from chatops.rollups import store as rollup_store
from chatops.testing.bot import INBOX, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack


@pytest.fixture
def small_listings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing messages of 4 lines, so that a handful of comments spans several messages."""
    monkeypatch.setattr(rollup_store, "LISTING_SIZE", 4)


async def test_a_flood_on_one_post_becomes_one_rollup_card_listing_every_comment(
    fake_slack: FakeSlack, database_url: str, small_listings: None
) -> None:
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        texts = await flood(quiet, 11)
        await quiet.comment("I will call my lawyer about this", id="urgent", context=POST)
        await quiet.comment("<!channel> spam & <https://evil.example|your invoice>", id="hostile", context=POST)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        await until(
            lambda: len(rollup_cards(fake_slack)) == 1 and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 12
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        cards = bot.cards()
        # The post is hot (13 > 3) before any card went out: only the urgent one keeps its own card.
        assert len(cards) == 1 and "I will call my lawyer about this" in cards[0].text
        assert "12 more comments on <https://shop.example/p/summer|Summer sale>" in block_text(rollup["blocks"])
        lines = listing(fake_slack, rollup)
        assert len(lines) == 12 and len(fake_slack.thread(INBOX, rollup["ts"])) == 3  # 4 + 4 + 4 lines
        assert [line.split(".", 1)[0] for line in lines] == [str(n) for n in range(1, 13)]
        everything = every_text(fake_slack)
        for text in texts:
            # Each comment is visible exactly once: on its own card or on one listing line.
            assert everything.count(text) == 1, text
        assert everything.count("&lt;!channel&gt; spam &amp; &lt;https://evil.example|your invoice&gt;") == 1
        assert "<!channel>" not in everything
        # Each section has one menu naming exactly its own lines' members, by number and author.
        for message in fake_slack.thread(INBOX, rollup["ts"]):
            for block in (b for b in message["blocks"] if b["type"] == "section"):
                menu = block["accessory"]
                assert menu["type"] == "static_select" and menu["placeholder"]["text"] == "Open as card…"
                numbers = [line.split(".", 1)[0] for line in block["text"]["text"].split("\n")]
                assert [o["text"]["text"].split(".", 1)[0] for o in menu["options"]] == numbers
        assert len(fake_slack.calls_to("chat.postMessage")) == 1 + 1 + 3
        assert fake_slack.rate_limited == 0


async def test_open_as_card_makes_one_card_however_often_it_is_clicked(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 8)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        anna = bot.person("Anna")
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 8
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        before = len(bot.cards())
        await click_line(bot, anna, rollup, "comment 6:", replay=3)
        await until(lambda: len(bot.cards()) == before + 1)
        await bot.idle()
        new = bot.cards()[-1]
        assert "comment 6: the discount code does not work" in new.text and "Claim" in new.text
        # A second, separate click on the same line: still one card, and Anna is told why.
        await click_line(bot, anna, rollup, "comment 6:")
        await until(lambda: "That comment already has a card of its own." in bot.ephemerals(anna))
        await bot.idle()
        assert len(bot.cards()) == before + 1
        assert "7 more comments on" in block_text(rollup_cards(fake_slack)[0]["blocks"])
        # The card works like any other.
        await bot.click(anna, new, "claim")
        await new.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)


async def test_open_the_most_urgent_and_resolve_all_with_a_confirm(fake_slack: FakeSlack, database_url: str) -> None:
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 10, prefix="spam")
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        anna = bot.person("Anna")
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 10
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        await click_rollup(bot, anna, rollup, "rollup_open_top")
        await until(lambda: len(bot.cards()) == 2)  # rollup_open_count = 2
        resolve = next(b for b in buttons_of(rollup_cards(fake_slack)[0]) if "rollup_resolve" in b["action_id"])
        assert resolve["confirm"]["title"]["text"] == "Resolve every comment here?"
        await click_rollup(bot, anna, rollup_cards(fake_slack)[0], "rollup_resolve")
        await until(lambda: "Resolved 8 comments." in bot.ephemerals(anna))
        await until(lambda: "Resolved by <@UANNA>" in block_text(rollup_cards(fake_slack)[0]["blocks"]))
        assert not any("rollup_resolve" in b["action_id"] for b in buttons_of(rollup_cards(fake_slack)[0]))
        await bot.idle()
        # The opened ones keep their own cards, open; the spam wave is closed.
        assert all("Resolved" not in c.text for c in bot.cards())
        assert len(bot.cards()) == 2


async def test_a_follow_up_in_a_gathered_conversation_gets_its_own_card(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 6, thread_id=None)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 6
        )
        await bot.idle()
        assert len(bot.cards()) == 0
        await bot.comment("Hello? Still waiting for an answer", id="again", thread_id="comment-5", context=POST)
        await until(lambda: any("comment 5:" in c.text for c in bot.cards()))
        card = next(c for c in bot.cards() if "comment 5:" in c.text)
        await card.wait_for(lambda c: "Hello? Still waiting" in c.thread_text())
        await bot.idle()
        assert len(bot.cards()) == 1
        assert "5 more comments on" in block_text(rollup_cards(fake_slack)[0]["blocks"])


async def test_rollups_off_keeps_one_card_each_and_a_quiet_post_is_untouched(
    fake_slack: FakeSlack, database_url: str
) -> None:
    off = {**FLOOD, "crisis": {**FLOOD["crisis"], "rollups": False}}
    async with TestBot(fake_slack, database_url, config=off, deliver=False) as quiet:
        await flood(quiet, 6)
    async with TestBot(fake_slack, database_url, config=off) as bot:
        await until(lambda: len(bot.cards()) == 6)
        await bot.idle()
        assert rollup_cards(fake_slack) == []
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        # A new post with 3 comments: at the threshold, not above it.
        for i in range(3):
            await bot.comment(f"quiet {i}", id=f"quiet-{i}", context={"text": "Winter boots"})
        await until(lambda: len(bot.cards()) == 9)
        await bot.idle()
        assert rollup_cards(fake_slack) == []


async def test_a_restart_mid_rollup_lists_every_comment_once(
    fake_slack: FakeSlack, database_url: str, small_listings: None
) -> None:
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        texts = await flood(quiet, 14)
    async with TestBot(fake_slack, database_url, config=FLOOD) as first:
        # The second listing message fails for a while: the bot stops with listings still to post.
        await until(
            lambda: (
                bool(rollup_cards(fake_slack)) and len(fake_slack.thread(INBOX, rollup_cards(fake_slack)[0]["ts"])) >= 1
            )
        )
        fake_slack.fail_next("chat.postMessage", error="internal_error", times=2)
        await fake_slack.wait_for("chat.postMessage", lambda c: c.error == "internal_error")
    async with TestBot(fake_slack, database_url, config=FLOOD) as second:
        await until(lambda: len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 14, timeout=15)
        await second.idle(timeout=15)
    assert len(rollup_cards(fake_slack)) == 1
    everything = every_text(fake_slack)
    for text in texts:
        assert everything.count(text) == 1, text
    assert first.cards() == []


async def test_a_live_flood_keeps_urgent_cards_and_lists_the_rest(fake_slack: FakeSlack, database_url: str) -> None:
    """Comments arrive while the worker posts: whatever the timing, each is visible once."""
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        texts = await flood(bot, 16)
        await bot.comment("My lawyer will hear of this", id="urgent-late", context=POST)
        await bot.idle()
        everything = every_text(fake_slack)
        for text in texts:
            assert everything.count(text) == 1, text
        assert any("My lawyer will hear of this" in c.text for c in bot.cards())
        [rollup] = rollup_cards(fake_slack)
        assert len(bot.cards()) + len(listing(fake_slack, rollup)) == 17


async def test_comments_without_a_post_gather_per_source_when_the_source_floods(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = {**FLOOD, "crisis": {**FLOOD["crisis"], "rollup_per_source": 4}}
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        for i in range(6):
            await quiet.comment(f"contact form {i}: where is my parcel", id=f"form-{i}")
    async with TestBot(fake_slack, database_url, config=config) as bot:
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 6
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        assert "6 more comments from Webhook" in block_text(rollup["blocks"])
        assert bot.cards() == []


async def test_urgent_cards_that_waited_too_long_join_the_rollup_and_stay_marked_urgent(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """``rollup_own_card_wait_seconds = 0``: every waiting urgent card has waited too long already."""
    config = {**FLOOD, "crisis": {**FLOOD["crisis"], "rollup_own_card_wait_seconds": 0}}
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        texts = await flood(quiet, 8)
        await quiet.comment("I will call my lawyer about this", id="urgent", context=POST)
    async with TestBot(fake_slack, database_url, config=config) as bot:
        anna = bot.person("Anna")
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 9
        )
        await bot.idle()
        assert bot.cards() == []
        [rollup] = rollup_cards(fake_slack)
        shown = block_text(rollup["blocks"])
        assert "Most urgent" in shown and "I will call my lawyer about this" in shown
        [urgent_line] = [line for line in listing(fake_slack, rollup) if "lawyer" in line]
        assert "⚠ 40" in urgent_line
        await click_rollup(bot, anna, rollup, "rollup_open_top")
        await until(lambda: len(bot.cards()) == 2)  # rollup_open_count = 2: the urgent one, then the newest
        await bot.idle()
        # An opened card is never gathered again, however long it waits.
        assert any("I will call my lawyer about this" in c.text for c in bot.cards())
        assert len(bot.cards()) == 2 and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 9
        everything = every_text(fake_slack)
        assert everything.count("I will call my lawyer about this") == 1 + 1  # its card and its listing line
        for text in texts[:7]:
            assert everything.count(text) == 1, text


async def test_a_menu_opens_only_a_member_of_its_own_rollup(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    other = {"text": "Winter boots", "url": "https://shop.example/p/boots"}
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 5)
        for i in range(5):
            await quiet.comment(f"boots {i}: wrong size", id=f"boots-{i}", context=other)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        anna = bot.person("Anna")
        await until(
            lambda: (
                len(rollup_cards(fake_slack)) == 2
                and all(len(listing(fake_slack, r)) == 5 for r in rollup_cards(fake_slack))
            )
        )
        await bot.idle()
        summer, boots = sorted(rollup_cards(fake_slack), key=lambda r: "boots" in block_text(r["blocks"]))
        [summer_list] = fake_slack.thread(INBOX, summer["ts"])
        [boots_list] = fake_slack.thread(INBOX, boots["ts"])
        menu = next(b["accessory"] for b in summer_list["blocks"] if b["type"] == "section")
        stranger = next(b["accessory"] for b in boots_list["blocks"] if b["type"] == "section")["options"][0]["value"]
        # A forged choice: a member of the other roll-up, through this roll-up's menu; and a value that is no id.
        await bot.replay_request(pick_body(bot, anna, summer_list, menu, stranger), 2)
        await bot.replay_request(pick_body(bot, anna, summer_list, menu, "1 OR 1=1"), 1)
        # An id past what the database holds is refused before any query, as on the buttons.
        await bot.replay_request(pick_body(bot, anna, summer_list, menu, "9" * 30), 1)
        await until(lambda: "That comment is not on this roll-up." in bot.ephemerals(anna))
        await bot.idle()
        assert bot.cards() == []
        assert bot.ephemerals(anna).count("That comment is not on this roll-up.") == 1
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        await click_line(bot, anna, boots, "boots 3:")
        await until(lambda: len(bot.cards()) == 1)
        assert "boots 3: wrong size" in bot.cards()[0].text
