"""The Discord plugin's rules that need no server: errors to actions, gateway failures, catch-up positions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import aiohttp
import discord
import pytest
from discord.utils import time_snowflake
from hypothesis import given
from hypothesis import strategies as st

from chatops.sources import Answer
from chatops_plugins.discord.answers import reply_nonce, send_error
from chatops_plugins.discord.catch_up import Positions, position_key
from chatops_plugins.discord.source import problem_of


def http_error(cls: type[discord.HTTPException], status: int, code: int, text: str = "nope") -> discord.HTTPException:
    """A discord.py HTTP error as its HTTP client raises it from Discord's JSON error body."""
    response = SimpleNamespace(status=status, reason="x")
    return cls(response, {"code": code, "message": text})  # type: ignore[arg-type]


class MemoryState:
    """``ctx.state`` in memory."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        await asyncio.sleep(0)  # let other writers run in between, as a database write would
        self.values[key] = value


# -- failed answers ---------------------------------------------------------------------------


def test_a_missing_permission_is_an_alert_naming_the_permission() -> None:
    error = send_error(http_error(discord.Forbidden, 403, 50013, "Missing Permissions"), "reply", "#general")
    assert error.alert == "permission:reply" and error.retryable
    assert "Send Messages" in str(error) and "#general" in str(error)
    hide = send_error(http_error(discord.Forbidden, 403, 50013), "hide", "#general")
    assert hide.alert == "permission:hide" and "Manage Messages" in str(hide)
    unseen = send_error(http_error(discord.Forbidden, 403, 50001, "Missing Access"), "reply", "#general")
    assert unseen.alert == "permission:reply" and "View Channel" in str(unseen)


def test_a_deleted_message_is_not_retried() -> None:
    for exc in (
        http_error(discord.NotFound, 404, 10008, "Unknown Message"),
        http_error(discord.HTTPException, 400, 50035, "Invalid Form Body\nIn message_reference: Unknown message"),
    ):
        error = send_error(exc, "reply", "#general")
        assert not error.retryable and error.alert is None
        assert "deleted" in str(error)


def test_rate_limits_and_server_errors_are_retried() -> None:
    assert send_error(http_error(discord.HTTPException, 429, 0), "reply", "#g").retryable
    assert send_error(http_error(discord.DiscordServerError, 502, 0), "reply", "#g").retryable
    limited = send_error(discord.RateLimited(42.0), "reply", "#g")
    assert limited.retryable and limited.retry_after == 42.0
    assert send_error(aiohttp.ClientConnectionError("reset"), "reply", "#g").retryable
    assert send_error(TimeoutError(), "reply", "#g").retryable


def test_a_refused_token_is_the_token_alert() -> None:
    assert send_error(discord.LoginFailure("Improper token"), "reply", "#g").alert == "token"
    assert send_error(http_error(discord.HTTPException, 401, 0, "401: Unauthorized"), "reply", "#g").alert == "token"


def test_other_refusals_are_final_and_say_what_discord_said() -> None:
    error = send_error(http_error(discord.HTTPException, 400, 50006, "Cannot send an empty message"), "reply", "#g")
    assert not error.retryable and "Cannot send an empty message" in str(error)
    for archived in (
        send_error(http_error(discord.Forbidden, 403, 50083), "reply", "#help"),
        send_error(http_error(discord.HTTPException, 400, 50083, "Thread is locked"), "reply", "#help"),
    ):
        assert not archived.retryable and "locked or archived" in str(archived)


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_the_reply_nonce_fits_discord_and_is_stable_per_answer(answer_id: int) -> None:
    answer = Answer(id=answer_id, kind="reply", text="hi")
    nonce = reply_nonce(answer)
    assert len(nonce) <= 25 and nonce == reply_nonce(Answer(id=answer_id, kind="reply", text="other"))
    assert reply_nonce(Answer(id=answer_id + 1, kind="reply", text="hi")) != nonce


# -- gateway failures -------------------------------------------------------------------------


def _closed(code: int) -> discord.ConnectionClosed:
    return discord.ConnectionClosed(SimpleNamespace(close_code=code), shard_id=None, code=code)  # type: ignore[arg-type]


def test_gateway_failures_name_what_to_fix() -> None:
    token = problem_of(discord.LoginFailure("Improper token has been passed."), "http://x")
    assert token.key == "token" and not token.retry and "Developer Portal" in token.text
    intent = problem_of(discord.PrivilegedIntentsRequired(None), "http://x")
    assert intent.key == "intents" and not intent.retry and "Message Content" in intent.text
    assert problem_of(_closed(4014), "http://x").key == "intents"
    # 4013 is a bug in what the client sends, not the Message Content switch: no advice to flip it.
    invalid = problem_of(_closed(4013), "http://x")
    assert not invalid.retry and "invalid intents" in invalid.text and "Message Content" not in invalid.text
    assert problem_of(_closed(4004), "http://x").key == "token"
    away = problem_of(
        aiohttp.ClientConnectorError(SimpleNamespace(ssl=None, host="h", port=1), OSError(111, "refused")), "http://x"
    )  # type: ignore[arg-type]
    assert away.key == "gateway" and away.retry and "http://x" in away.text


def test_a_problem_never_shows_the_token() -> None:
    secret = "MTIz.secret-token-value"
    problem = problem_of(discord.LoginFailure("Improper token has been passed."), "http://x")
    assert secret not in problem.text


# -- positions --------------------------------------------------------------------------------


async def test_a_position_only_moves_forward_and_survives_a_new_instance() -> None:
    state = MemoryState()
    positions = Positions(state)
    assert await positions.get(7) is None
    await positions.advance(7, 50)
    await positions.advance(7, 40)
    assert state.values[position_key(7)] == "50"
    assert await Positions(state).get(7) == 50


@given(st.lists(st.integers(min_value=1, max_value=10**18), min_size=1, max_size=30))
def test_concurrent_advances_store_the_newest(ids: list[int]) -> None:
    async def run() -> dict[str, str]:
        state = MemoryState()
        positions = Positions(state)
        await asyncio.gather(*(positions.advance(1, i) for i in ids))
        return state.values

    assert asyncio.run(run())[position_key(1)] == str(max(ids))


async def test_a_held_position_moves_only_by_the_catch_up() -> None:
    state = MemoryState()
    positions = Positions(state)
    await positions.advance(1, 10)
    positions.hold(1)
    await positions.advance(1, 20)
    assert await positions.get(1) == 10
    await positions.advance(1, 15, catching_up=True)
    positions.release(1)
    await positions.advance(1, 30)
    assert await positions.get(1) == 30


async def test_a_hold_taken_while_a_catch_up_reads_outlives_the_catch_ups_release() -> None:
    positions = Positions(MemoryState())
    reading = positions.hold(1)  # the catch-up starts reading
    positions.hold(1)  # a live message fails to store meanwhile
    positions.release(1, reading)  # the catch-up read to the end, but perhaps not past the failed one
    assert positions.is_held(1)
    await positions.advance(1, 20)
    assert await positions.get(1) is None
    positions.release(1)
    assert not positions.is_held(1)


@pytest.mark.parametrize(
    "stored", ["", "abc", "-5", "²", "1\u0662", " 12", str(time_snowflake(datetime.now(UTC) + timedelta(days=2)))]
)
async def test_a_damaged_or_future_position_reads_as_none(stored: str) -> None:
    state = MemoryState()
    state.values[position_key(3)] = stored
    assert await Positions(state).get(3) is None


async def test_a_position_of_a_moment_ago_is_kept() -> None:
    state = MemoryState()
    now = time_snowflake(datetime.now(UTC) + timedelta(minutes=5))  # a clock a little ahead of ours
    state.values[position_key(3)] = str(now)
    assert await Positions(state).get(3) == now
