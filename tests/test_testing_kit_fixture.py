"""A module that overrides ``bot_customer`` gets a ``bot`` with that customer side instead of the suite's default."""

from __future__ import annotations

import pytest

from chatops.testing.bot import TestBot
from chatops.testing.customers import CustomerFactory, NoCustomer


@pytest.fixture
def bot_customer() -> CustomerFactory:
    """This module's bots have no customer side (and so no plugin enabled), whatever conftest.py chose."""
    return NoCustomer


async def test_the_bot_fixture_takes_its_customer_from_bot_customer(bot: TestBot) -> None:
    assert isinstance(bot.customer, NoCustomer)
    assert bot.settings.plugins.enabled == []
    assert bot.http is not None
    assert (await bot.http.post("/webhooks/webhook", content=b"{}")).status_code == 404
