"""What only a browser shows of the sandbox under a hostile or hurried user: text that tries to become
markup or script, a double click on a modal's Send, and a channel already full when the page opens.

The module's ``chatops sandbox`` process and Debian's Chromium come from the browser tests'
conftest; the channel is filled over HTTP first. Skipped, with the reason, where there is no Chromium.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from browser_kit import Sandbox
from playwright.sync_api import Browser, Dialog, Page, expect

#: Upper bounds on waiting (the bot delivers cards a moment after a comment), not timing claims.
WAIT_S = 20.0
WAIT_MS = int(WAIT_S * 1000)
HEADERS = {"X-Sandbox": "1"}

#: Text a customer or a teammate types that must stay text: each would run ``window.__pwned=…`` if drawn as HTML.
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    "<javascript:window.__pwned=3|click me> <!channel> <!here>",
    '"><svg onload="window.__pwned=4">',
    "`<img src=x onerror=window.__pwned=5>` ```<img src=x onerror=window.__pwned=6>```",
    "&lt;img src=x onerror=window.__pwned=7&gt; \u202eRTL\u202c",
    '<https://example.com/"onmouseover="window.__pwned=8|x>',
]
#: Cards enough to overflow the channel pane.
FILLER = 14


def _cards(http: httpx.Client) -> int:
    """How many cards the inbox shows Anna."""
    return str(http.get("/fragment", params={"user": "UANNA"}).json()["channel"]).count('data-testid="message"')


@pytest.fixture(scope="module")
def url(sandbox: Sandbox) -> str:
    """The module's sandbox once its channel is already full (as after a scripted day, or with ``--data``)."""
    with httpx.Client(base_url=sandbox.url, timeout=10, headers=HEADERS) as http:
        texts = [f"Filler {n}: where is my order?" for n in range(FILLER)]
        texts += [f"T{payload}" for payload in PAYLOADS]
        for n, text in enumerate(texts):
            author = f"N{PAYLOADS[n % len(PAYLOADS)]}"[:80]
            for key in ("webhook", "facebook") if n >= FILLER else ("webhook",):
                response = http.post(f"/customers/{key}/posts", json={"author": author, "text": text})
                assert response.status_code == 201, response.text
        deadline = time.monotonic() + WAIT_S
        while _cards(http) < len(texts):
            assert time.monotonic() < deadline, "the cards never all arrived"
            time.sleep(0.1)
    return sandbox.url


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh page at the sandbox, 1280×800, failing on any dialog (alert, confirm by script)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(url)
    page.get_by_test_id("message").first.wait_for(timeout=WAIT_MS)
    yield page
    page.close()
    assert not dialogs, f"a script opened dialogs: {dialogs}"


#: Elements, attributes and links on the page that the renderer never makes (found by the page's own DOM).
FOREIGN_MARKUP = """() => {
  const found = [];
  for (const e of document.querySelectorAll("*")) {
    for (const a of e.attributes) {
      if (/^on/i.test(a.name)) { found.push(e.tagName + " " + a.name); }
      if (/^(href|src|action|formaction)$/.test(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value)) {
        found.push(e.tagName + " " + a.name + "=" + a.value);
      }
    }
  }
  for (const s of document.querySelectorAll("script")) {
    if (s.getAttribute("src") !== "/static/sandbox.js") { found.push("script " + s.outerHTML.slice(0, 80)); }
  }
  for (const e of document.querySelectorAll("svg, iframe, object, embed, style, base, img:not([src^='/files/'])")) {
    found.push(e.outerHTML.slice(0, 80));
  }
  return { found: found, pwned: window.__pwned || null };
}"""


def test_text_that_looks_like_markup_or_script_stays_text_on_the_cards_the_feeds_and_the_thread(page: Page) -> None:
    # These held: every text is escaped, mrkdwn links open only http(s)/mailto. Kept so they keep holding.
    pg = page
    card = pg.get_by_test_id("message").filter(has_text="window.__pwned=1").first
    card.get_by_role("button", name="Reply").click()
    modal = pg.get_by_test_id("modal")
    modal.locator("textarea").fill(" ".join(PAYLOADS))
    modal.get_by_role("button", name="Send").click()
    feed = pg.get_by_test_id("customer-webhook").get_by_test_id("team-reply")
    feed.filter(has_text="window.__pwned=8").first.wait_for(timeout=WAIT_MS)
    card.get_by_test_id("thread").wait_for(timeout=WAIT_MS)
    shown = pg.evaluate(FOREIGN_MARKUP)
    assert shown == {"found": [], "pwned": None}


def test_the_channel_opens_at_its_newest_card(page: Page) -> None:
    # A newcomer opening a channel already full (with --data, or after a scripted day) saw its oldest
    # cards, and the card of the comment they had just written appeared out of sight below.
    pane = page.get_by_test_id("channel")
    page.wait_for_function(
        "() => { const p = document.getElementById('channel'); return p.scrollHeight > p.clientHeight; }",
        timeout=WAIT_MS,
    )
    newest = page.get_by_test_id("message").last
    expect(newest).to_be_in_viewport(timeout=WAIT_MS)
    assert pane.evaluate("p => p.scrollHeight - p.scrollTop - p.clientHeight") < 40


def test_a_double_click_on_send_sends_the_reply_once_without_an_error(page: Page) -> None:
    pg = page
    card = pg.get_by_test_id("message").filter(has_text="Filler 3:").first
    card.get_by_role("button", name="Reply").click()
    modal = pg.get_by_test_id("modal")
    modal.locator("textarea").fill("Sent by a double click")
    modal.get_by_role("button", name="Send").dblclick()
    feed = pg.get_by_test_id("customer-webhook").get_by_test_id("team-reply")
    expect(feed.filter(has_text="Sent by a double click")).to_have_count(1, timeout=WAIT_MS)
    # The second click found the modal gone: no "no modal … is open" flashed at the person.
    assert pg.locator(".flash").all_inner_texts() == []


def test_a_modals_field_sits_under_its_label_as_wide_as_the_modal(page: Page) -> None:
    # The Reply modal showed "Your reply" beside a small box (the page's style had nothing for modals).
    card = page.get_by_test_id("message").filter(has_text="Filler 5:").first
    card.get_by_role("button", name="Reply").click()
    modal = page.get_by_test_id("modal")
    field = modal.get_by_label("Your reply")
    label = modal.locator("label.bk-label").first
    field_box, label_box, modal_box = field.bounding_box(), label.bounding_box(), modal.bounding_box()
    assert field_box and label_box and modal_box
    assert field_box["y"] >= label_box["y"] + label_box["height"] - 1
    assert field_box["width"] >= 0.8 * modal_box["width"]
    modal.get_by_role("button", name="Cancel").click()
