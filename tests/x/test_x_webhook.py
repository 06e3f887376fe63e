"""X's Account Activity webhook (``[plugins.x] webhook = true``) with the real bot over real HTTP.

The CRC challenge is answered with the consumer secret's HMAC; a delivery signed in
``x-twitter-webhooks-signature`` makes cards of mentions and threads the account's own posts; a
refused request (bad or missing signature 401, malformed 400, oversized 413) stores nothing;
replays, retweets, other event kinds and other accounts' deliveries store nothing new.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from any_input import PROPERTY, any_json, any_text, check_answer, maybe, rows
from any_input import encode as any_encode
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from x_world import ACCOUNT, AINO, CONSUMER_SECRET, EERO, NAME, USERNAME, XWorld, sqlite_only, x_config

from chatops.models import Alert
from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x.activity_payloads import (
    XUser,
    encode,
    favorite_payload,
    follow_payload,
    quote_object,
    retweet_object,
    revoke_payload,
    signed_activity,
    tweet_create_payload,
    tweet_object,
)
from chatops_plugins.x.signature import SIGNATURE_HEADER
from chatops_plugins.x.testing import FakeX

#: The company account and two customers, as the builders take them.
COMPANY = XUser(ACCOUNT, USERNAME, NAME)
AINO_X = XUser(*AINO)
EERO_X = XUser(*EERO)
#: The largest body the test bot accepts (small, so the edge is cheap to reach).
LIMIT = 16 * 1024
PATH = "/webhooks/x"


@pytest.fixture
async def hook_bot(fake_slack: FakeSlack, database_url: str, x_fake: FakeX) -> AsyncIterator[TestBot]:
    """The real bot with the X plugin in webhook mode (polling on too, its interval never elapses)."""
    config = x_config(x_fake.base_url, webhook=True, max_body_bytes=LIMIT)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as running:
        yield running


class Hook:
    """X's side of the webhook: posts written on X, delivered as signed Account Activity POSTs."""

    def __init__(self, bot: TestBot) -> None:
        self.bot = bot
        self._ids = iter(range(1_860_000_000_000_000_001, 1_870_000_000_000_000_000))

    @property
    def http(self) -> httpx.AsyncClient:
        """The bot's HTTP client (requests to /webhooks/x)."""
        assert self.bot.http is not None
        return self.bot.http

    def new_id(self) -> str:
        """A fresh post id, larger than every earlier one (X's ids grow with time)."""
        return str(next(self._ids))

    def mention(self, text: str, *, who: XUser = AINO_X, **fields: Any) -> dict[str, Any]:
        """A customer's post mentioning the company."""
        return tweet_object(tweet_id=self.new_id(), text=text, user=who, mentions=[COMPANY], **fields)

    def own_post(self, text: str, *, in_reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A post the company wrote directly on X (a reply when ``in_reply_to`` is a post)."""
        parent = None
        if in_reply_to is not None:
            user = in_reply_to["user"]
            parent = (in_reply_to["id_str"], XUser(user["id_str"], user["screen_name"], user["name"]))
        return tweet_object(tweet_id=self.new_id(), text=text, user=COMPANY, in_reply_to=parent)

    async def post(
        self,
        body: bytes,
        *,
        signature: str | None = None,
        secret: str = CONSUMER_SECRET,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST raw bytes, signed with ``secret`` unless ``signature`` is given ("" sends no header)."""
        _, sent = signed_activity(secret, body)
        if signature is not None:
            sent.pop(SIGNATURE_HEADER)
            if signature:
                sent[SIGNATURE_HEADER] = signature
        sent.update(headers or {})
        return await self.http.post(PATH, content=body, headers=sent)

    async def deliver(self, *tweets: dict[str, Any], for_user_id: str = ACCOUNT) -> dict[str, Any]:
        """Deliver ``tweet_create_events`` signed as X does; the answer's JSON (asserting 200)."""
        response = await self.post(encode(tweet_create_payload(for_user_id, *tweets)))
        assert response.status_code == 200, response.text
        return response.json()

    async def stored(self) -> int:
        """Messages in the database."""
        return (await rows(self.bot))[1]


@pytest.fixture
def hook(hook_bot: TestBot) -> Hook:
    """X's side of the webhook for ``hook_bot``."""
    return Hook(hook_bot)


def expected_crc(token: str) -> str:
    """X's documented construction, written out here rather than taken from the plugin."""
    digest = hmac.new(CONSUMER_SECRET.encode(), token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


# ----------------------------------------------------------------------------------------- CRC


@sqlite_only
async def test_crc_challenge_is_answered_with_the_consumer_secrets_hmac(hook: Hook) -> None:
    token = "BxM3oQyeR2xVhK9Ee5d0_aWzTQrXm1-gsI2FzrNt4Lw="
    answer = await hook.http.get(PATH, params={"crc_token": token})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"response_token": expected_crc(token)}
    # A new token each time: the answer follows it.
    other = await hook.http.get(PATH, params={"crc_token": "another-token"})
    assert other.json() == {"response_token": expected_crc("another-token")}


@sqlite_only
async def test_crc_without_a_usable_token_is_400(hook: Hook) -> None:
    for params in ({}, {"crc_token": ""}, {"crc_token": "a" * 257}, {"crc_token": '{"for_user_id":"1"}'}):
        answer = await hook.http.get(PATH, params=params)
        assert answer.status_code == 400, params
        assert "crc_token" in answer.json()["error"]
        assert "response_token" not in answer.text
    at_limit = await hook.http.get(PATH, params={"crc_token": "a" * 256})
    assert at_limit.status_code == 200


@sqlite_only
async def test_crc_never_signs_a_body_the_webhook_would_accept(hook: Hook) -> None:
    # The CRC answer and the delivery signature are one construction: answering any token would
    # sign any body. A JSON object needs a brace, and tokens with braces are not answered.
    body = encode(tweet_create_payload(ACCOUNT, hook.mention("@kahvila_aurinko forged")))
    answer = await hook.http.get(PATH, params={"crc_token": body.decode()})
    assert answer.status_code == 400
    assert await hook.stored() == 0


@sqlite_only
async def test_webhook_is_not_served_when_turned_off(x_bot: TestBot) -> None:
    assert x_bot.http is not None
    answer = await x_bot.http.get(PATH, params={"crc_token": "abc"})
    assert answer.status_code == 404


# ------------------------------------------------------------------------------------ mentions


async def test_signed_mention_becomes_a_card(hook_bot: TestBot, hook: Hook) -> None:
    written = datetime.now(UTC) - timedelta(minutes=3)
    mention = hook.mention(
        "@kahvila_aurinko Onko teillä gluteenitonta pullaa? Hinnat & aukiolo: https://example.com/menu?a=1&b=2",
        created_at=written,
    )
    # X sends the text HTML-escaped, with a t.co link.
    assert "&amp;" in mention["text"] and "https://t.co/" in mention["text"]
    answer = await hook.deliver(mention)
    assert answer == {"received": 1, "stored": 1, "duplicates": 0, "ignored": 0}
    card = await hook_bot.next_card()
    # What the customer wrote, as written: the entity undone, the link where it goes.
    assert "Onko teillä gluteenitonta pullaa? Hinnat &amp; aukiolo" in card.text  # escaped once, for Slack
    assert "https://example.com/menu?a=1&amp;b=2" in card.text
    assert "t.co" not in card.text
    assert AINO[2] in card.text
    assert card.buttons["open"]["url"] == f"https://x.com/{AINO[1]}/status/{mention['id_str']}"
    assert "reply" in card.buttons
    assert await hook.stored() == 1


@sqlite_only
async def test_a_long_post_arrives_whole_not_cut(hook_bot: TestBot, hook: Hook) -> None:
    text = "@kahvila_aurinko " + "Tilasin kakun lauantaiksi, mutta vahvistusta ei ole tullut. " * 4 + "LOPPU"
    mention = hook.mention(text)
    assert mention["truncated"] is True and "LOPPU" not in mention["text"]
    await hook.deliver(mention)
    card = await hook_bot.next_card()
    full = await card.wait_for(lambda c: "LOPPU" in c.text or "LOPPU" in c.thread_text())
    assert "…" not in full.text.split("Tilasin", 1)[1].split("LOPPU")[0]


# ------------------------------------------------------------------------------ refused requests


async def test_bad_or_missing_signature_is_401_and_stores_nothing(hook_bot: TestBot, hook: Hook) -> None:
    body = encode(tweet_create_payload(ACCOUNT, hook.mention("@kahvila_aurinko hei")))
    good = signed_activity(CONSUMER_SECRET, body)[1][SIGNATURE_HEADER]
    other_body = signed_activity(CONSUMER_SECRET, body + b" ")[1][SIGNATURE_HEADER]
    refused = {
        "missing": await hook.post(body, signature=""),
        "other secret": await hook.post(body, secret="not-the-consumer-secret"),
        "another body's": await hook.post(body, signature=other_body),
        "hex, not base64": await hook.post(body, signature="sha256=" + hashlib.sha256(body).hexdigest()),
        "another algorithm": await hook.post(body, signature=good.replace("sha256=", "sha1=")),
        "no prefix": await hook.post(body, signature=good.removeprefix("sha256=")),
        "Meta's header": await hook.post(body, signature="", headers={"X-Hub-Signature-256": good}),
    }
    for why, answer in refused.items():
        assert answer.status_code == 401, why
        assert SIGNATURE_HEADER in answer.json()["error"], why
    assert await rows(hook_bot) == (0, 0, 0, 0)
    # The same body with X's signature is accepted: the refusals were about the signature alone.
    ok = await hook.post(body, signature=good)
    assert ok.status_code == 200 and ok.json()["stored"] == 1


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON", b"{not json", "not valid JSON"),
    ("a list", [], "body: must be an object"),
    ("no for_user_id", {"tweet_create_events": []}, "for_user_id: is required"),
    ("for_user_id a name", {"for_user_id": "kahvila", "tweet_create_events": []}, "for_user_id: must be a numeric"),
    ("events not a list", {"for_user_id": ACCOUNT, "tweet_create_events": {}}, "tweet_create_events: must be a list"),
    ("post not an object", {"for_user_id": ACCOUNT, "tweet_create_events": ["1"]}, "tweet_create_events[0]: must"),
]


@sqlite_only
async def test_malformed_delivery_is_400_naming_the_field_and_stores_nothing(hook_bot: TestBot, hook: Hook) -> None:
    for why, payload, expected in MALFORMED:
        body = payload if isinstance(payload, bytes) else encode(payload)
        answer = await hook.post(body)
        assert answer.status_code == 400, why
        assert expected in answer.json()["error"], (why, answer.text)

    def broken(**change: Any) -> dict[str, Any]:
        return hook.mention("@kahvila_aurinko toinen", extra=change)

    user_without_id = {"screen_name": "x", "name": "X"}
    cases = {
        "tweet_create_events[1].id_str: is required": broken(id_str=None),
        "tweet_create_events[1].id_str: must be a numeric X id": broken(id_str="12a"),
        "tweet_create_events[1].user: must be an object": broken(user="aino"),
        "tweet_create_events[1].user.id_str: is required": broken(user=user_without_id),
        "tweet_create_events[1].text: must be a string": broken(text=["hei"]),
        "tweet_create_events[1].created_at: must be a time like": broken(created_at="2018-10-10T20:19:24Z"),
        "tweet_create_events[1].truncated: must be true or false": broken(truncated="no"),
        "tweet_create_events[1].extended_tweet.full_text: is required": broken(extended_tweet={}),
        "tweet_create_events[1].in_reply_to_status_id_str: must be a numeric X id": broken(
            in_reply_to_status_id_str="abc"
        ),
        "tweet_create_events[1].entities.urls[0].url: is required": broken(entities={"urls": [{}]}),
    }
    for expected, bad in cases.items():
        # A good mention first: the whole delivery is refused, so it is not stored either.
        good = hook.mention("@kahvila_aurinko ensimmäinen")
        answer = await hook.post(encode(tweet_create_payload(ACCOUNT, good, bad)))
        assert answer.status_code == 400, expected
        assert expected in answer.json()["error"], answer.text
    assert await rows(hook_bot) == (0, 0, 0, 0)
    assert hook_bot.cards() == []


@sqlite_only
async def test_body_over_the_limit_is_413_and_one_at_the_limit_is_read(hook_bot: TestBot, hook: Hook) -> None:
    body = encode(tweet_create_payload(ACCOUNT, hook.mention("@kahvila_aurinko iso")))
    padded = body[:-1] + b" " * (LIMIT - len(body)) + b"}"
    assert len(padded) == LIMIT
    over = await hook.post(padded + b" ")
    assert over.status_code == 413
    assert await rows(hook_bot) == (0, 0, 0, 0)
    at_limit = await hook.post(padded)
    assert at_limit.status_code == 200
    assert at_limit.json()["stored"] == 1


# -------------------------------------------------------------------------------- what is stored


async def test_replayed_delivery_stores_once(hook_bot: TestBot, hook: Hook) -> None:
    body = encode(tweet_create_payload(ACCOUNT, hook.mention("@kahvila_aurinko Missä tilaukseni on?")))
    first = await hook.post(body)
    again = await hook.post(body)
    assert first.json()["stored"] == 1
    assert again.status_code == 200
    assert again.json() == {"received": 1, "stored": 0, "duplicates": 1, "ignored": 0}
    await hook_bot.next_card()
    await hook_bot.idle()
    assert len(hook_bot.cards()) == 1
    assert await hook.stored() == 1


async def test_own_post_in_a_known_thread_shows_in_the_thread(hook_bot: TestBot, hook: Hook) -> None:
    mention = hook.mention("@kahvila_aurinko Milloin olette auki sunnuntaina?")
    await hook.deliver(mention)
    card = await hook_bot.next_card()
    reply = hook.own_post("@aino_asiakas Sunnuntaisin klo 10–16!", in_reply_to=mention)
    answer = await hook.deliver(reply)
    assert answer["stored"] == 1
    await card.wait_for(lambda c: "Sunnuntaisin klo 10–16!" in c.thread_text())
    assert f"Answered on X by {NAME}" in card.thread_text()
    await card.wait_for(lambda c: "💬 Replied" in c.text)
    # The customer answers the company's reply: it joins the same card.
    thanks = hook.mention("@kahvila_aurinko Kiitos, nähdään!", in_reply_to=(reply["id_str"], COMPANY))
    assert (await hook.deliver(thanks))["stored"] == 1
    await card.wait_for(lambda c: "Kiitos, nähdään!" in c.thread_text())
    await hook_bot.idle()
    assert len(hook_bot.cards()) == 1
    assert await hook.stored() == 3


@sqlite_only
async def test_own_posts_outside_any_conversation_store_nothing(hook_bot: TestBot, hook: Hook) -> None:
    answer = await hook.deliver(hook.own_post("Uusi kanelipulla on täällä! 🥐"))
    assert answer == {"received": 1, "stored": 0, "duplicates": 0, "ignored": 1}
    await hook_bot.idle()
    assert hook_bot.cards() == []
    assert await hook.stored() == 0


async def test_a_mention_and_the_companys_reply_in_one_delivery_share_the_card(hook_bot: TestBot, hook: Hook) -> None:
    mention = hook.mention("@kahvila_aurinko Onko kahvi reilua kauppaa?")
    reply = hook.own_post("@aino_asiakas On, kaikki kahvimme!", in_reply_to=mention)
    # X may put both in one delivery, and not oldest first.
    answer = await hook.deliver(reply, mention)
    assert answer == {"received": 2, "stored": 2, "duplicates": 0, "ignored": 0}
    card = await hook_bot.next_card()
    assert "Onko kahvi reilua kauppaa?" in card.text
    await card.wait_for(lambda c: "On, kaikki kahvimme!" in c.thread_text())
    await hook_bot.idle()
    assert len(hook_bot.cards()) == 1


@sqlite_only
async def test_retweets_quotes_without_a_mention_and_other_events_store_nothing(hook_bot: TestBot, hook: Hook) -> None:
    mention = hook.mention("@kahvila_aurinko Paras pulla ikinä!")
    await hook.deliver(mention)
    card = await hook_bot.next_card()
    announcement = hook.own_post("Uusi kanelipulla on täällä! 🥐")
    # A retweet of the mention (by someone else, or by the company) repeats it: no new words, no card.
    retweets = [
        retweet_object(tweet_id=hook.new_id(), user=EERO_X, retweeted=mention),
        retweet_object(tweet_id=hook.new_id(), user=COMPANY, retweeted=mention),
        retweet_object(tweet_id=hook.new_id(), user=AINO_X, retweeted=announcement),
    ]
    # A quote of the company's post that does not mention it is not in the mentions timeline either.
    quote = quote_object(tweet_id=hook.new_id(), text="Pakko kokeilla", user=EERO_X, quoted=announcement)
    answer = await hook.deliver(*retweets, quote)
    assert answer == {"received": 4, "stored": 0, "duplicates": 0, "ignored": 4}
    for other in (
        favorite_payload(ACCOUNT, user=EERO_X, tweet=announcement),
        follow_payload(ACCOUNT, source=EERO_X, target=COMPANY),
        revoke_payload("783214"),  # another account of the same app
        {"for_user_id": ACCOUNT, "direct_message_indicate_typing_events": [{"sender_id": EERO[0]}]},
    ):
        response = await hook.post(encode(other))
        assert response.status_code == 200, other
        assert response.json()["stored"] == 0
    # A quote that mentions the company is a mention like any other.
    mentioning = quote_object(
        tweet_id=hook.new_id(),
        text="@kahvila_aurinko miksi tämä?",
        user=EERO_X,
        quoted=announcement,
        mentions=[COMPANY],
    )
    assert (await hook.deliver(mentioning))["stored"] == 1
    await hook_bot.idle()
    assert len(hook_bot.cards()) == 2
    assert "Paras pulla ikinä!" in card.text
    assert await hook.stored() == 2


@sqlite_only
async def test_a_delivery_for_another_account_is_answered_and_not_stored(
    hook_bot: TestBot, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    other_account = "783214"
    mention = tweet_object(
        tweet_id=hook.new_id(),
        text="@someone_else hei",
        user=AINO_X,
        mentions=[XUser(other_account, "someone_else", "S")],
    )
    with caplog.at_level(logging.WARNING, logger="chatops_plugins.x.webhook"):
        answer = await hook.deliver(mention, for_user_id=other_account)
    assert answer == {"received": 1, "stored": 0, "duplicates": 0, "ignored": 1}
    assert any(
        other_account in r.getMessage() and "not the configured user_id" in r.getMessage() for r in caplog.records
    )
    await hook_bot.idle()
    assert await rows(hook_bot) == (0, 0, 0, 0)


@sqlite_only
async def test_webhook_and_polling_make_the_same_card_and_never_two(
    hook_bot: TestBot, hook: Hook, x_fake: FakeX
) -> None:
    world = XWorld(hook_bot, x_fake)
    text = "@kahvila_aurinko Hinta & saatavuus? Katso https://example.com/a?b=1&c=2"
    polled_id = world.mention(text)
    hooked_id = world.mention(text)
    created = datetime.fromisoformat(x_fake.tweet(hooked_id)["created_at"].replace("Z", "+00:00"))
    delivered = tweet_object(tweet_id=hooked_id, text=text, user=AINO_X, created_at=created, mentions=[COMPANY])
    assert (await hook.deliver(delivered))["stored"] == 1
    hooked = await hook_bot.next_card()
    # Polling then reads both: the one the webhook brought is a duplicate, not a second card.
    assert await world.poll()
    polled = await hook_bot.next_card()
    await hook_bot.idle()
    assert len(hook_bot.cards()) == 2
    assert await hook.stored() == 2

    def shown(card_text: str, post_id: str) -> list[str]:
        return [line.replace(post_id, "<id>") for line in card_text.splitlines() if not line.startswith("Received")]

    assert shown(hooked.text, hooked_id) == shown(polled.text, polled_id)
    assert hooked.buttons["open"]["url"] == f"https://x.com/{AINO[1]}/status/{hooked_id}"
    assert polled.buttons["open"]["url"] == f"https://x.com/{AINO[1]}/status/{polled_id}"


# ------------------------------------------------------------------------------------ properties


@sqlite_only
@PROPERTY
@given(data=st.data())
async def test_any_change_to_a_signed_delivery_is_refused_and_stores_nothing(
    hook_bot: TestBot, hook: Hook, data: st.DataObject
) -> None:
    body = encode(tweet_create_payload(ACCOUNT, hook.mention("@kahvila_aurinko muuttamaton")))
    header = signed_activity(CONSUMER_SECRET, body)[1][SIGNATURE_HEADER]
    before = await rows(hook_bot)
    if data.draw(st.booleans(), label="change the body"):
        i = data.draw(st.integers(0, len(body) - 1), label="at")
        flip = data.draw(st.integers(1, 255), label="xor")
        body = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    else:
        i = data.draw(st.integers(len("sha256="), len(header) - 1), label="at")
        # Any character a header value can carry (HTTP refuses control characters before sending).
        printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
        char = data.draw(printable.filter(lambda c: c != header[i]), label="to")
        header = header[:i] + char + header[i + 1 :]
    answer = await hook.post(body, signature=header)
    assert answer.status_code == 401, answer.text
    assert await rows(hook_bot) == before


@sqlite_only
async def test_the_echo_of_the_teams_reply_is_not_a_second_answer(hook_bot: TestBot, hook: Hook, x_fake: FakeX) -> None:
    world = XWorld(hook_bot, x_fake)
    text = "@kahvila_aurinko Onko lounas tänään vegaaninen?"
    mention_id = world.mention(text)
    await hook.deliver(tweet_object(tweet_id=mention_id, text=text, user=AINO_X, mentions=[COMPANY]))
    card = await hook_bot.next_card()
    await hook_bot.reply(hook_bot.person("Anna"), card, "On, tänään kikhernecurry!")
    await card.wait_for(lambda c: "💬 Replied" in c.text and len(x_fake.posts) == 1)
    (posted,) = x_fake.posts
    # X delivers the account's new post to the webhook too: it is the answer the team sent.
    echo = tweet_object(tweet_id=posted["id"], text=posted["text"], user=COMPANY, in_reply_to=(mention_id, AINO_X))
    assert (await hook.deliver(echo))["duplicates"] == 1
    await hook_bot.idle()
    assert "Answered on X" not in card.thread_text()
    assert await hook.stored() == 2


ids = st.from_regex(r"[0-9]{1,19}", fullmatch=True)
times = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.strftime("%a %b %d %H:%M:%S %z %Y")),
    st.sampled_from(
        ["Wed Oct 10 20:19:24 +0000 2018", "Mon Feb 31 10:00:00 +0000 2020", "Sun Jan 01 00:00:00 +2400 9999"]
    ),
)
users = st.fixed_dictionaries(
    {"id_str": maybe(st.sampled_from([ACCOUNT, AINO[0]]) | ids), "screen_name": maybe(any_text)},
    optional={"name": maybe(any_text)},
)
entity_lists = st.fixed_dictionaries(
    {},
    optional={
        "urls": maybe(st.lists(st.fixed_dictionaries({"url": maybe(any_text), "expanded_url": maybe(any_text)}))),
        "user_mentions": maybe(st.lists(st.fixed_dictionaries({"id_str": maybe(st.just(ACCOUNT) | ids)}))),
    },
)
tweets = st.fixed_dictionaries(
    {"id_str": maybe(ids), "text": maybe(any_text), "user": maybe(users), "created_at": maybe(times)},
    optional={
        "truncated": maybe(st.booleans()),
        "extended_tweet": maybe(
            st.fixed_dictionaries({"full_text": maybe(any_text)}, optional={"entities": entity_lists})
        ),
        "entities": maybe(entity_lists),
        "in_reply_to_status_id_str": maybe(ids),
        "in_reply_to_user_id_str": maybe(st.just(ACCOUNT) | ids),
        "retweeted_status": maybe(st.just({"id_str": "1"})),
    },
)
deliveries = st.fixed_dictionaries(
    {"for_user_id": maybe(st.just(ACCOUNT) | ids)},
    optional={
        "tweet_create_events": maybe(st.lists(tweets, max_size=3)),
        "favorite_events": any_json,
        "user_has_blocked": maybe(st.sampled_from(["true", "false"])),
    },
)


