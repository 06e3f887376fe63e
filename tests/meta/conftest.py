"""Fixtures for the Facebook and Instagram sources: a Graph fake and the real bot with both plugins on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from meta_world import (
    APP_SECRET,
    IG,
    IG_USERNAME,
    MEDIA,
    MEDIA_CAPTION,
    PAGE,
    PAGE_NAME,
    POST,
    POST_TEXT,
    TOKEN,
    Meta,
    meta_config,
)

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.graph_api.testing import FakeGraph


@pytest.fixture(scope="session")
def _graph_server() -> Iterator[FakeGraph]:
    with FakeGraph(
        access_token=TOKEN, page_id=PAGE, page_name=PAGE_NAME, ig_user_id=IG, ig_username=IG_USERNAME
    ) as fake:
        yield fake


@pytest.fixture
def graph(_graph_server: FakeGraph) -> FakeGraph:
    """The Graph fake, reset, holding the Page's post and the Instagram account's media."""
    _graph_server.reset()
    _graph_server.access_token = TOKEN
    # The app has "Require App Secret" on: every call must carry a valid appsecret_proof.
    _graph_server.app_secret = APP_SECRET
    _graph_server.add_post(POST, POST_TEXT, created_time=datetime.now(UTC) - timedelta(days=1))
    _graph_server.add_ig_media(MEDIA, MEDIA_CAPTION, timestamp=datetime.now(UTC) - timedelta(days=1))
    return _graph_server


@pytest.fixture
async def meta_bot(fake_slack: FakeSlack, database_url: str, graph: FakeGraph) -> AsyncIterator[TestBot]:
    """The real bot with the Facebook and Instagram plugins, against the fakes and a fresh database."""
    async with TestBot(fake_slack, database_url, config=meta_config(graph_api_url=graph.base_url)) as running:
        yield running


@pytest.fixture
def meta(meta_bot: TestBot, graph: FakeGraph) -> Meta:
    """The customer's side of Facebook and Instagram."""
    return Meta(meta_bot, graph)
