"""/rota against a hostile workspace: huge rotas, odd names, replayed and edited dialog submissions.

Each test drives the real bot (signed requests, the fake Slack) and asserts what a person
reads: answers Slack can show whole, names that cannot hide or reverse text, changes that
are neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

from rota_kit import LEAD, RotaBot, add_shift, rota_of_bot
from test_rota_commands import ANNA, JARI, channel_texts, command_body
from test_rota_edit import chosen, day, open_edit, user

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack.blocks import view_errors
from chatops.testing.outages import database_read_only
from chatops_plugins.rota import records
from chatops_plugins.rota.timespec import parse_days

#: What the rota promises to keep an answer within (Slack shows about 4,000 characters of a message well).
LIMIT = 3500


async def big_rota(bot: TestBot, shifts: int = 200, covers: int = 0) -> None:
    """``shifts`` daily shifts of 20 people each (long ids), and ``covers`` exact covers from now on."""
    rota = rota_of_bot(bot)
    now = rota.now()
    async with rota.ctx.db.write() as session:
        for n in range(shifts):
            people = tuple(f"UPERSON{n:03d}X{i:02d}" for i in range(20))
            await records.add_shift(session, parse_days("mon-sun"), 8 * 60, 16 * 60, people, LEAD, now)
        for n in range(covers):
            start = now + timedelta(hours=n)
            await records.add_cover(
                session, f"UPERSON{n % shifts:03d}X00", "UJARI", start, start + timedelta(hours=5),
                whole_shifts=False, by=LEAD, at=now,
            )  # fmt: skip
    rota.invalidate()


def readable(text: str) -> bool:
    """No mention or link cut in half: every ``<`` is closed before the next one opens."""
    return re.fullmatch(r"(?:[^<>]|<[^<>]*>)*", text) is not None


async def test_answers_about_a_huge_rota_fit_in_one_message_and_say_they_were_cut(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await big_rota(bot, covers=60)
        for form in ("week", "list"):
            answer = await bot.command(lena, "/rota", form)
            assert answer.status_code == 200
            assert len(answer.text) <= LIMIT, (form, len(answer.text))
            assert readable(answer.text), form
            assert answer.text.endswith("\n…the rest does not fit in one message."), form
        now = await bot.command(lena, "/rota", "now")
        assert len(now.text) <= LIMIT and readable(now.text)
        on, coming = now.text.split("\n")
        assert on.startswith("🟢 On shift now: <@UPERSON001X00>, <@UPERSON001X01>")
        assert on.endswith(" …and 3936 more, until 12:00.")
        assert coming.startswith("Next: <@UPERSON")
        assert coming.endswith(" more from 12:00.")


async def test_a_posted_answer_about_a_huge_rota_fits_too(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await big_rota(bot)
        answer = await bot.command(lena, "/rota", "week post")
        assert answer.text.startswith("Posted in <#")
        [posted] = await channel_texts(bot)
        assert len(posted) <= LIMIT and readable(posted)
        assert posted.endswith("…the rest does not fit in one message.")


async def test_a_short_answer_is_not_cut(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answer = await bot.command(lena, "/rota", "week")
        assert "does not fit" not in answer.text
        assert answer.text.count("<@UANNA>") == 5


async def test_the_team_feed_of_a_huge_rota_names_every_stretch(rota_bot: RotaBot) -> None:
    """200 shifts and 500 covers: the feed is whole (it took 30 s on the event loop before; now a few, off it)."""
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await big_rota(bot, shifts=40, covers=500)
        answer = await bot.command(lena, "/rota", "calendar")
        path = re.search(r"`(/rota/calendar/[^`]+)`", answer.text.split("\n")[2])
        assert path is not None
        assert bot.http is not None
        feed = await bot.http.get(path.group(1))
        assert feed.status_code == 200
        assert feed.text.count("BEGIN:VEVENT") >= 40 * 70
        assert "UJARI" in feed.text  # covered stretches name the cover


async def test_a_dialog_resubmitted_with_other_values_carries_out_both_changes(rota_bot: RotaBot) -> None:
    """Slack keeps a view's hash when a submission's answer was lost: a changed resubmission is a new change."""
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        view = await open_edit(bot, lena)
        first = chosen("cover", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-02"))
        second = chosen("cover", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-03"))
        assert (await bot.submit(lena, view, first)).text == ""
        assert (await bot.submit(lena, view, second)).text == ""
        await bot.submit(lena, view, second, replay=2)
        texts = await channel_texts(bot)
        assert texts == [
            "🩹 <@ULENA> arranged a cover: `c1` <@UJARI> covers <@UANNA>: Wed 2 Dec",
            "🩹 <@ULENA> arranged a cover: `c2` <@UJARI> covers <@UANNA>: Thu 3 Dec",
        ]


async def test_display_names_in_the_dialog_cannot_reverse_or_hide_text(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        bot.slack.add_user("UEVIL", name="evil", display_name="Eve\u202eliam.evil\u200b")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UEVIL")
        view = await open_edit(bot, lena)
        target = next(b for b in view["blocks"] if b.get("block_id") == "target")
        [option] = target["element"]["options"]
        assert option["text"]["text"] == "s1 · mon-fri 08:00–16:00 · @Eve⟨U+202E⟩liam.evil⟨U+200B⟩"


async def test_a_refusal_in_the_dialog_names_a_lead_group_readably(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=["SLEADS"]) as bot:
        bot.slack.add_usergroup("SLEADS", "shift-leads", users=["ULENA"])
        lena, anna = bot.person("Lena"), bot.person("Anna")
        view = await open_edit(bot, lena)
        refused = await bot.submit(
            anna, view, chosen("swap", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-02"))
        )
        error = refused.json()["errors"]["action"]
        assert error == "Sorry, only the shift leads can change the rota: @shift-leads. Ask one of them."


async def test_mentions_with_odd_names_are_refused_without_pinging_or_linking(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        for text in (
            "add mon 08:00-16:00 <@U1|a>b>",
            "add mon 08:00-16:00 <!channel>",
            "add mon 08:00-16:00 <@U1|@here>",
            f"cover {ANNA} today <!here|here>",
            "add mon 08:00-16:00 <https://evil.example|@anna>",
            f"swap {ANNA} {JARI} <!date^1|x>",
        ):
            answer = await bot.command(lena, "/rota", text)
            assert answer.status_code == 200
            assert readable(answer.text), text
            assert not re.search(r"<[!#]|<@U1|<http", answer.text), (text, answer.text)
        assert await channel_texts(bot) == []


async def test_a_change_during_a_database_outage_is_refused_whole_and_goes_through_once_after(
    rota_bot: RotaBot, rota_database: str
) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        body = command_body(bot, lena.id, f"add mon-fri 08:00-16:00 {ANNA}")
        async with database_read_only(rota_database):
            started = time.monotonic()
            [during] = await bot.replay_request(body, 1)
            print("answer during the outage took", round(time.monotonic() - started, 2), "s")
            assert during.status_code == 200
            assert during.text == "Sorry, something went wrong with /rota. Nothing was changed; please try again."
        assert await channel_texts(bot) == []
        after = await bot.replay_request(body, 2, concurrently=True)
        assert after[0].text.startswith("✅ Done: shift mon-fri 08:00–16:00 for <@UANNA>.")
        assert await channel_texts(bot) == ["🗓️ <@ULENA> added a shift: `s1` mon-fri 08:00–16:00: <@UANNA>"]


async def test_two_leads_on_two_replicas_remove_the_same_shift_at_once(rota_bot: RotaBot) -> None:
    async with rota_bot(leads=[LEAD, "ULARS"]) as bot, rota_bot(instance_id="b", leads=[LEAD, "ULARS"]) as other:
        lena, lars = bot.person("Lena"), other.person("Lars")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answers = await asyncio.gather(
            bot.command(lena, "/rota", "remove s1"), other.command(lars, "/rota", "remove s1")
        )
        texts = sorted(a.text for a in answers)
        assert texts == [
            "There is no s1 to remove (see /rota list).",
            "✅ Done: s1 is removed. The team sees it in <#CINBOX>.",
        ]
        removed = [t for t in await channel_texts(bot) if " removed " in t]
        assert len(removed) == 1 and removed[0].endswith("removed `s1` mon-fri 08:00–16:00: <@UANNA>")


async def test_a_cover_into_next_year_says_which_year_it_ends(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        answer = await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-01..2027-12-01 {JARI}")
        assert (
            answer.text
            == "✅ Done: <@UJARI> covers <@UANNA> Tue 1 Dec – Wed 1 Dec 2027. The team sees it in <#CINBOX>."
        )
        assert (await channel_texts(bot))[-1].endswith("`c1` <@UJARI> covers <@UANNA>: Tue 1 Dec – Wed 1 Dec 2027")
        listed = await bot.command(lena, "/rota", "list")
        assert "Tue 1 Dec – Wed 1 Dec 2027" in listed.text


async def test_covers_stay_removable_in_the_dialog_of_a_rota_with_many_shifts(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await big_rota(bot, shifts=120)
        answer = await bot.command(lena, "/rota", f"cover <@UPERSON007X03|p> 2026-12-02 {JARI}")
        assert answer.text.startswith("✅ Done: <@UJARI> covers <@UPERSON007X03>")
        view = await open_edit(bot, lena)
        assert view_errors(view) == []
        target = next(b for b in view["blocks"] if b.get("block_id") == "target")
        groups = {g["label"]["text"]: g["options"] for g in target["element"]["option_groups"]}
        assert list(groups) == ["Shifts", "Covers and swaps"]
        assert len(groups["Shifts"]) == 100
        assert [(o["value"], o["text"]["text"]) for o in groups["Covers and swaps"]] == [
            ("c1", "c1 · @UJARI ⇐ @UPERSON007X03 · Wed 2 Dec")
        ]
        removed = await bot.submit(
            lena, view, chosen("remove", target={"type": "static_select", "selected_option": {"value": "c1"}})
        )
        assert removed.text == ""
        assert (await channel_texts(bot))[-1].startswith("🗓️ <@ULENA> removed `c1`")


async def test_one_submission_delivered_to_two_replicas_at_once_changes_the_rota_once(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot, rota_bot(instance_id="b") as other:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        view = await open_edit(bot, lena)
        values = chosen("cover", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-02"))
        answer = await bot.submit(lena, view, values, replay=4, concurrently=True, to=other)
        assert answer.text == ""
        assert await channel_texts(bot) == ["🩹 <@ULENA> arranged a cover: `c1` <@UJARI> covers <@UANNA>: Wed 2 Dec"]
        listed = await other.command(lena, "/rota", "list")
        assert listed.text.count("covers <@UANNA>") == 1
