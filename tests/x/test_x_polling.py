"""Mentions arriving as cards by polling the X fake: positions, pages, threads, limits and failures.

Each pass is run by the test (``XWorld.poll``); the fake's rate-limit windows and the source share
a hand-moved clock, so resets are reached without sleeping.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x_world import AINO, EERO, USERNAME, XWorld, sqlite_only, x_config

from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x import polling
from chatops_plugins.x.testing import FakeX

KEY = "{kind}:mentions:1500000000000000001"


def mentions_key(kind: str) -> str:
    return KEY.format(kind=kind)


async def settle(bot: TestBot) -> None:
    """Wait until every card, thread post and alert the passes queued is on the fake Slack."""
    await bot.idle()


@sqlite_only
async def test_mentions_become_cards_with_author_link_and_expanded_urls(x_bot: TestBot, x: XWorld) -> None:
    first = x.mention("Tilaukseni ei tullut https://example.com/orders/123?ref=x & nyt?", who=AINO)
    second = x.mention("Onko teillä gluteenitonta?", who=EERO)

    assert await x.poll()

    cards = [await x_bot.next_card(), await x_bot.next_card()]
    aino = next(c for c in cards if "Tilaukseni" in c.text)
    assert "Aino Asiakas (@aino_asiakas)" in aino.text and f"@{USERNAME}" in aino.text
    assert f"https://x.com/aino_asiakas/status/{first}" in json.dumps(aino.message)
    assert "https://example.com/orders/123?ref=x" in json.dumps(aino.message)
    assert "t.co" not in json.dumps(aino.message)
    # X sends & as &amp;; the card shows the customer's & (escaped once, for Slack, by the card).
    assert "ref=x &amp; nyt?" in aino.text and "&amp;amp;" not in aino.text
    eero = next(c for c in cards if "gluteenitonta" in c.text)
    assert f"https://x.com/eero_e/status/{second}" in json.dumps(eero.message)
    assert sorted(await x.stored_ids()) == sorted([first, second])


@sqlite_only
async def test_only_new_mentions_are_read_and_nothing_twice(x_bot: TestBot, x: XWorld) -> None:
    old = x.mention("eka")
    assert await x.poll()
    await x_bot.next_card()
    assert await x.state(mentions_key("since_id")) == old

    assert await x.poll()  # nothing new
    new = x.mention("toka")
    assert await x.poll()
    await x_bot.next_card()

    calls = x.fake.calls_to("mentions")
    assert "since_id" not in calls[0].params and "start_time" in calls[0].params
    assert calls[1].params["since_id"] == old and calls[2].params["since_id"] == old
    assert await x.stored_ids() == [old, new]
    assert len(x_bot.cards()) == 2


@sqlite_only
async def test_a_garbled_stored_since_id_reads_from_the_start_time_without_duplicates(
    x_bot: TestBot, x: XWorld
) -> None:
    first = x.mention("eka")
    assert await x.poll()
    await x.source.ctx.state.set(mentions_key("since_id"), "garbage'; --")
    second = x.mention("toka")

    assert await x.poll()

    assert await x.stored_ids() == [first, second]
    assert await x.state(mentions_key("since_id")) == second


@sqlite_only
async def test_the_first_pass_looks_back_only_as_far_as_configured(x_bot: TestBot, x: XWorld) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.fromtimestamp(x.clock.now, UTC)
    x.mention("liian vanha", created_at=now - timedelta(hours=30))
    recent = x.mention("tuore", created_at=now - timedelta(hours=2))

    assert await x.poll()

    assert await x.stored_ids() == [recent]


@sqlite_only
@pytest.mark.x_config(page_size=5)
async def test_many_mentions_are_read_page_by_page_oldest_stored_first(x_bot: TestBot, x: XWorld) -> None:
    ids = [x.mention(f"viesti {n}") for n in range(12)]

    assert await x.poll()

    calls = x.fake.calls_to("mentions")
    assert len(calls) == 3
    assert [c.params.get("max_results") for c in calls] == ["5", "5", "5"]
    assert "pagination_token" not in calls[0].params and calls[1].params["pagination_token"]
    assert await x.stored_ids() == ids  # oldest first, though X pages newest first
    assert await x.state(mentions_key("since_id")) == ids[-1]
    await settle(x_bot)
    assert len(x_bot.cards()) == 12


@sqlite_only
@pytest.mark.x_config(page_size=5, max_pages=2)
async def test_a_walk_longer_than_max_pages_carries_on_next_pass_without_a_gap(
    x_bot: TestBot, x: XWorld, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [x.mention(f"viesti {n}") for n in range(12)]

    with caplog.at_level(logging.WARNING, logger="chatops_plugins.x.polling"):
        assert await x.poll()
    assert "older ones are left for the next pass" in caplog.text
    assert sorted(await x.stored_ids()) == sorted(ids[2:])
    assert await x.state(mentions_key("since_id")) is None  # not moved past the two unread ones

    later = x.mention("tuli välissä")
    assert await x.poll()  # carries on below where it stopped
    assert x.fake.calls_to("mentions")[-1].params["until_id"] == ids[2]
    assert sorted(await x.stored_ids()) == sorted(ids)
    assert await x.state(mentions_key("since_id")) == ids[-1]

    assert await x.poll()  # then what came meanwhile
    assert x.fake.calls_to("mentions")[-1].params["since_id"] == ids[-1]
    stored = await x.stored_ids()
    assert sorted(stored) == sorted([*ids, later]) and len(stored) == len(set(stored))


async def test_since_id_survives_a_restart_no_repeat_no_miss(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        before = world.mention("ennen")
        assert await world.poll()
        await bot.next_card()
    during = world.mention("kun botti oli alhaalla")

    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world.attach(bot)
        assert await world.poll()
        await settle(bot)
        assert x_fake.calls_to("mentions")[-1].params["since_id"] == before
        assert await world.stored_ids() == [before, during]
        assert len(bot.cards()) == 2
        assert await world.poll()
        await settle(bot)
        assert await world.stored_ids() == [before, during]
        assert len(bot.cards()) == 2


@sqlite_only
async def test_a_reply_joins_the_card_of_the_post_it_answers(x_bot: TestBot, x: XWorld) -> None:
    first = x.mention("Missä tilaukseni on?")
    assert await x.poll()
    card = await x_bot.next_card()

    x.mention("Vieläkään ei kuulu!", in_reply_to=first)
    assert await x.poll()

    await card.wait_for(lambda c: "Vieläkään ei kuulu" in c.thread_text())
    await settle(x_bot)
    assert len(x_bot.cards()) == 1


@sqlite_only
async def test_a_reply_read_in_the_same_pass_as_its_parent_joins_its_card(x_bot: TestBot, x: XWorld) -> None:
    first = x.mention("Missä tilaukseni on?")
    x.mention("Ja toinenkin kysymys", in_reply_to=first)

    assert await x.poll()

    card = await x_bot.next_card()
    await card.wait_for(lambda c: "toinenkin kysymys" in c.thread_text())
    await settle(x_bot)
    assert len(x_bot.cards()) == 1


@sqlite_only
async def test_a_mention_deeper_in_a_known_conversation_joins_its_card(x_bot: TestBot, x: XWorld) -> None:
    root = x.mention("Aloitus")
    assert await x.poll()
    card = await x_bot.next_card()
    # Eero answers Aino without naming the account (not a mention); Aino answers Eero and names it.
    between = x.fake.post_by("Minullekin kävi näin", author=EERO, in_reply_to=root)
    x.mention(f"@{USERNAME} @eero_e samaa mieltä", in_reply_to=between)

    assert await x.poll()

    await card.wait_for(lambda c: "samaa mieltä" in c.thread_text())
    await settle(x_bot)
    assert len(x_bot.cards()) == 1


@sqlite_only
async def test_replies_to_the_companys_own_post_are_separate_cards(x_bot: TestBot, x: XWorld) -> None:
    # Two customers answering a marketing post share its conversation, not their problems.
    announcement = x.own_post("Uusi kanelipulla on täällä!")
    x.mention("Onko se vegaaninen?", in_reply_to=announcement, who=AINO)
    x.mention("Paljonko maksaa?", in_reply_to=announcement, who=EERO)

    assert await x.poll()

    await settle(x_bot)
    assert len(x_bot.cards()) == 2
    assert announcement not in await x.stored_ids()


@sqlite_only
async def test_a_reply_the_company_made_on_x_shows_in_the_thread(x_bot: TestBot, x: XWorld) -> None:
    question = x.mention("Aukeatteko huomenna?")
    assert await x.poll()
    card = await x_bot.next_card()

    x.own_post("Aukeamme klo 8!", in_reply_to=question)
    x.own_post("Hyvää viikonloppua kaikille")  # answers nothing: not work
    assert await x.poll()

    await card.wait_for(lambda c: "Aukeamme klo 8" in c.thread_text())
    await settle(x_bot)
    assert "viikonloppua" not in card.thread_text()
    assert len(await x.stored_ids()) == 2
    assert x.fake.calls_to("user_tweets")


@sqlite_only
async def test_a_customer_answering_the_companys_reply_on_x_stays_on_the_card(x_bot: TestBot, x: XWorld) -> None:
    # All three happen between two passes: the answer and the follow-up are read together.
    question = x.mention("Onko pöytävarausta?")
    answer = x.own_post("On, soita meille", in_reply_to=question)
    x.mention("Kiitos, soitan!", in_reply_to=answer)

    assert await x.poll()

    card = await x_bot.next_card()
    await card.wait_for(lambda c: "soita meille" in c.thread_text() and "soitan" in c.thread_text())
    await settle(x_bot)
    assert len(x_bot.cards()) == 1


@sqlite_only
@pytest.mark.x_config(own_replies=False)
async def test_own_posts_are_not_read_when_own_replies_is_off(x_bot: TestBot, x: XWorld) -> None:
    question = x.mention("Kysymys")
    x.own_post("Vastaus", in_reply_to=question)

    assert await x.poll()

    assert not x.fake.calls_to("user_tweets")
    assert await x.stored_ids() == [question]


@sqlite_only
async def test_a_used_up_rate_limit_holds_passes_back_until_its_reset(x_bot: TestBot, x: XWorld) -> None:
    x.fake.set_rate_limit("mentions", limit=1, window_seconds=900)
    x.mention("eka")
    assert await x.poll()
    assert len(x.fake.calls_to("mentions")) == 1

    second = x.mention("toka")
    assert await x.poll()  # remaining was 0: no request, and no failure
    assert len(x.fake.calls_to("mentions")) == 1
    assert await x.job_error() is None
    assert second not in await x.stored_ids()

    x.clock.advance(901)
    assert await x.poll()
    assert len(x.fake.calls_to("mentions")) == 2
    assert second in await x.stored_ids()


@sqlite_only
async def test_polling_held_back_too_long_alerts_once_and_clears(x_bot: TestBot, x: XWorld) -> None:
    waiting = x.mention("odotan")
    x.fake.block("mentions", until=x.clock.now + 3 * 3600)

    assert await x.poll()  # 429: held back, not failed
    assert await x.job_error() is None
    assert x.fake.calls_to("mentions")[-1].status == 429
    x.clock.advance(20 * 60)
    assert await x.poll()
    assert len(x.fake.calls_to("mentions")) == 1  # nothing asked before the reset
    await settle(x_bot)
    assert "rate_limit" not in await x.open_alerts()

    x.clock.advance(11 * 60)  # 31 minutes held back; the alert is at 30
    assert await x.poll()
    x.clock.advance(10 * 60)
    assert await x.poll()
    await settle(x_bot)
    alerts = [a for a in x.ops_alerts() if "rate limit" in a]
    assert len(alerts) == 1 and "poll_interval_seconds" in alerts[0]
    assert "rate_limit" in await x.open_alerts()

    x.clock.advance(3 * 3600)
    assert await x.poll()
    assert waiting in await x.stored_ids()
    assert "rate_limit" not in await x.open_alerts()


@sqlite_only
@pytest.mark.x_config(page_size=5)
async def test_a_rate_limit_running_out_between_pages_loses_nothing(x_bot: TestBot, x: XWorld) -> None:
    ids = [x.mention(f"viesti {n}") for n in range(12)]
    x.fake.set_rate_limit("mentions", limit=2, window_seconds=900)

    assert await x.poll()  # two of the three pages
    assert len(await x.stored_ids()) == 10
    assert await x.poll()  # held back
    assert len(x.fake.calls_to("mentions")) == 2
    x.clock.advance(901)
    assert await x.poll()
    assert sorted(await x.stored_ids()) == sorted(ids)
    assert await x.state(mentions_key("since_id")) == ids[-1]


@sqlite_only
async def test_a_rejected_bearer_token_is_one_alert_naming_the_key(x_bot: TestBot, x: XWorld) -> None:
    x.mention("hei")
    x.fake.revoke_bearer()

    assert await x.poll()
    assert await x.poll()

    await settle(x_bot)
    alerts = [a for a in x.ops_alerts() if "bearer token" in a]
    assert len(alerts) == 1
    assert "plugins.x.bearer_token" in alerts[0] and "CHATOPS_PLUGINS__X__BEARER_TOKEN" in alerts[0]
    assert x.fake.bearer_token not in alerts[0]
    error = await x.job_error()
    assert error is not None and "bearer token" in error
    assert await x.stored_ids() == []

    x.fake.restore_tokens()
    assert await x.poll()
    assert len(await x.stored_ids()) == 1
    assert "token:bearer" not in await x.open_alerts()


@sqlite_only
async def test_a_suspended_account_is_one_alert_saying_so(x_bot: TestBot, x: XWorld) -> None:
    x.fake.suspend()

    assert await x.poll()
    assert await x.poll()

    await settle(x_bot)
    alerts = [a for a in x.ops_alerts() if "403" in a]
    assert len(alerts) == 1 and "suspended" in alerts[0]
    assert await x.job_error() is not None


@sqlite_only
async def test_a_wrong_user_id_is_one_alert_naming_the_key(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url, user_id="42")
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        assert await world.poll()
        await settle(bot)
        alerts = [a for a in world.ops_alerts() if "plugins.x.user_id" in a]
        assert len(alerts) == 1


@sqlite_only
async def test_posts_with_missing_fields_cost_only_themselves(x_bot: TestBot, x: XWorld) -> None:
    whole = x.mention("kokonainen")
    no_id = x.mention("ilman id:tä")
    bare = x.mention("ilman kirjoittajaa")

    def damage(body: dict[str, Any]) -> dict[str, Any]:
        for item in body["data"]:
            if item["id"] == no_id:
                del item["id"]
            elif item["id"] == bare:
                for name in ("author_id", "created_at", "conversation_id", "entities"):
                    item.pop(name, None)
        return body

    x.fake.mangle_next("mentions", damage)
    assert await x.poll()

    assert sorted(await x.stored_ids()) == sorted([whole, bare])
    await settle(x_bot)
    assert len(x_bot.cards()) == 2
    assert await x.state(mentions_key("since_id")) == bare
    assert await x.job_error() is None


@sqlite_only
@pytest.mark.parametrize(
    "body",
    [
        {"data": {"id": "1"}, "meta": {"result_count": 1}},
        ["not", "an", "object"],
        "<html>502 Bad Gateway</html>",
    ],
)
async def test_an_answer_that_is_not_a_page_fails_the_pass_and_loses_nothing(
    x_bot: TestBot, x: XWorld, body: Any
) -> None:
    ids = [x.mention("eka"), x.mention("toka")]
    if isinstance(body, str):
        x.fake.fail_next("mentions", 200, body)
    else:
        x.fake.mangle_next("mentions", lambda _answer: body)

    with pytest.raises(polling.MalformedAnswer):
        await polling.poll(x.source)
    assert await x.stored_ids() == []
    assert await x.state(mentions_key("since_id")) is None

    await polling.poll(x.source)
    assert await x.stored_ids() == ids


@sqlite_only
@pytest.mark.x_config(page_size=5, max_pages=1)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(st.integers(min_value=0, max_value=9), st.just("poll"), st.just("limit")),
        min_size=1,
        max_size=8,
    )
)
async def test_whatever_arrives_between_passes_is_stored_exactly_once(x_bot: TestBot, x: XWorld, steps: list) -> None:
    # One bot across examples: what any example left behind must still come out right.
    written: list[str] = list(getattr(x, "written", []))
    for step in steps:
        if step == "poll":
            assert await x.poll()
        elif step == "limit":
            x.fake.set_rate_limit("mentions", limit=1, window_seconds=900)
        else:
            written.extend(x.mention(f"viesti {len(written)}-{n}") for n in range(step))
    x.written = written  # type: ignore[attr-defined]
    for _ in range(30):  # drain: past every reset, until a pass reads nothing and has no walk to finish
        x.clock.advance(901)
        report = await polling.poll(x.source)
        if not report.read.get("mentions") and not await x.state(mentions_key("resume")):
            break
    stored = await x.stored_ids()
    assert sorted(stored) == sorted(written)
    assert len(stored) == len(set(stored))
