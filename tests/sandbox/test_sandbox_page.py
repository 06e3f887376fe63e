"""The sandbox's page drives the real bot: a customer's comment becomes a card, clicks and modals reach the bot
as signed Slack requests, and the team's reply arrives in the customer's feed.

One sandbox (every installed sandbox-capable plugin, as ``chatops sandbox`` runs it) serves the whole
module, since starting the bot takes seconds; each test writes its own comment and finds its own card.
"""

from __future__ import annotations

import importlib.util
import uuid

import pytest
from sandbox_kit import PageUser, actions, cards, visible_text
from slack_sdk.web.async_client import AsyncWebClient

from chatops.sandbox.page import PAGE_HEADER
from chatops.sandbox.serving import Served
from chatops.testing.bot import INBOX

pytestmark = pytest.mark.asyncio(loop_scope="module")


#: A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


async def comment(page: PageUser, text: str, author: str = "Maija Virtanen") -> str:
    """A customer writes ``text`` on the contact form; returns the ts of its card once the page shows it."""
    response = await page.post("/customers/webhook/posts", {"author": author, "text": text})
    assert response.status_code == 201, response.text
    shown = await page.wait_for(lambda f: any(text in visible_text(c) for c in cards(f["channel"]).values()))
    return next(ts for ts, card in cards(shown["channel"]).items() if text in visible_text(card))


async def card_of(page: PageUser, ts: str) -> str:
    return cards((await page.fragment())["channel"])[ts]


async def test_a_customers_comment_becomes_a_card_with_its_text_escaped(page: PageUser) -> None:
    text = f"Where is my <b>order</b> {uuid.uuid4().hex[:6]}?"
    ts = await comment(page, text)
    card = await card_of(page, ts)
    assert "&lt;b&gt;order&lt;/b&gt;" in card and "<b>order</b>" not in card
    assert {"Claim", "Reply"} <= set(actions(card))
    feed = (await page.fragment())["feeds"]["webhook"]
    assert text in visible_text(feed)


async def test_claim_on_the_page_changes_the_card(page: PageUser) -> None:
    ts = await comment(page, f"Claim me {uuid.uuid4().hex[:6]}")
    response = await page.click(ts, actions(await card_of(page, ts))["Claim"])
    assert response.status_code == 200, response.text
    shown = await page.wait_for(lambda f: "Unclaim" in actions(cards(f["channel"])[ts]))
    assert "Anna" in visible_text(cards(shown["channel"])[ts])


