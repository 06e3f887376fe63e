"""Covers, uncovers and swaps through ``/rota``: overlaps, a cover ending mid-shift, one-way and impossible swaps."""

from __future__ import annotations

from datetime import UTC, datetime

from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from test_rota_commands import ANNA, JARI, audit_lines, channel_texts

from chatops.testing.bot import TestBot

PIA = "<@UPIA|pia>"


async def week_day(bot: TestBot, day: str) -> str:
    """The section of ``/rota week`` for ``day`` (``"Tue 1 Dec"``)."""
    answer = await bot.command(bot.person("Anna"), "/rota", "week")
    return next(s for s in answer.text.split("\n\n") if s.startswith(f"*{day}*"))


async def test_someone_going_home_sick_is_covered_for_the_rest_of_the_day(rota_bot: RotaBot) -> None:
    # 11:00 in Helsinki on Tuesday 1 Dec.
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await add_shift(bot, "mon-fri", "16:00-22:00", "UPIA")
        answer = await bot.command(lena, "/rota", f"cover {ANNA} today 12:00.. {JARI}")
        assert answer.text.startswith("✅ Done: <@UJARI> covers <@UANNA> Tue 1 Dec 12:00–24:00.")
        now = await bot.command(lena, "/rota", "now")
        assert now.text == "🟢 On shift now: <@UANNA>, until 12:00.\nNext: <@UJARI> from 12:00."
        assert await week_day(bot, "Tue 1 Dec") == (
            "*Tue 1 Dec*\n• 08:00–12:00 <@UANNA>\n• 12:00–16:00 <@UJARI> _(cover for <@UANNA>)_\n• 16:00–22:00 <@UPIA>"
        )
        assert await week_day(bot, "Wed 2 Dec") == "*Wed 2 Dec*\n• 08:00–16:00 <@UANNA>\n• 16:00–22:00 <@UPIA>"
        assert (await channel_texts(bot))[-1] == (
            "🩹 <@ULENA> arranged a cover: `c1` <@UJARI> covers <@UANNA>: Tue 1 Dec 12:00–24:00"
        )
        action, actor, detail = (await audit_lines(bot))[-1]
        assert (action, actor) == ("rota.cover_added", "ULENA")
        assert detail == {
            "cover_id": 1,
            "absent": "UANNA",
            "cover": "UJARI",
            "start": "2026-12-01T10:00:00+00:00",
            "end": "2026-12-01T22:00:00+00:00",
            "whole_shifts": False,
        }


