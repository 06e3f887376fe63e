"""``/rota`` as people type it: reading the rota, changing it (leads only), posting it, replays, languages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from sqlalchemy import select

from chatops.models import AuditEntry
from chatops.testing.bot import INBOX, TestBot
from chatops.testing.slack_requests import slash_command_body

ANNA = "<@UANNA|anna>"
JARI = "<@UJARI|jari>"


async def audit_lines(bot: TestBot) -> list[tuple[str, str, dict[str, Any]]]:
    """The rota's audit lines: (action, actor, detail), oldest first."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action.like("rota.%")).order_by(AuditEntry.id))
        return [(r.action, r.actor, dict(r.detail)) for r in rows]


async def channel_texts(bot: TestBot, channel: str = INBOX) -> list[str]:
    """What the team reads in ``channel`` once the outbox has posted everything."""
    await bot.idle()
    return [m.get("text", "") for m in bot.slack.top_level_messages(channel)]


def command_body(bot: TestBot, person_id: str, text: str) -> str:
    """One signed ``/rota`` request, to deliver several times."""
    return slash_command_body(
        command="/rota",
        text=text,
        user_id=person_id,
        user_name=person_id.lower(),
        channel_id=INBOX,
        trigger_id=bot.slack.new_trigger_id(person_id),
    )


async def test_now_says_who_is_on_shift_until_when_and_who_is_next_in_the_teams_timezone(rota_bot: RotaBot) -> None:
    # Tuesday 1 Dec 2026, 09:00 UTC = 11:00 in Helsinki.
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await add_shift(bot, "mon-fri", "16:00-24:00", "UJARI")
        answer = await bot.command(anna, "/rota")
        assert answer.status_code == 200
        assert answer.text == "🟢 On shift now: <@UANNA>, until 16:00.\nNext: <@UJARI> from 16:00."
        assert (await bot.command(anna, "/rota", "now")).text == answer.text

        clock_of(bot).set(datetime(2026, 12, 4, 23, 0, tzinfo=UTC))  # Sat 01:00 local: nobody until Monday
        answer = await bot.command(anna, "/rota", "now")
        assert answer.text == "⚪ Nobody is on shift now.\nNext: <@UANNA> from Mon 7 Dec 08:00."


