"""The scheduled digests: daily at the configured local time and weekly on its day, once across replicas,
a missed one posted once (marked late) within the grace, with its chart (both databases).

The minute job also runs for real in the background, at the test's clock. So each test writes
its data first and only then moves the clock to the due time: whichever run claims the digest
(the background one or the test's :func:`tick`), it posts the same thing once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from digest_kit import MANAGERS, Data, DigestBot, clock_of, digests_of_bot

from chatops.testing.bot import TestBot, block_text
from chatops_plugins.digest import schedule, tables

#: Tuesday 1 December 2026, 08:00 in Helsinki (UTC+2): the daily digest covering Monday 30 November.
TUESDAY_0800 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
#: An hour before it: nothing is due (Monday's 08:00 is 23 hours old, past the 12-hour grace).
TUESDAY_0700 = TUESDAY_0800 - timedelta(hours=1)


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def readable(message: dict[str, Any]) -> str:
    """Everything a person reads in ``message``: its blocks, or its text when it has none."""
    return block_text(message.get("blocks") or []) or message.get("text", "")


def digests(bot: TestBot) -> list[dict[str, Any]]:
    """The digests posted to the managers' channel (not the chart messages), oldest first."""
    return [m for m in bot.slack.top_level_messages(MANAGERS) if not m.get("upload")]


def charts(bot: TestBot) -> list[dict[str, Any]]:
    """The files shared in the managers' channel (as the fake records them), oldest first."""
    return [bot.slack.file(f["id"]) for m in bot.slack.top_level_messages(MANAGERS) for f in m.get("files") or []]


async def tick(bot: TestBot) -> None:
    """One run of the minute job at the bot's clock, and its posts sent."""
    await schedule.tick(digests_of_bot(bot))
    await bot.idle()


async def monday(bot: TestBot) -> None:
    """Monday 30 November (Helsinki), and a little of the days around it.

    Monday: three conversations. Maija's at 09:00 answered by Anna at 09:30 (30 min) and
    resolved; Piotr's at 12:00 answered by Jari at 14:00 (2 h, past the 60-minute target);
    Olli's at 22:00 answered only on Tuesday at 09:00, after the digest's 08:00. Sunday:
    one, answered in 10 minutes. Tuesday 07:30: one, not Monday's.
    """
    bot.person("Anna")
    bot.person("Jari")
    assert bot.app is not None
    data = Data(bot.app.db)
    maija = await data.conversation(utc(11, 30, 7), author="maija", name="Maija")
    await data.reply(maija, utc(11, 30, 7, 30), by="UANNA")
    await data.resolve(maija, utc(11, 30, 9), by="UANNA")
    piotr = await data.conversation(utc(11, 30, 10), author="piotr", name="Piotr")
    await data.reply(piotr, utc(11, 30, 12), by="UJARI")
    olli = await data.conversation(utc(11, 30, 20), author="olli", name="Olli")
    await data.reply(olli, utc(12, 1, 7), by="UANNA")
    sunday = await data.conversation(utc(11, 29, 10), author="sanna", name="Sanna")
    await data.reply(sunday, utc(11, 29, 10, 10), by="UANNA")
    await data.conversation(utc(12, 1, 5, 30), author="early", name="Early Bird")


def value(text: str, label: str) -> str:
    """The figure shown under ``label`` (a bold field title) in a digest's text."""
    lines = text.splitlines()
    assert f"*{label}*" in lines, f"no {label!r} in:\n{text}"
    return lines[lines.index(f"*{label}*") + 1]


