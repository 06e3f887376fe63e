"""Roll-ups on a bad day: lost Slack answers, two replicas gathering at once, forged button values.

Through the real bot and the fake Slack where a user would see it; the replica race goes
straight to the store, as two bots' flood watches would call it in the same instant.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from rollup_kit import FLOOD, POST, click_line, every_text, flood, listing, rollup_cards, until
from sqlalchemy import func, select

from chatops.db import DatabaseUnavailable
from chatops.models import AuditEntry, Conversation, OutboxJob, OutboxStatus, Rollup, Status, utcnow
from chatops.rollups import store as rollup_store
from chatops.rollups.store import LISTING_SIZE, ROLLUP_LIST, ROLLUP_POST, ROLLUP_UPDATE, Group, RollupStore
from chatops.sources import MessageRemoved
from chatops.store import POST_CARD
from chatops.testing.bot import INBOX, OPS, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import block_actions_body


async def test_a_card_whose_answer_was_lost_is_not_also_listed_on_the_rollup(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """A card post in doubt (Slack took it, the answer was lost) may already be in the channel: never gather it."""
    # Cards wait for the channel's pace (as in a flood), so the flood's own cards are still waiting when it is hot.
    config: dict[str, Any] = {
        **FLOOD,
        "delivery": {"reconcile_seconds": 600.0},
        "slack": {"post_interval_seconds": 0.3},
    }
    async with TestBot(fake_slack, database_url, config=config, metadata_events=False) as bot:
        fake_slack.lose_answers("chat.postMessage", times=1)
        await bot.comment("first: my order never arrived", id="first", context=POST)
        await until(lambda: len(fake_slack.top_level_messages(INBOX)) == 1)
        # The card is in the channel; the bot does not know yet (no answer, no event). The flood comes.
        texts = await flood(bot, 6)
        await until(lambda: bool(rollup_cards(fake_slack)) and all(text in every_text(fake_slack) for text in texts))
        await bot.idle()
        shown = every_text(fake_slack)
        assert shown.count("first: my order never arrived") == 1
        for text in texts:
            assert shown.count(text) == 1, text


def _listed(jobs: list[dict[str, Any]]) -> list[int]:
    return sorted(m for payload in jobs for m in payload.get("members", []))


async def test_two_replicas_gathering_the_same_post_at_once_make_one_rollup_listing_everyone(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """Two bots on one database, each gathering its own share of one post's flood in the same instant."""
    async with TestBot(
        fake_slack, database_url, config={**FLOOD, "crisis": {**FLOOD["crisis"], "rollups": False}}, deliver=False
    ) as bot:
        await flood(bot, 40)
        assert bot.app is not None
        store = bot.app.rollups.store
        async with bot.app.db.read() as session:
            pending = (
                await session.execute(
                    select(OutboxJob.id, OutboxJob.conversation_id)
                    .where(OutboxJob.kind == POST_CARD, OutboxJob.status == OutboxStatus.PENDING.value)
                    .order_by(OutboxJob.id)
                )
            ).all()
        members = [(int(j), int(c)) for j, c in pending]
        assert len(members) == 40

        def group(share: list[tuple[int, int]]) -> Group:
            return Group(source="demo", key=POST["url"], title=POST["text"], url=POST["url"], members=share)

        # Several rounds: the first two make the roll-up, the later ones add to its listing job.
        for round_ in range(5):
            share = members[round_ * 8 : round_ * 8 + 8]
            moved = await asyncio.gather(store.gather([group(share[0::2])]), store.gather([group(share[1::2])]))
            assert sum(moved) == 8
        async with bot.app.db.read() as session:
            rollups = (await session.scalars(select(Rollup))).all()
            listings = (await session.scalars(select(OutboxJob.payload).where(OutboxJob.kind == ROLLUP_LIST))).all()
            gathered = await session.scalar(select(func.count()).where(Conversation.rollup_id.is_not(None)))
        assert len(rollups) == 1, "one roll-up card per post"
        assert gathered == 40
        assert _listed(list(listings)) == sorted(c for _, c in members), "every gathered comment is named in a listing"
        assert rollups[0].gathered == 40


