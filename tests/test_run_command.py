"""`chatops run` as a newcomer starts it: a real process that serves, posts cards, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chatops.sockets import bind
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.webhook.signature import sign
from chatops_plugins.webhook.testing import WEBHOOK_SECRET


def _free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_run_serves_webhooks_posts_cards_and_stops_cleanly(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = _free_port()
    (tmp_path / "config.toml").write_text(
        f"""
[team]
timezone = "Europe/Warsaw"
language = "pl"

[slack]
mode = "http"
api_url = "{fake_slack.api_url}"
inbox_channel = "CINBOX"

[database]
url = "sqlite:///{tmp_path}/chatops.db"

[http]
port = {port}
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_")}
    env.update(
        CHATOPS_SLACK__BOT_TOKEN=fake_slack.bot_token,
        CHATOPS_SLACK__SIGNING_SECRET="signing-secret-for-run",
        CHATOPS_PLUGINS__WEBHOOK__SECRET=WEBHOOK_SECRET,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "chatops.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).json() == {"status": "ok"}:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chatops run did not come up"
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.1)
        body = json.dumps({"id": "run-1", "text": "Dzień dobry! <!channel>", "author": {"name": "Ola"}}).encode()
        response = httpx.post(
            base + "/webhooks/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Chatops-Signature": sign(WEBHOOK_SECRET, body)},
        )
        assert response.status_code == 201
        [post] = fake_slack.wait_for_sync("chat.postMessage", lambda c: c.ok, timeout=10)
        text = json.dumps(post.args["blocks"], ensure_ascii=False)
        assert "Dzień dobry! &lt;!channel&gt;" in text and "Przejmij" in text
        # Slack's request signing guards /slack/events in HTTP mode.
        unsigned = httpx.post(
            base + "/slack/events", content=b"payload={}", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert unsigned.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "signing-secret-for-run" not in output and fake_slack.bot_token not in output
