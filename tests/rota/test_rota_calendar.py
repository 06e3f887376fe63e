"""The rota's iCalendar feeds: what a calendar app subscribed to a team or personal URL shows (both databases).

The links come from ``/rota calendar``'s answer (:func:`calendar.answer`); the feeds are
fetched from the bot's own HTTP server and read with the ``icalendar`` library, as a
calendar app would.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar
from rota_kit import LEAD, RotaBot, add_shift, clock_of, rota_of_bot
from sqlalchemy import select

from chatops.db import DatabaseUnavailable
from chatops.models import AuditEntry
from chatops.testing.bot import TestBot
from chatops_plugins.rota import calendar, records
from chatops_plugins.rota.schedule import local_day_start

PUBLIC_URL = "https://chatops.example.com"
HELSINKI = ZoneInfo("Europe/Helsinki")
#: A Tuesday morning in Helsinki (UTC+2): the default clock of ``rota_bot``.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def bot_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every line the bot logged (messages and tracebacks).

    Left out: httpx and httpcore are the test's own client here (the calendar app), which knows
    its URL; aiosqlite's DEBUG trace prints every statement's parameters, whatever they hold.
    """
    bot_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "aiosqlite"))]
    return "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in bot_side)


def links(answer: str) -> tuple[str, str]:
    """The (personal, team) feed paths in a ``/rota calendar`` answer."""
    found = re.findall(r"/rota/calendar/[A-Za-z0-9_-]+\.ics", answer)
    assert len(found) == 2, answer
    return found[0], found[1]


async def ask(bot: TestBot, person: str, args: str = "") -> str:
    """What ``/rota calendar <args>`` answers ``person``."""
    return await calendar.answer(rota_of_bot(bot), person, args)


async def get(bot: TestBot, path: str) -> httpx.Response:
    assert bot.http is not None
    return await bot.http.get(path)


