"""Fixtures for the X source: one FakeX server for the session, and the real bot with the X plugin on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from x_world import XWorld, new_fake, x_config

from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x.testing import FakeX


@pytest.fixture(scope="session")
def _x_server() -> Iterator[FakeX]:
    with new_fake() as fake:
        yield fake


@pytest.fixture
def x_fake(_x_server: FakeX) -> FakeX:
    """The X fake, reset: no posts, valid tokens, default limits, the real clock."""
    _x_server.reset()
    return _x_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "x_config(**keys): [plugins.x] keys for the x_bot fixture's bot")


@pytest.fixture
async def x_bot(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> AsyncIterator[TestBot]:
    """The real bot with the X plugin, against the fakes and a fresh database (passes run by the test).

    ``@pytest.mark.x_config(page_size=5)`` sets ``[plugins.x]`` keys for a test.
    """
    marker = request.node.get_closest_marker("x_config")
    keys = marker.kwargs if marker else {}
    config = x_config(x_fake.base_url, **keys)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as running:
        yield running


@pytest.fixture
def x(x_bot: TestBot, x_fake: FakeX) -> XWorld:
    """The customer's side of X, with a hand-moved clock shared by the fake and the source."""
    return XWorld(x_bot, x_fake)