async def test_an_empty_rota_says_how_to_start_one(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        answer = await bot.command(bot.person("Anna"), "/rota", "week")
    assert "The rota is empty" in answer.text
    assert "/rota add mon-fri 08:00-16:00 @anna" in answer.text


async def test_week_shows_each_day_with_covers_and_swaps_marked(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await add_shift(bot, "sat", "22:00-06:00", "UPIA")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-02 {JARI}")
        await bot.command(lena, "/rota", "swap <@UANNA> <@UPIA> 2026-12-04")
        answer = await bot.command(bot.person("Anna"), "/rota", "week")
        sections = answer.text.split("\n\n")
        assert sections == [
            "*Rota Mon 30 Nov – Sun 6 Dec*",
            "*Mon 30 Nov*\n• 08:00–16:00 <@UANNA>",
            "*Tue 1 Dec*\n• 08:00–16:00 <@UANNA>",
            "*Wed 2 Dec*\n• 08:00–16:00 <@UJARI> _(cover for <@UANNA>)_",
            "*Thu 3 Dec*\n• 08:00–16:00 <@UANNA>",
            "*Fri 4 Dec*\n• 08:00–16:00 <@UPIA> _(swap with <@UANNA>)_",
            "*Sat 5 Dec*\n• 22:00–06:00 <@UPIA>",
            "*Sun 6 Dec*\nno shifts",
        ]
        following = await bot.command(bot.person("Anna"), "/rota", "week next")
        assert following.text.startswith("*Rota Mon 7 Dec – Sun 13 Dec*\n\n*Mon 7 Dec*\n• 08:00–16:00 <@UANNA>")


async def test_week_across_the_dst_change_shows_local_times(rota_bot: RotaBot) -> None:
    # Helsinki moves to summer time on Sunday 28 March 2027 at 03:00 (UTC+2 → UTC+3).
    async with rota_bot(now=datetime(2027, 3, 24, 10, 0, tzinfo=UTC)) as bot:
        await add_shift(bot, "daily", "08:00-16:00", "UANNA")
        await add_shift(bot, "sat", "22:00-06:00", "UJARI")
        answer = await bot.command(bot.person("Anna"), "/rota", "week")
        sections = answer.text.split("\n\n")
        assert sections[0] == "*Rota Mon 22 Mar – Sun 28 Mar*"
        assert sections[6] == "*Sat 27 Mar*\n• 08:00–16:00 <@UANNA>\n• 22:00–06:00 <@UJARI>"
        assert sections[7] == "*Sun 28 Mar*\n• 08:00–16:00 <@UANNA>"
        # After the change 08:00 local is 05:00 UTC: /rota now agrees.
        clock_of(bot).set(datetime(2027, 3, 28, 5, 30, tzinfo=UTC))
        now = await bot.command(bot.person("Anna"), "/rota", "now")
        assert now.text.startswith("🟢 On shift now: <@UANNA>, until 16:00.")


async def test_help_shows_every_form_with_an_example(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        answer = await bot.command(bot.person("Anna"), "/rota", "help")
    for example in (
        "`/rota now`",
        "`/rota week next`",
        "`/rota list`",
        "`/rota add mon-fri 08:00-16:00 @anna @jari`",
        "`/rota remove s3`",
        "`/rota cover @anna 2026-12-01..2026-12-03 @jari`",
        "`today 12:00..`",
        "`/rota uncover @anna 2026-12-02`",
        "`/rota swap @anna @jari 2026-12-05`",
        "`/rota edit`",
        "`/rota calendar`",
        "`/rota week post`",
    ):
        assert example in answer.text


async def test_list_shows_short_ids_and_changes_not_over_yet(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await bot.command(lena, "/rota", f"add mon-fri 08:00-16:00 {ANNA}")
        await bot.command(lena, "/rota", f"add sat,sun 22:00-06:00 {JARI} <@UPIA>")
        await bot.command(lena, "/rota", f"cover {ANNA} today {JARI}")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-03..2026-12-04 {JARI}")
        await bot.command(lena, "/rota", f"swap {ANNA} <@UPIA> 2026-12-07")
        listed = await bot.command(lena, "/rota", "list")
        assert listed.text == (
            "*Shifts*\n"
            "• `s1` mon-fri 08:00–16:00: <@UANNA>\n"
            "• `s2` sat,sun 22:00–06:00: <@UJARI>, <@UPIA>\n"
            "*Covers and swaps*\n"
            "• `c1` <@UJARI> covers <@UANNA>: Tue 1 Dec\n"
            "• `c2` <@UJARI> covers <@UANNA>: Thu 3 Dec – Fri 4 Dec\n"
            "• `w3` <@UANNA> ⇄ <@UPIA>: Mon 7 Dec"
        )
        clock_of(bot).set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # today's cover is over
        listed = await bot.command(lena, "/rota", "list")
        assert "`c1`" not in listed.text and "`c2`" in listed.text


async def test_a_lead_adds_a_shift_audited_and_confirmed_in_the_channel(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        answer = await bot.command(lena, "/rota", f"add mon-fri 08:00-16:00 {ANNA} {JARI}")
        assert answer.text == (
            "✅ Done: shift mon-fri 08:00–16:00 for <@UANNA>, <@UJARI>. The team sees it in <#CINBOX>."
        )
        assert await channel_texts(bot) == ["🗓️ <@ULENA> added a shift: `s1` mon-fri 08:00–16:00: <@UANNA>, <@UJARI>"]
        assert await audit_lines(bot) == [
            (
                "rota.shift_added",
                "ULENA",
                {"shift_id": 1, "days": "mon-fri", "start": "08:00", "end": "16:00", "people": ["UANNA", "UJARI"]},
            )
        ]
        removed = await bot.command(lena, "/rota", "remove s1")
        assert removed.text == "✅ Done: s1 is removed. The team sees it in <#CINBOX>."
        assert (await channel_texts(bot))[-1] == "🗓️ <@ULENA> removed `s1` mon-fri 08:00–16:00: <@UANNA>, <@UJARI>"
        assert [line[0] for line in await audit_lines(bot)] == ["rota.shift_added", "rota.shift_removed"]
        assert (await bot.command(lena, "/rota", "remove s1")).text == "There is no s1 to remove (see /rota list)."


async def test_shifts_past_midnight_wrapping_days_and_the_end_of_the_day(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await bot.command(lena, "/rota", f"add sat-mon 22:00-06:00 {ANNA}")
        await bot.command(lena, "/rota", f"add mon,wed,fri 16:00-24:00 {JARI}")
        listed = await bot.command(lena, "/rota", "list")
        assert "`s1` sat-mon 22:00–06:00: <@UANNA>" in listed.text
        assert "`s2` mon,wed,fri 16:00–24:00: <@UJARI>" in listed.text
        clock_of(bot).set(datetime(2026, 12, 6, 2, 0, tzinfo=UTC))  # Sun 04:00 local, Saturday night's shift
        now = await bot.command(lena, "/rota", "now")
        assert now.text == "🟢 On shift now: <@UANNA>, until 06:00.\nNext: nobody from 06:00."


async def test_someone_who_is_not_a_lead_is_refused_politely_with_the_leads_named(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=["ULENA", "SSHIFTLEADS"]) as bot:
        bot.slack.add_usergroup("SSHIFTLEADS", "shift-leads", users=["UOLLI"])
        anna = bot.person("Anna")
        answer = await bot.command(anna, "/rota", f"add mon-fri 08:00-16:00 {ANNA}")
        assert answer.text == (
            "Sorry, only the shift leads can change the rota: <@ULENA>, <!subteam^SSHIFTLEADS>. Ask one of them."
        )
        assert (await bot.command(anna, "/rota", "week post")).text == answer.text
        await bot.idle()
        assert await channel_texts(bot) == []
        assert (await rota_of_bot(bot).schedule(fresh=True)).rules == ()


async def test_a_member_of_a_lead_group_may_change_the_rota(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=["SSHIFTLEADS"]) as bot:
        bot.slack.add_usergroup("SSHIFTLEADS", "shift-leads", users=["UOLLI"])
        olli = bot.person("Olli")
        answer = await bot.command(olli, "/rota", f"add mon 08:00-16:00 {ANNA}")
        assert answer.text.startswith("✅ Done: shift mon 08:00–16:00")
        # The members are remembered for a while: one Slack call for two commands.
        await bot.command(olli, "/rota", f"add tue 08:00-16:00 {ANNA}")
        assert len(bot.slack.calls_to("usergroups.users.list")) == 1


async def test_a_lead_group_slack_cannot_answer_for_is_said_so(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=["SSHIFTLEADS"]) as bot:
        bot.slack.add_usergroup("SSHIFTLEADS", "shift-leads", users=["UOLLI"])
        bot.slack.fail_next("usergroups.users.list", error="internal_error")
        answer = await bot.command(bot.person("Olli"), "/rota", f"add mon 08:00-16:00 {ANNA}")
        assert answer.text == (
            "I could not check the members of <!subteam^SSHIFTLEADS> with Slack just now; please try again."
        )
        again = await bot.command(bot.person("Olli"), "/rota", f"add mon 08:00-16:00 {ANNA}")
        assert again.text.startswith("✅ Done")


async def test_without_leads_nobody_may_change_the_rota_and_the_setting_is_named(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=[]) as bot:
        answer = await bot.command(bot.person("Lena"), "/rota", f"add mon 08:00-16:00 {ANNA}")
    assert answer.text == (
        "Nobody may change the rota yet: `plugins.rota.leads` is not set in the bot's configuration."
    )


async def test_a_lead_posts_the_week_to_the_channel_and_is_told_where(rota_bot: RotaBot) -> None:
    async with rota_bot(channel="CROTA") as bot:
        bot.slack.add_channel("CROTA", "rota")
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answer = await bot.command(lena, "/rota", "week post")
        assert answer.text == "Posted in <#CROTA>."
        posted = await channel_texts(bot, "CROTA")
        assert len(posted) == 1 and posted[0].startswith("*Rota Mon 30 Nov – Sun 6 Dec*")
        now = await bot.command(lena, "/rota", "now post")
        assert now.text == "Posted in <#CROTA>."
        assert (await channel_texts(bot, "CROTA"))[-1].startswith("🟢 On shift now: <@UANNA>")
        # Without "post" nothing reaches the channel.
        await bot.command(lena, "/rota", "week")
        assert len(await channel_texts(bot, "CROTA")) == 2


@pytest.mark.parametrize("concurrently", [False, True])
async def test_a_replayed_command_changes_the_rota_once_and_answers_the_same(
    rota_bot: RotaBot, concurrently: bool
) -> None:
    async with rota_bot() as bot:
        bot.person("Lena")
        body = command_body(bot, "ULENA", f"add mon-fri 08:00-16:00 {ANNA}")
        answers = await bot.replay_request(body, 3, concurrently=concurrently)
        assert answers[0].text.startswith("✅ Done: shift mon-fri 08:00–16:00 for <@UANNA>.")
        assert len((await rota_of_bot(bot).schedule(fresh=True)).rules) == 1
        assert len(await channel_texts(bot)) == 1
        assert [line[0] for line in await audit_lines(bot)] == ["rota.shift_added"]

        posted = command_body(bot, "ULENA", "week post")
        await bot.replay_request(posted, 3, concurrently=concurrently)
        assert len(await channel_texts(bot)) == 2


async def test_a_replay_to_a_second_replica_changes_the_rota_once(rota_bot: RotaBot) -> None:
    async with rota_bot(instance_id="replica-a") as bot, rota_bot(instance_id="replica-b") as other:
        bot.person("Lena")
        body = command_body(bot, "ULENA", f"cover {ANNA} 2026-12-02 {JARI}")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answers = await bot.replay_request(body, 4, concurrently=True, to=other)
        assert answers[0].text.startswith("✅ Done: <@UJARI> covers <@UANNA> Wed 2 Dec.")
        assert len((await rota_of_bot(bot).schedule(fresh=True)).changes) == 1
        assert [line[0] for line in await audit_lines(bot)] == ["rota.cover_added"]


@pytest.mark.parametrize(
    ("language", "now", "week_title", "refusal"),
    [
        (
            "fi",
            "🟢 Vuorossa nyt: <@UANNA>; vuoro päättyy: 16:00.\nSeuraavaksi: ei ketään alkaen 16:00.",
            "*Vuorolista ma 30. marraskuuta – su 6. joulukuuta*",
            "Valitettavasti vain vuoroesihenkilöt voivat muuttaa vuorolistaa: <@ULENA>. Pyydä heiltä.",
        ),
        (
            "pl",
            "🟢 Teraz na zmianie: <@UANNA>, do 16:00.\nNastępnie: nikt od 16:00.",
            "*Grafik pon 30 listopada – niedz 6 grudnia*",
            "Przepraszamy, grafik mogą zmieniać tylko kierownicy zmian: <@ULENA>. Poproś któregoś z nich.",
        ),
    ],
)
async def test_answers_in_finnish_and_polish(
    rota_bot: RotaBot, language: str, now: str, week_title: str, refusal: str
) -> None:
    async with rota_bot(language=language) as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        assert (await bot.command(anna, "/rota", "now")).text == now
        assert (await bot.command(anna, "/rota", "week")).text.startswith(week_title + "\n\n")
        assert (await bot.command(anna, "/rota", f"add mon 08:00-09:00 {ANNA}")).text == refusal


async def test_a_lead_in_one_of_two_groups_passes_even_when_the_other_group_cannot_be_read(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot(leads=["SBROKEN", "SSHIFTLEADS"]) as bot:
        bot.slack.add_usergroup("SSHIFTLEADS", "shift-leads", users=["UOLLI"])
        answer = await bot.command(bot.person("Olli"), "/rota", f"add mon 08:00-16:00 {ANNA}")
        assert answer.text.startswith("✅ Done")
        refused = await bot.command(bot.person("Anna"), "/rota", f"add mon 08:00-16:00 {ANNA}")
        assert refused.text == (
            "I could not check the members of <!subteam^SBROKEN> with Slack just now; please try again."
        )


async def test_another_parts_form_is_answered_through_the_dispatch(
    rota_bot: RotaBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatops_plugins.rota import slash

    async def holidays(rota: object, user_id: str, args: str) -> str:
        return f"holidays for {user_id}: {args!r}"

    async with rota_bot() as bot:
        anna = bot.person("Anna")
        unknown = await bot.command(anna, "/rota", "holidays")
        assert unknown.text.startswith("/rota has no “holidays”.")
        monkeypatch.setitem(slash.OTHER_FORMS, "holidays", holidays)
        answer = await bot.command(anna, "/rota", "holidays next  year")
        assert answer.text == "holidays for UANNA: 'next  year'"


async def test_an_unexpected_failure_is_a_short_apology_not_an_error(
    rota_bot: RotaBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatops_plugins.rota import answers

    async def broken(rota: object) -> str:
        raise RuntimeError("database went away")

    async with rota_bot() as bot:
        monkeypatch.setattr(answers, "list_answer", broken)
        answer = await bot.command(bot.person("Anna"), "/rota", "list")
    assert answer.status_code == 200
    assert answer.text == "Sorry, something went wrong with /rota. Nothing was changed; please try again."
