"""Each person's modals on the sandbox's page follow Slack's rules: opened and pushed by the bot for the person whose
click gave the trigger id, updated in place, and changed by a submission's ``response_action``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from chatops.sandbox.slack_bridge import ModalStacks, Refused
from chatops.testing.fake_slack import FakeSlack


def modal(title: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": title}
    return {"type": "modal", "title": text, "close": {"type": "plain_text", "text": "Cancel"}, "blocks": []}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


async def test_modals_follow_the_bots_calls_and_the_submissions_answers(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    stacks = ModalStacks(slack)
    opened = (await client.views_open(trigger_id=slack.new_trigger_id("UANNA"), view=modal("First")))["view"]
    assert stacks.top("UANNA")["title"]["text"] == "First"  # type: ignore[index]
    assert stacks.top("UJARI") is None
    with pytest.raises(Refused):
        stacks.open_view("UJARI", opened["id"])

    await client.views_update(view_id=opened["id"], view=modal("First, updated"))
    assert stacks.open_view("UANNA", opened["id"])["title"]["text"] == "First, updated"

    pushed = (await client.views_push(trigger_id=slack.new_trigger_id("UANNA"), view=modal("Second")))["view"]
    assert stacks.top("UANNA")["id"] == pushed["id"]  # type: ignore[index]
    with pytest.raises(Refused):  # only the top one can be submitted
        stacks.open_view("UANNA", opened["id"])

    assert stacks.after_submission("UANNA", {"response_action": "errors", "errors": {"b": "wrong"}}) == {"b": "wrong"}
    assert stacks.top("UANNA")["id"] == pushed["id"]  # type: ignore[index]
    stacks.after_submission("UANNA", {"response_action": "update", "view": modal("Second, replaced")})
    top = stacks.top("UANNA")
    assert top is not None and top["id"] == pushed["id"] and top["title"]["text"] == "Second, replaced"
    stacks.after_submission("UANNA", {"response_action": "push", "view": modal("Third")})
    assert stacks.top("UANNA")["title"]["text"] == "Third"  # type: ignore[index]
    stacks.after_submission("UANNA", {})  # a plain ack closes the top one
    assert stacks.top("UANNA")["id"] == pushed["id"]  # type: ignore[index]
    stacks.after_submission("UANNA", {"response_action": "clear"})
    assert stacks.top("UANNA") is None
