"""Browser tests' fixtures: a real ``chatops sandbox`` process and Debian's Chromium driven by Playwright.

The sandbox is started exactly as a newcomer starts it (``chatops sandbox --port 0
--no-browser --data DIR``) and stopped with Ctrl-C (SIGINT), which must end it with
exit status 0. Chromium is the system's own (``apt-get install chromium``): Playwright
launches it by path and never downloads a browser. Without one, every test here is
skipped with the reason.

Screenshots are test artefacts, kept in ``$CHATOPS_TEST_ARTIFACTS`` (default
``test-artifacts/`` at the repository root): the tests take the ones worth seeing,
and every page a failed test had open is photographed whole.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from browser_kit import (
    CHROMIUM,
    NO_CHROMIUM_REASON,
    WAIT_MS,
    OpenPage,
    Sandbox,
    artifact_name,
    artifacts_dir,
    start_sandbox,
    tail,
)
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright


@pytest.fixture(scope="module", autouse=True)
def _needs_chromium() -> None:
    """Skip every browser test, with the reason, where no Chromium is installed.

    Module-scoped so it runs before the module-scoped sandbox and browser start.
    """
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM_REASON)


#: Each phase's report ("setup", "call", "teardown") of a test, kept on its item by the hook below.
PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell that the test failed."""
    report: pytest.TestReport = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One ``chatops sandbox`` for the module's tests, stopped with Ctrl-C at the end (which must exit 0).

    Module-scoped rather than session-scoped so the process (and Playwright's own loop)
    are gone before the rest of the suite runs. Tests stay independent by using their own
    page and their own customer texts.
    """
    data_dir = tmp_path_factory.mktemp("sandbox-data")
    running = start_sandbox(data_dir, artifacts_dir() / "browser-sandbox.log")
    try:
        yield running
    finally:
        status = running.stop()
    assert status == 0, f"chatops sandbox exited with {status} after Ctrl-C; its output ends:\n{tail(running.log)}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched by path (never downloaded)."""
    assert CHROMIUM is not None
    with sync_playwright() as p:
        launched = _launch(p, CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()


def _launch(p: Playwright, executable: str) -> Browser:
    # --no-sandbox: CI runs as root, where Chromium refuses its own sandbox.
    return p.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)


@pytest.fixture
def open_page(browser: Browser, sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[OpenPage]:
    """Open the sandbox's page in a fresh browser context (its own cookies: one person's browser).

    Call it once per person a test needs. When the test fails, every page it opened is
    saved as a full-page screenshot in the artefacts folder.
    """
    expect.set_options(timeout=WAIT_MS)
    pages: list[Page] = []

    def open_one() -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.goto(sandbox.url)
        pages.append(page)
        return page

    yield open_one

    reports = request.node.stash.get(PHASE_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    for i, page in enumerate(pages):
        if failed:
            suffix = f"-{i + 1}" if len(pages) > 1 else ""
            try:
                page.screenshot(
                    path=artifacts_dir() / f"{artifact_name(request.node.nodeid)}-failed{suffix}.png", full_page=True
                )
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"no failure screenshot of page {i + 1}: {exc}", file=sys.stderr)
        page.context.close()
