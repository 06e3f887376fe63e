"""The sandbox's page under a hostile or clumsy user: forged requests, text no renderer expects, races, restarts.

Each test names what a person (or another web page in the same browser) could do; what the page
must answer is a clear 4xx with nothing sent to the bot, or the real thing done once.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sandbox_kit import PageUser, actions, cards, visible_text

from chatops.sandbox.page import PAGE_HEADER
from chatops.sandbox.serving import Served

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def comment(page: PageUser, text: str, key: str = "webhook") -> tuple[str, str]:
    """A customer writes ``text``; the (channel, ts) of its card once the page shows it."""
    response = await page.post(f"/customers/{key}/posts", {"author": "Maija Virtanen", "text": text})
    assert response.status_code == 201, response.text
    shown = await page.wait_for(lambda f: any(text in visible_text(c) for c in cards(f["channel"]).values()))
    ts, card = next((ts, card) for ts, card in cards(shown["channel"]).items() if text in visible_text(card))
    channel = re.search(r'data-channel="([^"]+)"', card)
    assert channel is not None
    return channel.group(1), ts


async def open_modal(page: PageUser, channel: str, ts: str, button: str) -> dict[str, str]:
    card = cards((await page.fragment(channel))["channel"])[ts]
    clicked = await page.click(ts, actions(card)[button], channel=channel)
    assert clicked.status_code == 200, clicked.text
    return dict((await page.wait_for(lambda f: f["modal"] is not None, channel=channel))["modal"])


# -- text no renderer expects -------------------------------------------------------------------


async def test_a_lone_surrogate_is_refused_or_replaced_and_the_page_still_draws(
    page: PageUser, sandbox: Served
) -> None:
    # JSON may spell a UTF-16 surrogate on its own ("\ud800"); no text can be encoded with one.
    # It used to be a 500 on every source, and a Discord message holding one made the page's
    # own answers fail to encode: the whole page was a 500 until the sandbox restarted.
    marker = uuid.uuid4().hex[:6]
    for key in sandbox.sandbox.sources:
        body = f'{{"author": "Ann\\ud800a", "text": "lone \\udc00 surrogate {key} {marker}"}}'
        response = await page.http.post(
            f"/customers/{key}/posts",
            content=body.encode(),
            headers={PAGE_HEADER: "1", "Content-Type": "application/json"},
        )
        assert response.status_code in (201, 400), f"{key}: {response.status_code} {response.text}"
    typed = await page.http.post(
        "/commands",
        content=b'{"user": "UANNA", "channel": "CINBOX", "text": "/rota \\ud800"}',
        headers={PAGE_HEADER: "1", "Content-Type": "application/json"},
    )
    assert typed.status_code == 200, typed.text
    shown = await page.wait_for(lambda f: f"surrogate discord {marker}" in visible_text(f["feeds"]["discord"]))
    assert "\ufffd" in visible_text(shown["feeds"]["discord"])
    assert (await page.http.get("/")).status_code == 200


# -- races -------------------------------------------------------------------------------------


async def test_a_modal_submitted_three_times_at_once_reaches_the_bot_once(page: PageUser, sandbox: Served) -> None:
    # A double (or triple) click on Send: Slack takes the first submission and the modal is gone.
    channel, ts = await comment(page, f"Double send {uuid.uuid4().hex[:6]}")
    modal = await open_modal(page, channel, ts, "Reply")
    reply = f"Sent once {uuid.uuid4().hex[:6]}"
    before = sandbox.bridge.sent
    answers = await asyncio.gather(
        *(page.post(f"/views/{modal['id']}/submit", {"user": "UANNA", "text/text": reply}, form=True) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 400, 400], [a.text for a in answers]
    assert sandbox.bridge.sent == before + 1
    shown = await page.wait_for(lambda f: reply in visible_text(f["feeds"]["webhook"]))
    assert visible_text(shown["feeds"]["webhook"]).count(reply) == 1


# -- forged requests (these held; kept so they keep holding) ------------------------------------

FORGED = {
    "no page header": ({}, {"user": "UANNA"}, 403),
    "another site's host (DNS rebinding)": ({PAGE_HEADER: "1", "Host": "sandbox.evil.example"}, {}, 403),
    "loopback's name with a suffix": ({PAGE_HEADER: "1", "Host": "127.0.0.1.nip.io"}, {}, 403),
    "IPv6 loopback it does not serve": ({PAGE_HEADER: "1", "Host": "[::1]:80"}, {}, 403),
    "unknown user": ({PAGE_HEADER: "1"}, {"user": "UEVIL"}, 400),
}


@pytest.mark.parametrize("case", list(FORGED), ids=list(FORGED))
async def test_a_forged_click_is_refused_before_the_bot(page: PageUser, sandbox: Served, case: str) -> None:
    headers, fields, status = FORGED[case]
    channel, ts = await comment(page, f"Forged {uuid.uuid4().hex[:6]}")
    claim = actions(cards((await page.fragment(channel))["channel"])[ts])["Claim"]
    body = {"user": "UANNA", "channel": channel, "ts": ts, **claim, **fields}
    before = sandbox.bridge.sent
    response = await page.http.post("/actions", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert sandbox.bridge.sent == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"text"', b"x" * 100_000, b'{"user": {"id": "UANNA"}}'],
    ids=["malformed", "a list", "a string", "100 kB", "an object for a name"],
)
async def test_a_malformed_body_is_a_400_before_the_bot(page: PageUser, sandbox: Served, body: bytes) -> None:
    before = sandbox.bridge.sent
    for path in ("/actions", "/commands", "/views/V0001/submit", "/views/V0001/close", "/customers/webhook/posts"):
        response = await page.http.post(
            path, content=body, headers={PAGE_HEADER: "1", "Content-Type": "application/json"}
        )
        assert response.status_code == 400, f"{path}: {response.status_code} {response.text}"
        assert response.json()["error"]
    assert sandbox.bridge.sent == before


async def test_another_origin_gets_no_leave_to_send_the_page_header(page: PageUser) -> None:
    # A page elsewhere must ask first (a preflight) to send X-Sandbox; nothing lets it.
    response = await page.http.options(
        "/actions",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-sandbox, content-type",
        },
    )
    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
