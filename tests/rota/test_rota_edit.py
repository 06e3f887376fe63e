"""The ``/rota edit`` dialog: opened for leads, checked per action, the same change as the text command, once."""

from __future__ import annotations

from typing import Any

import pytest
from rota_kit import RotaBot, add_shift, rota_of_bot
from test_rota_commands import ANNA, JARI, audit_lines, channel_texts

from chatops.testing.bot import Person, TestBot
from chatops.testing.fake_slack.blocks import view_errors


async def open_edit(bot: TestBot, person: Person) -> dict[str, Any]:
    """``person`` types ``/rota edit``; returns the dialog Slack shows."""
    before = len(bot.slack.calls_to("views.open"))
    answer = await bot.command(person, "/rota", "edit")
    assert answer.status_code == 200 and answer.text == ""
    calls = await bot.slack.wait_for("views.open", lambda c: c.ok, count=before + 1)
    view: dict[str, Any] = calls[-1].response["view"]
    return view


def chosen(action: str, **inputs: dict[str, Any]) -> dict[str, Any]:
    """Submitted values: the action and ``{block_id: state}`` of the other inputs."""
    values = {"action": {"v": {"type": "radio_buttons", "selected_option": {"value": action}}}}
    values.update({block: {"v": state} for block, state in inputs.items()})
    return values


