"""``chatops sandbox`` in a real browser: a claim race between two people, one of them a moment behind.

Each test opens its own page (a fresh browser context) and writes comments no other
test writes, so the tests share one sandbox process without depending on each other.
Every wait is Playwright's auto-waiting ``expect``: it waits until the page shows the
thing (the page polls the bot), and fails with what it saw when it never does.
"""

from __future__ import annotations

import re

from browser_kit import (
    OpenPage,
    act_as,
    card,
    comment_as_customer,
    unique,
)
from playwright.sync_api import expect


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
    expect(jari.get_by_test_id("ephemeral")).to_contain_text(re.compile(r"Already claimed by @?Anna"))
    expect(card(jari, question)).to_contain_text(re.compile(r"Claimed by @?Anna"))
    expect(anna.get_by_test_id("ephemeral").filter(has_text="Already claimed")).to_have_count(0)
