"""The [priority] rules: keywords in inflected languages, VIPs by handle or id, verdicts checked and bounded."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chatops.config import PriorityConfig
from chatops.priority import (
    MAX_REASONS,
    MAX_SCORE,
    PLUGIN_LIMIT,
    REASON_LENGTH,
    Classification,
    Prioritizer,
    Verdicts,
    score_of,
)
from chatops.sources import Author, InboundMessage

CONFIG = PriorityConfig(
    keywords=["hyvity*", "zwrot*", "money back", "Straße", "lawyer"],
    vip_authors=["@HS_fi", "98765"],
)


def message(text: str = "hello", author: Author | None = None, **extra: Any) -> InboundMessage:
    return InboundMessage(
        source="webhook", external_id="1", thread_id="1", text=text, author=author or Author(), extra=extra
    )


def scored(text: str, author: Author | None = None, verdicts: Verdicts = (), **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = Prioritizer(CONFIG, lambda _m: verdicts).annotate(message(text, author, **extra)).extra
    return result["priority"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Milloin saan HYVITYKSEN?", "hyvity"),  # a Finnish inflection, upper case
        ("hyvitys", "hyvity"),
        ("Proszę o zwrotu pieniędzy", "zwrot"),
        ("I want my money\n  back", "money back"),  # a phrase across any spaces
        ("STRASSE gesperrt", "Straße"),  # Unicode case folding
        ("my ＬＡＷＹＥＲ will call", "lawyer"),  # full-width letters, NFKC
    ],
)
def test_keywords_match_inflections_case_and_width(text: str, reason: str) -> None:
    assert scored(text) == {"score": 40, "reasons": [reason]}


@pytest.mark.parametrize("text", ["lawyers are people", "ahyvitys", "moneyback", "zwrócić"])
def test_a_whole_word_keyword_does_not_match_inside_other_words(text: str) -> None:
    assert scored(text) == {"score": 0, "reasons": []}


def test_a_vip_is_known_by_handle_or_id_never_by_display_name() -> None:
    assert scored("hi", Author(handle="hs_fi"))["reasons"] == ["vip"]
    assert scored("hi", Author(handle="@HS_FI"))["reasons"] == ["vip"]
    assert scored("hi", Author(id="98765"))["score"] == 50
    assert scored("hi", Author(name="HS_fi", handle="someone"))["score"] == 0


def test_rules_add_up_and_reasons_are_the_teams_words() -> None:
    found = scored("HYVITYS heti!", Author(handle="hs_fi"), sentiment="negative")
    assert found == {"score": 50 + 40 + 30, "reasons": ["vip", "hyvity", "negative"]}


def test_a_source_supplied_priority_is_replaced() -> None:
    assert scored("hi", priority={"score": 9999, "reasons": ["boss"]}) == {"score": 0, "reasons": []}


def test_garbage_verdicts_are_refused_or_bounded() -> None:
    verdicts = [
        ("a", {"priority": 5}),
        ("b", Classification(priority="5")),  # type: ignore[arg-type]
        ("c", Classification(priority=True)),
        ("d", Classification(priority=10**30, sentiment="furious", reasons="one\nline " * 50)),  # type: ignore[arg-type]
        ("e", None),
    ]
    found = scored("hi", verdicts=verdicts)
    assert found["score"] == PLUGIN_LIMIT
    assert found["reasons"] == [("one line " * 5)[:REASON_LENGTH].rstrip()]


def test_a_classifier_callable_that_raises_costs_nothing() -> None:
    def broken(_m: InboundMessage) -> Verdicts:
        raise RuntimeError("bug")

    extra = Prioritizer(CONFIG, broken).annotate(message("hyvitys", priority={"score": 5})).extra
    assert extra["priority"] == {"score": 0, "reasons": []}


@pytest.mark.parametrize(
    ("keywords", "problem"),
    [
        (["a*"], "at least 3 letters"),
        (["*"], "at least 3 letters"),
        (["re*fund"], "may only end"),
        (["x" * 101], "at most 100"),
        (["word"] * 501, "at most 500"),
    ],
)
def test_keyword_lists_are_limited(keywords: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        PriorityConfig(keywords=keywords)


def test_vip_lists_are_limited() -> None:
    with pytest.raises(ValidationError, match="at most 255"):
        PriorityConfig(vip_authors=["x" * 256])


garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)
verdict = st.one_of(
    garbage,
    st.builds(
        Classification,
        priority=st.integers() | garbage,
        sentiment=st.sampled_from(["negative", "positive", "neutral", None]) | garbage,
        reasons=st.lists(st.text(max_size=200) | garbage, max_size=10) | st.text(max_size=200) | garbage,
    ),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=300),
    handle=st.none() | st.text(max_size=30),
    author_id=st.none() | st.text(max_size=30),
    extra=st.dictionaries(st.sampled_from(["priority", "sentiment", "reply_url", "x"]), garbage, max_size=4),
    verdicts=st.lists(st.tuples(st.sampled_from(["p1", "p2"]), verdict), max_size=4),
)
def test_annotate_never_raises_and_keeps_the_score_bounded_and_its_own(
    text: str, handle: str | None, author_id: str | None, extra: dict[str, Any], verdicts: Verdicts
) -> None:
    msg = message(text, Author(handle=handle, id=author_id), **extra)
    annotated = Prioritizer(CONFIG, lambda _m: verdicts).annotate(msg)
    found = annotated.extra["priority"]
    assert set(found) == {"score", "reasons"}
    assert isinstance(found["score"], int) and -MAX_SCORE <= found["score"] <= MAX_SCORE
    assert score_of(annotated.extra) == found["score"]
    assert len(found["reasons"]) <= MAX_REASONS
    for reason in found["reasons"]:
        assert isinstance(reason, str) and 0 < len(reason) <= REASON_LENGTH
        assert reason == " ".join(reason.split()) and reason.isprintable()
    # Everything else the source gave is kept as it was.
    assert {k: v for k, v in annotated.extra.items() if k not in ("priority", "sentiment")} == {
        k: v for k, v in extra.items() if k not in ("priority", "sentiment")
    }
