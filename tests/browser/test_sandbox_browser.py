"""``chatops sandbox`` in a real browser: the card flow as a person does it, by clicking.

Each test opens its own page (a fresh browser context) and writes comments no other
test writes, so the tests share one sandbox process without depending on each other.
Every wait is Playwright's auto-waiting ``expect``: it waits until the page shows the
thing (the page polls the bot), and fails with what it saw when it never does.
"""

from __future__ import annotations

import re
import uuid

import pytest
from browser_kit import (
    OpenPage,
    act_as,
    artifacts_dir,
    card,
    comment_as_customer,
    customer_post,
    open_modal,
    submit,
    unique,
)
from playwright.sync_api import expect


@pytest.mark.parametrize("source", ["webhook", "facebook"])
def test_a_customer_comment_is_claimed_and_answered_by_clicking(open_page: OpenPage, source: str) -> None:
    page = open_page()
    act_as(page, "Anna")
    question = unique("Do you have oat milk for the cappuccino?")
    answer = unique("Yes, oat and soy, every day!")

    comment_as_customer(page, source, "Maija Virtanen", question)
    the_card = card(page, question)
    expect(the_card).to_have_count(1)

    the_card.get_by_role("button", name="Claim").click()
    expect(the_card).to_contain_text(re.compile(r"Claimed by @?Anna"))

    reply = open_modal(the_card, "Reply", "Reply")
    reply.get_by_label("Your reply").fill(answer)
    submit(reply, "Send")

    # The customer sees the answer under their comment; the team sees it in the card's thread.
    expect(customer_post(page, source, question).get_by_test_id("team-reply")).to_contain_text(answer)
    expect(the_card.get_by_test_id("thread")).to_contain_text(answer)
    expect(the_card).to_contain_text(re.compile(r"Replied · Assignee: @?Anna"))
    page.screenshot(path=artifacts_dir() / f"sandbox-main-flow-{source}.png", full_page=True)


def test_escalate_through_its_modal(open_page: OpenPage) -> None:
    page = open_page()
    act_as(page, "Anna")
    complaint = unique("Third time my order is wrong and nobody answers!")
    reason = unique("Angry repeat customer, needs a refund decision")

    comment_as_customer(page, "webhook", "Tomasz Nowak", complaint)
    the_card = card(page, complaint)
    modal = open_modal(the_card, "Escalate", "Escalate")
    modal.get_by_label("Why does this need a lead?").fill(reason)
    submit(modal, "Escalate")

    expect(the_card).to_contain_text("Escalated")
    expect(the_card.get_by_role("button", name="Escalate")).to_have_count(0)

    # The leads hear of it in their channel, with the reason.
    page.get_by_role("button", name=re.compile(r"^# escalations")).click()
    expect(page.get_by_test_id("channel").get_by_test_id("message").filter(has_text=reason)).to_contain_text(
        re.compile(r"@?Anna escalated a conversation")
    )


def test_tag_through_its_modal(open_page: OpenPage) -> None:
    page = open_page()
    act_as(page, "Anna")
    praise = unique("Best cinnamon buns in town")
    tag = f"buns-{uuid.uuid4().hex[:6]}"

    comment_as_customer(page, "webhook", "Liisa", praise)
    the_card = card(page, praise)
    modal = open_modal(the_card, "Tag", "Tags")
    modal.get_by_label("Tags", exact=True).select_option(["praise", "question"])
    modal.get_by_label("New tags (comma-separated)").fill(tag)
    submit(modal, "Save")

    # The chosen tags and the new one, on the card's status line (in the bot's order).
    status = the_card.locator('[data-block-id="status"]')
    expect(status).to_contain_text("Tags:")
    for shown in ("praise", "question", tag):
        expect(status).to_contain_text(shown)


