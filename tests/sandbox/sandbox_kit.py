"""What the sandbox's tests share: a person using the page over HTTP, reading what it shows."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from chatops.sandbox.page import PAGE_HEADER
from chatops.testing.bot import INBOX

_ACTION = re.compile(r'data-action="([^"]*)"')
_MESSAGE = re.compile(r'<div class="msg" data-testid="message" data-ts="([^"]+)"')


class PageUser:
    """Someone at the sandbox's page: reads the fragments the page polls and calls its routes, as its script does."""

    def __init__(self, http: httpx.AsyncClient, user: str = "UANNA") -> None:
        self.http = http
        self.user = user

    async def fragment(self, channel: str = INBOX) -> dict[str, Any]:
        response = await self.http.get("/fragment", params={"user": self.user, "channel": channel})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        channel: str = INBOX,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The page's fragment once ``predicate`` holds for it (fails with what it showed last)."""
        deadline = time.monotonic() + timeout
        while True:
            shown = await self.fragment(channel)
            if predicate(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed it; it shows:\n{json.dumps(shown, indent=1)[:4000]}")
            await asyncio.sleep(0.05)

    async def post(self, path: str, data: dict[str, Any], *, form: bool = False) -> httpx.Response:
        headers = {PAGE_HEADER: "1"}
        if form:
            return await self.http.post(path, data=data, headers=headers)
        return await self.http.post(path, json=data, headers=headers)

    async def click(self, ts: str, action: dict[str, Any], channel: str = INBOX, **extra: Any) -> httpx.Response:
        body = {"user": self.user, "channel": channel, "ts": ts, "block_id": action["block_id"]}
        return await self.post("/actions", {**body, "action_id": action["action_id"], **extra})


def cards(channel_html: str) -> dict[str, str]:
    """Each top-level message's HTML by its ts (up to the next message)."""
    starts = [(m.start(), m.group(1)) for m in _MESSAGE.finditer(channel_html)]
    ends = [start for start, _ts in starts[1:]] + ([len(channel_html)] if starts else [])
    return {ts: channel_html[start:end] for (start, ts), end in zip(starts, ends, strict=True)}


def actions(message_html: str) -> dict[str, dict[str, Any]]:
    """The message's controls by the text of each (the button's label), with their action data."""
    found = {}
    for raw in _ACTION.findall(message_html):
        action = json.loads(html.unescape(raw))
        label = (action.get("text") or {}).get("text") or action["action_id"]
        found[label] = action
    return found


def visible_text(fragment_html: str) -> str:
    """The words a person reads (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment_html))
