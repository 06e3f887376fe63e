"""The Slack path hands Bolt the payload it already parsed: the signature must still be checked on the bytes sent.

A click is parsed once (``chatops.web.bolt_request``): Bolt gets the parsed payload and the
raw body, and its signature middleware must still refuse a body that is not the one signed.
"""

from __future__ import annotations

from chatops.testing.bot import SIGNING_SECRET, TestBot
from chatops.testing.slack_requests import block_actions_body, signed_headers


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