async def test_forged_button_values_change_nothing_and_break_nothing(
    fake_slack: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Values no roll-up button carries (too big for the database, negative, not numbers) are ignored quietly."""
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 5)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        anna = bot.person("Anna")
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 5
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        caplog.clear()
        for name in ("rollup_open", "rollup_open_top", "rollup_resolve"):
            for value in ("9" * 30, str(2**63), "-1", "0", "1e3", "", " 3 "):
                body = block_actions_body(
                    user_id=anna.id,
                    user_name="anna",
                    channel_id=INBOX,
                    message_ts=rollup["ts"],
                    action_id=f"chatops:{name}:{value}",
                    value=value,
                    trigger_id=fake_slack.new_trigger_id(anna.id),
                    message=rollup,
                )
                [response] = await bot.replay_request(body, 1)
                assert response.status_code == 200, (name, value)
        await bot.idle()
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        # Nothing was opened or resolved: the roll-up still holds all five, and its buttons still work.
        assert bot.cards() == []
        assert "5 more comments on" in block_text(rollup_cards(fake_slack)[0]["blocks"])
        await click_line(bot, anna, rollup_cards(fake_slack)[0], "comment 3:")
        await until(lambda: len(bot.cards()) == 1)
        # The conversation card's own buttons read their values the same way.
        [card] = bot.cards()
        claim = card.buttons["claim"]
        body = block_actions_body(
            user_id=anna.id,
            user_name="anna",
            channel_id=INBOX,
            message_ts=card.ts,
            action_id=claim["action_id"],
            value="9" * 30,
            trigger_id=fake_slack.new_trigger_id(anna.id),
            message=card.message,
        )
        [response] = await bot.replay_request(body, 1)
        assert response.status_code == 200
        await bot.idle()
        assert "Claimed by" not in bot.cards()[0].text
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


HOSTILE_TEXTS = [
    "<!channel> " + "😀" * 10_000,
    "<http://evil.example|your invoice> " * 300,
    "\u202eRTL override \u200f" + "שלום " * 500,
    "\u200b" * 5_000 + "zero width",
    "*_~`>" * 1_000,
    "&amp;&lt;&" * 1_000,
    "👨\u200d👩\u200d👧\u200d👦" * 2_000,
    "<@U0ADMIN> <#C0SECRET> <!subteam^S0TEAM> <!here|here>",
]


COUNT = 105


def mrkdwn_text(node: Any) -> str:
    """Every mrkdwn text in ``node`` (blocks as sent), one per line: what Slack parses for mentions and links."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str) else []
        return "\n".join([*own, *(mrkdwn_text(value) for value in node.values() if isinstance(value, dict | list))])
    if isinstance(node, list):
        return "\n".join(mrkdwn_text(item) for item in node)
    return ""


async def test_full_listings_of_hostile_comments_are_accepted_by_slack_and_ping_no_one(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """105 comments at the webhook's limits: two listing messages (a full one and 5 more), every comment's start shown, all escaped."""
    config: dict[str, Any] = {**FLOOD, "crisis": {**FLOOD["crisis"], "rollup_per_post": 10}}
    post = {"text": "<!everyone> " + "Ω" * 1_980, "url": "https://shop.example/p/" + "x" * 1_900}
    author = {"name": "<!channel> *" + "ﷺ" * 243, "handle": "h" * 255, "url": "https://evil.example/u?a=<b>|c"}
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        for i in range(COUNT):
            text = f"c{i:03d}: {HOSTILE_TEXTS[i % len(HOSTILE_TEXTS)]}"
            response = await quiet.comment(text, id=f"h-{i}", context=post, author=author)
            assert response.status_code == 201, response.text
    async with TestBot(fake_slack, database_url, config=config) as bot:
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == COUNT
        )
        await bot.idle()
        [rollup] = rollup_cards(fake_slack)
        thread = fake_slack.thread(INBOX, rollup["ts"])
        assert len(thread) == 2 and COUNT == LISTING_SIZE + 5
        shown = "\n".join(block_text(m.get("blocks") or []) for m in [rollup, *thread])
        for i in range(COUNT):
            assert f"c{i:03d}: " in shown, i
        # Slack parses mentions and links in mrkdwn only; plain_text (the menus' options) shows them as typed.
        parsed = "\n".join(mrkdwn_text(m.get("blocks") or []) for m in [rollup, *thread])
        assert "c000: " in parsed
        for ping in ("<!channel>", "<!everyone>", "<!here", "<@U0ADMIN>", "<#C0SECRET>", "<!subteam", "<http"):
            assert ping not in parsed
        assert "<b>" not in parsed
        assert fake_slack.rate_limited == 0


async def test_a_rollup_card_slack_never_takes_does_not_hide_its_comments(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """The roll-up's card post is given up (the bot was removed from the channel): its comments must still be shown."""
    config: dict[str, Any] = {**FLOOD, "delivery": {"max_attempts": 2}}
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as quiet:
        texts = await flood(quiet, 6)
    fake_slack.fail_next("chat.postMessage", error="not_in_channel", times=2)
    async with TestBot(fake_slack, database_url, config=config) as bot:
        await until(lambda: all(text in every_text(fake_slack) for text in texts))
        await bot.idle()
        shown = every_text(fake_slack)
        for text in texts:
            assert shown.count(text) == 1, text
        # The operators hear that a roll-up card could not be posted.
        assert any("roll-up" in m.get("text", "") for m in fake_slack.messages(OPS))


async def test_a_rollup_keeps_its_channel_when_overflow_would_choose_another(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings are paced by the channel in their job: it must be the one the roll-up's card is in."""
    monkeypatch.setattr(rollup_store, "LISTING_SIZE", 4)  # each gathering below starts a listing message
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as bot:
        await flood(bot, 12)
        assert bot.app is not None
        real = bot.app.rollups.store
        turns = iter(["COVERFLOW1", "COVERFLOW2", "COVERFLOW3"])
        store = RollupStore(
            bot.app.db,
            channel_of=lambda source: next(turns),
            window_seconds=600,
            update_seconds=0,
            job_priority=real.job_priority,
            wake=lambda: None,
        )
        async with bot.app.db.read() as session:
            pending = (
                await session.execute(
                    select(OutboxJob.id, OutboxJob.conversation_id)
                    .where(OutboxJob.kind == POST_CARD)
                    .order_by(OutboxJob.id)
                )
            ).all()
        for share in (pending[:4], pending[4:8], pending[8:]):
            group = Group(source="demo", key=POST["url"], title=POST["text"], url=POST["url"])
            group.members.extend((int(j), int(c)) for j, c in share)
            assert await store.gather([group]) == 4
        async with bot.app.db.read() as session:
            channels = (
                await session.scalars(select(OutboxJob.payload).where(OutboxJob.kind.in_([ROLLUP_POST, ROLLUP_LIST])))
            ).all()
        assert {payload["channel"] for payload in channels} == {"COVERFLOW1"}


async def test_a_clock_set_back_does_not_hold_the_rollup_cards_redraws(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """The card was last drawn at 15:00; NTP sets the clock back to 14:00. The next redraw is due in seconds, not at 15:00."""
    config: dict[str, Any] = {**FLOOD, "crisis": {**FLOOD["crisis"], "rollup_update_seconds": 5}}
    async with TestBot(fake_slack, database_url, config=config, deliver=False) as bot:
        await flood(bot, 8)
        assert bot.app is not None
        store = bot.app.rollups.store
        async with bot.app.db.read() as session:
            pending = (
                await session.execute(
                    select(OutboxJob.id, OutboxJob.conversation_id)
                    .where(OutboxJob.kind == POST_CARD)
                    .order_by(OutboxJob.id)
                )
            ).all()

        def group(share: Any) -> Group:
            return Group(
                source="demo",
                key=POST["url"],
                title=POST["text"],
                url=POST["url"],
                members=[(int(j), int(c)) for j, c in share],
            )

        assert await store.gather([group(pending[:4])]) == 4
        async with bot.app.db.write() as session:
            rollup = (await session.scalars(select(Rollup))).one()
            rollup.drawn_at = utcnow() + timedelta(hours=1)  # drawn "later" than now: the clock went back
            rollup.redraw_pending = False
        assert await store.gather([group(pending[4:])]) == 4
        async with bot.app.db.read() as session:
            due = (await session.scalars(select(OutboxJob.due_at).where(OutboxJob.kind == ROLLUP_UPDATE))).all()
        assert max(due) <= utcnow() + timedelta(seconds=6)


async def test_open_as_card_racing_resolve_all_leaves_each_comment_either_resolved_or_a_card(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """Anna resolves the roll-up while Ben, on another replica, opens half its comments: never both, and the record agrees."""
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as bot:
        await flood(bot, 40)
        assert bot.app is not None
        store = bot.app.rollups.store
        async with bot.app.db.read() as session:
            pending = (
                await session.execute(
                    select(OutboxJob.id, OutboxJob.conversation_id)
                    .where(OutboxJob.kind == POST_CARD)
                    .order_by(OutboxJob.id)
                )
            ).all()
        members = [(int(j), int(c)) for j, c in pending]
        assert (
            await store.gather(
                [Group(source="demo", key=POST["url"], title=POST["text"], url=POST["url"], members=members)]
            )
            == 40
        )
        async with bot.app.db.read() as session:
            rollup_id = (await session.scalars(select(Rollup.id))).one()
        ids = [cid for _, cid in members]
        resolved_count, opened = await asyncio.gather(
            store.resolve_all(rollup_id, "UANNA"), store.open_as_cards(ids[::2])
        )
        async with bot.app.db.read() as session:
            resolved = set(
                (
                    await session.scalars(select(Conversation.id).where(Conversation.status == Status.RESOLVED.value))
                ).all()
            )
            audited = list(
                (await session.scalars(select(AuditEntry.conversation_id).where(AuditEntry.action == "resolved"))).all()
            )
        assert resolved_count == len(resolved) == len(audited)
        assert sorted(audited) == sorted(resolved)
        # Every comment is resolved or has a card on its way (or both, when the click came after Resolve all).
        assert opened + len(resolved) >= 40


async def test_a_rollup_through_429s_and_lost_answers_shows_every_comment_once(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack rate-limits the roll-up card, then loses the answers of the card and a listing: one card, each line once."""
    monkeypatch.setattr(rollup_store, "LISTING_SIZE", 4)
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        texts = await flood(quiet, 10)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0, times=2)
    fake_slack.lose_answers("chat.postMessage", times=3, how="500")
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        await until(lambda: all(text in every_text(fake_slack) for text in texts))
        await bot.idle()
        assert len(rollup_cards(fake_slack)) == 1
        shown = every_text(fake_slack)
        for text in texts:
            assert shown.count(text) == 1, text
        assert "10 more comments on" in block_text(rollup_cards(fake_slack)[0]["blocks"])


async def test_the_database_failing_mid_gather_loses_no_comment(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection breaks after the card jobs were taken and before they were listed: the gathering is undone."""
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        texts = await flood(quiet, 8)
    real_list = RollupStore._list
    failures = 0

    async def broken_list(self: RollupStore, *args: Any, **kwargs: Any) -> None:
        nonlocal failures
        if failures < 2:
            failures += 1
            raise DatabaseUnavailable("connection lost mid-gather")
        await real_list(self, *args, **kwargs)

    monkeypatch.setattr(RollupStore, "_list", broken_list)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        await until(lambda: all(text in every_text(fake_slack) for text in texts))
        await bot.idle()
        assert failures == 2
        assert len(rollup_cards(fake_slack)) == 1
        shown = every_text(fake_slack)
        for text in texts:
            assert shown.count(text) == 1, text


async def test_two_live_replicas_on_one_database_post_one_rollup_and_list_each_comment_once(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two bots (replicas) share the database and the flood; each comment arrives at either one."""
    monkeypatch.setattr(rollup_store, "LISTING_SIZE", 5)
    # Slack's pace (faster than its second, still slower than the flood) keeps cards waiting, as on the day.
    config: dict[str, Any] = {**FLOOD, "slack": {"post_interval_seconds": 0.1}}
    fake_slack.post_interval = 0.1
    async with (
        TestBot(fake_slack, database_url, config=config, instance_id="a") as a,
        TestBot(fake_slack, database_url, config=config, instance_id="b") as b,
    ):
        texts = [f"replica {i}: where is my refund" for i in range(30)]
        await asyncio.gather(
            *((a if i % 2 else b).comment(text, id=f"r-{i}", context=POST) for i, text in enumerate(texts))
        )
        await until(lambda: all(text in every_text(fake_slack) for text in texts))
        await a.idle()
        await b.idle()
        shown = every_text(fake_slack)
        for text in texts:
            assert shown.count(text) == 1, text
        # (No assertion on 429s: pacing is per process, a known limit (README); the worker retries them.)
        assert len(rollup_cards(fake_slack)) == 1


async def test_a_gathered_comment_its_author_removes_gets_a_card_saying_so(
    fake_slack: FakeSlack, database_url: str
) -> None:
    """The listing is posted once; the removal's note needs a card, so the comment gets one, struck through."""
    async with TestBot(fake_slack, database_url, config=FLOOD, deliver=False) as quiet:
        await flood(quiet, 5)
    async with TestBot(fake_slack, database_url, config=FLOOD) as bot:
        await until(
            lambda: bool(rollup_cards(fake_slack)) and len(listing(fake_slack, rollup_cards(fake_slack)[0])) == 5
        )
        await bot.idle()
        assert bot.app is not None
        result = await bot.app.ingest(MessageRemoved(source="webhook", external_id="comment-3"))
        assert result.conversation_id is not None
        await bot.idle()
        [card] = bot.cards()
        assert "~comment 3: the discount code does not work~" in card.text
        assert "4 more comments on" in block_text(rollup_cards(fake_slack)[0]["blocks"])
