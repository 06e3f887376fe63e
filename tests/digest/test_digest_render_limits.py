"""Whatever customers call themselves and however much there is, a digest pings nobody, hides no link and fits Slack."""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_kit import (
    READ_AT,
    backlog,
    block_texts,
    busy_day,
    digest_report,
    field,
    figures,
    linked,
    quiet_day,
    translator,
)

from chatops.slack.blockkit import TOTAL_TEXT_BUDGET, text_length
from chatops.testing.card_checks import assert_postable, slack_tokens
from chatops_plugins.digest.figures import Backlog, Durations, Fan, PersonFigures
from chatops_plugins.digest.render import digest_blocks, digest_summary, digest_text

EN = translator("en")
HOSTILE = "\u202eevil\u202c <!channel> <@U123>\n*bold* <http://evil.example|click> &amp;"


def postable(report: Any, links: dict[int, str] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    blocks = digest_blocks(report, EN, links or {}, **kwargs)
    assert_postable({"text": digest_summary(report, EN), "blocks": blocks})
    assert text_length(blocks) <= TOTAL_TEXT_BUDGET
    return blocks


def test_hostile_names_posts_tags_and_sources_are_shown_literally() -> None:
    link = "https://team.slack.com/archives/CCARDS/p1700000000000009"
    report = digest_report(
        current=busy_day(
            by_source=((HOSTILE, 3), ("facebook", 2)),
            fans=(Fan(HOSTILE, HOSTILE, (HOSTILE,), 2, 3),),
            people=(PersonFigures("UEVIL", 1, 1, Durations(1, 60, 60)),),
            tags=((HOSTILE, 2),),
        ),
        open_now=backlog(
            oldest=linked(7, label=HOSTILE, author=HOSTILE, source=HOSTILE),
            worst_negative=(linked(9, label=HOSTILE, author=HOSTILE),),
        ),
    )
    blocks = postable(report, {9: link}, names={"UEVIL": HOSTILE})
    # The only thing Slack acts on is our link to the card; its label is the escaped post.
    [token] = slack_tokens({"blocks": blocks})
    assert token.startswith(link + "|⟨U+202E⟩evil⟨U+202C⟩ &lt;!channel&gt; &lt;@U123&gt; *bold* &lt;http://evil")
    texts = "\n".join(block_texts(blocks))
    assert "• ⟨U+202E⟩evil⟨U+202C⟩ &lt;!channel&gt; &lt;@U123&gt; *bold* … (⟨U+202E⟩" in texts  # a fan
    assert "\u202e" not in texts
    # A name's line break does not start a new line of the list.
    assert "\n*bold*" not in texts
    assert "⟨U+202E⟩evil⟨U+202C⟩ &lt;!channel&gt; &lt;@U123&gt; *bold* &lt;http://evil.exam…" in field(
        blocks, "Oldest open"
    )

    # A terminal shows the post's label whole, on one line, as the customer wrote it.
    text = digest_text(report, EN, names={"UEVIL": HOSTILE})
    assert (
        "Oldest open:             ⟨U+202E⟩evil⟨U+202C⟩ <!channel> <@U123> *bold* <http://evil.example|click> &amp; — "
        in text
    )


def test_a_terminal_never_receives_control_characters_from_customers() -> None:
    report = digest_report(current=busy_day(fans=(Fan("\x1b[2J\x1b[31mred\x07", None, ("facebook",), 1, 1),)))
    text = digest_text(report, EN)
    assert "[2J[31mred · facebook" in text
    assert not [c for c in text if ord(c) < 32 and c != "\n"]


def test_a_link_slack_would_misread_is_left_out_and_the_label_kept() -> None:
    report = digest_report(open_now=backlog(worst_negative=()))
    blocks = postable(report, {7: "javascript:alert(1)"})
    assert field(blocks, "Oldest open").startswith("Winter sale post — ")
    blocks = postable(report, {7: "https://evil.example/x|<!channel>"})
    assert slack_tokens({"blocks": blocks}) == []


def test_twenty_fans_with_long_names_and_ten_huge_negative_ones_fit_and_say_how_many_more() -> None:
    long = "Ł" * 200 + "<&>" * 20  # 260 characters, 60 of them escaped to several
    fans = tuple(Fan(f"{i} {long}", "@" + long, ("facebook", "instagram", long), 50 - i, 99) for i in range(20))
    people = tuple(PersonFigures(f"U{i:03d}", 30 - i, 10, Durations(10, 600.0, 900.0)) for i in range(20))
    worst = tuple(
        linked(100 + i, label=long * 20, author=long, created_at=READ_AT - timedelta(hours=i)) for i in range(10)
    )
    links = {100 + i: f"https://team.slack.com/archives/CCARDS/p{'1' * 200}{i}" for i in range(10)}
    report = digest_report(
        current=busy_day(
            by_source=tuple((f"source-{i}-{long}", 100 - i) for i in range(30)),
            fans=fans,
            people=people,
            tags=tuple((f"{long}-{i}", 40 - i) for i in range(40)),
        ),
        previous=quiet_day(by_source=tuple((f"old-{i}", i) for i in range(30))),
        open_now=backlog(open=10_000, worst_negative=worst),
        list_limit=10,
        top=20,
    )
    blocks = postable(report, links, names={f"U{i:03d}": long for i in range(20)})
    texts = block_texts(blocks)
    assert len(blocks) <= 50
    assert all(len(text) <= 3000 for text in texts)
    assert [block["text"]["text"] for block in blocks if block["type"] == "header"] == ["Daily digest · Mon 30 Nov"]
    # Every list still shows its first entries, and says how many it left out.
    joined = "\n".join(texts)
    assert "• 0 ŁŁŁ" in joined
    for title in ("Most active fans", "Per person", "Top tags", "By source", "Worst open ones"):
        [text] = [text for text in texts if title in text]
        assert "…and " in text and " more" in text, title
    # All the figures are still there.
    assert field(blocks, "Open now") == "10,000"
    assert field(blocks, "Conversations in") == "2,565 ▲ +2,130 (was 435)"
    # The terminal shows everything.
    text = digest_text(report, EN, names={f"U{i:03d}": long for i in range(20)})
    assert text.count(" • ") + text.count("  • ") >= 20 + 20 + 10 + 30
    assert "…and" not in text


def test_a_header_is_clipped_to_slacks_limit_whatever_the_words() -> None:
    t = translator()
    t._words["digest.header.yesterday"] = "Daily digest " * 20 + "· {when}"  # a translator got carried away
    blocks = digest_blocks(digest_report(), t, {})
    assert len(blocks[0]["text"]["text"]) == 150
    assert_postable({"text": "x", "blocks": blocks})


# --- any figures at all ------------------------------------------------------------------------

names = st.text(st.one_of(st.characters(), st.sampled_from("<>&|*_~`@!\n\u202e")), max_size=300)
counts = st.integers(min_value=0, max_value=10**9)
seconds = st.one_of(
    st.none(),
    st.floats(min_value=-1e6, max_value=1e12, allow_nan=False),
    st.sampled_from([float("nan"), float("inf"), 0.0, 59.5]),
)
durations = st.builds(Durations, counts, seconds, seconds)
shares_of = st.tuples(names, counts)
fan_strategy = st.builds(
    Fan, names, st.one_of(st.none(), names), st.lists(names, max_size=5).map(tuple), counts, counts
)
person_strategy = st.builds(
    PersonFigures, st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=12), counts, counts, durations
)
linked_strategy = st.builds(
    linked,
    st.integers(min_value=1, max_value=10**12),
    label=names,
    author=names,
    source=names,
    created_at=st.datetimes(timezones=st.just(READ_AT.tzinfo)),  # type: ignore[arg-type]
    slack_ts=st.one_of(st.none(), st.just("1.2")),
)


