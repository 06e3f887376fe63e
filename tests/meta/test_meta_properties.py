"""Property-based probes of /webhooks/facebook and /webhooks/instagram: any signed input, 2xx or a 4xx saying why.

Meta-shaped bodies with any JSON value in any field (and any text in the text fields), and the GET
subscription handshake with any parameters. Bounded like tests/test_http_properties.py.
"""

from __future__ import annotations

from typing import Any

import httpx
from any_input import PROPERTY, TIMEOUT, any_json, any_text, check_answer, encode, maybe, rows
from hypothesis import given
from hypothesis import strategies as st
from meta_world import APP_SECRET, IG, PAGE, VERIFY_TOKEN, Meta

from chatops.testing.bot import TestBot
from chatops_plugins.graph_api.signature import SIGNATURE_HEADER, sign

ids = st.from_regex(r"[0-9]{1,6}(_[0-9]{1,6})?", fullmatch=True)
times = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-23T18:50:07+0000"]),
)
facebook_values = st.fixed_dictionaries(
    {"item": maybe(st.just("comment")), "verb": maybe(st.sampled_from(["add", "edited", "remove", "hide"]))},
    optional={
        "comment_id": maybe(ids),
        "post_id": maybe(ids.map(lambda i: f"{PAGE}_{i}")),
        "parent_id": maybe(ids),
        "from": maybe(st.fixed_dictionaries({}, optional={"id": maybe(ids), "name": maybe(any_text)})),
        "message": maybe(any_text),
        "created_time": maybe(times),
        "photo": maybe(any_text),
        "post": maybe(st.fixed_dictionaries({}, optional={"permalink_url": maybe(any_text)})),
    },
)
instagram_values = st.fixed_dictionaries(
    {"id": maybe(ids), "media": maybe(st.fixed_dictionaries({"id": maybe(ids)}))},
    optional={
        "text": maybe(any_text),
        "parent_id": maybe(ids),
        "from": maybe(st.fixed_dictionaries({}, optional={"id": maybe(ids), "username": maybe(any_text)})),
        "timestamp": maybe(times),
    },
)


def body_of(platform: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A whole webhook body of ``platform`` with changes whose values come from ``values``."""
    field = "feed" if platform == "facebook" else "comments"
    change = st.fixed_dictionaries({"field": maybe(st.just(field)), "value": maybe(values)})
    entry = st.fixed_dictionaries(
        {"id": maybe(st.just(PAGE if platform == "facebook" else IG)), "changes": maybe(st.lists(change, max_size=3))},
        optional={"time": maybe(times)},
    )
    obj = "page" if platform == "facebook" else "instagram"
    return st.fixed_dictionaries({"object": maybe(st.just(obj)), "entry": maybe(st.lists(entry, max_size=3))})


async def post_signed(bot: TestBot, platform: str, body: bytes) -> httpx.Response:
    """POST ``body`` to the platform's webhook, signed with the app secret as Meta signs it."""
    assert bot.http is not None
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(APP_SECRET, body)}
    return await bot.http.post(f"/webhooks/{platform}", content=body, headers=headers, timeout=TIMEOUT)


async def check(bot: TestBot, response: httpx.Response, before: tuple[int, ...]) -> None:
    """No 5xx; a 4xx names the problem in JSON (Meta's delivery log shows it) and stores nothing."""
    await check_answer(bot, response, before)
    if response.status_code >= 400:
        assert response.json()["error"]


@PROPERTY
@given(payload=body_of("facebook", facebook_values), ascii_only=st.booleans())
async def test_facebook_webhook_answers_any_signed_body_with_2xx_or_4xx(
    meta_bot: TestBot, meta: Meta, payload: Any, ascii_only: bool
) -> None:
    before = await rows(meta_bot)
    body = encode(payload, ascii_only)
    await check(meta_bot, await post_signed(meta_bot, "facebook", body), before)


@PROPERTY
@given(payload=body_of("instagram", instagram_values) | any_json, ascii_only=st.booleans())
async def test_instagram_webhook_answers_any_signed_body_with_2xx_or_4xx(
    meta_bot: TestBot, meta: Meta, payload: Any, ascii_only: bool
) -> None:
    before = await rows(meta_bot)
    body = encode(payload, ascii_only)
    await check(meta_bot, await post_signed(meta_bot, "instagram", body), before)


query_text = st.text(st.characters(codec="utf-8"), max_size=300)


@PROPERTY
@given(
    platform=st.sampled_from(["facebook", "instagram"]),
    params=st.fixed_dictionaries(
        {},
        optional={
            "hub.mode": st.sampled_from(["subscribe", "unsubscribe"]) | query_text,
            "hub.challenge": query_text,
            "hub.verify_token": st.just(VERIFY_TOKEN) | query_text,
        },
    ),
    extra=st.dictionaries(query_text, query_text, max_size=2),
)
async def test_the_subscription_handshake_answers_any_query_with_2xx_or_4xx(
    meta_bot: TestBot, platform: str, params: dict[str, str], extra: dict[str, str]
) -> None:
    assert meta_bot.http is not None
    response = await meta_bot.http.get(f"/webhooks/{platform}", params={**extra, **params}, timeout=TIMEOUT)
    assert response.status_code < 500
    if response.status_code == 200:
        assert response.text == params.get("hub.challenge")
        assert params.get("hub.verify_token") == VERIFY_TOKEN
    else:
        assert response.json()["error"]
