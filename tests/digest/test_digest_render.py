"""What a digest says, in English: headings, figures with arrows and differences, lists, an empty day, links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from report_kit import (
    READ_AT,
    backlog,
    block_texts,
    busy_day,
    digest_report,
    field,
    figures,
    linked,
    period_report,
    quiet_day,
    translator,
)

from chatops.testing.card_checks import assert_postable, slack_tokens
from chatops_plugins.digest.figures import Backlog, Durations, PersonFigures
from chatops_plugins.digest.render import (
    MAX_LINKED,
    card_links,
    compare_count,
    compare_duration,
    compare_percent,
    days_label,
    digest_blocks,
    digest_summary,
    digest_text,
    duration,
    people_names,
)

EN = translator("en")
LINKS = {7: "https://team.slack.com/archives/CCARDS/p1700000000000007"}
NAMES = {"UANNA": "Anna Virtanen"}
SOURCES = {"facebook": "Facebook", "instagram": "Instagram", "x": "X"}


def source_name(source: str) -> str:
    return SOURCES.get(source, source)


def blocks_of(report=None, links=LINKS, **kwargs):  # type: ignore[no-untyped-def]
    blocks = digest_blocks(report or digest_report(), EN, links, source_name=source_name, names=NAMES, **kwargs)
    assert_postable({"text": digest_summary(report or digest_report(), EN), "blocks": blocks})
    return blocks


# --- headings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "now", "header"),
    [
        ("yesterday", datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "Daily digest · Mon 30 Nov"),
        ("today", datetime(2026, 12, 1, 8, 15, tzinfo=UTC), "Today so far · Tue 1 Dec"),
        ("week", datetime(2026, 11, 30, 6, 0, tzinfo=UTC), "Weekly digest · 23–29 Nov"),
        ("week", datetime(2026, 12, 3, 6, 0, tzinfo=UTC), "Weekly digest · 26 Nov – 2 Dec"),
        # Just after local midnight the UTC date is still the day before: the heading is local.
        ("yesterday", datetime(2026, 11, 30, 22, 30, tzinfo=UTC), "Daily digest · Mon 30 Nov"),
    ],
)
def test_the_heading_names_the_period_and_its_local_days(period, now, header) -> None:  # type: ignore[no-untyped-def]
    report = period_report(period, now, by_source=(("facebook", 1),))
    blocks = digest_blocks(report, EN, {})
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": header}}
    assert digest_text(report, EN).splitlines()[0] == header
    assert digest_summary(report, EN).startswith(header + ": ")


def test_the_comparison_says_what_it_is_compared_with_and_when_it_was_read() -> None:
    assert block_texts(blocks_of())[1] == "Compared with Sun 29 Nov · figures as of Tue 1 Dec 08:00"
    today = period_report("today", datetime(2026, 12, 1, 8, 15, tzinfo=UTC), by_source=(("x", 1),))
    # "Today so far" is compared with yesterday up to the same time, and says so.
    assert block_texts(digest_blocks(today, EN, {}))[1] == (
        "Compared with Mon 30 Nov until 10:15 · figures as of Tue 1 Dec 10:15"
    )


@pytest.mark.parametrize(
    ("now", "context"),
    [
        # Helsinki moves its clocks forward on Sunday 28 March 2027: Monday 10:15 is 07:15 UTC, Sunday 10:15 was 08:15 UTC.
        (
            datetime(2027, 3, 29, 7, 15, tzinfo=UTC),
            "Compared with Sun 28 Mar until 10:15 · figures as of Mon 29 Mar 10:15",
        ),
        # ...and back on Sunday 31 October 2027.
        (
            datetime(2027, 11, 1, 8, 15, tzinfo=UTC),
            "Compared with Sun 31 Oct until 10:15 · figures as of Mon 1 Nov 10:15",
        ),
        # On the DST day itself, "today" is compared with the same wall-clock time the day before.
        (
            datetime(2027, 3, 28, 7, 15, tzinfo=UTC),
            "Compared with Sat 27 Mar until 10:15 · figures as of Sun 28 Mar 10:15",
        ),
    ],
)
def test_today_across_a_dst_change_is_compared_at_the_same_local_time(now: datetime, context: str) -> None:
    report = period_report("today", now, by_source=(("x", 1),))
    assert block_texts(digest_blocks(report, EN, {}))[1] == context


def test_a_range_across_a_year_names_both_months() -> None:
    assert days_label(EN, date(2026, 12, 28), date(2027, 1, 3)) == "28 Dec – 3 Jan"
    assert days_label(EN, date(2026, 12, 28), date(2026, 12, 28)) == "Mon 28 Dec"


# --- the figures -------------------------------------------------------------------------------


def test_a_busy_day_reads_figure_by_figure_with_arrows_against_the_day_before() -> None:
    blocks = blocks_of()
    expected = {
        "Conversations in": "42 ▲ +5 (was 37)",
        "Messages in": "120 ▼ −3 (was 123)",
        "Response rate": "88 % ▲ +4 pp (was 84 %)",
        "Still unanswered": "5 ▼ −1 (was 6)",
        "Median": "14 min ▼ −2 min (was 16 min)",
        "90th percentile": "1 h 20 min → no change",
        "Within the 1 h target": "79 % ▲ +3 pp (was 76 %)",
        "Breaches": "4 ▼ −2 (was 6)",
        "Median resolution time": "3 h 10 min ▲ +10 min (was 3 h)",
        "Resolved": "30 ▲ +2 (was 28)",
        "Escalations": "2 → no change",
        "Open now": "17",
        "Oldest open": "<https://team.slack.com/archives/CCARDS/p1700000000000007|Winter sale post>"
        " — Maija Meikäläinen · Facebook · open for 2 d 3 h",
        "Negative conversations": "4 ▲ +1 (was 3)",
        "Share of conversations": "10 % ▲ +2 pp (was 8 %)",
    }
    assert {label: field(blocks, label) for label in expected} == expected


def test_lists_name_sources_fans_people_and_tags() -> None:
    texts = block_texts(blocks_of())
    assert "_By source_\n• Facebook: 30 ▲ +2 (was 28)\n• Instagram: 12 ▲ +12 (was 0)\n• X: 0 ▼ −9 (was 9)" in texts
    assert "_Worst open ones_\n• Where is my parcel? — Angry Andy · Facebook · open for 2 d 3 h" in texts
    assert (
        "*🙌 Most active fans*\n"
        "• Maija Meikäläinen (@maija) · Facebook, Instagram · 3 conversations, 7 messages\n"
        "• Jan Kowalski · Facebook · 1 conversation, 1 message"
    ) in texts
    # Named, never mentioned: a digest pings nobody; a teammate without a known name shows their id.
    assert (
        "*🧑‍💼 Per person*\n"
        "• Anna Virtanen: handled 20 · median first response 12 min\n"
        "• UJARI: handled 17 · median first response 16 min"
    ) in texts
    assert "*🏷️ Top tags*\ncomplaint (4), shipping (3)" in texts
    assert slack_tokens({"blocks": blocks_of()}) == [
        "https://team.slack.com/archives/CCARDS/p1700000000000007|Winter sale post"
    ]


def test_service_hours_add_their_own_figures_and_the_target_says_it_counts_them() -> None:
    report = digest_report(
        current=busy_day(first_response_service=Durations(37, 5 * 60, 45 * 60)),
        previous=quiet_day(first_response_service=Durations(31, 5 * 60, 50 * 60)),
    )
    blocks = blocks_of(report)
    assert field(blocks, "Median, service hours") == "5 min → no change"
    assert field(blocks, "90th percentile, service hours") == "45 min ▼ −5 min (was 50 min)"
    assert field(blocks, "Within the 1 h target (service hours)") == "79 % ▲ +3 pp (was 76 %)"
    assert "Median, service hours" not in "".join(block_texts(blocks_of()))


def test_the_summary_is_one_line_for_a_phone() -> None:
    assert digest_summary(digest_report(), EN) == (
        "Daily digest · Mon 30 Nov: 42 conversations, 88 % answered, median first response 14 min"
    )
    nobody_answered = digest_report(current=busy_day(answered=0, first_response=Durations()))
    assert digest_summary(nobody_answered, EN) == "Daily digest · Mon 30 Nov: 42 conversations, 0 % answered"


def test_the_terminal_text_says_the_same_in_aligned_lines_without_markup() -> None:
    text = digest_text(digest_report(), EN, source_name=source_name, names=NAMES, links=LINKS)
    lines = text.splitlines()
    assert lines[:3] == ["Daily digest · Mon 30 Nov", "Compared with Sun 29 Nov · figures as of Tue 1 Dec 08:00", ""]
    assert "  Conversations in:        42 ▲ +5 (was 37)" in lines
    assert "  Within the 1 h target:   79 % ▲ +3 pp (was 76 %)" in lines
    assert (
        "  Oldest open:             Winter sale post <https://team.slack.com/archives/CCARDS/p1700000000000007>"
        " — Maija Meikäläinen · Facebook · open for 2 d 3 h"
    ) in lines
    assert "  • Anna Virtanen: handled 20 · median first response 12 min" in lines
    assert "  complaint (4), shipping (3)" in lines
    # Every figure's value starts in the same column.
    figure_lines = [line for line in lines if line.startswith("  ") and ":  " in line]
    assert len(figure_lines) == 15
    assert len({len(line) - len(line.split(":", 1)[1].lstrip()) for line in figure_lines}) == 1
    assert "*" not in text and "&gt;" not in text


# --- arrows and differences --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (42, 37, "42 ▲ +5 (was 37)"),
        (3, 8, "3 ▼ −5 (was 8)"),
        (7, 7, "7 → no change"),
        (5, 0, "5 ▲ +5 (was 0)"),
        (0, 0, "0 → no change"),
        (1234567, 1234560, "1,234,567 ▲ +7 (was 1,234,560)"),
    ],
)
def test_counts_differ_by_the_difference(current: int, previous: int, expected: str) -> None:
    assert compare_count(EN, current, previous) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (0.88, 0.83, "88 % ▲ +5 pp (was 83 %)"),
        (0.5, 0.75, "50 % ▼ −25 pp (was 75 %)"),
        # Differences are between the shown percents: 88.4 % and 87.6 % both read 88 %.
        (0.884, 0.876, "88 % → no change"),
        (0.9, None, "90 % (nothing to compare)"),
        (None, 0.9, "— (was 90 %)"),
        (None, None, "—"),
        (1.0, 0.0, "100 % ▲ +100 pp (was 0 %)"),
    ],
)
def test_shares_differ_in_percentage_points_and_a_missing_one_says_so(
    current: float | None, previous: float | None, expected: str
) -> None:
    assert compare_percent(EN, current, previous) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (14 * 60, 16 * 60, "14 min ▼ −2 min (was 16 min)"),
        (4800, 840, "1 h 20 min ▲ +1 h 6 min (was 14 min)"),
        (45, 45.4, "45 s → no change"),
        (2 * 86400 + 3 * 3600, 3600, "2 d 3 h ▲ +2 d 2 h (was 1 h)"),
        (600, None, "10 min (nothing to compare)"),
        (None, 600, "— (was 10 min)"),
        (float("nan"), float("inf"), "—"),
    ],
)
def test_durations_differ_in_durations(current: float | None, previous: float | None, expected: str) -> None:
    assert compare_duration(EN, current, previous) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (59.4, "59 s"),
        (59.5, "1 min"),
        (4 * 60 + 10, "4 min"),
        (3599, "1 h"),
        (4800, "1 h 20 min"),
        (86340, "23 h 59 min"),
        (86399, "1 d"),
        (2 * 86400 + 3 * 3600 + 10 * 60, "2 d 3 h"),
        (400 * 86400, "400 d"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds: float, expected: str) -> None:
    assert duration(EN, seconds) == expected


def test_a_window_with_follow_ups_but_no_new_conversation_shows_dashes_not_division_by_zero() -> None:
    current = figures(messages=3, people=(PersonFigures("UANNA", 2, 0, Durations()),))
    blocks = blocks_of(digest_report(current=current))
    assert field(blocks, "Conversations in") == "0 ▼ −37 (was 37)"
    assert field(blocks, "Response rate") == "— (was 84 %)"
    assert field(blocks, "Median") == "— (was 16 min)"
    assert "• Anna Virtanen: handled 2 · median first response —" in "\n".join(block_texts(blocks))


# --- an empty window ---------------------------------------------------------------------------


def test_an_empty_day_says_so_plainly_with_the_backlog() -> None:
    report = digest_report(current=figures())
    blocks = blocks_of(report)
    texts = block_texts(blocks)
    assert texts[2] == "No customer messages on Mon 30 Nov."
    assert field(blocks, "Open now") == "17"
    assert (
        "*👎 Negative feedback*\n_Worst open ones_\n• Where is my parcel? — Angry Andy · Facebook · open for 2 d 3 h"
        in texts
    )
    assert not [text for text in texts if "Conversations in" in text or "Median" in text]
    assert digest_summary(report, EN) == "Daily digest · Mon 30 Nov: no customer messages"
    assert digest_text(report, EN).splitlines()[3] == "No customer messages on Mon 30 Nov."


def test_an_empty_day_with_nothing_open_is_three_lines() -> None:
    report = digest_report(current=figures(), open_now=Backlog())
    assert [block["type"] for block in blocks_of(report)] == ["header", "context", "section"]
    today = period_report("today", datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    assert block_texts(digest_blocks(today, EN, {}))[2] == "No customer messages yet today (Tue 1 Dec)."


# --- links -------------------------------------------------------------------------------------


async def test_card_links_look_up_each_posted_card_once_and_skip_the_rest() -> None:
    asked: list[tuple[str, str]] = []

    async def permalink(channel: str, ts: str) -> str | None:
        asked.append((channel, ts))
        return None if ts.endswith("11") else f"https://team.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    worst = (
        linked(7),  # also the oldest: looked up once
        linked(9),
        linked(10, slack_ts=None),  # never posted to Slack
        linked(11),  # the lookup answers None
    )
    links = await card_links(digest_report(open_now=backlog(worst_negative=worst)), permalink)

    assert links == {
        7: "https://team.slack.com/archives/CCARDS/p1700000000000007",
        9: "https://team.slack.com/archives/CCARDS/p1700000000000009",
    }
    assert sorted(asked) == [
        ("CCARDS", "1700000000.000007"),
        ("CCARDS", "1700000000.000009"),
        ("CCARDS", "1700000000.000011"),
    ]


async def test_card_links_ask_at_most_a_handful_of_times() -> None:
    asked: list[str] = []

    async def permalink(channel: str, ts: str) -> str | None:
        asked.append(ts)
        return "https://team.slack.com/archives/CCARDS/p1"

    worst = tuple(linked(100 + i) for i in range(30))
    links = await card_links(digest_report(open_now=backlog(worst_negative=worst)), permalink)
    assert len(asked) == 1 + MAX_LINKED == 11
    assert set(links) == {7} | {100 + i for i in range(MAX_LINKED)}


async def test_a_failing_lookup_costs_its_link_not_the_digest() -> None:
    async def permalink(channel: str, ts: str) -> str | None:
        if ts.endswith("7"):
            raise RuntimeError("ratelimited")
        return "https://team.slack.com/archives/CCARDS/p9"

    links = await card_links(digest_report(), permalink)
    assert links == {9: "https://team.slack.com/archives/CCARDS/p9"}
    oldest = field(blocks_of(links=links), "Oldest open")
    assert oldest.startswith("Winter sale post — ")


async def test_nothing_to_link_asks_nothing() -> None:
    async def permalink(channel: str, ts: str) -> str | None:
        raise AssertionError("no lookup expected")

    assert await card_links(digest_report(open_now=Backlog(open=3)), permalink) == {}


def test_an_unnamed_post_is_named_by_its_author_or_its_number() -> None:
    nameless = backlog(
        oldest=linked(7, label="", author="Maija"),
        worst_negative=(linked(9, label=" \n ", author=""),),
        open=2,
    )
    blocks = blocks_of(digest_report(open_now=nameless))
    assert field(blocks, "Oldest open") == (
        "<https://team.slack.com/archives/CCARDS/p1700000000000007|Maija> · Facebook · open for 2 d 3 h"
    )
    assert "• conversation 9 · Facebook · open for 2 d 3 h" in "\n".join(block_texts(blocks))


def test_waiting_time_counts_from_the_conversation_to_when_the_digest_was_read() -> None:
    fresh = backlog(oldest=linked(7, created_at=READ_AT - timedelta(minutes=4)), worst_negative=())
    assert field(blocks_of(digest_report(open_now=fresh)), "Oldest open").endswith("open for 4 min")


async def test_people_are_named_by_their_display_names_and_an_unknown_one_by_id() -> None:
    async def user_name(user: str) -> str | None:
        if user == "UBROKEN":
            raise RuntimeError("users.info failed")
        return {"UANNA": "Anna Virtanen"}.get(user)

    people = (
        PersonFigures("UANNA", 2, 1, Durations()),
        PersonFigures("UJARI", 1, 1, Durations()),
        PersonFigures("UBROKEN", 1, 0, Durations()),
    )
    report = digest_report(current=busy_day(people=people))
    names = await people_names(report, user_name)
    assert names == {"UANNA": "Anna Virtanen"}
    listed = [text for text in block_texts(digest_blocks(report, EN, {}, names=names)) if "Per person" in text]
    assert listed == [
        "*🧑‍💼 Per person*\n• Anna Virtanen: handled 2 · median first response —\n"
        "• UJARI: handled 1 · median first response —\n• UBROKEN: handled 1 · median first response —"
    ]