def assert_mondays_figures(text: str) -> None:
    """What the digest of Monday says, computed by hand from :func:`monday` (as it stood at 08:00 Tuesday)."""
    lines = text.splitlines()
    assert lines[0] == "Daily digest · Mon 30 Nov"
    assert "Compared with Sun 29 Nov · figures as of Tue 1 Dec 08:00" in lines
    # Three conversations against Sunday's one; Maija's and Piotr's answered by 08:00, Olli's not yet.
    assert value(text, "Conversations in") == "3 ▲ +2 (was 1)"
    assert value(text, "Response rate") == "67 % ▼ −33 pp (was 100 %)"
    assert value(text, "Still unanswered") == "1 ▲ +1 (was 0)"
    # First response: the median (nearest rank) of 30 min and 2 h is 30 min, the 90th percentile 2 h;
    # Piotr's 2 h and Olli's none by 08:00 are the two breaches of the 60-minute target.
    assert value(text, "Median") == "30 min ▲ +20 min (was 10 min)"
    assert value(text, "90th percentile") == "2 h ▲ +1 h 50 min (was 10 min)"
    assert value(text, "Breaches") == "2 ▲ +2 (was 0)"
    # Open at 08:00: Piotr's, Olli's, Sunday's (the oldest) and the one of 07:30.
    assert value(text, "Open now") == "4"
    assert "Sanna" in value(text, "Oldest open")
    # Teammates by name, never pinged.
    assert "• Anna: handled 1 · median first response 30 min" in text.splitlines()
    assert "• Jari: handled 1 · median first response 2 h" in text.splitlines()
    assert "<@U" not in text


async def test_the_daily_digest_is_posted_at_its_time_once_with_yesterdays_figures_and_chart(
    digest_bot: DigestBot,
) -> None:
    async with digest_bot(now=TUESDAY_0700) as bot:
        await monday(bot)
        await tick(bot)
        assert digests(bot) == [], "07:00: not yet"

        clock_of(bot).set(TUESDAY_0800)
        await tick(bot)
        await tick(bot)
        clock_of(bot).advance(minutes=1)
        await tick(bot)
        [digest] = digests(bot)
        text = readable(digest)
        assert_mondays_figures(text)
        assert "Posted late" not in text
        assert "Mon 30 Nov" in digest["text"], "the notification says which day"
        [chart] = charts(bot)
        assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n")
        assert chart["filename"] == "digest-2026-11-30.png"
        assert chart["channels"] == [MANAGERS]
        assert chart["title"] == "Conversations and first response, 2026-11-17 – 2026-11-30"
        # Nothing else was posted anywhere: no second digest, nothing in the inbox.
        assert [c.args["channel"] for c in bot.slack.calls_to("chat.postMessage") if c.ok] == [MANAGERS]


async def test_two_replicas_ticking_at_the_same_minute_post_one_digest(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0700, instance_id="a") as a, digest_bot(now=TUESDAY_0700, instance_id="b") as b:
        await monday(a)
        clock_of(a).set(TUESDAY_0800)
        clock_of(b).set(TUESDAY_0800)
        await asyncio.gather(*(schedule.tick(digests_of_bot(bot)) for bot in (a, b, a, b)))
        await a.idle()
        await b.idle()
        [digest] = digests(a)
        assert_mondays_figures(readable(digest))
        assert len(charts(a)) == 1
        assert a.app is not None
        async with a.app.db.read() as session:
            [run] = (await session.execute(sa.select(tables.runs))).all()
        assert (run.kind, run.due_at) == ("daily", TUESDAY_0800)
        assert run.outbox_id is not None and run.claimed_at == TUESDAY_0800


async def test_the_weekly_digest_is_posted_on_its_weekday_with_the_seven_days_before(digest_bot: DigestBot) -> None:
    # Monday 7 December 2026, 08:00 in Helsinki: the week of Monday 30 November to Sunday 6 December.
    monday_0800 = utc(12, 7, 6)
    async with digest_bot(now=monday_0800 - timedelta(hours=2), weekly_on="mon") as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        # In the week: its first minute (Monday 00:00 local) and its last (Sunday 23:59 local).
        await data.conversation(utc(11, 29, 22, 0), author="first")
        await data.conversation(utc(12, 6, 21, 59), author="last")
        # Not in it: the minute before, and the Monday of the digest itself.
        await data.conversation(utc(11, 29, 21, 59), author="before")
        await data.conversation(utc(12, 6, 22, 0), author="after")
        clock_of(bot).set(monday_0800)
        await tick(bot)
        await tick(bot)
        posted = [readable(m) for m in digests(bot)]
    # The daily digest (Sunday: one conversation, "last") and the weekly one (two), each once.
    assert len(posted) == 2
    [weekly] = [text for text in posted if text.startswith("Weekly digest · 30 Nov – 6 Dec\n")]
    assert value(weekly, "Conversations in") == "2 ▲ +1 (was 1)"
    [daily] = [text for text in posted if text.startswith("Daily digest · Sun 6 Dec\n")]
    assert value(daily, "Conversations in") == "1 ▲ +1 (was 0)"


