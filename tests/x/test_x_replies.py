"""Replies from the card reach X, and every way X can refuse or lose one shows on the card.

The customer's mention is on the fake (``x.mention``); the team answers from the card; what the
customer sees is ``x_fake.replies_to(mention)``. Failures are X v2's own answers (``title``,
``detail``, ``type``, ``errors``), scripted with ``x_fake.fail_next_post`` or produced by the fake
itself (duplicates, revoked tokens, suspension, deleted posts, lost answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import string
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twitter_text.extract_urls import extract_urls_with_indices
from x_world import ACCESS_TOKEN, AINO, EERO, USERNAME, XWorld, sqlite_only, x_config

from chatops.i18n import Translator, catalog_problems
from chatops.models import AuditEntry, Message, OutboxJob, OutboxStatus
from chatops.sources import InboundMessage
from chatops.store import SEND_ANSWER
from chatops.testing.bot import Card, TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x.client import tweepy_client
from chatops_plugins.x.config import XConfig
from chatops_plugins.x.errors import Refusal
from chatops_plugins.x.replies import _never_sent, _retry_at, same_text
from chatops_plugins.x.source import XSource
from chatops_plugins.x.testing import FakeX, problem
from chatops_plugins.x.words import TEXTS

DUPLICATE = problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
RESTRICTED = problem(
    403, "Forbidden", "You can only reply to or quote posts where you are mentioned or are the author."
)
READ_ONLY_APP = problem(
    403,
    "Forbidden",
    "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.",
    "https://api.twitter.com/2/problems/oauth1-permissions",
)
RENEWED = "1500000000000000001-renewed-access-token"
UNAVAILABLE = problem(503, "Service Unavailable", "Service Unavailable")


async def _card(x: XWorld, text: str, who: tuple[str, str, str] = AINO) -> tuple[Card, str]:
    """A customer's mention on X, read by a polling pass, and its card in Slack; the card and the mention's id."""
    mention = x.mention(text, who=who)
    assert await x.poll()
    return await x.bot.next_card(), mention


async def _answers(bot: TestBot) -> list[Message]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        rows = await session.scalars(select(Message).where(Message.direction == "outbound").order_by(Message.id))
        return list(rows)


def _texts(posts: list[dict[str, Any]]) -> list[str]:
    return [p["text"] for p in posts]


# -- the reply reaches X -------------------------------------------------------------------------


@sqlite_only
async def test_a_reply_from_the_card_is_posted_under_the_customers_post(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    anna = x_bot.person("Anna")
    card, mention = await _card(x, "Tilaukseni #4411 ei ole tullut, apua?")
    await x_bot.reply(anna, card, "Hei Aino! Tarkistamme tilauksen #4411 heti ja palaamme asiaan. 🙏")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    (reply,) = x_fake.replies_to(mention)
    assert reply["text"] == "Hei Aino! Tarkistamme tilauksen #4411 heti ja palaamme asiaan. 🙏"
    assert reply["username"] == USERNAME
    # One signed POST /2/tweets with X's reply shape.
    (call,) = x_fake.calls_to("post")
    assert call.auth == "oauth1"
    assert call.body == {
        "text": "Hei Aino! Tarkistamme tilauksen #4411 heti ja palaamme asiaan. 🙏",
        "reply": {"in_reply_to_tweet_id": mention},
    }
    (answer,) = await _answers(x_bot)
    assert answer.external_id == reply["id"]
    assert answer.permalink == f"https://x.com/{USERNAME}/status/{reply['id']}"
    # The next pass reads the reply among the account's own posts: it is the answer already stored.
    stored = await x.stored_messages()
    assert await x.poll()
    await x_bot.idle()
    assert await x.stored_messages() == stored
    assert x.ops_alerts() == []


@sqlite_only
async def test_without_a_configured_handle_the_link_uses_i_web(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url)
    del config["plugins"]["x"]["username"]
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        x = XWorld(bot, x_fake)
        card, mention = await _card(x, "Moi")
        await bot.reply(bot.person("Anna"), card, "Moikka!")
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        (reply,) = x_fake.replies_to(mention)
        (answer,) = await _answers(bot)
        assert answer.permalink == f"https://x.com/i/web/status/{reply['id']}"


# -- X refuses -----------------------------------------------------------------------------------


@sqlite_only
async def test_a_duplicate_is_refused_on_the_card_with_advice_to_reword_and_nothing_is_posted(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    x.own_post("Kiitos viestistä! Palaamme asiaan pian.")  # the account said exactly this before
    card, mention = await _card(x, "Onko teillä gluteenittomia?")
    await x_bot.reply(x_bot.person("Anna"), card, "Kiitos viestistä! Palaamme asiaan pian.")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "⚠️ Reply by <@UANNA> failed: X refused it as a duplicate" in card.text
    assert "Reword the reply and send it again" in card.text
    assert x_fake.replies_to(mention) == []
    # Refused once, not retried automatically: the same text would be refused again.
    await x_bot.idle()
    assert len(x_fake.calls_to("post")) == 1
    assert x.ops_alerts() == []


@sqlite_only
async def test_the_card_says_why_in_the_teams_language(fake_slack: FakeSlack, database_url: str, x_fake: FakeX) -> None:
    config = {**x_config(x_fake.base_url), "team": {"language": "pl"}}
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        x = XWorld(bot, x_fake)
        x.own_post("Dziękujemy za wiadomość!")
        card, _ = await _card(x, "Czy macie opcje bezglutenowe?")
        await bot.reply(bot.person("Anna"), card, "Dziękujemy za wiadomość!")
        await card.wait_for(lambda c: "retry" in c.buttons)
        assert "X odrzucił wpis jako duplikat wpisu, który konto już opublikowało" in card.text


@sqlite_only
@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (RESTRICTED, "You can only reply to or quote posts where you are mentioned or are the author."),
        (
            problem(
                403,
                "Forbidden",
                "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                "engaged by the author of the post you are replying to.",
            ),
            "Reply to this conversation is not allowed",
        ),
    ],
)
async def test_a_reply_x_does_not_allow_fails_on_the_card_without_retrying_or_alerting(
    x_bot: TestBot, x: XWorld, x_fake: FakeX, body: dict[str, Any], shown: str
) -> None:
    card, mention = await _card(x, "Mitä mieltä olette tästä?")
    x_fake.fail_next_post(403, body)
    await x_bot.reply(x_bot.person("Anna"), card, "Kiitos kysymyksestä!")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "⚠️ Reply by <@UANNA> failed: X does not allow this reply (" in card.text
    assert shown in card.text
    await x_bot.idle()
    assert len(x_fake.calls_to("post")) == 1
    assert x_fake.replies_to(mention) == []
    assert x.ops_alerts() == []


@sqlite_only
async def test_a_reply_to_a_deleted_post_fails_on_the_card_and_retry_tries_again(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    ben = x_bot.person("Ben")
    card, mention = await _card(x, "Huono palvelu!")
    x_fake.delete(mention)
    await x_bot.reply(x_bot.person("Anna"), card, "Pahoittelut, kerrotko lisää?")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "X does not allow this reply (You attempted to reply to a Tweet that is deleted" in card.text
    await x_bot.click(ben, card, "retry")
    await _wait_calls(x_fake, "post", 2)  # the click is answered before its effect is queued
    await x_bot.idle()
    assert "retry" in card.buttons and "X does not allow this reply" in card.text
    assert len(x_fake.calls_to("post")) == 2


@sqlite_only
async def test_a_suspended_account_fails_the_reply_and_raises_one_alert(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    anna = x_bot.person("Anna")
    first, _ = await _card(x, "Eka")
    second, _ = await _card(x, "Toka", who=EERO)
    x_fake.suspend()
    await x_bot.reply(anna, first, "Vastaus yksi")
    await x_bot.reply(anna, second, "Vastaus kaksi")
    for card in (first, second):
        await card.wait_for(lambda c: "retry" in c.buttons)
        assert "failed: X says the account is suspended (The user used for authentication is suspended)" in card.text
    await x_bot.idle()
    (alert,) = x.ops_alerts()
    assert f"The X account @{USERNAME} is suspended" in alert
    assert len(x_fake.calls_to("post")) == 2


@sqlite_only
async def test_a_post_going_through_clears_the_suspension_alert_so_a_new_suspension_alerts_again(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    anna = x_bot.person("Anna")
    suspended = x_fake.suspended_error[1]
    first, _ = await _card(x, "Eka")
    x_fake.fail_next_post(403, suspended)
    await x_bot.reply(anna, first, "Vastaus yksi")
    await first.wait_for(lambda c: "retry" in c.buttons)
    await x_bot.idle()
    assert len(x.ops_alerts()) == 1
    # X lifted the suspension: the next reply goes through, and that settles the alert.
    second, _ = await _card(x, "Toka", who=EERO)
    await x_bot.reply(anna, second, "Vastaus kaksi")
    await second.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    third, _ = await _card(x, "Kolmas")
    x_fake.fail_next_post(403, suspended)
    await x_bot.reply(anna, third, "Vastaus kolme")
    await third.wait_for(lambda c: "retry" in c.buttons)
    await x_bot.idle()
    assert len(x.ops_alerts()) == 2


@sqlite_only
async def test_a_revoked_token_keeps_replies_queued_raises_one_alert_and_a_new_token_sends_them(
    fake_slack: FakeSlack, database_url: str, x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    anna = x_bot.person("Anna")
    first, first_id = await _card(x, "Ensimmäinen kysymys")
    second, second_id = await _card(x, "Toinen kysymys", who=EERO)
    x_fake.access_token = RENEWED  # the old one no longer works on X
    try:
        await x_bot.reply(anna, first, "Vastaus yksi")
        await x_bot.reply(anna, second, "Vastaus kaksi")
        for card in (first, second):
            await card.wait_for(lambda c: "not sent yet (X rejected the account's access token" in c.text)
        # Several attempts each, one alert naming the keys to set.
        await _wait_calls(x_fake, "post", 4)
        await x_bot.idle(horizon=0)
        (alert,) = x.ops_alerts()
        for name in (
            "plugins.x.access_token",
            "plugins.x.access_token_secret",
            "CHATOPS_PLUGINS__X__ACCESS_TOKEN",
            "CHATOPS_PLUGINS__X__ACCESS_TOKEN_SECRET",
        ):
            assert name in alert
        assert "x-access-secret-for-tests" not in alert and "access-token-for-tests" not in alert
        assert x_fake.replies_to(first_id) == [] and x_fake.replies_to(second_id) == []

        # The admin sets the new token and restarts chatops: the waiting replies go out.
        await x_bot.stop()
        config = x_config(x_fake.base_url, access_token=RENEWED)
        async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer):
            await first.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
            await second.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        assert _texts(x_fake.replies_to(first_id)) == ["Vastaus yksi"]
        assert _texts(x_fake.replies_to(second_id)) == ["Vastaus kaksi"]
        assert len(x.ops_alerts()) == 1
    finally:
        x_fake.access_token = ACCESS_TOKEN  # the fake outlives this test


@sqlite_only
async def test_an_app_without_write_permission_alerts_once_and_the_reply_goes_when_it_has_it(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    card, mention = await _card(x, "Voitteko auttaa?")
    x_fake.fail_next("post", 403, READ_ONLY_APP, times=2)
    await x_bot.reply(x_bot.person("Anna"), card, "Totta kai!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert _texts(x_fake.replies_to(mention)) == ["Totta kai!"]
    await x_bot.idle()
    (alert,) = x.ops_alerts()
    assert '"Read and write"' in alert and "plugins.x.access_token" in alert


@sqlite_only
async def test_server_errors_are_retried_and_the_reply_is_posted_once(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, mention = await _card(x, "Hei")
    x_fake.fail_next("post", 503, UNAVAILABLE, times=2)
    await x_bot.reply(x_bot.person("Anna"), card, "Hei hei!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert [c.status for c in x_fake.calls_to("post")] == [503, 503, 201]
    assert _texts(x_fake.replies_to(mention)) == ["Hei hei!"]


@sqlite_only
async def test_an_html_error_page_is_shown_as_its_status_not_as_html(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, _ = await _card(x, "Hei")
    x_fake.fail_next("post", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", times=1)
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    (first_error,) = [e for e in await _audit_errors(x_bot) if "X had a problem" in e]
    assert "HTTP 502" in first_error and "<html>" not in first_error


@sqlite_only
async def test_a_rate_limited_reply_waits_for_xs_reset(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, mention = await _card(x, "Hei")
    reset = int(x.clock.now) + 3600
    x_fake.fail_next_post(
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    shown = datetime.fromtimestamp(reset, UTC).strftime("%H:%M")
    await card.wait_for(lambda c: f"X allows more at {shown} UTC); retrying automatically" in c.text)
    job = await _reply_job(x_bot)
    # Rescheduled for X's reset (an hour on the shared clock), not the usual short backoff.
    assert job.due_at is not None
    assert _aware(job.due_at) > datetime.now(UTC) + timedelta(minutes=50)
    assert x_fake.replies_to(mention) == []


@sqlite_only
async def test_the_24_hour_post_limit_decides_the_wait_when_it_is_what_ran_out(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    card, _ = await _card(x, "Hei")
    window_reset = int(x.clock.now) + 60
    day_reset = int(x.clock.now) + 6 * 3600
    x_fake.fail_next_post(
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(window_reset),
            "x-user-limit-24hour-limit": "100",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(day_reset),
        },
    )
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    shown = datetime.fromtimestamp(day_reset, UTC).strftime("%H:%M")
    await card.wait_for(lambda c: f"X allows more at {shown} UTC" in c.text)
    job = await _reply_job(x_bot)
    assert job.due_at is not None
    assert _aware(job.due_at) > datetime.now(UTC) + timedelta(hours=5)


@sqlite_only
async def test_a_refusal_tweepy_cannot_read_is_retried_not_a_crash(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, mention = await _card(x, "Hei")
    # tweepy turns x-rate-limit-reset into int() itself; a garbled one raises ValueError inside tweepy.
    x_fake.fail_next_post(429, problem(429, "Too Many Requests", "Too Many Requests"), {"x-rate-limit-reset": "soon"})
    x_fake.fail_next_post(403, b'["not", "an", "object"]')  # and .get() on a JSON array: AttributeError
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert _texts(x_fake.replies_to(mention)) == ["Hei!"]
    errors = await _audit_errors(x_bot)
    assert [e.split(":")[0] for e in errors] == ["X had a problem (ValueError", "X had a problem (AttributeError"]


def test_reset_headers_are_read_whatever_their_case_and_garbled_ones_are_ignored() -> None:
    assert _retry_at({}) is None
    assert _retry_at({"x-rate-limit-reset": "soon"}) is None
    assert _retry_at({"X-Rate-Limit-Reset": "1800000000"}) == 1800000000


@sqlite_only
async def test_a_spent_monthly_usage_cap_fails_the_reply_and_alerts_once_instead_of_retrying(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    # X's answer when the plan's monthly cap is spent; the 15-minute window still has room.
    capped = {
        "title": "UsageCapExceeded",
        "period": "Monthly",
        "scope": "Product",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
    }
    anna = x_bot.person("Anna")
    first, _ = await _card(x, "Eka")
    second, _ = await _card(x, "Toka", who=EERO)
    x_fake.fail_next("post", 429, capped, {"x-rate-limit-remaining": "99"}, times=2)
    await x_bot.reply(anna, first, "Vastaus yksi")
    await x_bot.reply(anna, second, "Vastaus kaksi")
    for card in (first, second):
        await card.wait_for(lambda c: "retry" in c.buttons)
        assert "failed: X says the app's usage cap is spent (Usage cap exceeded: Monthly product cap)" in card.text
    await x_bot.idle()
    assert len(x_fake.calls_to("post")) == 2
    (alert,) = x.ops_alerts()
    assert "usage cap is spent" in alert


# -- lost answers ------------------------------------------------------------------------------


@sqlite_only
async def test_a_lost_answer_is_found_on_x_and_not_posted_again(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, mention = await _card(x, "Aukioloajat?")
    x_fake.drop_next_post_answer()
    await x_bot.reply(x_bot.person("Anna"), card, "Avoinna 10–16, tervetuloa! https://kahvila.example.fi/aukiolo")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    (reply,) = x_fake.replies_to(mention)  # once, though X's answer never arrived
    (answer,) = await _answers(x_bot)
    assert answer.external_id == reply["id"]
    assert answer.permalink == f"https://x.com/{USERNAME}/status/{reply['id']}"
    assert len(x_fake.calls_to("post")) == 1
    # One look at the account's posts since the customer's, beside the polling pass's own reads.
    (lookup,) = [c for c in x_fake.calls_to("user_tweets") if c.params.get("since_id") == mention]
    assert lookup.auth == "bearer"


@sqlite_only
async def test_an_answer_without_the_posts_id_is_looked_up_too(x_bot: TestBot, x: XWorld, x_fake: FakeX) -> None:
    card, mention = await _card(x, "Hei")
    x_fake.mangle_next("post", lambda body: {"data": {"text": body["data"]["text"]}})
    await x_bot.reply(x_bot.person("Anna"), card, "Hei vaan!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    (reply,) = x_fake.replies_to(mention)
    (answer,) = await _answers(x_bot)
    assert answer.external_id == reply["id"]


@sqlite_only
async def test_a_lost_answer_not_seen_on_x_says_check_x_and_retry_finds_it_instead_of_posting_twice(
    x_bot: TestBot, x: XWorld, x_fake: FakeX
) -> None:
    ben = x_bot.person("Ben")
    card, mention = await _card(x, "Missä tilaukseni on?")
    x_fake.drop_next_post_answer()
    # X's timeline lags behind: the lookup right after the lost answer does not show the reply yet.
    x_fake.mangle_next("user_tweets", lambda body: {"meta": {"result_count": 0}})
    await x_bot.reply(x_bot.person("Anna"), card, "Tilauksesi on matkalla.")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "failed: X's answer was lost (ConnectionError" in card.text
    assert "it may have been posted anyway. Check X before pressing Retry." in card.text
    await x_bot.idle()
    assert len(x_fake.calls_to("post")) == 1  # not retried automatically

    # Ben presses Retry anyway: X refuses the duplicate, and the reply X did post is found.
    await x_bot.click(ben, card, "retry")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    (reply,) = x_fake.replies_to(mention)
    assert reply["text"] == "Tilauksesi on matkalla."
    assert [c.status for c in x_fake.calls_to("post")] == [201, 403]
    (answer,) = await _answers(x_bot)
    assert answer.external_id == reply["id"]


@sqlite_only
async def test_a_read_timeout_whose_lookup_fails_too_is_final_and_says_check_x(
    fake_slack: FakeSlack, database_url: str
) -> None:
    with _silent_server() as url:
        config = x_config(url, timeout_seconds=0.3)
        async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
            await _ingest_unknown_post(bot)
            card = await bot.next_card()
            await bot.reply(bot.person("Anna"), card, "Hei!")
            await card.wait_for(lambda c: "retry" in c.buttons, timeout=10)
            assert "failed: X's answer was lost (ReadTimeout" in card.text
            assert "Check X before pressing Retry." in card.text


@sqlite_only
async def test_when_x_cannot_be_reached_nothing_was_sent_and_the_reply_is_retried(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = x_config(f"http://127.0.0.1:{_closed_port()}")
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        await _ingest_unknown_post(bot)
        card = await bot.next_card()
        await bot.reply(bot.person("Anna"), card, "Hei!")
        await card.wait_for(
            lambda c: (
                "not sent yet (X could not be reached (ConnectionError" in c.text
                and "nothing was sent); retrying automatically" in c.text
            )
        )


# -- pieces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "sent"),
    [
        ("Kiitos!", "Kiitos!"),
        ("Katso https://t.co/abc123XYZ0", "Katso https://kahvila.example.fi/menu?lang=fi"),
        ("Katso https://t.co/abc123XYZ0 ja https://t.co/zzz", "Katso kahvila.example.fi ja https://x.example.com/a"),
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        ("@aino_asiakas Kiitos!", "Kiitos!"),
        ("@aino_asiakas @eero_e Kiitos!", "@aino_asiakas Kiitos!"),
        ("Hyv\u00e4\u00e4 p\u00e4iv\u00e4\u00e4", "Hyva\u0308a\u0308 pa\u0308iva\u0308a\u0308"),
        ("Rivi 1\nRivi 2", "Rivi 1\r\nRivi 2"),
    ],
)
def test_a_post_as_x_shows_it_matches_the_text_that_was_sent(posted: str, sent: str) -> None:
    assert same_text(posted, sent)


@pytest.mark.parametrize(
    ("posted", "sent"),
    [
        ("Kiitos!", "Kiitos!!"),
        ("Katso https://t.co/abc", "Katso"),
        ("Kiitos @aino_asiakas", "Kiitos"),
        ("Fish &amp; chips", "Fish &amp;amp; chips"),
    ],
)
def test_a_different_post_does_not_match(posted: str, sent: str) -> None:
    assert not same_text(posted, sent)


def _as_x_shows_it(text: str, mentions: str) -> str:
    """``text`` as X's API shows the post: NFC, t.co links, ``&<>`` escaped, people replied to in front."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    for found in sorted(extract_urls_with_indices(text), key=lambda u: u["indices"][0], reverse=True):
        start, end = found["indices"]
        text = text[:start] + "https://t.co/AbCdEf1234" + text[end:]
    return mentions + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_REPLY_TEXT = st.lists(
    st.sampled_from(
        [
            *"abcäöåłś &<>!?.,\n",
            "e\u0301",
            "😀",
            "漢",
            " https://kahvila.example.fi/menu",
            " example.com",
            " @aino_asiakas",
        ]
    ),
    min_size=1,
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_REPLY_TEXT, mentions=st.sampled_from(["", "@aino_asiakas ", "@aino_asiakas @eero_e "]))
def test_the_lookup_recognises_any_sent_text_as_x_shows_it(text: str, mentions: str) -> None:
    assert same_text(_as_x_shows_it(text, mentions), text)


