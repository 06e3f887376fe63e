"""Signed Meta webhooks with hostile or broken content: a 4xx naming it and nothing stored, or stored sanely."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from meta_world import PAGE, Meta

from chatops.testing.bot import TestBot
from chatops_plugins.facebook.source import NO_TEXT
from chatops_plugins.graph_api.testing import facebook_feed_payload

DEEP = b"[" * 1000 + b"]" * 1000


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
async def test_deeply_nested_json_is_400_on_both_meta_webhooks(meta_bot: TestBot, meta: Meta, platform: str) -> None:
    body = b'{"object":"page","entry":' + DEEP + b"}"
    response = await meta.send(platform, body)
    assert response.status_code == 400, response.text
    assert "nested deeper than 64 levels" in response.json()["error"]
    assert await meta.stored_messages() == 0


async def test_an_entry_time_of_400_digits_is_400(meta_bot: TestBot, meta: Meta) -> None:
    body = b'{"object":"page","entry":[{"id":"' + PAGE.encode() + b'","time":' + b"9" * 400 + b',"changes":[]}]}'
    response = await meta.send("facebook", body)
    assert response.status_code == 400
    assert "a number longer than 40 characters" in response.json()["error"]


@pytest.mark.parametrize(
    "created_time",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59+0000", 10**39, 1.0e30],
)
async def test_an_impossible_comment_time_is_replaced_by_the_arrival_time(
    meta_bot: TestBot, meta: Meta, created_time: object
) -> None:
    change = meta.fb_comment("1_701", "Milloin avaatte?")
    change["value"]["created_time"] = created_time
    entry = {"id": PAGE, "time": 10**12 * 99, "changes": [change]}  # the entry's time is impossible too
    before = datetime.now(UTC)
    assert (await meta.facebook(entry))["stored"] == 1
    card = await meta_bot.next_card()
    assert "Milloin avaatte?" in card.text
    assert meta_bot.app is not None
    async with meta_bot.app.db.read() as session:
        from sqlalchemy import select

        from chatops.models import Message

        row = (await session.execute(select(Message.source_created_at, Message.received_at))).one()
    assert row.source_created_at is None
    assert row.received_at.replace(tzinfo=UTC) >= before.replace(microsecond=0)


async def test_a_lone_surrogate_in_a_comment_is_shown_as_a_replacement_character(meta_bot: TestBot, meta: Meta) -> None:
    good = meta.fb_comment("1_702", "Kiitos!")
    broken = meta.fb_comment("1_703", "PLACEHOLDER")
    raw = json.dumps(facebook_feed_payload(good, broken), separators=(",", ":")).encode()
    raw = raw.replace(b'"PLACEHOLDER"', b'"x\\ud800y"')
    response = await meta.send("facebook", raw)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2
    texts = [(await meta_bot.next_card()).text for _ in range(2)]
    assert any("x\ufffdy" in text for text in texts)
    assert any("Kiitos!" in text for text in texts)


@pytest.mark.parametrize("text", ["\u200b\u200c\u200d", "\u2060\ufeff \u202e\u2066", "", " \n\t"])
async def test_a_facebook_comment_without_visible_text_is_shown_as_one_without_text(
    meta_bot: TestBot, meta: Meta, text: str
) -> None:
    assert (await meta.facebook(meta.fb_comment("1_704", text)))["stored"] == 1
    card = await meta_bot.next_card()
    assert NO_TEXT in card.text


async def test_an_instagram_comment_without_visible_text_is_shown_as_one_without_text(
    meta_bot: TestBot, meta: Meta
) -> None:
    assert (await meta.instagram(meta.ig_comment("17800000000000704", "\u200b\u2060\ufeff")))["stored"] == 1
    card = await meta_bot.next_card()
    assert "(no text)" in card.text
