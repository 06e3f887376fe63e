"""The sandbox's Slack keeps its channels and files across a restart (``--data``), and new posts come after them."""

from __future__ import annotations

from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from chatops.sandbox.slack_state import SandboxSlack


async def test_messages_threads_and_files_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "slack.json"
    first = SandboxSlack()
    first.start()
    try:
        client = AsyncWebClient(token=first.bot_token, base_url=first.api_url)
        parent = await client.chat_postMessage(channel="CINBOX", text="A card")
        await client.chat_postMessage(channel="CINBOX", text="In its thread", thread_ts=parent["ts"])
        await client.files_upload_v2(channel="COPS", content=b"\x89PNG chart", filename="chart.png")
    finally:
        first.stop()
    first.save(state)

    second = SandboxSlack()
    second.restore(state)
    second.start()
    try:
        assert [m["text"] for m in second.top_level_messages("CINBOX")] == ["A card"]
        assert [m["text"] for m in second.thread("CINBOX", parent["ts"])] == ["In its thread"]
        [shared] = second.top_level_messages("COPS")
        assert second.file(shared["files"][0]["id"])["content"] == b"\x89PNG chart"
        client = AsyncWebClient(token=second.bot_token, base_url=second.api_url)
        later = await client.chat_postMessage(channel="CINBOX", text="After the restart")
        assert float(later["ts"]) > max(float(m["ts"]) for m in first.messages())
        updated = await client.chat_update(channel="CINBOX", ts=parent["ts"], text="A card, updated")
        assert updated["ok"]
    finally:
        second.stop()


def test_an_unreadable_state_file_starts_empty(tmp_path: Path) -> None:
    state = tmp_path / "slack.json"
    state.write_text("{not json", encoding="utf-8")
    slack = SandboxSlack()
    slack.restore(state)
    assert slack.messages() == []