def test_a_card_anna_holds_tells_jari_who_has_it(open_page: OpenPage) -> None:
    page = open_page()
    act_as(page, "Anna")
    question = unique("Are you open on Sunday?")
    comment_as_customer(page, "webhook", "Piotr", question)
    the_card = card(page, question)
    the_card.get_by_role("button", name="Claim").click()
    expect(the_card).to_contain_text(re.compile(r"Claimed by @?Anna"))

    # Jari, at the same screen, sees that Anna has it: no Claim for him, only Unclaim.
    act_as(page, "Jari")
    expect(the_card).to_contain_text(re.compile(r"Claimed by @?Anna"))
    expect(the_card.get_by_role("button", name="Claim", exact=True)).to_have_count(0)

    # He starts a reply anyway: the modal says whose conversation it is.
    reply = open_modal(the_card, "Reply", "Reply")
    expect(reply).to_contain_text(re.compile(r"@?Anna has claimed this conversation"))
    reply.get_by_role("button", name="Cancel").click()
    expect(reply).to_be_hidden()

    # He tries to take it over: the bot tells him, and only him, that it is Anna's.
    the_card.get_by_role("button", name="Unclaim").click()
    refusal = page.get_by_test_id("ephemeral").filter(has_text=re.compile(r"Only @?Anna, who claimed it, can unclaim"))
    expect(refusal).to_have_count(1)
    expect(the_card).to_contain_text(re.compile(r"Claimed by @?Anna"))
    act_as(page, "Anna")
    expect(the_card).to_contain_text(re.compile(r"Claimed by @?Anna"))
    expect(page.get_by_test_id("ephemeral").filter(has_text="can unclaim")).to_have_count(0)


def test_rota_typed_in_the_composer_answers(open_page: OpenPage) -> None:
    page = open_page()
    act_as(page, "Jari")
    composer = page.get_by_test_id("composer")
    composer.fill("/rota help")
    composer.press("Enter")

    expect(page.get_by_test_id("ephemeral").filter(has_text="/rota")).to_contain_text("who is on shift")


def test_a_scripted_day_fills_the_channel(open_page: OpenPage) -> None:
    page = open_page()
    messages = page.get_by_test_id("channel").get_by_test_id("message")
    before = messages.count()

    page.get_by_test_id("play-script").click()
    expect(page.get_by_role("status")).to_contain_text("Playing a scripted day")

    # The day's first comments (a few seconds apart) become cards, in Finnish and in Polish among them.
    # No other test writes these letters.
    expect(messages.nth(before + 2)).to_be_attached()
    expect(messages.filter(has_text=re.compile(r"[äöÄÖ]")).first).to_be_visible()
    expect(messages.filter(has_text=re.compile(r"[ąćęłńśźżŁŚŻ]")).first).to_be_visible()
    page.screenshot(path=artifacts_dir() / "sandbox-scripted-day.png", full_page=True)


def test_claiming_a_card_someone_else_just_claimed_tells_who_has_it(open_page: OpenPage) -> None:
    anna, jari = open_page(), open_page()
    act_as(anna, "Anna")
    act_as(jari, "Jari")
    question = unique("Are you open on Sunday?")
    comment_as_customer(anna, "webhook", "Piotr", question)
    expect(card(jari, question).get_by_role("button", name="Claim")).to_be_visible()

    # Jari's page misses its refreshes for a moment (a slow connection), so he still sees Claim
    # after Anna has taken the card: the race as a person meets it.
    jari.route("**/fragment?*", lambda route: route.abort())
    card(anna, question).get_by_role("button", name="Claim").click()
    expect(card(anna, question)).to_contain_text(re.compile(r"Claimed by @?Anna"))
    card(jari, question).get_by_role("button", name="Claim").click()
    jari.unroute("**/fragment?*")

    # What the bot tells Jari, only him; and the card as everyone sees it.
    # Jari may hold other messages only he sees (from earlier tests in this sandbox): this one must be among them.
    already = jari.get_by_test_id("ephemeral").filter(has_text=re.compile(r"Already claimed by @?Anna"))
    expect(already).to_have_count(1)
    expect(card(jari, question)).to_contain_text(re.compile(r"Claimed by @?Anna"))
    expect(anna.get_by_test_id("ephemeral").filter(has_text="Already claimed")).to_have_count(0)
