"""Card budgets, example by example: what the property-based tests check in general, shown on cases people hit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from chatops.cards import CardData, MessageView
from chatops.i18n import Translator
from chatops.slack.card import CardContext, format_time, render_card, render_minimal_card
from chatops.slack.escape import clip_mrkdwn, escape_fit
from chatops.testing.bot import block_text
from chatops.testing.card_checks import assert_postable

HELSINKI = ZoneInfo("Europe/Helsinki")
CTX = CardContext(t=Translator("en"), tz=HELSINKI, source_name="Webhook", capabilities={})
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def view(ident: int, text: str, direction: str = "inbound", **fields: object) -> MessageView:
    base: dict[str, object] = dict.fromkeys(MessageView.__slots__, None)
    base.update(id=ident, direction=direction, kind="reply", text=text, received_at=NOW, hidden=False, extra={})
    base.update(fields)
    return MessageView(**base)  # type: ignore[arg-type]


def card(**fields: object) -> CardData:
    base = CardData(
        conversation_id=7,
        source="webhook",
        thread_id="t",
        channel_name="Contact form",
        context_text=None,
        context_url=None,
        status="new",
        assignee=None,
        escalated_at=None,
        escalation_reason=None,
        followup_pending=False,
        slack_channel=None,
        slack_ts=None,
        root=view(1, "Hello", author_name="Anna"),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_format_time_shows_the_edges_of_the_calendar_instead_of_raising() -> None:
    assert format_time(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), HELSINKI) == "9999-12-31 23:59 UTC"
    assert format_time(datetime.min, HELSINKI) == "0001-01-01 01:39 LMT"  # Helsinki's local mean time then
    minus14 = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))
    assert format_time(minus14, HELSINKI) == "9999-12-31 23:59 UTC-1400"
    assert format_time(NOW, HELSINKI) == "2026-11-23 12:00 EET"


def test_a_card_lists_the_latest_three_answers_and_counts_the_rest() -> None:
    answers = [view(10 + i, f"answer {i}", "outbound", sent_by="UANNA", delivery="sent") for i in range(5)]
    rendered = render_card(card(answers=answers, answer_count=9), CTX)
    assert_postable(rendered)
    ids = [b.get("block_id") for b in rendered["blocks"]]
    assert [i for i in ids if str(i).startswith("answer:")] == ["answer:12", "answer:13", "answer:14"]
    assert "6 earlier answer(s) in the thread." in block_text(rendered["blocks"])


def test_the_text_is_cut_where_the_author_line_leaves_room() -> None:
    root = view(1, "ż&" * 2000, author_name="N" * 95, author_url="https://example.test/" + "u" * 79)
    rendered = render_card(card(root=root), CTX)
    assert_postable(rendered)
    section = next(b for b in rendered["blocks"] if b.get("block_id") == "message")["text"]["text"]
    assert len(section) <= 3000 and section.endswith("…") and not section.endswith("&…")


def test_the_minimal_card_keeps_source_author_text_status_and_buttons() -> None:
    rendered = render_minimal_card(
        card(root=view(1, "x" * 5000, author_name="Anna", permalink="https://e.test/1")), CTX
    )
    assert_postable(rendered)
    text = block_text(rendered["blocks"])
    assert "Webhook" in text and "Anna" in text and "x" * 1000 in text and "New" in text
    assert {"Claim", "Resolve", "Full text", "Open original"} <= set(text.splitlines())
    assert rendered["metadata"]["event_payload"]["conversation_id"] == 7


def test_escaping_fits_quoted_entity_heavy_text_and_never_cuts_an_entity() -> None:
    fitted = escape_fit("<\n" * 100, 50, quote=True)
    assert len(fitted.text) <= 50 and fitted.truncated and fitted.text.endswith("\n>…")
    assert fitted.shown == fitted.text.count("&lt;") + fitted.text.count("\n")
    assert clip_mrkdwn("ab <@U123> &amp; cd", 9) == "ab …"
    assert clip_mrkdwn("ab &amp; cd", 7) == "ab …"
