"""The world of the X tests: fixture values, the bot's config, and the customer's side.

:class:`XWorld` is the test's view of X: the customer writes mentions on the fake, the company posts
directly on X, polling passes run when the test says, and one hand-moved clock (epoch seconds) is
shared by the fake's rate-limit windows and the source, so a test can move past a reset without
sleeping. The Slack side is the ``TestBot``.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from chatops.models import Alert, JobRun, Message, utcnow
from chatops.testing.bot import OPS, TestBot
from chatops_plugins.x.source import XSource
from chatops_plugins.x.testing import FakeX

BEARER = "AAAAAAAAAAAAAAAAAAAAAx-bearer-for-tests"
CONSUMER_KEY = "x-consumer-key-for-tests"
CONSUMER_SECRET = "x-consumer-secret-for-tests"
ACCESS_TOKEN = "1500000000000000001-x-access-token-for-tests"
ACCESS_SECRET = "x-access-secret-for-tests"
ACCOUNT = "1500000000000000001"
USERNAME = "kahvila_aurinko"
NAME = "Kahvila Aurinko"
#: Customers: (id, username, name).
AINO = ("2244994945", "aino_asiakas", "Aino Asiakas")
EERO = ("2244994946", "eero_e", "Eero Esimerkki")

#: Run a test on SQLite only (where the database does not matter; keeps the suite fast).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def new_fake() -> FakeX:
    """A FakeX for the fixture account and credentials (not started)."""
    return FakeX(
        bearer_token=BEARER,
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        access_token=ACCESS_TOKEN,
        access_token_secret=ACCESS_SECRET,
        account_id=ACCOUNT,
        username=USERNAME,
        name=NAME,
    )


def x_config(api_url: str, **x: Any) -> dict[str, Any]:
    """Bot config with the X plugin pointed at the fake; ``x`` overrides ``[plugins.x]`` keys."""
    return {
        # Token failures retry at the longest backoff; keep it short in tests.
        "delivery": {"backoff_max_seconds": 0.2},
        "plugins": {
            "enabled": ["x"],
            "x": {
                "user_id": ACCOUNT,
                "username": USERNAME,
                "bearer_token": BEARER,
                "consumer_key": CONSUMER_KEY,
                "consumer_secret": CONSUMER_SECRET,
                "access_token": ACCESS_TOKEN,
                "access_token_secret": ACCESS_SECRET,
                "api_url": api_url,
                # Polling is on so tests can run a pass; the interval never elapses within a test.
                "polling": True,
                "poll_interval_seconds": 3600,
                "timeout_seconds": 5,
                **x,
            },
        },
    }


class HandClock:
    """Epoch seconds that move only when the test says (shared by the fake and the source)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move forward ``seconds``; return the new time."""
        self.now += seconds
        return self.now


class XWorld:
    """The customer's side of X, the company's own posts, and the polling passes."""

    def __init__(self, bot: TestBot, fake: FakeX) -> None:
        self.bot = bot
        self.fake = fake
        self.clock = HandClock(utcnow().timestamp())
        fake.clock = self.clock
        # Limits set before the clock was swapped start their window now on the hand clock.
        for endpoint in ("mentions", "user_tweets", "post"):
            window = fake.rate_limit(endpoint)
            fake.set_rate_limit(endpoint, limit=int(window["limit"]), window_seconds=900)
        self._slots = itertools.count(1)
        self.attach(bot)

    def attach(self, bot: TestBot) -> None:
        """Use ``bot`` from now on (after a restart): its X source reads the shared clock."""
        self.bot = bot
        self.source.clock = self.clock

    @property
    def source(self) -> XSource:
        """The running bot's X source."""
        assert self.bot.app is not None
        source = self.bot.app.sources["x"]
        assert isinstance(source, XSource)
        return source

    # -- the customer writes ----------------------------------------------------------------

    def mention(
        self,
        text: str,
        *,
        who: tuple[str, str, str] = AINO,
        in_reply_to: str | None = None,
        conversation_id: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A customer's post mentioning the account; its id."""
        return self.fake.mention(
            text, author=who, in_reply_to=in_reply_to, conversation_id=conversation_id, created_at=created_at
        )

    def own_post(self, text: str, *, in_reply_to: str | None = None) -> str:
        """A post the company made directly on X; its id."""
        return self.fake.own_post(text, in_reply_to=in_reply_to)

    # -- polling ------------------------------------------------------------------------------

    async def poll(self) -> bool:
        """Run one polling pass now (each call is a new scheduled occurrence); True when it ran."""
        assert self.bot.app is not None
        # The scheduler claims one run per interval slot; step an hour (the interval) per call.
        slot = utcnow() + timedelta(hours=next(self._slots))
        return await self.bot.app.scheduler.run_claimed(self.source.poll_job_id, slot)

    async def job_error(self) -> str | None:
        """The error recorded for the latest polling pass (None when it succeeded)."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            row = await session.scalar(
                select(JobRun).where(JobRun.job_id == self.source.poll_job_id).order_by(JobRun.due_at.desc())
            )
            return None if row is None else row.error

    # -- what the team sees besides cards --------------------------------------------------

    def ops_alerts(self) -> list[str]:
        """Texts posted to the ops channel."""
        return [m.get("text", "") for m in self.bot.slack.top_level_messages(OPS)]

    async def open_alerts(self) -> set[str]:
        """Keys of the X plugin's alerts that are raised and not cleared."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            rows = await session.scalars(select(Alert.key).where(Alert.plugin == "x", Alert.cleared_at.is_(None)))
            return set(rows.all())

    async def stored_ids(self) -> list[str]:
        """External ids of every stored X message, in storage order."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            rows = await session.scalars(select(Message.external_id).where(Message.source == "x").order_by(Message.id))
            return [r for r in rows.all() if r is not None]

    async def stored_messages(self) -> int:
        """How many messages the database holds."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            return int(await session.scalar(select(func.count(Message.id))) or 0)

    async def state(self, key: str) -> str | None:
        """A value the X source keeps in ``ctx.state``."""
        return await self.source.ctx.state.get(key)
