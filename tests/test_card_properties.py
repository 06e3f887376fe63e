"""Property-based: no text, time or plugin decoration can make a card, thread post or escalation unpostable.

Every rendered message passes slack_sdk's models and the fake Slack's Block Kit checks
(the same checks that answer ``invalid_blocks`` and ``msg_blocks_too_long``), and no
customer text turns into a mention or a link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops.cards import CardData, MessageView
from chatops.i18n import Translator
from chatops.models import Delivery, Direction, Status
from chatops.slack.card import (
    CardContext,
    format_time,
    full_text_blocks,
    render_card,
    render_escalation,
    render_minimal_card,
    render_thread_message,
)
from chatops.slack.escape import INVISIBLE_CONTROLS, safe_url
from chatops.sources import Capability
from chatops.testing.card_checks import assert_postable, mrkdwn_texts, slack_tokens

PEOPLE = ["UANNA", "UBOB"]
BUDGET = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_tricky = st.sampled_from(
    [
        "&",
        "<",
        ">",
        "&amp;",
        "<!channel>",
        "<@U1>",
        "<!subteam^S1>",
        "<https://evil.example|invoice>",
        "\n",
        "`",
        "*",
        "~",
        "|",
        "ą",
        "ł",
        "👍",
        "\u202e",
        "\u2066",
        "\u200b",
        "\ufeff",
        "\u200f",
        " ",
        "⟨",
        "https://x.example/a",
    ]
)
_unicode = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
#: Short unicode, long runs of one tricky piece (entity-heavy, newline-heavy, bidi-heavy), and mixes of both.
texts = st.one_of(
    _unicode,
    st.builds(lambda piece, n: piece * n, _tricky, st.integers(0, 3500)),
    st.lists(st.one_of(_tricky, _unicode), max_size=80).map("".join),
    st.builds(lambda a, b: a + "ż" * b, st.lists(_tricky, max_size=20).map("".join), st.integers(0, 3300)),
)
urls = st.one_of(
    st.none(),
    texts,
    st.builds(lambda tail: "https://example.test/" + tail, st.text("abc&=?/%-_.", max_size=3200)),
)
times = st.one_of(
    st.none(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))])),
    st.sampled_from(
        [
            datetime.min,
            datetime.max,
            datetime.max.replace(tzinfo=UTC),
            datetime.min.replace(tzinfo=UTC),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
        ]
    ),
)
maybe_texts = st.one_of(st.none(), texts)


def _view(ident: int, direction: str, text: str, **fields: Any) -> MessageView:
    return MessageView(id=ident, direction=direction, text=text, **fields)


def message_views(directions: list[str]) -> st.SearchStrategy[MessageView]:
    return st.builds(
        _view,
        ident=st.integers(1, 10**12),
        direction=st.sampled_from(directions),
        text=texts,
        kind=st.one_of(st.sampled_from(["comment", "reply", "private_reply"]), texts),
        author_id=maybe_texts,
        author_name=maybe_texts,
        author_handle=maybe_texts,
        author_url=urls,
        permalink=urls,
        created_at=times,
        received_at=times.filter(lambda t: t is not None),
        edited_at=times,
        removed_at=times,
        hidden=st.booleans(),
        sent_by=st.one_of(st.none(), st.sampled_from(PEOPLE)),
        delivery=st.one_of(st.none(), st.sampled_from([d.value for d in Delivery])),
        delivery_error=maybe_texts,
        sent_at=times,
        hide_error=maybe_texts,
        slack_ts=st.none(),
        external_id=maybe_texts,
        extra=st.just({}),
    )


answers = st.lists(
    message_views([Direction.OUTBOUND.value, Direction.EXTERNAL.value]), max_size=8, unique_by=lambda m: m.id
)
cards = st.builds(
    CardData,
    conversation_id=st.integers(1, 2**62),
    source=st.sampled_from(["webhook", "facebook"]),
    thread_id=texts,
    channel_name=maybe_texts,
    context_text=maybe_texts,
    context_url=urls,
    status=st.sampled_from([s.value for s in Status]),
    assignee=st.one_of(st.none(), st.sampled_from(PEOPLE)),
    escalated_at=times,
    escalation_reason=maybe_texts,
    followup_pending=st.booleans(),
    slack_channel=st.none(),
    slack_ts=st.none(),
    root=message_views([Direction.INBOUND.value]),
    answers=answers,
    message_count=st.integers(0, 10**6),
    tags=st.lists(texts, max_size=40),
    answer_count=st.integers(0, 10**6),
)
contexts = st.builds(
    CardContext,
    t=st.sampled_from([Translator(lang) for lang in ("en", "fi", "pl")]),
    tz=st.sampled_from([ZoneInfo(z) for z in ("UTC", "Europe/Helsinki", "Pacific/Kiritimati", "America/Adak")]),
    source_name=st.sampled_from(["Webhook", "Facebook", "Instagram"]),
    capabilities=st.dictionaries(st.sampled_from(list(Capability)), maybe_texts, max_size=4),
)

# Plugins' decorations: plausible blocks, some of which Slack refuses (too long, empty, duplicate ids, unknown).
_deco_text = st.text(st.sampled_from("abc ąż*_&;:!0123456789"), max_size=3100)
_text_obj = st.builds(
    lambda kind, text: {"type": kind, "text": text}, st.sampled_from(["mrkdwn", "plain_text"]), _deco_text
)
_button = st.builds(
    lambda text, aid, value: {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": aid,
        "value": value,
    },
    st.text("abc", max_size=90),
    st.sampled_from(["a", "b", "chatops:claim", "x" * 300]),
    st.text("v", max_size=2100),
)
_block_id = st.one_of(st.none(), st.sampled_from(["deco", "message", "actions", "status", "y" * 300]))


def _with_id(block: dict[str, Any], block_id: str | None) -> dict[str, Any]:
    return {**block, "block_id": block_id} if block_id is not None else block


decorations = st.lists(
    st.one_of(
        st.builds(lambda text, bid: _with_id({"type": "section", "text": text}, bid), _text_obj, _block_id),
        st.builds(
            lambda els, bid: _with_id({"type": "context", "elements": els}, bid),
            st.lists(_text_obj, max_size=12),
            _block_id,
        ),
        st.builds(
            lambda els, bid: _with_id({"type": "actions", "elements": els}, bid),
            st.lists(_button, max_size=27),
            _block_id,
        ),
        st.builds(lambda text, bid: _with_id({"type": "header", "text": text}, bid), _text_obj, _block_id),
        st.builds(lambda bid: _with_id({"type": "divider"}, bid), _block_id),
        st.sampled_from([{"type": "nonsense"}, {"text": "no type"}, {"type": "section"}, "not a block", None]),
    ),
    max_size=60,
)


def _allowed_tokens(card: CardData, message: MessageView | None = None) -> tuple[set[str], list[str]]:
    """Mentions the bot itself writes, and the link targets it may make from the card's URLs."""
    mentions = {f"@{p}" for p in PEOPLE}
    views = [card.root, *card.answers] + ([message] if message else [])
    targets = [safe_url(u) for u in [card.context_url, *(v.author_url for v in views), *(v.permalink for v in views)]]
    return mentions, [f"{t}|" for t in targets if t]


