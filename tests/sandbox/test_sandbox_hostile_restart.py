"""``chatops sandbox --data DIR`` started again: the last run's cards are still there; can the team still answer them?

One sandbox run writes a comment on each source tried here and stops; a second run on the same data
folder answers those cards through the page's Reply modal. The bot keeps each comment's address (the
contact form's reply_url, the Graph API comment id) in its database, so the customers' side must still
be reachable there.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import discord.gateway
import discord.http
import httpx
import pytest
import pytest_asyncio
from sandbox_kit import PageUser, actions, cards, visible_text

from chatops.sandbox.serving import Served, served
from chatops.sockets import bind

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: The sources whose last-run cards are answered here.
SOURCES = ("webhook", "facebook")


def _card_of(channel_html: str, text: str) -> tuple[str, str]:
    ts, card = next((ts, card) for ts, card in cards(channel_html).items() if text in visible_text(card))
    channel = re.search(r'data-channel="([^"]+)"', card)
    assert channel is not None
    return channel.group(1), ts


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def second_run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Served, dict[str, str]]]:
    """The sandbox started again on a data folder whose first run got a comment on each of ``SOURCES``."""
    data_dir: Path = tmp_path_factory.mktemp("restarted-sandbox")
    texts = {key: f"Before the restart on {key} {uuid.uuid4().hex[:6]}" for key in SOURCES}
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        async with (
            served(bind("127.0.0.1", 0), data_dir) as first,
            httpx.AsyncClient(base_url=first.url, timeout=10) as http,
        ):
            page = PageUser(http)
            for key, text in texts.items():
                posted = await page.post(f"/customers/{key}/posts", {"author": "Aino Virtanen", "text": text})
                assert posted.status_code == 201, posted.text
            await page.wait_for(lambda f: all(t in visible_text(f["channel"]) for t in texts.values()))
        async with served(bind("127.0.0.1", 0), data_dir) as second:
            yield second, texts
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


async def _answer_the_old_card(second_run: tuple[Served, dict[str, str]], key: str) -> None:
    running, texts = second_run
    async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
        page = PageUser(http)
        channel, ts = _card_of((await page.fragment())["channel"], texts[key])
        clicked = await page.click(ts, actions(cards((await page.fragment())["channel"])[ts])["Reply"], channel=channel)
        assert clicked.status_code == 200, clicked.text
        modal = (await page.wait_for(lambda f: f["modal"] is not None))["modal"]
        reply = f"Answered after the restart {uuid.uuid4().hex[:6]}"
        sent = await page.post(f"/views/{modal['id']}/submit", {"user": "UANNA", "text/text": reply}, form=True)
        assert sent.status_code == 200, sent.text
        # The card says how the reply went: sent ("Reply by"), or the platform's refusal.
        shown = await page.wait_for(
            lambda f: (
                "Reply by" in visible_text(cards(f["channel"])[ts]) or "Retry" in actions(cards(f["channel"])[ts])
            ),
            timeout=15,
        )
        card = visible_text(cards(shown["channel"])[ts])
        assert "Retry" not in actions(cards(shown["channel"])[ts]), card
        await page.wait_for(lambda f: reply in visible_text(f["feeds"][key]))


async def test_a_contact_form_card_from_the_last_run_can_still_be_answered(
    second_run: tuple[Served, dict[str, str]],
) -> None:
    # The form's reply receiver took a new port on each start: the bot's stored reply_url led nowhere
    # ("could not reach the reply_url" after 8 attempts). It keeps its port now, when free.
    await _answer_the_old_card(second_run, "webhook")


@pytest.mark.xfail(
    strict=True,
    reason="the Graph API fake starts empty on each run: the last run's comment is unknown to it, so the reply "
    "is refused (Meta said: Object with ID … does not exist); the same holds for Instagram, X and Discord. "
    "Fixing it means keeping each fake's world in the data folder, as the contact form keeps its feed.",
)
async def test_a_facebook_card_from_the_last_run_can_still_be_answered(
    second_run: tuple[Served, dict[str, str]],
) -> None:
    await _answer_the_old_card(second_run, "facebook")