@settings(max_examples=300, deadline=None)
@given(text=_REPLY_TEXT, extra=st.sampled_from(["!", "x", "ä", "😀", "漢"]))
def test_the_lookup_does_not_take_a_post_with_other_words_for_ours(text: str, extra: str) -> None:
    assert not same_text(_as_x_shows_it(text + " " + extra, ""), text)


def test_every_x_text_is_there_in_english_finnish_and_polish_with_the_same_placeholders() -> None:
    assert catalog_problems(TEXTS) == []
    for language in ("en", "fi", "pl"):
        translator = Translator(language)
        translator.add(TEXTS)
        for key in TEXTS["en"]:
            fields = {f for _, f, _, _ in string.Formatter().parse(TEXTS["en"][key]) if f}
            assert translator(key, **dict.fromkeys(fields, "<v>"))


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (403, DUPLICATE, "You are not allowed to create a Tweet with duplicate content."),
        (
            400,
            {
                "errors": [{"parameters": {"text": ["x"]}, "message": "Your Tweet text is too long."}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            "Your Tweet text is too long.",
        ),
        (
            401,
            {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
            "Unauthorized",
        ),
        (403, {"errors": [{"code": 187, "message": "Status is a duplicate."}]}, "Status is a duplicate."),
        (500, b"<html>oops</html>", "HTTP 500 Internal Server Error"),
        (503, b"", "HTTP 503 Service Unavailable"),
        (403, b'["not", "an", "object"]', "HTTP 403 Forbidden"),
        (403, {"errors": "weird"}, "HTTP 403 Forbidden"),
        (403, {"detail": "x" * 1000}, "x" * 299 + "…"),
    ],
)
def test_xs_error_answers_are_read_whatever_their_shape(status: int, body: Any, detail: str) -> None:
    response = requests.Response()
    response.status_code = status
    response.reason = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }[status]
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    # tweepy itself cannot read a JSON error body that is not an object; it is handed none then.
    exc = tweepy.errors.HTTPException(response, response_json=None if isinstance(body, dict) else {})
    refusal = Refusal.of(exc)
    assert refusal.status == status
    assert refusal.detail == detail


