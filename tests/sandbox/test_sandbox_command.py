"""``chatops sandbox`` as a newcomer runs it: one line with the URL, the page served, a clean stop, clear refusals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from sandbox_kit import PageUser, cards, visible_text

from chatops.cli import main
from chatops.sandbox.serving import served
from chatops.sockets import bind


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """``chatops sandbox --no-browser ARGS`` in a subprocess whose temporary folders go under ``tmp_path``."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, "-m", "chatops.cli", "sandbox", "--no-browser", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_it_prints_its_url_serves_the_page_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    process = start(tmp_path, "--port", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("chatops sandbox: open http://127.0.0.1:"), line or process.communicate()[1]
        url = line.split("open ", 1)[1].strip()
        assert url.endswith("/") and not url.endswith(":0/")
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and 'data-testid="channel"' in page.text
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("chatops-sandbox-")], "no temporary data folder"
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("chatops-sandbox-")], (
        "the temporary data folder was left"
    )
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_a_port_in_use_is_one_line_naming_port_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["sandbox", "--port", str(port), "--no-browser"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--port" in lines[0] and str(port) in lines[0], err
    assert not list(tmp_path.iterdir()), "nothing should be created for a refused start"


@pytest.mark.parametrize("mistake", ["data is a file", "port out of range"])
def test_a_mistake_on_the_command_line_is_one_line_naming_the_option_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mistake: str
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    args, option = {
        "data is a file": (["--port", "0", "--data", str(a_file)], "--data"),
        "port out of range": (["--port", "70000"], "--port"),
    }[mistake]
    status = main(["sandbox", "--no-browser", *args])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"chatops sandbox: {option} "), err


async def test_a_given_data_folder_keeps_the_cards_and_the_feed_for_the_next_start(tmp_path: Path) -> None:
    text = "Still there after a restart?"
    async with served(bind("127.0.0.1", 0), tmp_path) as running, httpx.AsyncClient(base_url=running.url) as http:
        page = PageUser(http)
        response = await page.post("/customers/webhook/posts", {"author": "Maija", "text": text})
        assert response.status_code == 201, response.text
        await page.wait_for(lambda f: any(text in visible_text(c) for c in cards(f["channel"]).values()))
    assert (tmp_path / "chatops.sqlite3").exists()
    async with served(bind("127.0.0.1", 0), tmp_path) as running, httpx.AsyncClient(base_url=running.url) as http:
        shown = await PageUser(http).fragment()
        assert [ts for ts, card in cards(shown["channel"]).items() if text in visible_text(card)]
        assert text in visible_text(shown["feeds"]["webhook"])
