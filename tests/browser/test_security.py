"""The Content-Security-Policy in a real browser: strict, and nothing of ours trips it.

``conftest.new_page`` fails any browser test whose pages (admin and popups
included) had something blocked; this module shows that the guard works and
that the policy really is in force.
"""

from playwright.sync_api import expect

from tests.factories import make_user

PASSWORD = "correct-horse-battery-staple"

INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = true";
  document.body.append(script);
  const box = document.createElement("div");
  box.setAttribute("style", "color: red");
  document.body.append(box);
  return [window.injected === true, getComputedStyle(box).color];
}"""


def test_injected_inline_script_and_style_are_blocked_and_reported(page, blocked_by_csp):
    page.goto("/")

    ran, colour = page.evaluate(INJECT)

    assert ran is False
    assert colour != "rgb(255, 0, 0)"
    page.wait_for_timeout(100)  # console events arrive asynchronously
    assert any("inline script" in report for report in blocked_by_csp), blocked_by_csp
    assert any("inline style" in report for report in blocked_by_csp), blocked_by_csp
    blocked_by_csp.clear()  # expected here; any other test fails on them


def test_the_admin_works_under_the_policy(page):
    make_user(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    for link in ("Roadmaps", "Stages", "Topics", "Resources", "Access attempts"):
        page.goto("/admin/")
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.locator("#result_list, .paginator").first).to_be_visible()
    # A change form with inlines, the date hierarchy, filters, the theme toggle and the search box.
    page.goto("/admin/roadmap/roadmap/")
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator("#content-main form")).to_be_visible()
    page.locator("button.theme-toggle").first.click()
    page.goto("/admin/roadmap/topic/?q=queryset")
    expect(page.locator("#result_list")).to_contain_text("QuerySets")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")
