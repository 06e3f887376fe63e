"""Posting a digest: the late note says when it was due and keeps the digest within Slack's limits (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatops.i18n import Translator
from chatops_plugins.digest.compose import DigestReport
from chatops_plugins.digest.figures import Backlog, Figures, Options
from chatops_plugins.digest.periods import days_window
from chatops_plugins.digest.publish import MAX_BLOCKS, late_block, with_note
from chatops_plugins.digest.words import all_texts

HELSINKI = ZoneInfo("Europe/Helsinki")
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def report() -> DigestReport:
    """An empty daily digest in Helsinki (the late note reads only its timezone)."""
    day = days_window(date(2026, 11, 30), date(2026, 11, 30), HELSINKI, AS_OF)
    before = days_window(date(2026, 11, 29), date(2026, 11, 29), HELSINKI, AS_OF)
    return DigestReport(
        "yesterday", Figures(day), Figures(before), Backlog(), (), Options(target_seconds=3600), AS_OF, HELSINKI
    )


def words(language: str = "en") -> Translator:
    t = Translator(language)
    t.add(all_texts())
    return t


def section(n: int) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"part {n}"}}


def test_the_late_note_goes_under_the_heading_in_local_time() -> None:
    note = late_block(words(), datetime(2026, 12, 1, 6, 0, tzinfo=UTC), report())
    assert note == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Posted late: the bot was down when it was due (Tue 1 Dec 08:00)."}],
    }
    header = {"type": "header", "text": {"type": "plain_text", "text": "Daily digest"}}
    assert with_note([header, section(1)], note) == [header, note, section(1)]
    assert with_note([section(1)], note) == [note, section(1)]
    assert with_note([], note) == [note]


def test_a_digest_at_slacks_block_limit_keeps_the_late_note_and_stays_within_it() -> None:
    note = late_block(words("pl"), datetime(2026, 3, 29, 5, 0, tzinfo=UTC), report())
    assert (
        note["elements"][0]["text"]
        == "Opublikowane z opóźnieniem: o planowanej porze (niedz. 29 marca, 08:00) bot nie działał."
    )
    full = [section(n) for n in range(MAX_BLOCKS)]
    shown = with_note(full, note)
    assert len(shown) == MAX_BLOCKS
    assert shown[0] == note and shown[1:] == full[:-1]


def test_the_late_note_names_the_day_a_digest_fell_due_on_not_only_its_time() -> None:
    """A digest due on Monday at 08:00 and posted on Tuesday must not read as due at Tuesday's 08:00."""
    monday = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    texts = [late_block(words(lang), monday, report())["elements"][0]["text"] for lang in ("en", "fi", "pl")]
    assert texts == [
        "Posted late: the bot was down when it was due (Mon 30 Nov 08:00).",
        "Julkaistu myöhässä: botti ei ollut käynnissä ajastettuna aikana (ma 30. marraskuuta klo 08:00).",
        "Opublikowane z opóźnieniem: o planowanej porze (pon. 30 listopada, 08:00) bot nie działał.",
    ]
