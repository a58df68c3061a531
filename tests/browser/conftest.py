"""Playwright driving Debian's Chromium against pytest-django's live_server.

No browser is ever downloaded: the tests use /usr/bin/chromium (or $CHROMIUM_PATH)
and skip, with a message saying how to install it, where it is missing. CI sets
REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

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


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
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
def page(browser, live_server, transactional_db):
    call_command("loaddata", "roadmaps", verbosity=0)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
