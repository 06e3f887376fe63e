"""The Slack path hands Bolt the payload it already parsed: the signature must still be checked on the bytes sent.

A click is parsed once (``chatops.web.bolt_request``): Bolt gets the parsed payload and the
raw body, and its signature middleware must still refuse a body that is not the one signed.
"""

from __future__ import annotations

import json

from any_input import PROPERTY
from hypothesis import given
from hypothesis import strategies as st

from chatops.testing.bot import SIGNING_SECRET, TestBot
from chatops.testing.slack_requests import block_actions_body, signed_headers
from chatops.web import has_unstorable_escape


async def test_a_click_signed_with_another_secret_or_altered_after_signing_is_401_and_changes_nothing(
    bot: TestBot,
) -> None:
    anna = bot.person("Anna")
    await bot.comment("hands off")
    card = await bot.next_card()
    body = block_actions_body(
        user_id=anna.id,
        user_name="anna",
        channel_id=card.channel,
        message_ts=card.ts,
        action_id=card.buttons["claim"]["action_id"],
        value=card.buttons["claim"]["value"],
        message=card.message,
    )
    assert bot.http is not None
    forged = await bot.http.post("/slack/events", content=body, headers=signed_headers("not-the-secret", body))
    # Same length, one user changed: a signature over the original does not cover it.
    altered = body.replace(anna.id, "UBOBB", 1)
    assert len(altered) == len(body) and altered != body
    swapped = await bot.http.post("/slack/events", content=altered, headers=signed_headers(SIGNING_SECRET, body))
    assert (forged.status_code, swapped.status_code) == (401, 401)
    await bot.idle()
    assert "claim" in card.buttons and "Claimed by" not in card.text
    assert bot.slack.calls_to("chat.update") == []


async def test_a_signed_click_parsed_once_still_claims_the_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("mine")
    card = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text and "unclaim" in c.buttons)


tricky = st.lists(
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\\", "u", "d800", "😀", "ä", '"', "a"])
    | st.characters(),
    max_size=12,
).map("".join)


@PROPERTY
@given(texts=st.lists(tricky, min_size=1, max_size=3), ascii_only=st.booleans())
def test_only_a_lone_surrogate_or_nul_in_the_json_counts_as_unstorable(texts: list[str], ascii_only: bool) -> None:
    # Slack writes emoji as escaped surrogate pairs; those are text and must not cost a walk of the payload.
    try:
        document = json.dumps({"values": texts}, ensure_ascii=ascii_only)
        document.encode("utf-8")  # what reaches the parser was UTF-8 on the wire
    except UnicodeEncodeError:
        document = json.dumps({"values": texts}, ensure_ascii=True)
    # Judged on what the parser gives back: an escaped high and low half side by side make one character.
    decoded = json.loads(document)["values"]
    unstorable = any(c == "\x00" or "\ud800" <= c <= "\udfff" for text in decoded for c in text)
    assert has_unstorable_escape(document) == unstorable


def test_an_escaped_backslash_before_u_d800_is_text_not_a_surrogate() -> None:
    assert not has_unstorable_escape(r'{"a": "\\ud800"}')
    assert has_unstorable_escape(r'{"a": "\\\ud800"}')
    assert not has_unstorable_escape(r'{"a": "\ud83d\ude00"}')
    assert has_unstorable_escape(r'{"a": "\ud83d", "b": "\ude00"}')
    assert has_unstorable_escape(r'{"a": "\u0000"}')