async def feed(bot: TestBot, path: str) -> Calendar:
    """The calendar at ``path``, parsed as a calendar app would."""
    response = await get(bot, path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> list[tuple[datetime, datetime, str, str]]:
    """(start, end, summary, description) of every event, by start."""
    found = [
        (e.decoded("dtstart"), e.decoded("dtend"), str(e["summary"]), str(e.get("description", "")))
        for e in cal.walk("VEVENT")
    ]
    return sorted(found)


def on(day: date, found: list[tuple[datetime, datetime, str, str]]) -> list[tuple[datetime, datetime, str, str]]:
    """The events starting on ``day`` in Helsinki."""
    return [e for e in found if e[0].astimezone(HELSINKI).date() == day]


def hel(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HELSINKI).astimezone(UTC)


async def cover(bot: TestBot, absent: str, by: str, start: datetime, end: datetime, *, whole_shifts: bool) -> None:
    rota = rota_of_bot(bot)
    async with rota.ctx.db.write() as session:
        await records.add_cover(session, absent, by, start, end, whole_shifts=whole_shifts, by=LEAD, at=rota.now())
    rota.invalidate()


async def swap(bot: TestBot, first: str, second: str, day: date) -> None:
    rota = rota_of_bot(bot)
    async with rota.ctx.db.write() as session:
        await records.add_swap(session, first, second, day, by=LEAD, at=rota.now())
    rota.invalidate()


WED = date(2026, 12, 2)
THU = date(2026, 12, 3)


async def test_team_and_personal_feeds_show_the_shifts_and_who_covers(rota_bot: RotaBot) -> None:
    async with rota_bot(public_url=PUBLIC_URL) as bot:
        anna, jari, mikko = bot.person("Anna"), bot.person("Jari"), bot.person("Mikko")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        await add_shift(bot, "mon-fri", "12:00-20:00", jari.id)
        # Anna is off sick on Wednesday: Mikko takes her whole shift.
        await cover(
            bot, anna.id, mikko.id, local_day_start(WED, HELSINKI), local_day_start(THU, HELSINKI), whole_shifts=True
        )

        anna_path, team_path = links(await ask(bot, anna.id))
        mikko_path, team_again = links(await ask(bot, mikko.id))
        assert team_again == team_path and anna_path != mikko_path

        team = await feed(bot, team_path)
        assert on(WED, events(team)) == [
            (hel(WED, 8), hel(WED, 16), "On shift: Mikko", "Covered: planned Anna, now Mikko."),
            (hel(WED, 12), hel(WED, 20), "On shift: Jari", ""),
        ]
        assert on(THU, events(team)) == [
            (hel(THU, 8), hel(THU, 16), "On shift: Anna", ""),
            (hel(THU, 12), hel(THU, 20), "On shift: Jari", ""),
        ]
        assert str(team["x-wr-timezone"]) == "Europe/Helsinki"
        assert b"X-WR-CALNAME:Team rota" in (await get(bot, team_path)).content

        mine = events(await feed(bot, mikko_path))
        assert mine == [(hel(WED, 8), hel(WED, 16), "On shift", "Covered: planned Anna, now Mikko.")]

        annas = events(await feed(bot, anna_path))
        assert on(WED, annas) == []
        assert on(THU, annas) == [(hel(THU, 8), hel(THU, 16), "On shift", "")]
        # Two weeks back to eight weeks ahead: Mon-Fri, so ten weekdays back and forty ahead (give or take today).
        days = {e[0].astimezone(HELSINKI).date() for e in annas}
        assert min(days) == date(2026, 11, 17) and max(days) == date(2027, 1, 26)
        assert all(d.weekday() < 5 for d in days)


async def test_a_shift_split_by_a_cover_is_two_events_and_the_first_keeps_its_uid(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna, mikko = bot.person("Anna"), bot.person("Mikko")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        anna_path, team_path = links(await ask(bot, anna.id))

        def uids_on(cal: Calendar, day: date) -> dict[datetime, str]:
            return {
                e.decoded("dtstart"): str(e["uid"])
                for e in cal.walk("VEVENT")
                if e.decoded("dtstart").astimezone(HELSINKI).date() == day
            }

        before = uids_on(await feed(bot, team_path), WED)
        # Anna goes home sick at noon on Wednesday; Mikko takes the rest.
        await cover(bot, anna.id, mikko.id, hel(WED, 12), hel(WED, 16), whole_shifts=False)
        team = await feed(bot, team_path)
        assert on(WED, events(team)) == [
            (hel(WED, 8), hel(WED, 12), "On shift: Anna", ""),
            (hel(WED, 12), hel(WED, 16), "On shift: Mikko", "Covered: planned Anna, now Mikko."),
        ]
        after = uids_on(team, WED)
        assert after[hel(WED, 8)] == before[hel(WED, 8)]
        assert after[hel(WED, 12)] != after[hel(WED, 8)]

        assert on(WED, events(await feed(bot, anna_path))) == [(hel(WED, 8), hel(WED, 12), "On shift", "")]


async def test_uids_are_stable_across_fetches_and_unique_within_a_feed(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna, jari = bot.person("Anna"), bot.person("Jari")
        await add_shift(bot, "mon-sun", "22:00-06:00", anna.id, jari.id)
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        anna_path, team_path = links(await ask(bot, anna.id))

        first = await feed(bot, team_path)
        clock_of(bot).advance(minutes=3)
        second = await feed(bot, team_path)
        uids = [str(e["uid"]) for e in first.walk("VEVENT")]
        assert len(uids) == len(set(uids)) > 50
        assert uids == [str(e["uid"]) for e in second.walk("VEVENT")]
        # DTSTAMP says when the feed was made; it moves, the UIDs do not.
        stamps = {e.decoded("dtstamp") for e in second.walk("VEVENT")}
        assert stamps == {datetime(2026, 12, 1, 9, 3, tzinfo=UTC)}

        # A person's event is not the team's event: a calendar holding both keeps both.
        personal = {str(e["uid"]) for e in (await feed(bot, anna_path)).walk("VEVENT")}
        assert personal and not personal & set(uids)


async def test_a_swap_is_described_as_a_swap(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna, jari = bot.person("Anna"), bot.person("Jari")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        await add_shift(bot, "mon-fri", "16:00-22:00", jari.id)
        await swap(bot, anna.id, jari.id, THU)
        jari_path, team_path = links(await ask(bot, jari.id))
        assert on(THU, events(await feed(bot, team_path))) == [
            (hel(THU, 8), hel(THU, 16), "On shift: Jari", "Swapped: planned Anna, now Jari."),
            (hel(THU, 16), hel(THU, 22), "On shift: Anna", "Swapped: planned Jari, now Anna."),
        ]
        assert on(THU, events(await feed(bot, jari_path))) == [
            (hel(THU, 8), hel(THU, 16), "On shift", "Swapped: planned Anna, now Jari.")
        ]


async def test_a_personal_feed_names_who_else_is_on_the_shift(rota_bot: RotaBot) -> None:
    async with rota_bot(language="fi") as bot:
        anna, jari = bot.person("Anna"), bot.person("Jari")
        await add_shift(bot, "wed", "08:00-16:00", anna.id, jari.id)
        anna_path, team_path = links(await ask(bot, anna.id))
        assert [e[2] for e in events(await feed(bot, anna_path))][:1] == ["Vuorossa, mukana Jari"]
        assert [e[2] for e in events(await feed(bot, team_path))][:1] == ["Vuorossa: Anna, Jari"]


@pytest.mark.parametrize(
    ("timezone_day", "expected"),
    [
        # The clocks go forward at 02:00 on 2027-03-28: 02:30 does not exist and is read as 03:30 CEST
        # (RFC 5545); the days around it are 02:30 CET (01:30Z) and 02:30 CEST (00:30Z).
        (
            date(2027, 3, 28),
            [
                (datetime(2027, 3, 27, 1, 30, tzinfo=UTC), datetime(2027, 3, 27, 5, 0, tzinfo=UTC)),
                (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 4, 0, tzinfo=UTC)),
                (datetime(2027, 3, 29, 0, 30, tzinfo=UTC), datetime(2027, 3, 29, 4, 0, tzinfo=UTC)),
            ],
        ),
        # They go back at 03:00 on 2027-10-31: 02:30 happens twice, and the shift starts at the first.
        (
            date(2027, 10, 31),
            [
                (datetime(2027, 10, 30, 0, 30, tzinfo=UTC), datetime(2027, 10, 30, 4, 0, tzinfo=UTC)),
                (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 5, 0, tzinfo=UTC)),
                (datetime(2027, 11, 1, 1, 30, tzinfo=UTC), datetime(2027, 11, 1, 5, 0, tzinfo=UTC)),
            ],
        ),
    ],
)
async def test_a_0230_shift_has_the_right_utc_times_around_dst(
    rota_bot: RotaBot, timezone_day: date, expected: list[tuple[datetime, datetime]]
) -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    now = datetime.combine(timezone_day - timedelta(days=7), datetime.min.time(), tzinfo=UTC)
    async with rota_bot(timezone="Europe/Warsaw", now=now) as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-sun", "02:30-06:00", anna.id)
        _, team_path = links(await ask(bot, anna.id))
        response = await get(bot, team_path)
        found = [
            (e.decoded("dtstart"), e.decoded("dtend"))
            for e in Calendar.from_ical(response.content).walk("VEVENT")
            if abs((e.decoded("dtstart").astimezone(warsaw).date() - timezone_day).days) <= 1
        ]
        assert sorted(found) == expected
        # Written in UTC, as the brief of the feed says, so no calendar app has to know Warsaw's rules.
        day = timezone_day.strftime("%Y%m%d")
        assert re.search(rf"DTSTART:{day}T0[01]3000Z\r\n".encode(), response.content)
        assert b"X-WR-TIMEZONE:Europe/Warsaw" in response.content


async def test_names_with_line_breaks_commas_and_semicolons_survive_the_feed(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        odd = "Ann\nDoe, Jr.; \\o/"
        bot.slack.add_user("UODD", name="ann", display_name=odd)
        jari = bot.person("Jari")
        # Someone Slack does not know is shown by their id.
        await add_shift(bot, "wed", "08:00-16:00", "UODD", jari.id, "UGONE")
        odd_path, team_path = links(await ask(bot, "UODD"))
        raw = (await get(bot, team_path)).content
        assert b"On shift: Ann\\nDoe\\, Jr.\\; \\\\o/\\, Jari\\, UGONE" in raw.replace(b"\r\n ", b"")
        team = await feed(bot, team_path)
        assert events(team)[0][2] == f"On shift: {odd}, Jari, UGONE"

        mine = await get(bot, odd_path)
        assert b"X-WR-CALNAME:Shifts: Ann\\nDoe\\, Jr.\\; \\\\o/" in mine.content.replace(b"\r\n ", b"")
        assert events(Calendar.from_ical(mine.content))[0][2] == "On shift with Jari, UGONE"
        # Every line a calendar app reads is one line: no raw line break made it through.
        for line in mine.content.split(b"\r\n"):
            assert b"\n" not in line and b"\r" not in line


async def test_unknown_garbage_and_overlong_tokens_and_path_tricks_are_plain_404s(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        anna_path, team_path = links(await ask(bot, anna.id))
        token = anna_path.removeprefix("/rota/calendar/").removesuffix(".ics")
        nowhere = await get(bot, "/no/such/route")
        assert nowhere.status_code == 404
        unknown = calendar.new_token()
        for path in [
            f"/rota/calendar/{unknown}.ics",
            "/rota/calendar/garbage.ics",
            f"/rota/calendar/{'A' * 10_000}.ics",
            f"/rota/calendar/{token}x.ics",
            f"/rota/calendar/{token[:-1]}.ics",
            f"/rota/calendar/{token}",
            f"/rota/calendar/{token}.ics.ics",
            # Starlette redirects a trailing slash to the path without it, which is as unknown.
            f"/rota/calendar/{unknown}.ics/",
            f"/rota/calendar/{token}%2F..%2F{token}.ics",
            f"/rota/calendar/..%2F{token}.ics",
            f"/rota/calendar/%20{token}.ics",
            f"/rota/calendar/{token.lower() if token.lower() != token else token.upper()}.ics",
            "/rota/calendar/.ics",
            "/rota/calendar/' OR '1'='1.ics",
        ]:
            assert bot.http is not None
            response = await bot.http.get(path, follow_redirects=True)
            assert response.status_code == 404, path
            assert (response.text, response.headers["content-type"]) == (nowhere.text, nowhere.headers["content-type"])
        assert bot.http is not None
        head = await bot.http.head(f"/rota/calendar/{unknown}.ics")
        assert head.status_code == 404
        # The real ones still work, GET and HEAD alike.
        assert (await get(bot, anna_path)).status_code == 200
        head = await bot.http.head(team_path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == "text/calendar; charset=utf-8"


async def test_reset_gives_a_new_personal_url_and_the_old_one_stops_working(rota_bot: RotaBot) -> None:
    async with rota_bot(public_url=PUBLIC_URL + "/") as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        old, team = links(await ask(bot, anna.id))
        assert (await get(bot, old)).status_code == 200

        answer = await ask(bot, anna.id, " Reset ")
        assert answer.startswith("Your personal calendar link is new and the old one no longer works.")
        new, team_after = links(answer)
        assert new != old and team_after == team
        assert (await get(bot, old)).status_code == 404
        assert len(events(await feed(bot, new))) > 0
        assert (await get(bot, team)).status_code == 200
        # The answer after the reset shows the new link from then on.
        assert links(await ask(bot, anna.id)) == (new, team)

        assert bot.app is not None
        async with bot.app.db.read() as session:
            audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action.like("rota.%")))).all()
        assert [(a.actor, a.action, a.detail) for a in audit] == [(anna.id, "rota.calendar_reset", {"owner": anna.id})]


async def test_reset_before_any_link_was_asked_for_makes_one(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        jari = bot.person("Jari")
        mine, team = links(await ask(bot, jari.id, "reset"))
        assert links(await ask(bot, jari.id)) == (mine, team)


async def test_concurrent_first_asks_give_one_token(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        answers = await asyncio.gather(*(ask(bot, anna.id) for _ in range(8)))
        assert len({links(a) for a in answers}) == 1
        # Others asking at the same time share the team's token and get their own.
        people = [bot.person(name).id for name in ("Jari", "Mikko", "Sanna")]
        others = await asyncio.gather(*(ask(bot, p) for p in people * 3))
        assert {links(a)[1] for a in others} == {links(answers[0])[1]}
        assert len({links(a)[0] for a in others}) == len(people)


async def test_the_answer_shows_full_links_with_a_public_url(rota_bot: RotaBot) -> None:
    async with rota_bot(public_url=PUBLIC_URL) as bot:
        answer = await ask(bot, bot.person("Anna").id)
        mine, team = links(answer)
        assert f"• Your shifts: <{PUBLIC_URL}{mine}>" in answer
        assert f"• The whole team: <{PUBLIC_URL}{team}>" in answer
        assert "/rota calendar reset" in answer
        assert "public_url" not in answer


async def test_the_answer_without_a_public_url_shows_the_path_and_names_the_setting(rota_bot: RotaBot) -> None:
    async with rota_bot(language="pl") as bot:
        answer = await ask(bot, bot.person("Anna").id)
        mine, team = links(answer)
        assert f"• Twoje dyżury: `{mine}`" in answer
        assert f"• Cały zespół: `{team}`" in answer
        assert "`plugins.rota.public_url`" in answer
        assert "https://" + "chatops.example.com" + mine not in answer


async def test_anything_else_after_calendar_gets_the_usage(rota_bot: RotaBot) -> None:
    async with rota_bot(language="fi") as bot:
        answer = await ask(bot, bot.person("Anna").id, "delete everything")
        assert answer.startswith("`/rota calendar` näyttää kalenterilinkkisi")
        assert "/rota/calendar/" not in answer


async def test_tokens_never_reach_the_logs(rota_bot: RotaBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", anna.id)
        paths = list(links(await ask(bot, anna.id)))
        paths.append(links(await ask(bot, anna.id, "reset"))[0])
        for path in paths:
            await get(bot, path)
        tokens = [p.removeprefix("/rota/calendar/").removesuffix(".ics") for p in paths]
    logged = bot_logs(caplog)
    assert logged
    assert not [t for t in tokens if t in logged]


async def test_a_database_outage_answers_503_without_logging_the_token(
    rota_bot: RotaBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        anna_path, _ = links(await ask(bot, anna.id))
        token = anna_path.removeprefix("/rota/calendar/").removesuffix(".ics")

        async def unavailable(*, fresh: bool = False) -> None:
            raise DatabaseUnavailable("connection refused")

        # The token was looked up; reading the rota itself meets the outage.
        monkeypatch.setattr(rota_of_bot(bot), "schedule", unavailable)
        caplog.clear()
        response = await get(bot, anna_path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "60"
        logged = bot_logs(caplog)
        assert "calendar feed answered 503: database unavailable: connection refused" in logged
        assert token not in logged


async def test_the_slash_command_gives_links_that_serve_the_askers_shifts(rota_bot: RotaBot) -> None:
    async with rota_bot(public_url=PUBLIC_URL) as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "daily", "08:00-16:00", anna.id)
        response = await bot.command(anna, "/rota", "calendar")
        assert response.status_code == 200
        personal, team = links(response.text)
        assert f"<{PUBLIC_URL}{personal}>" in response.text
        assert events(await feed(bot, personal)) and events(await feed(bot, team))
        reset = await bot.command(anna, "/rota", "calendar reset")
        assert links(reset.text)[0] != personal
        assert (await get(bot, personal)).status_code == 404