async def test_a_digest_missed_while_the_bot_was_down_is_posted_once_late_with_the_figures_of_its_time(
    digest_bot: DigestBot,
) -> None:
    async with digest_bot(now=TUESDAY_0700) as bot:
        await monday(bot)
        # Back at 10:30: Olli was answered at 09:00, but the digest is Monday's as it stood at 08:00.
        clock_of(bot).set(TUESDAY_0800 + timedelta(hours=2, minutes=30))
        await tick(bot)
        clock_of(bot).advance(minutes=1)
        await tick(bot)
        [digest] = digests(bot)
        text = readable(digest)
        assert "Posted late: the bot was down when it was due (Tue 1 Dec 08:00)." in text
        assert_mondays_figures(text)

        # The next morning's is posted on time, and only it.
        clock_of(bot).set(TUESDAY_0800 + timedelta(days=1))
        await tick(bot)
        first, second = digests(bot)
        assert first == digest
        assert readable(second).startswith("Daily digest · Tue 1 Dec\n") and "Posted late" not in readable(second)


async def test_a_missed_digest_is_posted_within_the_grace_and_never_after_it(digest_bot: DigestBot) -> None:
    # 12 hours of grace from 08:00: 19:59 is within it, 20:01 past it.
    async with digest_bot(now=TUESDAY_0800 + timedelta(hours=12, minutes=1)) as bot:
        await tick(bot)
        assert digests(bot) == []
    async with digest_bot(now=TUESDAY_0800 + timedelta(hours=11, minutes=59)) as bot:
        await tick(bot)
        [digest] = digests(bot)
        assert "Posted late: the bot was down when it was due (Tue 1 Dec 08:00)." in readable(digest)


async def test_a_short_grace_skips_the_missed_digest_and_not_the_next_one(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0800 + timedelta(hours=2, minutes=30), grace_hours=2) as bot:
        await tick(bot)
        assert digests(bot) == []
        clock_of(bot).set(TUESDAY_0800 + timedelta(days=1))
        await tick(bot)
        [digest] = digests(bot)
    assert readable(digest).startswith("Daily digest · Tue 1 Dec\n")


async def test_on_dst_mornings_the_digest_is_posted_once_at_0800_local(digest_bot: DigestBot) -> None:
    # Sunday 25 October 2026: Helsinki goes from UTC+3 to UTC+2 at 04:00 local; 08:00 is 06:00 UTC.
    autumn = utc(10, 25, 6)
    async with digest_bot(now=autumn - timedelta(minutes=61), chart=False) as bot:
        assert bot.app is not None
        data = Data(bot.app.db)
        # Saturday 24 October in Helsinki: 00:00 local was 21:00 UTC the day before (UTC+3).
        await data.conversation(utc(10, 23, 21, 0), author="saturday-first")
        await data.conversation(utc(10, 23, 20, 59), author="friday-last")
        for minutes in (-60, -1):
            clock_of(bot).set(autumn + timedelta(minutes=minutes))
            await tick(bot)
        assert digests(bot) == []
        for minutes in (0, 0, 1, 60):
            clock_of(bot).set(autumn + timedelta(minutes=minutes))
            await tick(bot)
        [digest] = digests(bot)
    text = readable(digest)
    # Saturday's first minute counts for Saturday, Friday's last for Friday: one each.
    assert text.startswith("Daily digest · Sat 24 Oct\n")
    assert value(text, "Conversations in") == "1 → no change"