def figure_strategy(day_offset: int) -> st.SearchStrategy[Any]:
    return st.builds(
        figures,
        st.just(READ_AT.date() - timedelta(days=day_offset)),
        by_source=st.lists(shares_of, max_size=25).map(tuple),
        messages=counts,
        answered=counts,
        first_response=durations,
        first_response_service=st.one_of(st.none(), durations),
        within_target=counts,
        breaches=counts,
        resolution=durations,
        escalations=counts,
        negative=counts,
        fans=st.lists(fan_strategy, max_size=20).map(tuple),
        people=st.lists(person_strategy, max_size=20).map(tuple),
        tags=st.lists(shares_of, max_size=30).map(tuple),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    period=st.sampled_from(["today", "yesterday", "week"]),
    current=figure_strategy(1),
    previous=figure_strategy(2),
    open_now=st.builds(
        Backlog, counts, st.one_of(st.none(), linked_strategy), st.lists(linked_strategy, max_size=10).map(tuple)
    ),
    language=st.sampled_from(["en", "fi", "pl"]),
    people_names=st.dictionaries(st.text(string.ascii_uppercase, max_size=5), names, max_size=5),
    target=st.integers(min_value=60, max_value=7 * 86400),
)
def test_any_figures_give_a_postable_digest_and_a_terminal_text(
    period: Any,
    current: Any,
    previous: Any,
    open_now: Backlog,
    language: str,
    people_names: dict[str, str],
    target: int,
) -> None:
    t = translator(language)
    report = digest_report(period, current=current, previous=previous, open_now=open_now, target_seconds=target)
    links = {
        item.conversation_id: f"https://team.slack.com/archives/C1/p{item.conversation_id}"
        for item in open_now.worst_negative
    }
    blocks = digest_blocks(report, t, links, names=people_names)
    message = {"text": digest_summary(report, t), "blocks": blocks}
    assert_postable(message)
    assert text_length(blocks) <= TOTAL_TEXT_BUDGET
    # Nothing but our links to cards: no mention, no customer's link.
    assert all(token.split("|")[0] in links.values() for token in slack_tokens(message))
    text = digest_text(report, t, names=people_names)
    assert text.endswith("\n")
    assert not [c for c in text if ord(c) < 32 and c != "\n"]
    assert "\n" not in digest_summary(report, t)


def test_an_empty_report_of_any_language_is_postable() -> None:
    for language in ("en", "fi", "pl"):
        t = translator(language)
        report = digest_report(current=figures(), previous=figures(), open_now=Backlog())
        assert_postable({"text": digest_summary(report, t), "blocks": digest_blocks(report, t, {})})


def test_our_own_words_cannot_ping_either() -> None:
    t = translator()
    t._words["digest.label.open"] = "Open <!here> & now"  # a careless translation
    t._words["digest.group.fans"] = "Fans <!channel>"
    blocks = digest_blocks(digest_report(), t, {})
    assert slack_tokens({"blocks": blocks}) == []
    assert field(blocks, "Open &lt;!here&gt; &amp; now") == "17"
