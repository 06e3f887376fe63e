"""Whatever a name or text holds, the feed's iCalendar is well-formed and reads back as written (no database)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from chatops_plugins.rota.calendar import Entry, clean, render

START = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
#: Names and texts as Slack or a translator may give them: any characters, line breaks and
#: iCalendar's own separators made likely.
texts = st.text(st.one_of(st.characters(), st.sampled_from(",;:\\\n\r\t\"'")), max_size=120)


def unescape_text(value: str) -> str:
    """An RFC 5545 TEXT value as the text it stands for (``\\n`` a line break, ``\\,`` a comma, ...)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


@given(title=texts, summary=texts, description=texts)
def test_any_text_reads_back_as_written_and_every_line_is_a_clean_folded_line(
    title: str, summary: str, description: str
) -> None:
    entry = Entry(
        "rota-1-20270328T013000Z-team@rota.chatops", START, START + timedelta(hours=2), summary, description, busy=True
    )
    raw = render(title, "Europe/Warsaw", START, [entry])

    assert raw.endswith(b"\r\n")
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        assert not [c for c in line.decode() if unicodedata.category(c) == "Cc"], line

    parsed = Calendar.from_ical(raw)
    [event] = parsed.walk("VEVENT")
    assert str(event["summary"]) == clean(summary)
    assert str(event.get("description", "")) == clean(description)
    # The parser leaves X- properties as it found them: read them as the TEXT they were written as.
    assert unescape_text(str(parsed["x-wr-calname"])) == clean(title)
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (START, START + timedelta(hours=2))


@given(texts)
def test_clean_keeps_line_breaks_and_printable_text_and_drops_other_control_characters(text: str) -> None:
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    assert "\r" not in cleaned
    assert all(c == "\n" or unicodedata.category(c) not in ("Cc", "Cs") for c in cleaned)
    cleaned.encode()
    assert cleaned.count("\n") == text.replace("\r\n", "\n").count("\n") + text.replace("\r\n", "\n").count("\r")
    kept = ["\ufffd" if unicodedata.category(c) == "Cs" else c for c in text if unicodedata.category(c) != "Cc"]
    assert [c for c in cleaned if c not in "\n "] == [c for c in kept if c != " "]
