"""Dark mode and its toggle, the printed roadmap, and filtering and search with JavaScript off."""

import re

from playwright.sync_api import expect

from tests.browser.pages import ROADMAP_URL, SEARCH_WORD, STAGE_URL


def theme_of(page) -> str | None:
    return page.evaluate("document.documentElement.getAttribute('data-bs-theme')")


def background_of(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_theme_follows_the_system_until_the_toggle_sets_it_for_good(new_page):
    page = new_page(color_scheme="dark")
    page.goto("/")
    assert theme_of(page) == "dark"
    dark_background = background_of(page)

    toggle = page.get_by_role("banner").get_by_role("button", name="Switch to light theme")
    toggle.click()
    assert theme_of(page) == "light"
    assert background_of(page) != dark_background
    expect(page.get_by_role("banner").get_by_role("button", name="Switch to dark theme")).to_be_focused()

    page.goto(ROADMAP_URL)  # persists across pages and reloads, whatever the system says
    assert theme_of(page) == "light"
    footer = page.get_by_role("contentinfo")
    expect(footer.get_by_role("button", name="Light")).to_have_attribute("aria-pressed", "true")

    footer.get_by_role("button", name="Match system").click()
    assert theme_of(page) == "dark"
    page.reload()
    assert theme_of(page) == "dark"
    expect(footer.get_by_role("button", name="Match system")).to_have_attribute("aria-pressed", "true")


def test_theme_toggle_works_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    page.goto(STAGE_URL)
    assert theme_of(page) is None  # light: nothing can read prefers-color-scheme without JavaScript
    light_background = background_of(page)

    page.get_by_role("banner").get_by_role("button", name="Switch to dark theme").click()

    expect(page).to_have_url(re.compile(f"{STAGE_URL}$"))  # the form post came back to the same page
    assert theme_of(page) == "dark"
    assert background_of(page) != light_background
    page.goto("/")
    assert theme_of(page) == "dark"


def test_printed_roadmap_is_a_checklist_with_statuses_and_resource_urls(page, log_in_as, site_learner):
    log_in_as(page, site_learner)
    page.goto(ROADMAP_URL)
    page.emulate_media(media="print")

    for chrome in ["banner", "contentinfo"]:
        expect(page.get_by_role(chrome)).to_be_hidden()
    expect(page.get_by_role("navigation", name="Stages")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Filter topics")).to_be_hidden()
    first = page.locator(".topic-row").first
    expect(first.locator(".status-badge")).to_have_text("✓ Done")
    expect(first.locator(".print-resources")).to_be_visible()
    expect(first.locator(".print-url").first).to_have_text(re.compile(r"^https://docs\.python\.org/"))
    untouched = page.locator(".topic-row", has=page.locator(".status-not_started")).first
    expect(untouched.locator(".status-badge")).to_be_visible()  # "Not started" is printed too

    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_without_javascript_filter_and_search_work(new_page, log_in_as, site_learner):
    page = new_page(java_script_enabled=False)
    log_in_as(page, site_learner)
    page.goto(ROADMAP_URL)
    all_rows = page.locator(".topic-row:visible").count()

    page.get_by_role("navigation", name="Filter topics").get_by_role(
        "link", name=re.compile("Only what's left")
    ).click()
    expect(page).to_have_url(re.compile(r"\?show=left$"))
    # Two done and one skipped are hidden (the rows stay in the page, with the hidden attribute).
    expect(page.locator(".topic-row:visible")).to_have_count(all_rows - 3)

    # Tick one off from the filtered view: the form post comes back to it, one row fewer.
    page.get_by_role("checkbox", name=re.compile(r"^Done: 1\.3 ")).click()
    expect(page).to_have_url(re.compile(r"\?show=left#t\d+$"))
    expect(page.locator(".topic-row:visible")).to_have_count(all_rows - 4)

    box = page.get_by_role("banner").get_by_role("searchbox", name="Search topics and resources")
    box.fill(SEARCH_WORD)
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/search/\?q={SEARCH_WORD}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    page.get_by_role("main").get_by_role("link", name="Using Gunicorn and Nginx", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Using Gunicorn and Nginx")


def test_long_and_empty_searches_are_handled_in_the_browser(page):
    page.goto("/search/?q=")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    page.goto("/search/?q=" + "x" * 500)
    box = page.get_by_role("main").get_by_role("searchbox")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("main")).to_contain_text("200 characters")


def test_anonymous_visitor_gets_no_filter(page):
    page.goto(f"{ROADMAP_URL}?show=left")
    expect(page.get_by_role("navigation", name="Filter topics")).to_have_count(0)
    expect(page.locator(".topic-row")).to_have_count(57)