@sqlite_only
@PROPERTY
@given(payload=deliveries, ascii_only=st.booleans())
async def test_any_signed_delivery_is_answered_2xx_or_4xx_and_a_4xx_stores_nothing(
    hook_bot: TestBot, hook: Hook, payload: Any, ascii_only: bool
) -> None:
    before = await rows(hook_bot)
    answer = await hook.post(any_encode(payload, ascii_only))
    await check_answer(hook_bot, answer, before)
    if answer.status_code >= 400:
        assert answer.status_code == 400 and answer.json()["error"]


@sqlite_only
async def test_the_account_revoking_the_app_is_one_ops_alert_cleared_by_its_next_post(
    hook_bot: TestBot, hook: Hook, x_fake: FakeX
) -> None:
    world = XWorld(hook_bot, x_fake)
    for _ in range(2):  # X may deliver it again: still one alert
        answer = await hook.post(encode(revoke_payload(ACCOUNT)))
        assert answer.status_code == 200
    await hook_bot.idle()
    (alert,) = world.ops_alerts()
    assert f"@{USERNAME}" in alert and "removed this app's access" in alert
    assert "plugins.x.access_token" in alert
    assert CONSUMER_SECRET not in alert
    assert await open_alerts(hook_bot) == ["webhook_revoked"]
    # Access is back and the subscription renewed: the next delivered post clears the alert.
    await hook.deliver(hook.mention("@kahvila_aurinko taas täällä"))
    assert await open_alerts(hook_bot) == []


async def open_alerts(bot: TestBot) -> list[str]:
    """Keys of the X plugin's alerts not cleared."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        found = await session.scalars(select(Alert.key).where(Alert.plugin == "x", Alert.cleared_at.is_(None)))
        return list(found.all())


@sqlite_only
async def test_a_post_with_an_impossible_time_is_stored_with_its_arrival_time(hook_bot: TestBot, hook: Hook) -> None:
    # Refusing the delivery over X's clock would lose the mention after X's retries; the card
    # shows when it arrived instead.
    mention = hook.mention("@kahvila_aurinko kello on väärässä", created_at=datetime(2099, 1, 1, tzinfo=UTC))
    assert mention["created_at"] == "Thu Jan 01 00:00:00 +0000 2099"
    assert (await hook.deliver(mention))["stored"] == 1
    card = await hook_bot.next_card()
    assert "2099" not in card.text
    assert "Received " in card.text
