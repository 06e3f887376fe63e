"""Roll-ups on a bad day: lost Slack answers, two replicas gathering at once, forged button values.

Through the real bot and the fake Slack where a user would see it; the replica race goes
straight to the store, as two bots' flood watches would call it in the same instant.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from chatops.models import Conversation, OutboxJob, OutboxStatus, Rollup
from chatops.rollups.store import ROLLUP_LIST, Group
from chatops.store import POST_CARD
from chatops.testing.bot import INBOX, TestBot
from chatops.testing.fake_slack import FakeSlack
from tests.test_rollups import FLOOD, POST, every_text, flood, rollup_cards, until


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