async def test_a_reply_through_the_modal_reaches_the_customers_feed(page: PageUser) -> None:
    text = f"Do you ship to Oulu {uuid.uuid4().hex[:6]}?"
    ts = await comment(page, text)
    response = await page.click(ts, actions(await card_of(page, ts))["Reply"])
    assert response.status_code == 200, response.text
    modal = (await page.wait_for(lambda f: f["modal"] is not None))["modal"]
    assert 'data-testid="modal"' in modal["html"] and 'name="text/text"' in modal["html"]
    sent = await page.post(
        f"/views/{modal['id']}/submit", {"user": "UANNA", "text/text": "Yes, in two days."}, form=True
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["errors"] == {}
    shown = await page.wait_for(lambda f: "Yes, in two days." in visible_text(f["feeds"]["webhook"]))
    assert shown["modal"] is None
    feed = shown["feeds"]["webhook"]
    post = feed[feed.index(text.replace("?", "")) :]
    assert 'data-testid="team-reply"' in post and "Anna" in visible_text(post)


async def test_a_modals_validation_errors_come_back_under_the_field(page: PageUser) -> None:
    ts = await comment(page, f"Escalate me {uuid.uuid4().hex[:6]}")
    await page.click(ts, actions(await card_of(page, ts))["Escalate"])
    modal = (await page.wait_for(lambda f: f["modal"] is not None))["modal"]
    sent = await page.post(f"/views/{modal['id']}/submit", {"user": "UANNA", "reason/reason": "   "}, form=True)
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    assert set(answer["errors"]) == {"reason"}
    assert 'data-testid="field-error"' in answer["html"]
    # Still open: the person fixes the reason and sends it again.
    assert (await page.fragment())["modal"]["id"] == modal["id"]
    closed = await page.post(f"/views/{modal['id']}/close", {"user": "UANNA"})
    assert closed.status_code == 200 and (await page.fragment())["modal"] is None


async def test_a_slash_command_from_the_composer_reaches_the_bot(page: PageUser) -> None:
    response = await page.post("/commands", {"user": "UJARI", "channel": INBOX, "text": "/rota help"})
    assert response.status_code == 200, response.text
    assert "/rota now" in response.json()["text"]
    jari = PageUser(page.http, "UJARI")
    ephemerals = (await jari.fragment())["channel"]
    assert 'data-testid="ephemeral"' in ephemerals and "/rota now" in visible_text(ephemerals)
    # Only Jari sees it.
    assert "/rota now" not in visible_text((await page.fragment())["channel"])


async def test_the_digest_answers_through_the_response_url(page: PageUser) -> None:
    response = await page.post("/commands", {"user": "UANNA", "channel": INBOX, "text": "/chatops digest today"})
    assert response.status_code == 200, response.text
    # Acknowledged at once; the digest itself comes through the response_url the page served.
    await page.wait_for(lambda f: visible_text(f["channel"]).count("Only visible to you") >= 2)


@pytest.mark.parametrize(
    "change",
    [
        {"action_id": "chatops:delete_everything"},
        {"block_id": "not-a-block"},
        {"ts": "1700009999.000100"},
        {"user": "UMALLORY"},
        {"channel": "CELSEWHERE"},
    ],
)
async def test_a_forged_click_is_refused_and_nothing_reaches_the_bot(
    page: PageUser, sandbox: Served, change: dict[str, str]
) -> None:
    ts = await comment(page, f"Forged {uuid.uuid4().hex[:6]}")
    before = await card_of(page, ts)
    sent = sandbox.bridge.sent
    claim = actions(before)["Claim"]
    body = {"user": "UANNA", "channel": INBOX, "ts": ts, "block_id": claim["block_id"], "action_id": claim["action_id"]}
    response = await page.post("/actions", {**body, **change})
    assert response.status_code == 400, response.text
    assert response.json()["ok"] is False
    assert await card_of(page, ts) == before
    assert sandbox.bridge.sent == sent


async def test_a_modal_is_submitted_only_by_the_person_it_is_open_for(page: PageUser, sandbox: Served) -> None:
    ts = await comment(page, f"Whose modal {uuid.uuid4().hex[:6]}")
    await page.click(ts, actions(await card_of(page, ts))["Reply"])
    modal = (await page.wait_for(lambda f: f["modal"] is not None))["modal"]
    sent = sandbox.bridge.sent
    for user, view_id in (("UJARI", modal["id"]), ("UANNA", "V9999")):
        refused = await page.post(f"/views/{view_id}/submit", {"user": user, "text/text": "not mine"}, form=True)
        assert refused.status_code == 400, refused.text
    assert sandbox.bridge.sent == sent
    assert "not mine" not in visible_text((await page.fragment())["feeds"]["webhook"])
    await page.post(f"/views/{modal['id']}/close", {"user": "UANNA"})


async def test_posts_without_the_page_header_or_to_another_host_are_refused(page: PageUser) -> None:
    response = await page.http.post("/commands", json={"user": "UANNA", "channel": INBOX, "text": "/rota help"})
    assert response.status_code == 403
    assert PAGE_HEADER in response.json()["error"]
    rebound = await page.http.get("/", headers={"Host": "attacker.example:80"})
    assert rebound.status_code == 403


async def test_the_page_serves_itself_and_shows_uploaded_images(page: PageUser, sandbox: Served) -> None:
    index = await page.http.get("/")
    assert index.status_code == 200
    for testid in ("user-switcher", "channel", "composer", "customer-webhook", "play-script", "feed"):
        assert f'data-testid="{testid}"' in index.text
    for asset in ("/static/sandbox.js", "/static/sandbox.css"):
        assert (await page.http.get(asset)).status_code == 200
    client = AsyncWebClient(token=sandbox.sandbox.slack.bot_token, base_url=sandbox.sandbox.slack.api_url)
    await client.files_upload_v2(channel=INBOX, content=PNG, filename="chart.png", title="The chart")
    shown = await page.wait_for(lambda f: '<img src="/files/' in f["channel"])
    src = shown["channel"].split('<img src="', 1)[1].split('"', 1)[0]
    image = await page.http.get(src)
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
    assert (await page.http.get("/files/F9999")).status_code == 404


async def test_play_a_scripted_day(page: PageUser) -> None:
    response = await page.post("/script", {})
    if importlib.util.find_spec("chatops.sandbox.scripted_day") is None:
        assert response.status_code == 503
        assert "scripted day not available" in response.json()["error"]
        return
    assert response.status_code == 202, response.text
    assert "Playing" in (await page.fragment())["script"]
    again = await page.post("/script", {})
    assert again.status_code == 409 and "already playing" in again.json()["error"]
    # The day's first comment arrives as a card (the rest keep coming until the sandbox stops).
    before = len(cards((await page.fragment())["channel"]))
    await page.wait_for(lambda f: len(cards(f["channel"])) > before, timeout=10)


async def test_only_a_day_or_a_crisis_can_be_played(page: PageUser) -> None:
    for body in ({"script": "apocalypse"}, {"script": ["crisis"]}, ["crisis"]):
        response = await page.post("/script", body)
        assert response.status_code == 400, response.text
        assert "script must be" in response.json()["error"]


async def test_a_choice_must_be_one_of_the_menus_options(page: PageUser, sandbox: Served) -> None:
    client = AsyncWebClient(token=sandbox.sandbox.slack.bot_token, base_url=sandbox.sandbox.slack.api_url)
    options = [{"text": {"type": "plain_text", "text": word}, "value": word.lower()} for word in ("Spam", "Praise")]
    menu = {"type": "overflow", "action_id": "sandbox_test:menu", "options": options}
    posted = await client.chat_postMessage(
        channel=INBOX,
        text="A message with a menu",
        blocks=[{"type": "section", "block_id": "menu", "text": {"type": "mrkdwn", "text": "Pick"}, "accessory": menu}],
    )
    ts = str(posted["ts"])
    shown = await page.wait_for(lambda f: ts in cards(f["channel"]))
    assert "bk-overflow-toggle" in cards(shown["channel"])[ts]
    action = {"block_id": "menu", "action_id": "sandbox_test:menu"}
    sent = sandbox.bridge.sent
    refused = await page.click(ts, action, selected="delete-everything")
    assert refused.status_code == 400, refused.text
    assert sandbox.bridge.sent == sent
    # A real option goes to the bot (which has no listener for this test's menu, and says so).
    chosen = await page.click(ts, action, selected="praise")
    assert chosen.status_code == 502, chosen.text
    assert chosen.json()["error"] == "the bot answered 404"
    assert sandbox.bridge.sent == sent + 1


async def test_a_customers_follow_up_goes_under_their_comment_and_into_the_cards_thread(page: PageUser) -> None:
    text = f"Is the café open on Sunday {uuid.uuid4().hex[:6]}?"
    ts = await comment(page, text)
    feed = (await page.fragment())["feeds"]["webhook"]
    post_id = feed.split(f"{text.replace('?', '')}", 1)[0].rsplit('data-id="', 1)[1].split('"', 1)[0]
    response = await page.post(
        "/customers/webhook/posts",
        {"author": "Maija Virtanen", "text": "Also, do you have oat milk?", "reply_to": post_id},
    )
    assert response.status_code == 201, response.text
    shown = await page.wait_for(lambda f: "oat milk" in visible_text(cards(f["channel"])[ts]))
    assert 'data-testid="thread"' in cards(shown["channel"])[ts]
    assert 'data-testid="customer-reply"' in shown["feeds"]["webhook"]