async def test_a_cover_ending_mid_shift_hands_the_shift_back(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-01 06:00..2026-12-01 13:30 {JARI}")
        now = await bot.command(lena, "/rota", "now")
        assert now.text == "🟢 On shift now: <@UJARI>, until 13:30.\nNext: <@UANNA> from 13:30."
        clock_of(bot).set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # 14:00 local
        now = await bot.command(lena, "/rota", "now")
        assert now.text == "🟢 On shift now: <@UANNA>, until 16:00.\nNext: nobody from 16:00."


async def test_a_second_cover_over_a_covered_range_is_refused_but_a_partial_overlap_applies(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-01..2026-12-03 {JARI}")
        refused = await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-02 {PIA}")
        assert refused.text == "<@UANNA> has no shift to cover then (or it is covered already: see /rota list)."
        partial = await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-03..2026-12-04 {PIA}")
        assert partial.text.startswith("✅ Done: <@UPIA> covers <@UANNA> Thu 3 Dec – Fri 4 Dec.")
        # The later cover wins where the two overlap: Pia has Thursday too, as the confirmation says.
        assert await week_day(bot, "Thu 3 Dec") == "*Thu 3 Dec*\n• 08:00–16:00 <@UPIA> _(cover for <@UANNA>)_"
        assert await week_day(bot, "Fri 4 Dec") == "*Fri 4 Dec*\n• 08:00–16:00 <@UPIA> _(cover for <@UANNA>)_"
        assert [line[0] for line in await audit_lines(bot)] == ["rota.cover_added", "rota.cover_added"]


async def test_a_cover_for_someone_without_shifts_or_in_the_past_changes_nothing(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        nothing = await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-05..2026-12-06 {JARI}")
        assert nothing.text.startswith("<@UANNA> has no shift to cover then")
        past = await bot.command(lena, "/rota", f"cover {ANNA} 2026-11-30 {JARI}")
        assert past.text == "That is already over."
        assert (await rota_of_bot(bot).schedule(fresh=True)).changes == ()
        assert await audit_lines(bot) == []
        assert await channel_texts(bot) == []


async def test_uncover_undoes_part_of_a_cover_and_says_what_stays_covered(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-01..2026-12-03 {JARI}")
        answer = await bot.command(lena, "/rota", f"uncover {ANNA} 2026-12-02")
        assert answer.text.startswith("✅ Done: <@UANNA> is not covered Wed 2 Dec any more.")
        assert await week_day(bot, "Wed 2 Dec") == "*Wed 2 Dec*\n• 08:00–16:00 <@UANNA>"
        assert await week_day(bot, "Thu 3 Dec") == "*Thu 3 Dec*\n• 08:00–16:00 <@UJARI> _(cover for <@UANNA>)_"
        assert (await channel_texts(bot))[-1] == (
            "🗓️ <@ULENA> undid the cover of <@UANNA>: Wed 2 Dec\n"
            "Still covered:\n"
            "• `c2` <@UJARI> covers <@UANNA>: Tue 1 Dec\n"
            "• `c3` <@UJARI> covers <@UANNA>: Thu 3 Dec"
        )
        assert (await audit_lines(bot))[-1][0] == "rota.cover_removed"
        again = await bot.command(lena, "/rota", f"uncover {ANNA} 2026-12-02")
        assert again.text == "<@UANNA> is not covered then."


async def test_a_swap_of_two_people_with_shifts_that_day(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await add_shift(bot, "mon-fri", "16:00-24:00", "UJARI")
        answer = await bot.command(lena, "/rota", f"swap {ANNA} {JARI} 2026-12-03")
        assert answer.text.startswith("✅ Done: <@UANNA> and <@UJARI> swap their shifts on Thu 3 Dec.")
        assert await week_day(bot, "Thu 3 Dec") == (
            "*Thu 3 Dec*\n• 08:00–16:00 <@UJARI> _(swap with <@UANNA>)_\n• 16:00–24:00 <@UANNA> _(swap with <@UJARI>)_"
        )
        assert (await channel_texts(bot))[-1] == "🔁 <@ULENA> swapped shifts: `w1` <@UANNA> ⇄ <@UJARI>: Thu 3 Dec"
        assert (await audit_lines(bot))[-1] == (
            "rota.swap_added",
            "ULENA",
            {"swap_id": 1, "first": "UANNA", "second": "UJARI", "day": "2026-12-03", "one_way": False},
        )


async def test_a_swap_with_someone_who_has_no_shift_that_day_is_one_way_and_says_so(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answer = await bot.command(lena, "/rota", f"swap {PIA} {ANNA} 2026-12-03")
        assert answer.text.startswith("✅ Done: <@UPIA> and <@UANNA> swap their shifts on Thu 3 Dec.")
        assert (await channel_texts(bot))[-1] == (
            "🔁 <@ULENA> swapped shifts: `w1` <@UPIA> ⇄ <@UANNA>: Thu 3 Dec. "
            "Only <@UANNA> had a shift that day, so this is one-way: <@UPIA> takes it."
        )
        assert await week_day(bot, "Thu 3 Dec") == "*Thu 3 Dec*\n• 08:00–16:00 <@UPIA> _(swap with <@UANNA>)_"
        assert (await audit_lines(bot))[-1][2]["one_way"] is True


async def test_a_swap_when_neither_has_a_shift_or_in_the_past_is_refused(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        neither = await bot.command(lena, "/rota", f"swap {ANNA} {JARI} 2026-12-05")
        assert neither.text == "Neither <@UANNA> nor <@UJARI> has a shift starting on Sat 5 Dec: nothing to swap."
        past = await bot.command(lena, "/rota", f"swap {ANNA} {JARI} 2026-11-30")
        assert past.text == "That is already over."
        assert (await rota_of_bot(bot).schedule(fresh=True)).changes == ()
        assert await audit_lines(bot) == []


async def test_remove_takes_covers_and_swaps_by_their_own_ids_only(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-02 {JARI}")
        await bot.command(lena, "/rota", f"swap {ANNA} {JARI} 2026-12-03")
        assert (await bot.command(lena, "/rota", "remove w1")).text == "There is no w1 to remove (see /rota list)."
        assert (await bot.command(lena, "/rota", "remove c2")).text == "There is no c2 to remove (see /rota list)."
        assert (await bot.command(lena, "/rota", "remove c1")).text.startswith("✅ Done: c1 is removed.")
        assert (await bot.command(lena, "/rota", "remove w2")).text.startswith("✅ Done: w2 is removed.")
        assert (await channel_texts(bot))[-2:] == [
            "🗓️ <@ULENA> removed `c1` <@UJARI> covers <@UANNA>: Wed 2 Dec",
            "🗓️ <@ULENA> removed `w2` <@UANNA> ⇄ <@UJARI>: Thu 3 Dec",
        ]
        assert [line[0] for line in await audit_lines(bot)][-2:] == ["rota.cover_removed", "rota.swap_removed"]
        assert (await rota_of_bot(bot).schedule(fresh=True)).changes == ()


async def test_people_must_be_mentions_not_plain_names_groups_or_channels(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        plain = await bot.command(lena, "/rota", "add mon-fri 08:00-16:00 @anna")
        assert plain.text.startswith(
            "“@anna” is plain text: pick the person from Slack's suggestions as you type @, so it becomes a mention."
        )
        assert "`/rota add mon-fri 08:00-16:00 @anna @jari`" in plain.text
        group = await bot.command(lena, "/rota", "add mon 08:00-16:00 <!subteam^SSUPPORT|@support>")
        assert group.text.startswith("&lt;!subteam^SSUPPORT|@support&gt; is a user group or channel")
        channel = await bot.command(lena, "/rota", f"cover {ANNA} today <#CINBOX|inbox>")
        assert "is a user group or channel" in channel.text
        bare = await bot.command(lena, "/rota", "add mon 08:00-16:00 <@UANNA>")
        assert bare.text.startswith("✅ Done: shift mon 08:00–16:00 for <@UANNA>.")
