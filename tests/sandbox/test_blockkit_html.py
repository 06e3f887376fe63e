"""The sandbox's Block Kit renderer: the bot's real cards and modals as HTML, and a submitted form back as Slack's state.

The cards and modals come from the running bot (TestBot against the fake Slack); each
rendered page is read back with ``html.parser`` and asserted on as a person (or a browser
test) would see it. Round trips submit :func:`form_state`'s output to the bot through the
production path, proving its shapes are the ones the handlers read.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from blockkit_dom import Node, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops.cards import CardData, MessageView
from chatops.db import Database
from chatops.i18n import Translator
from chatops.migrate import upgrade_plugin
from chatops.sandbox.blockkit_html import form_state, message_html, mrkdwn_html, view_html
from chatops.slack.card import CardContext, render_card
from chatops.sources import Capability
from chatops.testing.bot import INBOX, CallbackReceiver, Person, TestBot
from chatops.testing.fake_slack import FakeSlack

# The renderer does not depend on the database: one backend keeps these tests fast.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

USERS = {"UANNA": "Anna", "UJARI": "Jari", "ULENA": "Lena"}
#: Every element and attribute the renderer makes; anything else in its output came from the input.
TAGS = {
    "a", "b", "blockquote", "br", "button", "code", "div", "figcaption", "figure", "form", "h2", "h3", "hr",
    "i", "img", "input", "label", "ol", "optgroup", "option", "pre", "s", "select", "span", "textarea", "ul", "li",
}  # fmt: skip
ATTRIBUTES = {
    "aria-controls", "aria-expanded", "aria-haspopup", "aria-labelledby", "alt", "checked", "class",
    "data-action", "data-block-id", "data-callback-id", "data-modal-close", "data-testid", "data-url", "for",
    "hidden", "href", "id", "label", "max", "maxlength", "method", "min", "minlength", "multiple", "name",
    "placeholder", "rel", "required", "role", "rows", "selected", "src", "step", "target", "title", "type", "value",
}  # fmt: skip


def buttons(dom: Node) -> list[str]:
    """The visible buttons' names, in order (an overflow menu's hidden options left out)."""
    hidden = {id(b) for menu in dom.find_all(role="menu") for b in menu.find_all("button")}
    return [b.text for b in dom.find_all("button") if id(b) not in hidden]


def label_control(dom: Node, label: str) -> Node:
    """The control a ``<label>`` with exactly this text is bound to (as ``get_by_label`` finds it)."""
    found = dom.find("label", text=label)
    target = found.attrs.get("for")
    assert target, f"label {label!r} is bound to nothing"
    return dom.by_id(target)


def assert_only_renderer_markup(dom: Node) -> None:
    """No element or attribute the renderer does not make; every link safe; every data-action JSON."""
    for node in dom.walk():
        assert node.tag in TAGS, f"unexpected <{node.tag}>"
        assert set(node.attrs) <= ATTRIBUTES, f"unexpected attributes on <{node.tag}>: {set(node.attrs) - ATTRIBUTES}"
        if "href" in node.attrs:
            assert (node.attrs["href"] or "").startswith(("http://", "https://", "mailto:")), node.attrs
            assert node.attrs.get("rel") == "noopener noreferrer" and node.attrs.get("target") == "_blank"
        if "src" in node.attrs:
            assert (node.attrs["src"] or "").startswith(("http://", "https://")), node.attrs
        if "data-action" in node.attrs:
            assert isinstance(node.action, dict)


# -- the bot's real cards ---------------------------------------------------------------------


@sqlite_only
async def test_a_new_card_shows_its_texts_and_its_buttons_with_their_actions(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    await bot.comment(
        "Where is my order #123? <script>alert(1)</script> & *really*",
        reply_url=callback.url,
        context={"text": "Black Friday sale", "url": "https://example.test/p/9"},
    )
    card = await bot.next_card()
    dom = parse(message_html(card.message, users=USERS))
    assert_only_renderer_markup(dom)
    text = dom.text
    assert "Where is my order #123? <script>alert(1)</script> & really" in text
    # As in Slack: the card escapes a customer's <, > and &, not their stars.
    assert dom.find("b", text="really")
    assert "Contact form" in text and "Received 2026-11-23 12:00 EET" in text and "New" in text
    author = dom.find("a", text="Matti Meikäläinen (@matti)")
    assert author.attrs["href"] == "https://example.test/u/matti"
    assert dom.find("a", text="Black Friday sale").attrs["href"] == "https://example.test/p/9"
    assert buttons(dom) == ["Claim", "Reply", "Tag", "Escalate", "Resolve", "Open original"]
    claim = dom.find("button", text="Claim")
    assert claim.attrs["type"] == "button" and "bk-primary" in claim.classes
    assert claim.action == {
        "block_id": "actions",
        "action_id": "chatops:claim",
        "type": "button",
        "value": str(card.conversation_id),
        "text": {"type": "plain_text", "text": "Claim", "emoji": True},
        "style": "primary",
    }
    assert "bk-danger" in dom.find("button", text="Escalate").classes
    assert dom.find("button", text="Open original").attrs["data-url"] == "https://example.test/c/1"


@sqlite_only
async def test_a_claimed_and_replied_card_and_its_thread_name_the_teammate(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    anna = bot.person("Anna")
    await bot.comment("Is the shop open on Sunday?", reply_url=callback.url)
    card = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
    dom = parse(message_html(card.message, users=USERS))
    assert "🙋 Claimed by @Anna" in dom.text
    assert "Unclaim" in buttons(dom) and "Claim" not in buttons(dom)
    await bot.reply(anna, card, "Yes, 10–16. <!channel> *welcome*")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await bot.idle()
    dom = parse(message_html(card.message, users=USERS))
    assert_only_renderer_markup(dom)
    assert "💬 Replied" in dom.text and "Assignee: @Anna" in dom.text
    # The team's words are quoted: the escaped mention stays text (no ping), the stars make bold as in Slack.
    [quote] = [q for q in dom.find_all("blockquote") if "Yes, 10–16." in q.text]
    assert quote.text == "Yes, 10–16. <!channel> welcome" and quote.find("b").text == "welcome"
    assert dom.find_all(class_="bk-mention", text="@channel") == []
    thread = [parse(message_html(m, users=USERS)) for m in card.thread()]
    assert any("Reply sent on Webhook by @Anna" in t.text for t in thread)
    for post in thread:
        assert_only_renderer_markup(post)


def _message(**fields: Any) -> MessageView:
    """A message of a card, every field not given empty."""
    empty: dict[str, Any] = {name: None for name in MessageView.__dataclass_fields__}
    empty.update(kind="comment", hidden=False, extra={})
    return MessageView(**(empty | fields))


def test_a_hide_button_carries_its_confirmation_and_a_failed_answer_its_retry() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    root = _message(id=1, direction="inbound", text="Spam spam", author_name="Troll", received_at=now)
    failed = _message(
        id=2, direction="outbound", text="Sorry!", kind="reply", sent_by="UANNA", delivery="failed",
        delivery_error="HTTP 500",
    )  # fmt: skip
    card = CardData(
        conversation_id=7, source="facebook", thread_id="t", channel_name=None, context_text=None, context_url=None,
        status="claimed", assignee="UANNA", escalated_at=None, escalation_reason=None, followup_pending=False,
        slack_channel=None, slack_ts=None, root=root, answers=[failed],
    )  # fmt: skip
    ctx = CardContext(
        t=Translator("en"), tz=ZoneInfo("Europe/Helsinki"), source_name="Facebook",
        capabilities={Capability.REPLY: None, Capability.HIDE: None},
    )  # fmt: skip
    dom = parse(message_html(render_card(card, ctx), users=USERS))
    assert_only_renderer_markup(dom)
    hide = dom.find("button", text="Hide")
    assert hide.action["confirm"] == {
        "title": {"type": "plain_text", "text": "Hide this comment?", "emoji": True},
        "text": {"type": "mrkdwn", "text": "Others stop seeing it; the author and their friends still do. Nothing is deleted."},
        "confirm": {"type": "plain_text", "text": "Hide", "emoji": True},
        "deny": {"type": "plain_text", "text": "Cancel", "emoji": True},
    }  # fmt: skip
    retry = dom.find("button", text="Retry")
    assert retry.action["block_id"] == "answer:2" and retry.action["action_id"] == "chatops:retry:2"
    assert "bk-danger" in retry.classes
    assert "Reply by @Anna failed" in dom.text


# -- the bot's real modals, and their forms read back -----------------------------------------


@sqlite_only
async def test_the_reply_modal_is_a_form_with_a_bound_required_text_box(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hi", reply_url=callback.url)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    dom = parse(view_html(view, users=USERS))
    assert_only_renderer_markup(dom)
    form = dom.find("form", data_testid="modal")
    assert form.find("h2").text == "Reply"
    box = label_control(dom, "Your reply")
    assert box.tag == "textarea" and box.attrs["name"] == "text/text" and "required" in box.attrs
    assert box.attrs["maxlength"] == "3000"
    assert "Posted publicly under the customer's message on Webhook" in dom.text
    assert form.find("button", text="Send").attrs["type"] == "submit"
    assert form.find("button", text="Cancel").attrs["type"] == "button"
    sent = await bot.submit(anna, view, form_state(view, {"text/text": ["Thanks, we are on it."]}))
    assert sent.status_code == 200 and sent.text == ""
    [reply] = await callback.wait_for(1)
    assert reply["text"] == "Thanks, we are on it."


@sqlite_only
async def test_the_tag_modal_round_trip_lands_the_tags_on_the_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("The app crashes")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "tag")
    dom = parse(view_html(view, users=USERS))
    assert_only_renderer_markup(dom)
    assert dom.find("h2").text == "Tags"
    select = label_control(dom, "Tags")
    assert select.tag == "select" and "multiple" in select.attrs and "required" not in select.attrs
    assert [o.attrs["value"] for o in select.find_all("option")] == [
        "billing",
        "bug",
        "complaint",
        "praise",
        "question",
    ]
    new = label_control(dom, "New tags (comma-separated)")
    assert new.tag == "input" and new.attrs["name"] == "new_tags/new_tags" and "required" not in new.attrs
    assert dom.find("button", text="Save").attrs["type"] == "submit"

    # What a browser sends: the picked option, one the view never offered, and the text box.
    values = form_state(view, {"tags/tags": ["bug", "<b>forged</b>"], "new_tags/new_tags": ["iOS, VIP"]})
    assert values["tags"]["tags"] == {
        "type": "multi_static_select",
        "selected_options": [{"text": {"type": "plain_text", "text": "bug", "emoji": True}, "value": "bug"}],
    }
    assert values["new_tags"]["new_tags"] == {"type": "plain_text_input", "value": "iOS, VIP"}
    sent = await bot.submit(anna, view, values)
    assert sent.status_code == 200
    await card.wait_for(lambda c: "Tags: `bug`, `ios`, `vip`" in c.text)

    # Opened again, the modal shows the card's tags chosen.
    view = await bot.open_modal(anna, card, "tag")
    chosen = [
        o.attrs["value"]
        for o in label_control(parse(view_html(view)), "Tags").find_all("option")
        if "selected" in o.attrs
    ]
    assert chosen == ["bug", "ios", "vip"]


@sqlite_only
async def test_the_escalate_modal_round_trip_escalates_the_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("I will sue you")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "escalate")
    dom = parse(view_html(view, users=USERS))
    assert dom.find("h2").text == "Escalate"
    box = label_control(dom, "Why does this need a lead?")
    assert box.tag == "textarea" and "required" in box.attrs and box.attrs["maxlength"] == "2000"
    assert dom.find("button", text="Escalate").attrs["type"] == "submit"
    values = form_state(view, {"reason/reason": ["Legal threat"], "unknown/field": ["ignored"]})
    assert values == {"reason": {"reason": {"type": "plain_text_input", "value": "Legal threat"}}}
    await bot.submit(anna, view, values)
    await card.wait_for(lambda c: "Escalated" in c.text and "escalate" not in c.buttons)
    assert "Reason: Legal threat" in parse(message_html(card.message)).text


@sqlite_only
async def test_an_empty_required_field_comes_back_as_none_and_errors_show_under_it(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hi")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "escalate")
    values = form_state(view, {})
    assert values == {"reason": {"reason": {"type": "plain_text_input", "value": None}}}
    answer = await bot.submit(anna, view, form_state(view, {"reason/reason": ["   "]}))
    errors = answer.json()["errors"]
    dom = parse(view_html(view, errors=errors, state=form_state(view, {"reason/reason": ["   <i>"]})))
    [error] = dom.find_all(data_testid="field-error")
    assert error.text == errors["reason"]
    assert label_control(dom, "Why does this need a lead?").text == "   <i>"


# -- /rota: its dialog (every picker the bot uses) and its answers ----------------------------


@pytest.fixture
async def rota_bot(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[TestBot]:
    from chatops_plugins.rota import tables

    db = Database(database_url)
    try:
        await upgrade_plugin(db, "rota", tables.MIGRATIONS)
    finally:
        await db.dispose()
    config = {"plugins": {"rota": {"leads": ["ULENA"]}}}
    async with TestBot(fake_slack, database_url, config=config, plugins=["webhook", "rota"]) as bot:
        yield bot


async def _open_rota_edit(bot: TestBot, lead: Person) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    answer = await bot.command(lead, "/rota", "edit")
    assert answer.status_code == 200 and answer.text == ""
    calls = await bot.slack.wait_for("views.open", lambda c: c.ok, count=before + 1)
    view: dict[str, Any] = calls[-1].response["view"]
    return view


@sqlite_only
async def test_the_rota_dialog_renders_every_picker_and_its_form_adds_a_shift(rota_bot: TestBot) -> None:
    bot = rota_bot
    lena, _, _ = bot.person("Lena"), bot.person("Anna"), bot.person("Jari")
    view = await _open_rota_edit(bot, lena)
    dom = parse(view_html(view, users=USERS))
    assert_only_renderer_markup(dom)
    assert dom.find("h2").text == "Change the rota"
    action = label_control(dom, "What to do")
    assert action.attrs["role"] == "radiogroup"
    radios = action.find_all("input", type="radio")
    assert [r.attrs["value"] for r in radios] == ["add", "cover", "uncover", "swap", "remove"]
    assert "required" in radios[0].attrs
    assert action.find("label", text="Add a weekly shift").attrs["for"] == radios[0].attrs["id"]
    people = label_control(dom, "People on the shift (add)")
    assert people.tag == "select" and "multiple" in people.attrs and "required" not in people.attrs
    assert [o.text for o in people.find_all("option")] == ["Anna", "Jari", "Lena"]
    days = label_control(dom, "Days (add)")
    assert [b.attrs["value"] for b in days.find_all("input", type="checkbox")] == [
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    ]  # fmt: skip
    assert label_control(dom, "From (add; cover from a time)").attrs["type"] == "time"
    assert [i.attrs["type"] for i in dom.find_all("input") if i.attrs.get("name") == "first_date/v"] == ["date"]
    assert [o.text for o in dom.find_all("option") if o.attrs.get("value") == "UANNA"] == ["Anna"] * 3
    assert "(optional)" in dom.text

    form = {
        "action/v": ["add"],
        "people/v": ["UANNA", "UJARI", "UEVIL"],
        "days/v": ["mon", "tue", "funday"],
        "start/v": ["09:00"],
        "end/v": ["17:00"],
        "person/v": [""],
        "first_date/v": ["2026-13-45"],
    }
    values = form_state(view, form, users=USERS)
    assert values["action"]["v"]["selected_option"]["value"] == "add"
    assert values["people"]["v"] == {"type": "multi_users_select", "selected_users": ["UANNA", "UJARI"]}
    assert [o["value"] for o in values["days"]["v"]["selected_options"]] == ["mon", "tue"]
    assert values["start"]["v"] == {"type": "timepicker", "selected_time": "09:00"}
    assert values["person"]["v"] == {"type": "users_select", "selected_user": None}
    assert values["first_date"]["v"] == {"type": "datepicker", "selected_date": None}
    answer = await bot.submit(lena, view, values)
    assert answer.status_code == 200 and answer.text == "", answer.text
    await bot.slack.wait_for("chat.postMessage", lambda c: "added a shift" in json.dumps(c.args))
    posted = [m for m in bot.slack.top_level_messages(INBOX) if "added a shift" in (m.get("text") or "")]
    [confirmation] = [parse(message_html(m, users=USERS)) for m in posted]
    assert "🗓️ @Lena added a shift" in confirmation.text

    # Opened again: the shift is offered for removal in a static select.
    view = await _open_rota_edit(bot, lena)
    target = label_control(parse(view_html(view, users=USERS)), "What to remove")
    assert target.tag == "select" and "multiple" not in target.attrs
    assert [o.attrs["value"] for o in target.find_all("option")][1:] == ["s1"]
    assert form_state(view, {"target/v": ["s2"]})["target"]["v"]["selected_option"] is None
    assert form_state(view, {"target/v": ["s1"]})["target"]["v"]["selected_option"]["value"] == "s1"


@sqlite_only
async def test_a_rota_answer_renders_as_a_message(rota_bot: TestBot) -> None:
    answer = await rota_bot.command(rota_bot.person("Anna"), "/rota", "")
    assert answer.status_code == 200 and answer.text
    dom = parse(message_html({"text": answer.text}, users=USERS))
    assert_only_renderer_markup(dom)
    assert dom.text.strip()


def test_a_digest_renders_its_header_figures_and_dividers() -> None:
    from chatops_plugins.digest.compose import DigestReport
    from chatops_plugins.digest.figures import Backlog, Durations, Figures, Options, PersonFigures
    from chatops_plugins.digest.periods import days_window
    from chatops_plugins.digest.render import digest_blocks
    from chatops_plugins.digest.words import all_texts

    helsinki = ZoneInfo("Europe/Helsinki")
    read_at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    monday, sunday = date(2026, 11, 30), date(2026, 11, 29)
    t = Translator("en")
    t.add(all_texts())
    current = Figures(
        window=days_window(monday, monday, helsinki, read_at),
        by_source=(("facebook", 30),),
        messages=40,
        answered=30,
        first_response=Durations(30, 14 * 60, 80 * 60),
        people=(PersonFigures("UANNA", 20, 18, Durations(18, 12 * 60, 40 * 60)),),
    )
    previous = Figures(window=days_window(sunday, sunday, helsinki, read_at))
    report = DigestReport(
        "yesterday", current, previous, Backlog(open=3), (), Options(target_seconds=3600), read_at, helsinki
    )
    blocks = digest_blocks(report, t, {}, names={"UANNA": "Anna Virtanen"})
    dom = parse(message_html({"text": "digest", "blocks": blocks}))
    assert_only_renderer_markup(dom)
    assert dom.find("h3").text == "Daily digest · Mon 30 Nov"
    assert dom.find_all("hr") and dom.find_all(class_="bk-field")
    assert "Anna Virtanen" in dom.text
    assert "[unsupported" not in dom.text


# -- every other type, and unknown ones --------------------------------------------------------


def test_blocks_and_elements_the_bot_does_not_use_yet_render_too() -> None:
    option = {"text": {"type": "plain_text", "text": "Option <1>"}, "value": "o1"}
    message = {
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Head"}},
            {"type": "image", "image_url": "https://example.test/i.png", "alt_text": "chart", "title": {"type": "plain_text", "text": "Chart"}},
            {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "bad"},
            {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "pick"},
             "accessory": {"type": "overflow", "action_id": "more", "options": [option, {**option, "value": "o2"}]}},
            {"type": "actions", "block_id": "a", "elements": [
                {"type": "static_select", "action_id": "sel", "options": [option], "initial_option": option,
                 "confirm": {"title": {"type": "plain_text", "text": "Sure?"}}},
                {"type": "datepicker", "action_id": "when", "initial_date": "2026-12-01"},
                {"type": "workflow_button", "action_id": "wf"},
            ]},
            {"type": "rich_text", "elements": [
                {"type": "rich_text_section", "elements": [
                    {"type": "text", "text": "hi <b>", "style": {"bold": True}},
                    {"type": "user", "user_id": "UANNA"},
                    {"type": "link", "url": "https://example.test", "text": "site"},
                    {"type": "emoji", "name": "wave", "unicode": "1f44b"},
                ]},
                {"type": "rich_text_list", "style": "ordered", "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
                ]},
            ]},
            {"type": "video", "title": "x"},
            "not a block",
        ]
    }  # fmt: skip
    dom = parse(message_html(message, users=USERS))
    assert_only_renderer_markup(dom)
    assert dom.find("h3").text == "Head"
    assert dom.find("img").attrs == {"class": "bk-image", "src": "https://example.test/i.png", "alt": "chart"}
    assert "bad" in dom.text
    toggle = dom.find("button", text="⋯")
    menu = dom.by_id(toggle.attrs["aria-controls"] or "")
    assert "hidden" in menu.attrs
    first = menu.find_all("button")[0]
    assert first.text == "Option <1>"
    assert first.action == {"block_id": "s", "action_id": "more", "type": "overflow", "selected_option": option}
    select = dom.find("select")
    assert select.action["options"] == [option] and select.action["confirm"]["title"]["text"] == "Sure?"
    assert [o.attrs.get("value") for o in select.find_all("option") if "selected" in o.attrs] == ["o1"]
    assert dom.find("input", type="date").attrs["value"] == "2026-12-01"
    assert dom.find("b").text == "hi <b>" and "@Anna" in dom.text and "👋" in dom.text
    assert dom.find("ol").text == "one"
    assert "[unsupported element: workflow_button]" in dom.text
    assert "[unsupported block: video]" in dom.text and "[unsupported block: str]" in dom.text


@sqlite_only
async def test_the_full_text_modal_shows_the_whole_message_and_only_a_close_button(bot: TestBot) -> None:
    anna = bot.person("Anna")
    long = "word " * 700 + "<end>"
    await bot.comment(long)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "full_text")
    dom = parse(view_html(view))
    assert_only_renderer_markup(dom)
    assert "".join(s.text for s in dom.find_all(class_="bk-section-text")) == long
    assert buttons(dom) == ["Cancel"] and dom.find_all("button", type="submit") == []


def test_a_modal_with_every_input_the_bot_could_add() -> None:
    groups = [
        {
            "label": {"type": "plain_text", "text": "G"},
            "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
        }
    ]
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "All"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {"type": "input", "block_id": "n", "label": {"type": "plain_text", "text": "Count"}, "hint": {"type": "plain_text", "text": "1 to 9"},
             "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": False, "min_value": "1", "max_value": "9", "initial_value": "3"}},
            {"type": "input", "block_id": "e", "optional": True, "dispatch_action": True, "label": {"type": "plain_text", "text": "Mail"},
             "element": {"type": "email_text_input", "action_id": "e", "min_length": 3}},
            {"type": "input", "block_id": "g", "label": {"type": "plain_text", "text": "Grouped"},
             "element": {"type": "static_select", "action_id": "g", "option_groups": groups}},
            {"type": "section", "block_id": "sec", "text": {"type": "mrkdwn", "text": "*Pick*"},
             "accessory": {"type": "radio_buttons", "action_id": "acc", "initial_option": groups[0]["options"][0],
                           "options": [{**groups[0]["options"][0], "description": {"type": "mrkdwn", "text": "_first_"}}]}},
            {"type": "input", "block_id": "w", "label": {"type": "plain_text", "text": "When"},
             "element": {"type": "datetimepicker", "action_id": "w", "initial_date_time": 1796119200}},
        ],
    }  # fmt: skip
    dom = parse(view_html(view, id_prefix="m1"))
    assert_only_renderer_markup(dom)
    count = label_control(dom, "Count")
    assert (count.attrs["type"], count.attrs["step"], count.attrs["min"], count.attrs["max"]) == (
        "number",
        "1",
        "1",
        "9",
    )
    assert count.attrs["value"] == "3" and "1 to 9" in dom.text
    mail = label_control(dom, "Mail")
    assert mail.attrs["type"] == "email" and mail.attrs["minlength"] == "3" and "required" not in mail.attrs
    assert mail.action["action_id"] == "e" and "data-action" not in count.attrs
    grouped = label_control(dom, "Grouped")
    assert grouped.find("optgroup").attrs["label"] == "G"
    radio = dom.find("input", name="sec/acc")
    assert "checked" in radio.attrs and dom.find("i").text == "first"
    assert label_control(dom, "When").attrs["value"] == "2026-12-01T10:00"
    assert all(node.attrs["id"].startswith("m1-") for node in dom.where(lambda n: "id" in n.attrs))
    values = form_state(
        view, {"n/n": ["4"], "e/e": ["a@b.test"], "g/g": ["a"], "sec/acc": ["a"], "w/w": ["2026-12-01T10:00"]}
    )
    assert values["n"]["n"] == {"type": "number_input", "value": "4"}
    assert values["e"]["e"] == {"type": "email_text_input", "value": "a@b.test"}
    assert values["g"]["g"]["selected_option"]["value"] == "a"
    assert values["sec"]["acc"]["selected_option"]["value"] == "a"
    assert values["w"]["w"] == {"type": "datetimepicker", "selected_date_time": 1796119200}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("*bold* _it_ ~gone~ `code`", "<b>bold</b> <i>it</i> <s>gone</s> <code>code</code>"),
        ("snake_case_name 2*3*4", "snake_case_name 2*3*4"),
        ("a\n>quoted\n>more\nafter", "a<blockquote>quoted<br>more</blockquote>after"),
        ("&gt; not a quote &amp;lt;", "&gt; not a quote &amp;lt;"),
        ("```<@U1> *x*\n  y```", "<pre>@Anna *x*\n  y</pre>"),
        ("<!channel> <!here> <!everyone> <!subteam^S1|@leads>", "@channel @here @everyone @leads"),
        ("<#C1|general> <@U9>", "#general @U9"),
        ("<javascript:alert(1)|click>", "click"),
        ('<https://x.test/?a=1&amp;b="2"|x>', '<a href="https://x.test/?a=1&amp;b=&quot;2&quot;"'),
        (
            "<mailto:a@b.test|mail me>",
            '<a href="mailto:a@b.test" target="_blank" rel="noopener noreferrer">mail me</a>',
        ),
    ],
)
def test_mrkdwn(text: str, shown: str) -> None:
    rendered = mrkdwn_html(text, users={"U1": "Anna"})
    plain = parse(rendered).text
    assert shown in rendered or shown == plain, (rendered, plain)


# -- hostile input ------------------------------------------------------------------------------

_ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "' onmouseover='alert(1)",
    "</textarea><script>alert(1)</script>",
    "<javascript:alert(1)|click>",
    "<https://ok.test|<b>x</b>>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;b&amp;gt;",
    "```</pre><script>```",
    "<@U1|<script>>",
]
_any_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.text("<>&*_~`\n|@#!:/\"' ajs", max_size=60),
    st.sampled_from(_ATTACKS),
    st.builds(lambda a, b: a + b, st.sampled_from(_ATTACKS), st.text("<>&*_~`\n|\"' a", max_size=20)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_any_text, label=_any_text, option=_any_text, value=_any_text)
def test_no_text_makes_markup(text: str, label: str, option: str, value: str) -> None:
    opt = {"text": {"type": "plain_text", "text": option}, "value": value}
    message = {
        "blocks": [
            {"type": "section", "block_id": value, "text": {"type": "mrkdwn", "text": text},
             "fields": [{"type": "plain_text", "text": text}],
             "accessory": {"type": "overflow", "action_id": label, "options": [opt]}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": label}, "value": value, "action_id": text,
                 "url": text, "confirm": {"title": {"type": "plain_text", "text": text}}},
                {"type": "static_select", "action_id": "s", "options": [opt], "placeholder": {"type": "plain_text", "text": label}},
            ]},
            {"type": label, "text": text},
            {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "text", "text": text}, {"type": "link", "url": text, "text": label}]}]},
        ]
    }  # fmt: skip
    markup = message_html(message, users={value: text})
    assert "<script" not in markup.lower()
    dom = parse(markup)
    assert_only_renderer_markup(dom)
    [button] = [b for b in dom.find_all("button") if "data-action" in b.attrs and b.action["type"] == "button"]
    assert button.action["value"] == value and button.text == (label or "Button")
    assert dom.find_all("button", text="⋯")[0] is not None
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": label},
        "submit": {"type": "plain_text", "text": text},
        "blocks": [
            {"type": "input", "block_id": value, "label": {"type": "plain_text", "text": label},
             "hint": {"type": "plain_text", "text": text},
             "element": {"type": "plain_text_input", "action_id": label, "initial_value": text, "multiline": True}},
            {"type": "input", "block_id": "c", "label": {"type": "plain_text", "text": text},
             "element": {"type": "checkboxes", "action_id": "c", "options": [opt],
                         "initial_options": [opt]}},
        ],
    }  # fmt: skip
    dom = parse(view_html(view, users={value: text}, errors={value: text, "nowhere": label}))
    assert_only_renderer_markup(dom)
    assert dom.find("h2").text == label
    assert dom.find("textarea").text == text


@settings(max_examples=100, deadline=None)
@given(text=_any_text)
def test_plain_words_show_exactly_as_written(text: str) -> None:
    words = "".join(c for c in text if c not in "*_~`<>&\n\x00\r") or "x"
    assert parse(mrkdwn_html(words)).text == words


_HOSTILE_VIEW: dict[str, Any] = {
    "type": "modal",
    "blocks": [
        {"type": "input", "block_id": "t", "element": {"type": "plain_text_input", "action_id": "t"}},
        {"type": "input", "block_id": "n", "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": False}},
        {"type": "input", "block_id": "s", "element": {"type": "static_select", "action_id": "s",
            "option_groups": [{"label": {"type": "plain_text", "text": "g"},
                               "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}]}]}},
        {"type": "input", "block_id": "m", "element": {"type": "multi_static_select", "action_id": "m", "max_selected_items": 1,
            "options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in ("a", "b")]}},
        {"type": "input", "block_id": "r", "element": {"type": "radio_buttons", "action_id": "r",
            "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}]}},
        {"type": "input", "block_id": "d", "element": {"type": "datepicker", "action_id": "d"}},
        {"type": "input", "block_id": "h", "element": {"type": "timepicker", "action_id": "h"}},
        {"type": "input", "block_id": "u", "element": {"type": "users_select", "action_id": "u"}},
        {"type": "input", "block_id": "us", "element": {"type": "multi_users_select", "action_id": "us"}},
        {"type": "input", "block_id": "dt", "element": {"type": "datetimepicker", "action_id": "dt"}},
        {"type": "input", "block_id": "x", "element": {"type": "file_input", "action_id": "x"}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "b"},
                                         {"type": "conversations_select", "action_id": "c"}]},
        {"type": "input", "block_id": "broken", "element": "nope"},
        "not a block",
    ],
}  # fmt: skip


def test_a_hostile_form_gets_nothing_the_view_does_not_offer() -> None:
    form = {
        "t/t": [""],
        "n/n": ["1.5"],
        "s/s": ["forged"],
        "m/m": ["b", "a", "forged"],
        "r/r": ["<script>"],
        "d/d": ["2026-02-30"],
        "h/h": ["25:00"],
        "u/u": ["UNKNOWN"],
        "us/us": "UANNA",
        "dt/dt": ["2026-12-01T10:00"],
        "block-11/c": ["C123"],
        "extra/field": ["x"],
    }
    values = form_state(_HOSTILE_VIEW, form, users=USERS)  # type: ignore[arg-type]
    assert values == {
        "t": {"t": {"type": "plain_text_input", "value": None}},
        "n": {"n": {"type": "number_input", "value": None}},
        "s": {"s": {"type": "static_select", "selected_option": None}},
        "m": {"m": {"type": "multi_static_select", "selected_options": [{"text": {"type": "plain_text", "text": "b"}, "value": "b"}]}},
        "r": {"r": {"type": "radio_buttons", "selected_option": None}},
        "d": {"d": {"type": "datepicker", "selected_date": None}},
        "h": {"h": {"type": "timepicker", "selected_time": None}},
        "u": {"u": {"type": "users_select", "selected_user": None}},
        "us": {"us": {"type": "multi_users_select", "selected_users": ["UANNA"]}},
        "dt": {"dt": {"type": "datetimepicker", "selected_date_time": 1796119200}},
        "x": {"x": {"type": "file_input", "value": None}},
        "block-11": {"c": {"type": "conversations_select", "selected_conversation": "C123"}},
    }  # fmt: skip
    assert form_state(_HOSTILE_VIEW, {})["s"]["s"]["selected_option"] is None
    assert form_state(_HOSTILE_VIEW, {"s/s": ["a"]})["s"]["s"]["selected_option"]["value"] == "a"
    assert form_state({"blocks": "nope"}, form) == {}
    parse(view_html(_HOSTILE_VIEW, users=USERS))


@settings(max_examples=100, deadline=None)
@given(
    form=st.dictionaries(
        st.sampled_from([f"{b}/{b}" for b in ("t", "n", "s", "m", "r", "d", "h", "u", "us", "dt", "x")]) | _any_text,
        st.lists(_any_text, max_size=3) | _any_text | st.integers() | st.none(),
        max_size=8,
    )
)
def test_any_form_gives_a_state_slack_could_send(form: dict[str, Any]) -> None:
    values = form_state(_HOSTILE_VIEW, form)
    offered = {"a", "b"}
    for block in values.values():
        for state in block.values():
            chosen = state.get("selected_options") or [state.get("selected_option")]
            assert {o["value"] for o in chosen if o} <= offered
    json.dumps(values)
    assert_only_renderer_markup(parse(view_html(_HOSTILE_VIEW, state=values)))


def test_a_full_rollup_listing_fits_slack_and_renders_a_menu_per_section() -> None:
    """100 long, hostile comments by long names: one listing message Slack takes, every member once."""
    from chatops.rollups.render import render_listing
    from chatops.rollups.store import Member
    from chatops.rollups.texts import TEXTS
    from chatops.testing.fake_slack.blocks import message_content_errors

    t = Translator("en")
    t.add(TEXTS)
    at = datetime(2026, 11, 23, 10, 4, tzinfo=UTC)
    hostile = "<!channel> & <https://evil.example|invoice> " * 20
    members = [
        Member(1000 + i, f"c{i:03d} {hostile}", "Ö" * 40 + "&<>", at, 40 if i % 7 == 0 else 0, i == 3, "new")
        for i in range(100)
    ]
    message = render_listing(members, 9901, t, ZoneInfo("Europe/Helsinki"), "Summer sale", rollup_id=7)
    assert message_content_errors(message) == []
    dom = parse(message_html(message))
    assert_only_renderer_markup(dom)
    # Shown as written, never a ping or a hidden link.
    mrkdwn = json.dumps(message["blocks"])
    assert "<!channel>" not in mrkdwn and "<https://evil" not in mrkdwn and dom.find_all("a") == []
    for i in range(100):
        # The worst case (long names, text that escaping triples): still the start of each comment, once.
        assert dom.text.count(f"c{i:03d} <!channel> & <https://evil.example") == 1
    selects = dom.find_all("select")
    assert len(selects) == 20
    values = [o.attrs.get("value") for s in selects for o in s.find_all("option") if o.attrs.get("value")]
    # A member that has a card already is listed but not offered.
    assert values == [str(1000 + i) for i in range(100) if i != 3]
    actions = [json.loads(s.attrs["data-action"])["action_id"] for s in selects]
    assert actions == [f"chatops:rollup_pick:7:{n}" for n in range(20)]
