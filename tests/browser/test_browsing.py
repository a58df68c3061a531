"""A learner browses from the home page down to a topic in a real browser."""

import re

from playwright.sync_api import expect


def test_learner_browses_home_roadmap_stage_topic(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning roadmaps")
    page.get_by_role("link", name="Mastering Django").first.click()

    expect(page).to_have_url(re.compile(r"/roadmaps/mastering-django/$"))
    expect(page.locator(".stage-card")).to_have_count(10)
    page.get_by_role("link", name="Django Basics", exact=True).last.click()

    expect(page).to_have_url(re.compile(r"/roadmaps/mastering-django/django-basics/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Django Basics")
    page.get_by_role("link", name="URL Routing").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("2.4 URL Routing")
    expect(page.get_by_role("link", name=re.compile("Django docs: URL dispatcher"))).to_be_visible()
    page.get_by_role("link", name=re.compile("^Next topic")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2.5 Views")


def test_styles_load_from_static(page):
    page.goto("/roadmaps/django-roadmap/")
    # Bootstrap's stylesheet is applied: the body font is its system font stack, not the browser default.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font
    assert page.evaluate("document.styleSheets.length") == 2


def test_skip_link_moves_focus_to_main_content(page):
    page.goto("/roadmaps/django-roadmap/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


def test_unknown_page_shows_the_styled_404(page):
    response = page.goto("/roadmaps/no-such-roadmap/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
