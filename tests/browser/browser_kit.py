"""The browser tests' kit: find Chromium, run ``chatops sandbox``, keep artefacts, and act on the page as a person.

The page is read through its DOM contract (``data-testid`` names, buttons by their
text, modal fields by their labels), the same way a person finds things on it.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]

#: How long the sandbox may take to print its URL (bot start-up and migrations, on a slow CI machine).
STARTUP_TIMEOUT = 90.0
#: How long Ctrl-C may take to stop everything cleanly.
SHUTDOWN_TIMEOUT = 30.0
#: Playwright's waits (actions and ``expect``): the page polls the bot, and the bot's outbox delivers
#: cards a moment after a comment arrives. These are upper bounds on waiting, not timing claims.
WAIT_MS = 20_000

URL_LINE = re.compile(r"chatops sandbox: open (http://127\.0\.0\.1:\d+/)")


def find_chromium() -> tuple[str | None, str]:
    """The Chromium executable to drive, or None and why there is none.

    ``CHATOPS_CHROMIUM`` names one explicitly; otherwise Debian's ``/usr/bin/chromium``,
    then ``chromium`` on the PATH.
    """
    named = os.environ.get("CHATOPS_CHROMIUM", "").strip()
    if named:
        if os.access(named, os.X_OK) and Path(named).is_file():
            return named, ""
        return None, f"CHATOPS_CHROMIUM={named} is not an executable file"
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate, ""
    return None, "no Chromium: apt-get install chromium (or set CHATOPS_CHROMIUM to its path)"


CHROMIUM, NO_CHROMIUM_REASON = find_chromium()


def artifacts_dir() -> Path:
    """Where screenshots and the sandbox's log are kept (created on first use)."""
    path = Path(os.environ.get("CHATOPS_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifact_name(nodeid: str) -> str:
    """A file-name-safe stem for a test (``test_x[param]`` → ``test_x-param``)."""
    name = nodeid.rsplit("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of the sandbox's log, for a failure message that explains itself in CI."""
    try:
        return "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-lines:])
    except OSError as exc:
        return f"(log unreadable: {exc})"


class Sandbox:
    """A running ``chatops sandbox`` process: its URL, and the log of its output for diagnosis."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit status (kills it and fails if it hangs)."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"chatops sandbox did not stop within {SHUTDOWN_TIMEOUT:.0f} s of Ctrl-C; its output ends:\n{tail(self.log)}"
            ) from None


def _pump(stream: IO[str], lines: queue.Queue[str | None], copy: IO[str]) -> None:
    """Copy the sandbox's stdout to its log, handing each line to the starter too; None at the end."""
    with copy:
        for line in stream:
            copy.write(line)
            copy.flush()
            lines.put(line)
    lines.put(None)


def start_sandbox(data_dir: Path, log: Path) -> Sandbox:
    """Start ``chatops sandbox`` on a free port and wait for the URL it prints.

    Its stdout and stderr go to ``log`` (kept with the artefacts) for as long as it runs.
    """
    # The sandbox configures itself; a developer's CHATOPS_* settings (a config file, tokens)
    # must not leak into it. The test kit's own variables are harmless and kept.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATOPS_") or k.startswith("CHATOPS_TEST")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "chatops.cli", "sandbox", "--port", "0", "--no-browser", "--data", str(data_dir)]
    log_file = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        command,
        cwd=data_dir,  # so no ./config.toml of the developer's is read
        env=env,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines, log_file), daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            process.kill()
            process.wait()
            raise AssertionError(
                f"chatops sandbox printed no URL within {STARTUP_TIMEOUT:.0f} s; its output ends:\n{tail(log)}"
            ) from None
        if line is None:
            status = process.wait()
            raise AssertionError(f"chatops sandbox exited with {status} before printing its URL:\n{tail(log)}")
        found = URL_LINE.search(line)
        if found:
            return Sandbox(process, found.group(1), log)


OpenPage = Callable[[], Page]


def unique(text: str) -> str:
    """``text`` with a mark no other test's comment has, so locators find only this test's card."""
    return f"{text} [{uuid.uuid4().hex[:8]}]"


def act_as(page: Page, person: str) -> None:
    """Switch the page's user, as a person picks themselves in the switcher."""
    page.get_by_test_id("user-switcher").select_option(label=person)
    expect(page.get_by_test_id("user-switcher").locator("option:checked")).to_have_text(person)


def customers(page: Page, source: str) -> Locator:
    """The customers' side of one source."""
    return page.get_by_test_id(f"customer-{source}")


def comment_as_customer(page: Page, source: str, author: str, text: str) -> None:
    """Write a comment as a customer on ``source``."""
    side = customers(page, source)
    side.locator('input[name="author"]').fill(author)
    side.locator('textarea[name="text"]').fill(text)
    side.get_by_role("button", name="Post as customer").click()


def customer_post(page: Page, source: str, text: str) -> Locator:
    """The customer's comment containing ``text``, as the customer sees it on the platform."""
    return customers(page, source).get_by_test_id("feed").get_by_test_id("customer-post").filter(has_text=text)


def card(page: Page, text: str) -> Locator:
    """The card in the channel whose customer comment contains ``text``."""
    return page.get_by_test_id("channel").get_by_test_id("message").filter(has_text=text)


def open_modal(card_: Locator, button: str, title: str) -> Locator:
    """Click a card's button and return the modal it opens (checked by its title)."""
    card_.get_by_role("button", name=button).click()
    modal = card_.page.get_by_test_id("modal")
    expect(modal.locator("h2")).to_have_text(title)
    return modal


def submit(modal: Locator, button: str) -> None:
    """Submit a modal with its submit button; it closes when the bot accepts it."""
    modal.get_by_role("button", name=button).click()
    expect(modal).to_be_hidden()
