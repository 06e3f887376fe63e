"""Slack display names on answers: a failed look-up is retried soon, a rename shows within the hour, the cache is bounded."""

from __future__ import annotations

from chatops.app import USER_NAME_FAILURE_TTL_SECONDS, USER_NAME_TTL_SECONDS
from chatops.testing.bot import TestBot


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failed_look_up_is_retried_after_a_short_while(bot: TestBot) -> None:
    assert bot.app is not None
    clock = Clock()
    bot.app.user_names.clock = clock
    bot.person("Anna")
    bot.slack.fail_next("users.info", error="internal_error")
    assert await bot.app.user_name("UANNA") is None
    assert await bot.app.user_name("UANNA") is None  # remembered: not one call per send during an outage
    assert len(bot.slack.calls_to("users.info")) == 1
    clock.now += USER_NAME_FAILURE_TTL_SECONDS + 1
    assert await bot.app.user_name("UANNA") == "Anna"
    assert len(bot.slack.calls_to("users.info")) == 2


async def test_a_renamed_person_shows_under_the_new_name_within_the_hour(bot: TestBot) -> None:
    assert bot.app is not None
    clock = Clock()
    bot.app.user_names.clock = clock
    bot.person("Anna")
    assert await bot.app.user_name("UANNA") == "Anna"
    bot.slack.add_user("UANNA", name="anna", real_name="Anna Kowalska", display_name="Anna K.")
    clock.now += USER_NAME_FAILURE_TTL_SECONDS + 1
    assert await bot.app.user_name("UANNA") == "Anna"  # a found name is kept longer than a failure
    clock.now += USER_NAME_TTL_SECONDS
    assert await bot.app.user_name("UANNA") == "Anna K."


async def test_the_name_cache_is_bounded(bot: TestBot) -> None:
    assert bot.app is not None
    bot.app.user_names.max_entries = 20
    for number in range(30):
        bot.slack.add_user(f"U{number:04d}", name=f"person{number}")
        assert await bot.app.user_name(f"U{number:04d}") == f"person{number}"
    assert len(bot.app.user_names) == 20
    calls = len(bot.slack.calls_to("users.info"))
    assert await bot.app.user_name("U0029") == "person29"  # recent: still cached
    assert len(bot.slack.calls_to("users.info")) == calls
    assert await bot.app.user_name("U0000") == "person0"  # the oldest was evicted: looked up again
    assert len(bot.slack.calls_to("users.info")) == calls + 1
