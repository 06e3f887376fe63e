"""Replayed clicks and submissions reach Facebook once: public reply, Move to DM with its note, Hide, Unhide."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from meta_world import PAGE, Meta, meta_config
from replaying import MODES, Replays, replaying

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
