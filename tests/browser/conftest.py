"""Playwright driving Debian's Chromium against pytest-django's live_server.

No browser is ever downloaded: the tests use /usr/bin/chromium (or $CHROMIUM_PATH)
and skip, with a message saying how to install it, where it is missing. CI sets
REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.pages import DESKTOP, make_learner_with_progress
from tests.curriculum import load_curriculum

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Chromium flags for a headless run as root on a machine without outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)."
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " REQUIRE_BROWSER=1 makes this a failure.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # refuses to run "inside" one unless told that this is deliberate.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def blocked_by_csp() -> list[str]:
    """What the Content-Security-Policy blocked in this test's pages (popups included), as console reports."""
    return []


@pytest.fixture
def new_page(browser, live_server, transactional_db, blocked_by_csp) -> Callable:
    """Open pages in fresh browser contexts (own cookies, viewport, colour scheme, JavaScript on or off).

    Takes ``browser.new_context`` options on top of the desktop defaults, e.g.
    ``new_page(**MOBILE)`` or ``new_page(java_script_enabled=False)``. The
    curriculum is loaded once per test, however many pages it opens. Every page
    runs under the site's real Content-Security-Policy, and the test fails if
    the policy blocked anything.
    """
    load_curriculum()
    contexts = []

    def open_page(**options):
        context = browser.new_context(**{"base_url": live_server.url, **DESKTOP, **options})
        context.on("console", lambda message: blocked_by_csp.extend(csp_violations(message)))
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert not blocked_by_csp, "The Content-Security-Policy blocked something:\n" + "\n".join(blocked_by_csp)


def csp_violations(message) -> list[str]:
    """Chromium reports what a Content-Security-Policy blocked as console errors."""
    if message.type == "error" and "Content Security Policy" in message.text:
        return [f"{message.page.url if message.page else '?'}: {message.text}"]
    return []


@pytest.fixture(scope="session")
def screenshot() -> Callable:
    """Save a full-page screenshot for people to look at, as ``<page>-<theme>-<device>.png``.

    The accessibility (desktop) and phone-layout tests take them on the pages they check, so every run
    refreshes them. They go to $SCREENSHOT_DIR, by default test-artifacts/screenshots/ in the repository.
    """
    directory = Path(os.environ.get("SCREENSHOT_DIR") or REPOSITORY / "test-artifacts" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, *, scheme: str, device: str) -> None:
        page.screenshot(path=directory / f"{name}-{scheme}-{device}.png", full_page=True, animations="disabled")

    return save


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def log_in_as(live_server) -> Callable:
    """Log ``user`` in for every page of ``page``'s context without going through the form.

    For tests about something else than logging in: the session cookie that
    Django's test client creates is handed to the browser.
    """

    def log_in(page, user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return log_in


@pytest.fixture
def site_learner(new_page):
    """The learner of ``pages.SITE_PAGES`` (public profile, progress, a note), once the curriculum is loaded."""
    return make_learner_with_progress()
