"""The Discord fake's protocol rules, checked without discord.py: raw gateway frames and plain HTTP.

Close codes for every refusal, sessions ended or kept by the client's close code, error JSON for
bad requests, history paging against a model, and properties: any frame or body gets an answer
Discord would give, never a crash; ``AllowedMentions.none()`` never pings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import httpx
import pytest
from discord_world import AINO, BOT_ID, FEEDBACK, GUILD, OFFTOPIC, SUPPORT, THREAD, TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops_plugins.discord.fake_world import World, pings
from chatops_plugins.discord.testing import FakeDiscord


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client sending the bot's token (one connection for many requests)."""
    with httpx.Client(headers={"Authorization": f"Bot {TOKEN}"}) as client:
        yield client


# -- HTTP ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bot wrong", TOKEN, f"Bearer {TOKEN}"])
def test_http_needs_the_bot_token(discord_fake: FakeDiscord, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{discord_fake.api_url}/users/@me", headers=headers)
    assert response.status_code == 401 and response.json() == {"message": "401: Unauthorized", "code": 0}
    ok = httpx.get(f"{discord_fake.api_url}/users/@me", headers={"Authorization": f"Bot {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["id"] == BOT_ID


def test_gateway_urls(discord_fake: FakeDiscord) -> None:
    assert httpx.get(f"{discord_fake.api_url}/gateway").json() == {"url": discord_fake.gateway_url}
    bot = httpx.get(f"{discord_fake.api_url}/gateway/bot", headers={"Authorization": f"Bot {TOKEN}"}).json()
    assert bot["url"] == discord_fake.gateway_url and bot["shards"] == 1


def test_a_nonce_is_enforced_only_when_asked_and_at_most_25_characters(discord_fake: FakeDiscord) -> None:
    url = f"{discord_fake.api_url}/channels/{SUPPORT}/messages"
    headers = {"Authorization": f"Bot {TOKEN}"}
    ids = {httpx.post(url, json={"content": "hi", "nonce": "n1"}, headers=headers).json()["id"] for _ in range(2)}
    assert len(ids) == 2, "without enforce_nonce Discord only echoes the nonce"
    too_long = httpx.post(url, json={"content": "hi", "nonce": "n" * 26, "enforce_nonce": True}, headers=headers)
    assert too_long.status_code == 400 and too_long.json()["code"] == 50035


def test_history_limit_is_1_to_100(discord_fake: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {TOKEN}"}
    url = f"{discord_fake.api_url}/channels/{SUPPORT}/messages"
    assert httpx.get(url, params={"limit": 100}, headers=headers).status_code == 200
    for bad in (0, 101):
        response = httpx.get(url, params={"limit": bad}, headers=headers)
        assert response.status_code == 400 and response.json()["code"] == 50035


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 40), cursor=st.integers(0, 41), limit=st.integers(1, 100))
def test_history_pages_are_discords(count: int, cursor: int, limit: int) -> None:
    world = World(bot_user_id="1", bot_name="bot", application_id="2")
    world.add_guild("10", "g")
    world.add_channel("10", "20", "c")
    world.user("30", "u")
    ids = [int(world.add_message("20", "30", str(i))["id"]) for i in range(count)]
    pivot = ids[cursor] if cursor < count else (ids[-1] + 1 if ids else 1)

    def page(**cursors: int) -> list[int]:
        return [int(m["id"]) for m in world.history("20", limit=limit, **cursors)]

    assert page(after=pivot) == list(reversed([i for i in ids if i > pivot][:limit]))
    assert page(before=pivot) == list(reversed([i for i in ids if i < pivot][-limit:]))
    assert page() == list(reversed(ids[-limit:]))


def test_archived_threads_page_by_time(discord_fake: FakeDiscord, http: httpx.Client) -> None:
    discord_fake.archive_thread(THREAD)
    url = f"{discord_fake.api_url}/channels/{SUPPORT}/threads/archived/public"

    page = http.get(url, params={"limit": 2}).json()
    assert [t["id"] for t in page["threads"]] == [THREAD] and page["has_more"] is False
    for before in ("2000-01-01T00:00:00", "2000-01-01T00:00:00+00:00"):
        assert http.get(url, params={"before": before}).json()["threads"] == []
    assert http.get(url, params={"before": "yesterday"}).status_code == 400
    assert http.get(url, params={"limit": 1}).status_code == 400


_PARAM = st.text(alphabet="0123456789-+:.T eZ", max_size=25) | st.integers(-5, 10**20).map(str)
_PATHS = st.sampled_from(
    [
        f"/channels/{SUPPORT}/messages",
        f"/channels/{THREAD}/messages",
        f"/channels/{SUPPORT}/threads/archived/public",
        f"/channels/{SUPPORT}/messages/{{param}}",
        "/channels/{param}",
        "/channels/{param}/messages",
        "/users/{param}",
        "/guilds/{param}",
        "/guilds/{param}/channels",
        "/guilds/{param}/threads/active",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=_PATHS,
    param=st.text(alphabet="0123456789abc", min_size=1, max_size=22),
    query=st.dictionaries(st.sampled_from(["limit", "before", "after", "around"]), _PARAM, max_size=3),
)
def test_any_get_is_a_discord_answer_not_a_crash(
    discord_fake: FakeDiscord, http: httpx.Client, path: str, param: str, query: dict[str, str]
) -> None:
    response = http.get(discord_fake.api_url + path.format(param=param), params=query)
    assert response.status_code in (200, 400, 403, 404), (response.status_code, response.text)
    if response.status_code != 200:
        assert isinstance(response.json()["code"], int)


# -- sessions and close codes ---------------------------------------------------------------------------------


async def test_client_close_codes_decide_whether_the_session_resumes(discord_fake: FakeDiscord) -> None:
    async def session_closed_with(code: int) -> tuple[str, int]:
        async with aiohttp.ClientSession() as http, http.ws_connect(discord_fake.gateway_url) as ws:
            await ws.receive_json(timeout=5)
            await ws.send_json(_identify())
            ready = await ws.receive_json(timeout=5)
            guild_create = await ws.receive_json(timeout=5)
            await ws.close(code=code)
        await discord_fake.wait_for(lambda: not discord_fake.open_connections(), what="the close")
        return ready["d"]["session_id"], guild_create["s"]

    # Discord ends a session its client closes with 1000 or 1001; other codes leave it resumable.
    for code, resumes in ((1000, False), (1001, False), (4000, True)):
        session_id, seq = await session_closed_with(code)
        discord_fake.post(SUPPORT, AINO[0], f"after {code}")
        received, _ = await _raw(
            discord_fake, {"op": 6, "d": {"token": TOKEN, "session_id": session_id, "seq": seq}}, {"op": 1}
        )
        events = [r.get("t") for r in received if r.get("op") == 0]
        if resumes:
            assert events == ["MESSAGE_CREATE", "RESUMED"], code
            assert received[1]["d"]["content"] == f"after {code}"
        else:
            assert {"op": 9, "d": False, "s": None, "t": None} in received and events == [], code


# -- the raw gateway protocol ------------------------------------------------------------------------------------


async def _raw(fake: FakeDiscord, *frames: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Connect with plain aiohttp, send ``frames`` (dicts as JSON, str as is), return what came back and the close code."""
    received: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{fake.gateway_url}?v=10&encoding=json") as ws:
        hello = await ws.receive_json(timeout=5)
        received.append(hello)
        for frame in frames:
            await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
        while True:
            message = await ws.receive(timeout=5)
            if message.type is aiohttp.WSMsgType.TEXT:
                received.append(json.loads(message.data))
                if received[-1].get("t") == "GUILD_CREATE" or received[-1].get("op") == 11:
                    await ws.close()
                    return received, None
            else:
                return received, ws.close_code


def _identify(token: str = TOKEN, intents: Any = 1 | 1 << 9 | 1 << 15) -> dict[str, Any]:
    return {"op": 2, "d": {"token": token, "intents": intents, "properties": {"os": "linux"}}}


async def test_raw_hello_and_heartbeat(discord_fake: FakeDiscord) -> None:
    received, code = await _raw(discord_fake, {"op": 1, "d": None})
    assert received[0]["op"] == 10 and received[0]["d"]["heartbeat_interval"] == discord_fake.heartbeat_interval_ms
    assert received[1]["op"] == 11 and code is None


async def test_raw_identify_gets_ready_then_guild_create(discord_fake: FakeDiscord) -> None:
    received, _ = await _raw(discord_fake, _identify())
    ready, guild = received[1], received[2]
    assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
    assert ready["d"]["guilds"] == [{"id": GUILD, "unavailable": True}]
    assert ready["d"]["resume_gateway_url"] == discord_fake.resume_gateway_url
    assert {c["id"] for c in guild["d"]["channels"]} == {SUPPORT, FEEDBACK, OFFTOPIC}
    assert [t["id"] for t in guild["d"]["threads"]] == [THREAD]
    assert [m["user"]["id"] for m in guild["d"]["members"]] == [BOT_ID]


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (["{not json"], 4002),
        ([{"op": 3, "d": {}}], 4003),
        ([{"op": 42, "d": None}], 4001),
        ([_identify(token="nope")], 4004),
        ([_identify(intents="all")], 4013),
        ([_identify(intents=1 << 40)], 4013),
        ([_identify(intents=1 | 1 << 17)], 4013),
        ([{"op": 2, "d": {**_identify()["d"], "shard": [1, 2]}}], 4010),
        ([{"op": 6, "d": {"token": "nope", "session_id": "x", "seq": 1}}], 4004),
    ],
    ids=[
        "decode",
        "not-authenticated",
        "unknown-op",
        "bad-token",
        "intents-not-int",
        "unknown-intent",
        "unused-intent-bit",
        "shard",
        "resume-token",
    ],
)
async def test_raw_refusals_close_with_discords_codes(discord_fake: FakeDiscord, frames: list[Any], code: int) -> None:
    _, closed = await _raw(discord_fake, *frames)
    assert closed == code


async def test_raw_identify_twice(discord_fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(discord_fake.gateway_url) as ws:
        await ws.receive_json(timeout=5)
        await ws.send_json(_identify())
        await ws.send_json(_identify())
        while (await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            pass
        assert ws.close_code == 4005


async def test_raw_resume_of_an_unknown_session_is_invalid(discord_fake: FakeDiscord) -> None:
    received, _ = await _raw(discord_fake, {"op": 6, "d": {"token": TOKEN, "session_id": "nope", "seq": 3}}, {"op": 1})
    assert {"op": 9, "d": False, "s": None, "t": None} in received


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_FRAMES = _JSON | st.fixed_dictionaries({"op": st.integers(-1, 12) | st.text(max_size=3), "d": _JSON})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=_FRAMES)
def test_raw_any_frame_is_answered_or_refused_with_a_gateway_code(discord_fake: FakeDiscord, frame: Any) -> None:
    received, code = asyncio.run(_raw(discord_fake, frame, {"op": 1, "d": None}))
    if code is None:
        assert received[-1]["op"] == 11, "the connection went on: the heartbeat after it was acknowledged"
    else:
        assert code in (4001, 4002, 4003, 4004, 4005, 4007, 4013, 4014), code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=_JSON
    | st.fixed_dictionaries(
        {},
        optional={
            "content": _JSON,
            "nonce": _JSON,
            "message_reference": _JSON,
            "allowed_mentions": _JSON,
            "enforce_nonce": _JSON,
        },
    )
)
def test_any_message_body_is_a_discord_answer_not_a_crash(
    discord_fake: FakeDiscord, http: httpx.Client, body: Any
) -> None:
    response = http.post(f"{discord_fake.api_url}/channels/{SUPPORT}/messages", json=body)
    assert response.status_code in (200, 400), response.text
    answer = response.json()
    if response.status_code == 400:
        assert answer["code"] in (50035, 50006, 50109) and answer["message"]
    else:
        assert discord_fake.message(answer["id"]) is not None
        assert 0 < len(answer["content"]) <= 2000 or answer.get("embeds")


# -- allowed mentions ----------------------------------------------------------------------------------------------

_MENTION_TEXT = st.lists(
    st.sampled_from(["<@5>", "<@!6>", "<@&7>", "@everyone", "@here", "hello", " ", "<@", ">", "é"]), max_size=12
).map("".join)


@settings(max_examples=200)
@given(text=_MENTION_TEXT, replied=st.sampled_from([None, "5", "6"]))
def test_allowed_mentions_none_never_pings(text: str, replied: str | None) -> None:
    world = World(bot_user_id="1", bot_name="bot", application_id="2")
    world.user("5", "five")
    world.user("6", "six")
    assert pings(world, text, discord.AllowedMentions.none().to_dict(), replied) == []  # type: ignore[arg-type]
    everything = pings(world, text, None, replied)
    assert ("@everyone" in everything) == ("@everyone" in text or "@here" in text)
    assert (replied in everything) if replied else True
