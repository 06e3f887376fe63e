"""Replayed clicks and submissions reach Facebook once: public reply, Move to DM with its note, Hide, Unhide."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from meta_world import PAGE, Meta, meta_config
from replaying import MODES, Replays, replaying

from chatops.cards import CardData
from chatops.slack.replays import ReplayGuard
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.graph_api.testing import FakeGraph


@pytest.fixture(params=MODES)
async def replays(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, database_url: str, graph: FakeGraph
) -> AsyncIterator[Replays]:
    config = meta_config(graph_api_url=graph.base_url)
    async with replaying(request.param, fake_slack, database_url, config) as running:
        yield running


async def _settled(replays: Replays) -> None:
    await replays.bot.idle()
    if "to" in replays.how:
        await replays.how["to"].idle()


async def test_a_replayed_public_reply_is_posted_once_on_facebook(replays: Replays, graph: FakeGraph) -> None:
    bot = replays.bot
    meta = Meta(bot, graph)
    anna = bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Onko kauppa auki sunnuntaina?"))
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    await bot.submit(anna, view, {"text": {"text": "Kyllä, 10–16."}}, **replays.how)
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await _settled(replays)
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Kyllä, 10–16."]
    assert len(graph.calls_to("POST", r"/1_501/comments")) == 1
    assert bot.slack.ephemerals() == []


async def test_a_replayed_move_to_dm_sends_one_message_and_one_public_note(replays: Replays, graph: FakeGraph) -> None:
    bot = replays.bot
    meta = Meta(bot, graph)
    anna = bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Tilaukseni ei ole tullut!"))
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "private_reply")
    values = {"text": {"text": "Hei, selvitämme asian."}, "notice": {"notice": "Lähetimme sinulle viestin."}}
    await bot.submit(anna, view, values, **replays.how)
    await card.wait_for(lambda c: "✅ Private message by <@UANNA>" in c.text and "✅ Reply by <@UANNA>" in c.text)
    await _settled(replays)
    assert [m["text"] for m in graph.private_messages("1_501")] == ["Hei, selvitämme asian."]
    assert len(graph.calls_to("POST", rf"/{PAGE}/messages")) == 1
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Lähetimme sinulle viestin."]
    assert bot.slack.ephemerals() == []  # no "already sent" for the copies


async def test_replayed_hide_and_unhide_call_facebook_once_each(replays: Replays, graph: FakeGraph) -> None:
    bot = replays.bot
    meta = Meta(bot, graph)
    anna = bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Roskapostia: osta halpoja kelloja!!!"))
    card = await bot.next_card()
    await bot.click(anna, card, "hide", **replays.how)
    await card.wait_for(lambda c: "Hidden on Facebook" in c.text and "unhide" in c.buttons)
    await _settled(replays)
    assert [c.data for c in graph.calls_to("POST", r"/1_501$")] == [{"is_hidden": "true"}]
    await bot.click(anna, card, "unhide", **replays.how)
    await card.wait_for(lambda c: "hide" in c.buttons and "Hidden on Facebook" not in c.text)
    await _settled(replays)
    calls = [c.data for c in graph.calls_to("POST", r"/1_501$")]
    assert calls == [{"is_hidden": "true"}, {"is_hidden": "false"}]
    assert not graph.is_hidden("1_501")


async def test_copies_checked_after_the_first_copy_acted_are_answered_as_the_first(
    fake_slack: FakeSlack, database_url: str, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Move to DM delivered three times at once, in the worst order: every copy passes the replay check
    before any acts, and the copies read the card only after the first one stored its private message.
    They must not be told "already sent" (Meta allows one per comment): they are answered as the first was."""
    config = meta_config(graph_api_url=graph.base_url)
    async with replaying("at_once", fake_slack, database_url, config) as replays:
        bot = replays.bot
        assert bot.app is not None
        meta = Meta(bot, graph)
        anna = bot.person("Anna")
        await meta.facebook(meta.fb_comment("1_501", "Tilaukseni ei ole tullut!"))
        card = await bot.next_card()
        view = await bot.open_modal(anna, card, "private_reply")

        copies = replays.how["replay"]
        checked: list[str | None] = []
        all_checked = asyncio.Event()
        seen = ReplayGuard.seen

        async def seen_together(guard: ReplayGuard, key: str | None) -> bool:
            found = await seen(guard, key)
            checked.append(key)
            if len(checked) >= copies:
                all_checked.set()
            await all_checked.wait()  # no copy goes on until every copy has been checked
            return found

        read_card = bot.app.workflow.card
        reads = 0

        async def first_read_first(conversation_id: int) -> CardData | None:
            nonlocal reads
            reads += 1
            if reads > 1:
                await asyncio.sleep(1.0)  # the first copy has acted by now
            return await read_card(conversation_id)

        monkeypatch.setattr(ReplayGuard, "seen", seen_together)
        monkeypatch.setattr(bot.app.workflow, "card", first_read_first)
        values = {"text": {"text": "Hei, selvitämme asian."}}
        answer = await bot.submit(anna, view, values, **replays.how)  # fails unless all copies are answered alike
        assert answer.status_code == 200 and answer.content == b""
        monkeypatch.undo()
        await card.wait_for(lambda c: "✅ Private message by <@UANNA>" in c.text)
        await bot.idle()
    assert [m["text"] for m in graph.private_messages("1_501")] == ["Hei, selvitämme asian."]
    assert bot.slack.ephemerals() == []