def _assert_no_customer_syntax(rendered: dict[str, Any], card: CardData, message: MessageView | None = None) -> None:
    mentions, links = _allowed_tokens(card, message)
    for token in slack_tokens(rendered):
        assert token in mentions or any(token.startswith(prefix) for prefix in links), token
    for text in mrkdwn_texts(rendered):
        # Every "<" opens a token the bot wrote (">" also starts quoted lines); every "&" starts a whole entity.
        assert text.count("<") == len(slack_tokens({"text": text})), text[:200]
        assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", ""), text[:200]
        assert not INVISIBLE_CONTROLS.intersection(text)


@BUDGET
@given(card=cards, ctx=contexts)
def test_any_card_is_postable_and_customer_text_never_pings(card: CardData, ctx: CardContext) -> None:
    rendered = render_card(card, ctx)
    assert_postable(rendered)
    _assert_no_customer_syntax(rendered, card)
    minimal = render_minimal_card(card, ctx)
    assert_postable(minimal)
    _assert_no_customer_syntax(minimal, card)


@BUDGET
@given(card=cards, ctx=contexts, extra=decorations)
def test_plugin_decorations_never_make_a_card_unpostable(card: CardData, ctx: CardContext, extra: list[Any]) -> None:
    rendered = render_card(card, ctx, extra)
    assert_postable(rendered)
    ids = [b["block_id"] for b in rendered["blocks"] if "block_id" in b]
    assert "actions" in ids and "message" in ids  # the card's own blocks are never the ones dropped


@BUDGET
@given(
    card=cards,
    ctx=contexts,
    message=message_views([d.value for d in Direction]),
    note=st.sampled_from([None, "edited", "removed"]),
    reason=texts,
    user=st.sampled_from(PEOPLE),
    card_url=urls,
)
def test_thread_posts_and_escalations_are_postable(
    card: CardData,
    ctx: CardContext,
    message: MessageView,
    note: str | None,
    reason: str,
    user: str,
    card_url: str | None,
) -> None:
    thread = render_thread_message(message, ctx, note)
    assert_postable(thread)
    _assert_no_customer_syntax(thread, card, message)
    escalation = render_escalation(card, ctx, user=user, reason=reason, leads=["ULEAD", "SLEADS"], card_url=card_url)
    assert_postable(escalation)
    assert all(
        token in {"@ULEAD", "!subteam^SLEADS", f"@{user}"} or token.startswith(f"{safe_url(card_url)}|")
        for token in slack_tokens(escalation)
    )
    assert_postable({"blocks": full_text_blocks(message.text)}, max_blocks=100)


@BUDGET
@given(at=st.one_of(times, st.datetimes(timezones=st.timezones())), tz=contexts.map(lambda c: c.tz))
def test_format_time_never_raises(at: datetime | None, tz: ZoneInfo) -> None:
    shown = format_time(at, tz)
    assert isinstance(shown, str) and (at is None or shown)
