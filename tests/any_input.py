"""What the property tests of the HTTP endpoints share: hypothesis's bounds, any JSON, and the answer's checks.

Used by tests/test_http_properties.py (webhook, Slack, health) and tests/meta/test_meta_properties.py
(Facebook, Instagram), so that "any input" and "a proper answer" mean the same for every endpoint.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from chatops.models import AuditEntry, Conversation, Message, OutboxJob
from chatops.testing.bot import TestBot

#: Shared by every property: bounded for CI, fixtures reused across examples on purpose
#: (each example compares row counts before and after instead of expecting an empty database).
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: An answer must come within this; a hang fails the request with a timeout.
TIMEOUT = httpx.Timeout(10.0)

# Any character, lone surrogates included (they reach us as "\ud800" escapes).
any_char = st.characters(codec=None, exclude_categories=())
any_text = st.text(any_char, max_size=40)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
any_json = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


def maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a plausible value for a field, sometimes any JSON at all."""
    return st.one_of(plausible, plausible, plausible, plausible, any_json)


def encode(value: Any, ascii_only: bool) -> bytes:
    """JSON bytes as a sender would send them; lone surrogates pass through as invalid UTF-8 when not escaped."""
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")


async def rows(bot: TestBot) -> tuple[int, ...]:
    """How many conversations, messages, outbox jobs and audit entries are stored."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Conversation, Message, OutboxJob, AuditEntry)
        ]
    return tuple(counts)


async def check_answer(bot: TestBot, response: httpx.Response, before: tuple[int, ...]) -> None:
    """The properties every answer must have: no 5xx, a message with a 4xx, and a 4xx stores nothing."""
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics shows what the examples reached
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.text.strip(), f"{response.status_code} without a message"
        if response.headers.get("content-type", "").startswith("application/json"):
            assert response.json().get("error"), response.text
        assert await rows(bot) == before, "a refused request stored something"
