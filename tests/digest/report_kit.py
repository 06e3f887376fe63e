"""Hand-built digests for tests of how a digest looks (no database): figures, backlogs, whole reports.

Every builder takes keyword overrides of the dataclass it builds, so a test says only what it is
about::

    report = digest_report(current=figures(by_source=(("facebook", 42),), answered=37))

The defaults describe Monday 30 November 2026 in Helsinki, read at 08:00 on Tuesday 1 December
(``yesterday``), against Sunday 29 November read at 08:00 on the Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chatops.i18n import Translator
from chatops_plugins.digest.compose import DigestReport
from chatops_plugins.digest.figures import (
    Backlog,
    DayPoint,
    Durations,
    Fan,
    Figures,
    Linked,
    Options,
    PersonFigures,
)
from chatops_plugins.digest.periods import Period, days_window, history, windows
from chatops_plugins.digest.words import all_texts

HELSINKI = ZoneInfo("Europe/Helsinki")
#: When the default report is read: Tuesday 1 December 2026, 08:00 in Helsinki.
READ_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)
SUNDAY = date(2026, 11, 29)


def translator(language: str = "en") -> Translator:
    """A translator with the digest's words, as the running bot has it."""
    t = Translator(language)
    t.add(all_texts())
    return t


def linked(conversation_id: int = 7, **overrides: Any) -> Linked:
    """A conversation a digest links to (a Facebook comment with a card in Slack)."""
    values: dict[str, Any] = {
        "conversation_id": conversation_id,
        "source": "facebook",
        "label": "Winter sale post",
        "author": "Maija Meikäläinen",
        "created_at": READ_AT - timedelta(days=2, hours=3),
        "slack_channel": "CCARDS",
        "slack_ts": f"1700000000.{conversation_id:06d}",
        "score": None,
    }
    return Linked(**(values | overrides))


def figures(day: date = MONDAY, as_of: datetime = READ_AT, **overrides: Any) -> Figures:
    """Figures of one whole local day in Helsinki (``days_window``), empty unless overridden."""
    return Figures(window=days_window(day, day, HELSINKI, as_of), **overrides)


def busy_day(**overrides: Any) -> Figures:
    """Monday's figures: a busy day with every part of the digest filled."""
    values: dict[str, Any] = {
        "by_source": (("facebook", 30), ("instagram", 12)),
        "messages": 120,
        "answered": 37,
        "first_response": Durations(37, 14 * 60, 80 * 60),
        "within_target": 33,
        "breaches": 4,
        "resolution": Durations(30, 3 * 3600 + 10 * 60, 20 * 3600),
        "escalations": 2,
        "negative": 4,
        "fans": (
            Fan("Maija Meikäläinen", "@maija", ("facebook", "instagram"), 3, 7),
            Fan("Jan Kowalski", None, ("facebook",), 1, 1),
        ),
        "people": (
            PersonFigures("UANNA", 20, 18, Durations(18, 12 * 60, 40 * 60)),
            PersonFigures("UJARI", 17, 15, Durations(15, 16 * 60, 90 * 60)),
        ),
        "tags": (("complaint", 4), ("shipping", 3)),
    }
    return figures(MONDAY, READ_AT, **(values | overrides))


def quiet_day(**overrides: Any) -> Figures:
    """Sunday's figures, read a day earlier: fewer of everything."""
    values: dict[str, Any] = {
        "by_source": (("facebook", 28), ("x", 9)),
        "messages": 123,
        "answered": 31,
        "first_response": Durations(31, 16 * 60, 80 * 60),
        "within_target": 28,
        "breaches": 6,
        "resolution": Durations(28, 3 * 3600, 20 * 3600),
        "escalations": 2,
        "negative": 3,
    }
    return figures(SUNDAY, READ_AT - timedelta(days=1), **(values | overrides))


def backlog(**overrides: Any) -> Backlog:
    """Seventeen open; the oldest waiting 2 d 3 h; one negative one open."""
    values: dict[str, Any] = {
        "open": 17,
        "oldest": linked(7),
        "worst_negative": (linked(9, label="Where is my parcel?", author="Angry Andy", score=-0.9),),
    }
    return Backlog(**(values | overrides))


def options(**overrides: Any) -> Options:
    """Counting options: a one-hour target, the default negative tag and list lengths."""
    return Options(**({"target_seconds": 3600} | overrides))


def digest_report(
    period: Period = "yesterday",
    *,
    current: Figures | None = None,
    previous: Figures | None = None,
    open_now: Backlog | None = None,
    points: tuple[DayPoint, ...] = (),
    read_at: datetime = READ_AT,
    **option_overrides: Any,
) -> DigestReport:
    """A whole report; the defaults are Monday's busy day against Sunday's quiet one."""
    return DigestReport(
        period,
        busy_day() if current is None else current,
        quiet_day() if previous is None else previous,
        backlog() if open_now is None else open_now,
        points,
        options(**option_overrides),
        read_at,
        HELSINKI,
    )


def period_report(period: Period, now: datetime, **overrides: Any) -> DigestReport:
    """A report whose windows are the ones ``period`` covers at ``now`` (for headings), empty unless overridden."""
    current, previous = windows(period, now, HELSINKI)
    return digest_report(
        period,
        current=Figures(current, **overrides),
        previous=Figures(previous),
        open_now=Backlog(),
        read_at=now,
    )


def day_points(last_day: date = MONDAY, values: list[tuple[int, float | None]] | None = None) -> list[DayPoint]:
    """Fourteen chart days ending ``last_day``: ``(conversations, median seconds)`` each, or a made-up fortnight."""
    days = [w.first_day for w in history(last_day, HELSINKI, READ_AT)]
    if values is None:
        values = [(20 + (i * 7) % 13, None if i == 5 else 600.0 + 90 * i) for i in range(len(days))]
    return [DayPoint(day, count, median) for day, (count, median) in zip(days, values, strict=True)]


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text in ``blocks`` in order: headers, section texts, each field, context elements."""
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields", [])]
        found += [element["text"] for element in block.get("elements", []) if "text" in element]
    return found


def field(blocks: list[dict[str, Any]], label: str) -> str:
    """The value of the field labelled ``label`` (the text under its bold label)."""
    prefix = f"*{label}*\n"
    [value] = [text[len(prefix) :] for text in block_texts(blocks) if text.startswith(prefix)]
    return value