def test_only_a_connection_that_never_opened_counts_as_never_sent() -> None:
    config = XConfig.model_validate(x_config(f"http://127.0.0.1:{_closed_port()}")["plugins"]["x"])
    client = tweepy_client(config)
    with pytest.raises(requests.RequestException) as refused:
        client.create_tweet(text="Hei")
    assert _never_sent(refused.value)
    with _silent_server() as url:
        client = tweepy_client(config.model_copy(update={"api_url": url, "timeout_seconds": 0.3}))
        with pytest.raises(requests.RequestException) as timed_out:
            client.create_tweet(text="Hei")
    assert isinstance(timed_out.value, requests.exceptions.ReadTimeout)
    assert not _never_sent(timed_out.value)


# -- helpers -----------------------------------------------------------------------------------


async def _ingest_unknown_post(bot: TestBot) -> None:
    """A mention the bot stores without any fake X behind it (for bots pointed at a dead or silent host)."""
    assert bot.app is not None
    source = bot.app.sources["x"]
    assert isinstance(source, XSource)
    post = "1860000000001000003"
    await source.ctx.ingest(InboundMessage(source="x", external_id=post, thread_id=post, text="Hei?"))


async def _wait_calls(fake: FakeX, endpoint: str, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(fake.calls_to(endpoint)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(fake.calls_to(endpoint))} calls to {endpoint}, wanted {count}")
        await asyncio.sleep(0.02)


async def _reply_job(bot: TestBot) -> OutboxJob:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        job = await session.scalar(
            select(OutboxJob).where(OutboxJob.kind == SEND_ANSWER, OutboxJob.status == OutboxStatus.PENDING.value)
        )
    assert job is not None
    return job


async def _audit_errors(bot: TestBot) -> list[str]:
    """The send errors recorded in the audit log, oldest first."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [str(r.detail["error"]) for r in rows if r.detail and "error" in r.detail]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Silent:
    """A loopback server that reads requests and never answers (X took it; its answer never comes)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.open: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.open.append(conn)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for conn in self.open:
            conn.close()
        self.sock.close()


@contextlib.contextmanager
def _silent_server() -> Iterator[str]:
    server = _Silent()
    try:
        yield f"http://127.0.0.1:{server.sock.getsockname()[1]}"
    finally:
        server.close()
