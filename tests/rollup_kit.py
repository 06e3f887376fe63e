"""Helpers of the roll-up tests: a flood through the real bot, and reading roll-ups back from the fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from chatops.testing.bot import INBOX, Card, Person, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import block_actions_body

POST = {"text": "Summer sale", "url": "https://shop.example/p/summer"}
#: Small thresholds: more than 3 new conversations on a post within the window is a flood.
FLOOD = {
    "crisis": {
        "rollup_per_post": 3,
        "rollup_per_source": 1000,
        "rollup_check_seconds": 0,
        "rollup_update_seconds": 0,
        "rollup_open_count": 2,
    },
    "priority": {"keywords": ["lawyer"]},
}


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found.extend(block.get("elements", []))
        elif isinstance(block.get("accessory"), dict):
            found.append(block["accessory"])
    return found


def is_rollup(message: dict[str, Any]) -> bool:
    return any(b.get("action_id", "").startswith("chatops:rollup_resolve") for b in buttons_of(message)) or any(
        b.get("action_id", "").startswith("chatops:rollup_open_top") for b in buttons_of(message)
    )


def rollup_cards(slack: FakeSlack) -> list[dict[str, Any]]:
    """The roll-up cards in the inbox, as they are now."""
    return [m for m in slack.top_level_messages(INBOX) if is_rollup(m)]


def listing(slack: FakeSlack, rollup: dict[str, Any]) -> list[str]:
    """The listing lines in a roll-up's thread: one mrkdwn line per member, sections of a few lines."""
    lines: list[str] = []
    for message in slack.thread(INBOX, rollup["ts"]):
        for block in message.get("blocks") or []:
            if block.get("type") == "section":
                lines.extend(block["text"]["text"].split("\n"))
    return lines


def every_text(slack: FakeSlack) -> str:
    """Where a comment is shown for good: the conversation cards and the roll-up listings.

    The roll-up card itself also shows its newest and most urgent members: that is a
    preview, not where a comment is kept, so it is left out.
    """
    return "\n".join(block_text(m.get("blocks") or []) for m in slack.messages(INBOX) if not is_rollup(m))


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def flood(bot: TestBot, count: int, *, prefix: str = "comment", **fields: Any) -> list[str]:
    """``count`` new conversations on the Summer sale post; returns their texts."""
    texts = [f"{prefix} {i}: the discount code does not work" for i in range(count)]
    for i, text in enumerate(texts):
        await bot.comment(text, id=f"{prefix}-{i}", context=POST, **fields)
    return texts


def pick_body(bot: TestBot, person: Person, message: dict[str, Any], menu: dict[str, Any], value: str) -> str:
    """A signed-request body: ``person`` chooses the option ``value`` in a listing section's ``menu``."""
    body = block_actions_body(
        user_id=person.id,
        user_name=person.name.lower(),
        channel_id=INBOX,
        message_ts=message["ts"],
        action_id=menu["action_id"],
        value="",
        block_id="line",
        trigger_id=bot.slack.new_trigger_id(person.id),
        message=message,
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    [action] = payload["actions"]
    chosen = next((o for o in menu["options"] if o["value"] == value), {"text": {"text": "?"}, "value": value})
    del action["value"]
    action.update({"type": "static_select", "selected_option": chosen, "placeholder": menu["placeholder"]})
    return urlencode({"payload": json.dumps(payload)})


async def click_line(bot: TestBot, person: Person, rollup: dict[str, Any], text: str, *, replay: int = 1) -> None:
    """``person`` chooses the comment starting with ``text`` in its section's menu "Open as card…"."""
    for message in bot.slack.thread(INBOX, rollup["ts"]):
        for block in message.get("blocks") or []:
            if block.get("type") != "section" or not block.get("accessory"):
                continue
            for line in block["text"]["text"].split("\n"):
                if text in line:
                    ordinal = line.split(".", 1)[0]
                    menu = block["accessory"]
                    [option] = [o for o in menu["options"] if o["text"]["text"].startswith(f"{ordinal}. ")]
                    body = pick_body(bot, person, message, menu, option["value"])
                    [response, *_] = await bot.replay_request(body, replay)
                    assert response.status_code == 200
                    return
    raise AssertionError(f"no listing line for {text!r}")


async def click_rollup(bot: TestBot, person: Person, rollup: dict[str, Any], name: str) -> None:
    """``person`` presses the roll-up card's ``name`` button (e.g. ``rollup_resolve``)."""
    card = Card(bot, INBOX, rollup["ts"])
    await bot.click(person, card, name)