async def test_on_the_spring_dst_morning_the_digest_is_posted_once_at_0800_local(digest_bot: DigestBot) -> None:
    # Sunday 29 March 2026: Helsinki goes from UTC+2 to UTC+3 at 03:00 local; 08:00 is 05:00 UTC.
    spring = utc(3, 29, 5)
    async with digest_bot(now=spring - timedelta(minutes=1), chart=False) as bot:
        await tick(bot)
        assert digests(bot) == []
        for minutes in (0, 1, 30):
            clock_of(bot).set(spring + timedelta(minutes=minutes))
            await tick(bot)
        [digest] = digests(bot)
    assert readable(digest).startswith("Daily digest · Sat 28 Mar\n")


async def test_a_time_dst_skips_is_posted_once_right_after_the_gap(digest_bot: DigestBot) -> None:
    # 03:30 does not exist in Helsinki on 29 March 2026 (03:00 becomes 04:00): posted at 04:30 local, 01:30 UTC.
    async with digest_bot(now=utc(3, 29, 0, 59), daily_at="03:30", chart=False) as bot:
        await tick(bot)
        clock_of(bot).set(utc(3, 29, 1, 29))
        await tick(bot)
        assert digests(bot) == []
        clock_of(bot).set(utc(3, 29, 1, 30))
        await tick(bot)
        clock_of(bot).set(utc(3, 29, 2, 30))
        await tick(bot)
        [digest] = digests(bot)
    assert "Posted late" not in readable(digest)


async def test_no_scheduled_digest_when_daily_and_weekly_are_off(digest_bot: DigestBot) -> None:
    async with digest_bot(now=utc(12, 7, 6), daily=False, weekly_on="") as bot:
        for hours in (0, 1, 24):
            clock_of(bot).set(utc(12, 7, 6) + timedelta(hours=hours))
            await tick(bot)
        assert digests(bot) == []
        assert charts(bot) == []


async def test_a_digest_whose_chart_failed_once_is_posted_once_with_one_chart(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0700) as bot:
        await monday(bot)
        bot.slack.fail_next("files.completeUploadExternal", error="internal_error")
        clock_of(bot).set(TUESDAY_0800)
        await tick(bot)
        [digest] = digests(bot)
        assert_mondays_figures(readable(digest))
        assert len([c for c in bot.slack.calls_to("files.completeUploadExternal") if c.ok]) == 1
        assert len(charts(bot)) == 1


async def test_without_the_chart_the_digest_is_posted_alone(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0700, chart=False) as bot:
        await monday(bot)
        clock_of(bot).set(TUESDAY_0800)
        await tick(bot)
        [digest] = digests(bot)
        assert_mondays_figures(readable(digest))
        assert charts(bot) == []
        assert bot.slack.calls_to("files.getUploadURLExternal") == []


async def test_the_digest_is_written_in_the_teams_language(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0800 + timedelta(hours=3), language="fi", chart=False) as bot:
        await tick(bot)
        [digest] = digests(bot)
    assert "Julkaistu myöhässä: botti ei ollut käynnissä ajastettuna aikana (ti 1. joulukuuta klo 08:00)." in readable(
        digest
    )


async def test_a_changed_daily_time_does_not_post_the_same_days_digest_again(digest_bot: DigestBot) -> None:
    """Posted at 08:00; the bot restarts with ``daily_at`` 07:00, then 09:00: today's digest is not posted again."""
    async with digest_bot(now=TUESDAY_0700, weekly_on="", chart=False) as bot:
        await monday(bot)
        clock_of(bot).set(TUESDAY_0800)
        await tick(bot)
        assert len(digests(bot)) == 1
    for daily_at, at in (("07:00", TUESDAY_0800 + timedelta(minutes=30)), ("09:00", TUESDAY_0800 + timedelta(hours=1))):
        async with digest_bot(now=at, daily_at=daily_at, weekly_on="", chart=False) as bot:
            await tick(bot)
            assert len(digests(bot)) == 1, f"posted again after daily_at became {daily_at}"
    # Tomorrow it is posted at the new time, once.
    async with digest_bot(now=TUESDAY_0800 + timedelta(days=1, hours=1), daily_at="09:00", weekly_on="") as bot:
        await tick(bot)
        await tick(bot)
        _mondays, tuesdays = digests(bot)
        assert readable(tuesdays).startswith("Daily digest · Tue 1 Dec\n") and "Posted late" not in readable(tuesdays)