def user(user_id: str) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def day(value: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def clock(value: str) -> dict[str, Any]:
    return {"type": "timepicker", "selected_time": value}


async def test_a_lead_adds_a_shift_in_the_dialog_as_with_the_command(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        view = await open_edit(bot, lena)
        assert view_errors(view) == []
        assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
            "action", "people", "days", "start", "end", "person", "other", "first_date", "last_date",
        ]  # fmt: skip
        values = chosen(
            "add",
            people={"type": "multi_users_select", "selected_users": ["UANNA", "UJARI"]},
            days={"type": "checkboxes", "selected_options": [{"value": d} for d in ("mon", "tue", "wed")]},
            start=clock("22:00"),
            end=clock("06:00"),
        )
        answer = await bot.submit(lena, view, values)
        assert answer.status_code == 200 and answer.text == ""
        assert await channel_texts(bot) == ["🗓️ <@ULENA> added a shift: `s1` mon-wed 22:00–06:00: <@UANNA>, <@UJARI>"]
        assert [line[0] for line in await audit_lines(bot)] == ["rota.shift_added"]
        listed = await bot.command(lena, "/rota", "list")
        assert "`s1` mon-wed 22:00–06:00: <@UANNA>, <@UJARI>" in listed.text


async def test_the_dialog_shows_what_is_missing_for_the_chosen_action(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        view = await open_edit(bot, lena)
        missing = await bot.submit(lena, view, chosen("add", start=clock("08:00")))
        assert missing.json() == {
            "response_action": "errors",
            "errors": {
                "people": "This is needed for the chosen action.",
                "days": "This is needed for the chosen action.",
                "end": "This is needed for the chosen action.",
            },
        }
        swap = await bot.submit(
            lena, view, chosen("swap", person=user("UANNA"), other=user("UANNA"), first_date=day("2026-12-05"))
        )
        assert swap.json()["errors"] == {"other": "Those are the same person twice."}
        reversed_range = await bot.submit(
            lena,
            view,
            chosen(
                "cover",
                person=user("UANNA"),
                other=user("UJARI"),
                first_date=day("2026-12-03"),
                last_date=day("2026-12-01"),
            ),
        )
        assert reversed_range.json()["errors"] == {"first_date": "“2026-12-03..2026-12-01” ends before it starts."}
        nothing = await bot.submit(lena, view, chosen("remove"))
        assert nothing.json()["errors"] == {"action": "There is nothing to remove."}
        assert await channel_texts(bot) == []


async def test_a_refused_change_is_shown_under_the_input_it_concerns(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        bot.person("Anna")
        bot.person("Jari")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        view = await open_edit(bot, lena)
        neither = await bot.submit(
            lena, view, chosen("swap", person=user("UJARI"), other=user("UPIA"), first_date=day("2026-12-03"))
        )
        assert neither.json()["errors"] == {
            "first_date": "Neither @Jari nor @UPIA has a shift starting on Thu 3 Dec: nothing to swap."
        }


async def test_cover_from_a_time_and_remove_through_the_dialog(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        view = await open_edit(bot, lena)
        answer = await bot.submit(
            lena,
            view,
            chosen(
                "cover", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-01"), start=clock("12:00")
            ),
        )
        assert answer.text == ""
        assert (await channel_texts(bot))[-1] == (
            "🩹 <@ULENA> arranged a cover: `c1` <@UJARI> covers <@UANNA>: Tue 1 Dec 12:00–24:00"
        )
        view = await open_edit(bot, lena)
        target = next(b for b in view["blocks"] if b["block_id"] == "target")
        options = {o["value"]: o["text"]["text"] for o in target["element"]["options"]}
        assert options == {
            "s1": "s1 · mon-fri 08:00–16:00 · @Anna",
            "c1": "c1 · @UJARI ⇐ @Anna · Tue 1 Dec 12:00–24:00",
        }
        removed = await bot.submit(
            lena, view, chosen("remove", target={"type": "static_select", "selected_option": {"value": "c1"}})
        )
        assert removed.text == ""
        assert (await channel_texts(bot))[-1].startswith("🗓️ <@ULENA> removed `c1`")
        assert (await rota_of_bot(bot).schedule(fresh=True)).changes == ()


@pytest.mark.parametrize("concurrently", [False, True])
async def test_a_replayed_submission_changes_the_rota_once(rota_bot: RotaBot, concurrently: bool) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        view = await open_edit(bot, lena)
        values = chosen("cover", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-02"))
        await bot.submit(lena, view, values, replay=3, concurrently=concurrently)
        assert len((await rota_of_bot(bot).schedule(fresh=True)).changes) == 1
        assert len(await channel_texts(bot)) == 1
        assert [line[0] for line in await audit_lines(bot)] == ["rota.cover_added"]


async def test_the_dialog_is_for_leads_only(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        anna = bot.person("Anna")
        answer = await bot.command(anna, "/rota", "edit")
        assert answer.text.startswith("Sorry, only the shift leads can change the rota: <@ULENA>.")
        assert bot.slack.calls_to("views.open") == []
        # A dialog opened by a lead and submitted by someone else changes nothing either.
        view = await open_edit(bot, bot.person("Lena"))
        refused = await bot.submit(
            anna, view, chosen("swap", person=user("UANNA"), other=user("UJARI"), first_date=day("2026-12-02"))
        )
        assert refused.json()["errors"]["action"].startswith("Sorry, only the shift leads can change the rota: @Lena")
        assert (await rota_of_bot(bot).schedule(fresh=True)).changes == ()


async def test_the_dialog_in_finnish_stays_within_slacks_limits(rota_bot: RotaBot) -> None:
    async with rota_bot(language="fi") as bot:
        lena = bot.person("Lena")
        for n in range(120):
            await add_shift(bot, "mon", "08:00-09:00", *[f"UPERSON{i:02d}" for i in range(n % 20 + 1)])
        view = await open_edit(bot, lena)
        assert view_errors(view) == []
        assert view["title"]["text"] == "Muuta vuorolistaa"
        target = next(b for b in view["blocks"] if b["block_id"] == "target")
        assert len(target["element"]["options"]) == 100
        answer = await bot.command(lena, "/rota", f"cover {ANNA} 2026-12-01 {JARI}")
        assert answer.text == "Henkilöllä <@UANNA> ei ole silloin tuurattavaa vuoroa (tai se on jo tuurattu)."


async def test_a_shift_to_midnight_picked_as_00_00_ends_the_day(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        lena = bot.person("Lena")
        view = await open_edit(bot, lena)
        values = chosen(
            "add",
            people={"type": "multi_users_select", "selected_users": ["UJARI"]},
            days={"type": "checkboxes", "selected_options": [{"value": "fri"}]},
            start=clock("16:00"),
            end=clock("00:00"),
        )
        assert (await bot.submit(lena, view, values)).text == ""
        listed = await bot.command(lena, "/rota", "list")
        assert "`s1` fri 16:00–24:00: <@UJARI>" in listed.text


def test_a_submitted_input_is_read_whatever_its_element_and_forged_options_are_left_out() -> None:
    from chatops.slack.modals import state_value

    assert state_value({"type": "multi_users_select", "selected_users": ["UANNA"]}) == ["UANNA"]
    assert state_value({"type": "timepicker", "selected_time": "08:00"}) == "08:00"
    assert state_value({"type": "checkboxes", "selected_options": [{"value": "mon"}, "tue", None]}) == ["mon"]
    assert state_value({"type": "static_select", "selected_option": "s1"}) is None
