"""The priority line on a card: any score and any reasons a plugin gave render postable, escaped and short."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops.cards import CardData, MessageView
from chatops.i18n import Translator
from chatops.slack.card import CardContext, render_card
from chatops.testing.card_checks import assert_postable, mrkdwn_texts, slack_tokens

AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def card(priority: int, extra: dict[str, Any]) -> CardData:
    root = MessageView(
        id=1, direction="inbound", kind="comment", text="Where is my refund?", author_id=None, author_name="Matti",
        author_handle=None, author_url=None, permalink=None, created_at=AT, received_at=AT, edited_at=None,
        removed_at=None, hidden=False, sent_by=None, delivery=None, delivery_error=None, sent_at=None,
        hide_error=None, slack_ts=None, external_id="c1", extra=extra,
    )  # fmt: skip
    return CardData(
        conversation_id=1, source="webhook", thread_id="t", channel_name=None, context_text=None, context_url=None,
        status="new", assignee=None, escalated_at=None, escalation_reason=None, followup_pending=False,
        slack_channel=None, slack_ts=None, root=root, priority=priority,
    )  # fmt: skip


def status_text(rendered: dict[str, Any]) -> str:
    return next(b["text"]["text"] for b in rendered["blocks"] if b.get("block_id") == "status")


def context(language: str = "en") -> CardContext:
    return CardContext(t=Translator(language), tz=ZoneInfo("Europe/Helsinki"), source_name="Webhook", capabilities={})


def test_the_line_names_the_reasons_in_the_teams_language() -> None:
    extra = {"priority": {"score": 100, "reasons": ["vip", "hyvitys", "negative"]}}
    assert status_text(render_card(card(100, extra), context("fi"))).startswith(
        "⚑ *Kiireellisyys 100*: VIP · hyvitys · negatiivinen\n"
    )
    assert "⚑ *Priorytet 100*: VIP · hyvitys · negatywny" in status_text(render_card(card(100, extra), context("pl")))


def test_an_ordinary_card_has_no_line_and_a_bump_without_reasons_shows_the_score() -> None:
    assert "⚑" not in status_text(render_card(card(0, {}), context()))
    assert "⚑" not in status_text(render_card(card(-30, {}), context()))
    assert status_text(render_card(card(60, {}), context())).startswith("⚑ *Priority 60*\n")


hostile = st.sampled_from(["<!channel>", "<https://evil.test|bank>", "&amp;", "*bold*", "\u202e", "\n", "`", "@here"])
reasons = st.lists(st.one_of(st.text(max_size=300), hostile, st.integers(), st.none()), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    priority=st.integers(-(10**6), 10**6),
    stored=st.one_of(
        st.none(), st.text(max_size=20), st.fixed_dictionaries({"score": st.integers(), "reasons": reasons})
    ),
    language=st.sampled_from(["en", "fi", "pl"]),
)
def test_any_stored_priority_renders_postable_and_never_pings(priority: int, stored: Any, language: str) -> None:
    rendered = render_card(card(priority, {"priority": stored}), context(language))
    assert_postable(rendered)
    assert slack_tokens(rendered) == []
    line = status_text(rendered).split("\n")[0]
    if priority > 0:
        assert line.startswith("⚑") and len(line) < 5 * 130 + 40
    for text in mrkdwn_texts(rendered):
        assert "<" not in text
