"""Reading ``/rota`` text: every form, every mistake refused with a reason, and no text that breaks the reader."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rota_kit import RotaBot

from chatops_plugins.rota.commands import (
    MAX_PEOPLE,
    Add,
    CoverCmd,
    DateSpan,
    Edit,
    Help,
    ListAll,
    Now,
    Other,
    ParseError,
    Remove,
    SwapCmd,
    TimeSpan,
    Uncover,
    Week,
    parse,
)
from chatops_plugins.rota.words import all_texts

TODAY = date(2026, 12, 1)
ANNA = "<@UANNA|anna>"
JARI = "<@UJARI|jari>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Now()),
        ("  now ", Now()),
        ("now post", Now(post=True)),
        ("week", Week()),
        ("WEEK next post", Week(next=True, post=True)),
        ("help", Help()),
        ("list", ListAll()),
        ("edit", Edit()),
        (f"add mon-fri 08:00-16:00 {ANNA} {JARI}", Add(frozenset(range(5)), 480, 960, ("UANNA", "UJARI"))),
        (f"add sat-mon 22:00-06:00 {ANNA}", Add(frozenset({5, 6, 0}), 1320, 360, ("UANNA",))),
        (f"add mon,wed,fri 16:00-24:00 <@UANNA> {ANNA}", Add(frozenset({0, 2, 4}), 960, 1440, ("UANNA",))),
        ("remove s3", Remove("s", 3)),
        ("remove C4", Remove("c", 4)),
        (f"cover {ANNA} today {JARI}", CoverCmd("UANNA", "UJARI", DateSpan(TODAY, TODAY))),
        (
            f"cover {ANNA} tomorrow {JARI}",
            CoverCmd("UANNA", "UJARI", DateSpan(date(2026, 12, 2), date(2026, 12, 2))),
        ),
        (
            f"cover {ANNA} 2026-12-01..2026-12-03 {JARI}",
            CoverCmd("UANNA", "UJARI", DateSpan(TODAY, date(2026, 12, 3))),
        ),
        (
            f"cover {ANNA} today 12:00.. {JARI}",
            CoverCmd("UANNA", "UJARI", TimeSpan((TODAY, 720), (TODAY, 1440))),
        ),
        (
            f"cover {ANNA} 2026-12-01 12:00..2026-12-02 18:00 {JARI}",
            CoverCmd("UANNA", "UJARI", TimeSpan((TODAY, 720), (date(2026, 12, 2), 1080))),
        ),
        (
            f"cover {ANNA} today 12:00..18:00 {JARI}",
            CoverCmd("UANNA", "UJARI", TimeSpan((TODAY, 720), (TODAY, 1080))),
        ),
        (f"uncover {ANNA} 2026-12-02", Uncover("UANNA", DateSpan(date(2026, 12, 2), date(2026, 12, 2)))),
        (f"swap {ANNA} {JARI} 2026-12-05", SwapCmd("UANNA", "UJARI", date(2026, 12, 5))),
    ],
)
def test_every_form_is_read(text: str, expected: object) -> None:
    assert parse(text, TODAY) == expected


def test_another_parts_word_is_passed_on_with_the_rest_of_the_text() -> None:
    assert parse("calendar  reset  mine", TODAY, other_words=frozenset({"calendar"})) == Other(
        "calendar", "reset  mine"
    )


@pytest.mark.parametrize(
    ("text", "form", "key"),
    [
        ("dance", "help", "rota.parse.unknown"),
        ("x" * 401, "help", "rota.parse.too_long"),
        ("now please", "now", "rota.parse.extra"),
        ("add", "add", "rota.parse.missing"),
        ("add mon-fri 08:00-16:00", "add", "rota.parse.missing"),
        (f"add mon-fry 08:00-16:00 {ANNA}", "add", "rota.parse.days"),
        (f"add funday 08:00-16:00 {ANNA}", "add", "rota.parse.days"),
        (f"add mon 25:00-16:00 {ANNA}", "add", "rota.parse.times"),
        (f"add mon 08:00-08:00 {ANNA}", "add", "rota.parse.times"),
        (f"add mon 24:00-06:00 {ANNA}", "add", "rota.parse.times"),
        ("add mon 08:00-16:00 @anna", "add", "rota.parse.plain_mention"),
        ("add mon 08:00-16:00 anna", "add", "rota.parse.person"),
        ("add mon 08:00-16:00 <!subteam^S1|@team>", "add", "rota.parse.not_person"),
        ("add mon 08:00-16:00 <!here>", "add", "rota.parse.not_person"),
        (
            "add mon 08:00-16:00 " + " ".join(f"<@U{i:03d}>" for i in range(MAX_PEOPLE + 1)),
            "add",
            "rota.parse.too_many",
        ),
        ("remove 3", "remove", "rota.parse.id"),
        ("remove s3 s4", "remove", "rota.parse.extra"),
        (f"cover {ANNA} 2026-02-30 {JARI}", "cover", "rota.parse.no_such_date"),
        (f"cover {ANNA} 9999-12-01 {JARI}", "cover", "rota.parse.date_far"),
        (f"cover {ANNA} 2026-12-03..2026-12-01 {JARI}", "cover", "rota.parse.reversed"),
        (f"cover {ANNA} 2026-12-01..2027-12-31 {JARI}", "cover", "rota.parse.range_long"),
        (f"cover {ANNA} today 18:00..12:00 {JARI}", "cover", "rota.parse.reversed"),
        (f"cover {ANNA} today 25:00.. {JARI}", "cover", "rota.parse.time"),
        (f"cover {ANNA} someday {JARI}", "cover", "rota.parse.date"),
        (f"cover {ANNA} today..tomorrow..today {JARI}", "cover", "rota.parse.range"),
        (f"cover {ANNA} {JARI}", "cover", "rota.parse.missing"),
        (f"cover {ANNA} today {ANNA}", "cover", "rota.parse.same_person"),
        (f"uncover {ANNA}", "uncover", "rota.parse.missing"),
        (f"swap {ANNA} {ANNA} 2026-12-05", "swap", "rota.parse.same_person"),
        (f"swap {ANNA} {JARI}", "swap", "rota.parse.missing"),
        (f"swap {ANNA} {JARI} 2026-12-05 extra", "swap", "rota.parse.extra"),
    ],
)
def test_unreadable_and_absurd_text_is_refused_with_a_reason_and_the_form(text: str, form: str, key: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse(text, TODAY)
    assert (raised.value.form, raised.value.key) == (form, key)
    english = all_texts()["en"]
    assert key in english and (form == "help" or f"rota.usage.{form}" in english)
    english[key].format(**raised.value.values)


_PIECES = st.sampled_from(
    [
        "add", "remove", "cover", "uncover", "swap", "week", "now", "post", "next", "list", "help", "edit",
        "mon-fri", "sat-mon", "mon,wed", "08:00-16:00", "22:00-06:00", "24:00", "25:00", "12:00..", "..",
        "today", "tomorrow", "2026-12-01", "2026-02-30", "9999-01-01", "2026-12-01..2026-12-03",
        "<@UANNA|anna>", "<@UJARI>", "@anna", "<!subteam^S1|@t>", "<#C1|c>", "<!here>", "s3", "c4", "w5",
        "<", ">", "<@", "|", "{", "}", "{text}", "\u202e", "\x00",
    ]
)  # fmt: skip
_TEXTS = st.one_of(st.text(max_size=500), st.lists(_PIECES, max_size=12).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(text=_TEXTS)
def test_arbitrary_text_is_read_or_refused_never_anything_else(text: str) -> None:
    try:
        parse(text, TODAY)
    except ParseError as error:
        all_texts()["en"][error.key].format(**error.values)


@pytest.mark.parametrize(
    "text",
    [
        "dance",
        "add mon 25:00-26:00 @anna",
        f"cover {ANNA} 2026-02-30 {JARI}",
        f"cover {ANNA} 9999-12-01 {JARI}",
        "x" * 3000,
        "remove s99999999",
        "add mon 08:00-16:00 <@U{text}>",
        "\u202e\x00 <@",
        "{text} {name}",
    ],
)
async def test_any_text_through_slack_gets_an_answer_never_an_error(rota_bot: RotaBot, text: str) -> None:
    async with rota_bot() as bot:
        answer = await bot.command(bot.person("Lena"), "/rota", text)
    assert answer.status_code == 200
    assert answer.text and "Traceback" not in answer.text and "went wrong" not in answer.text
