"""On a 375 px wide phone every page type fits the screen and every control is big enough to tap.

Targets follow WCAG 2.2's 2.5.8 (Target Size, Minimum): at least 24 by 24 CSS pixels. Only controls are
measured; a text link inside a sentence is exempt, as the criterion allows. The pages it checks are saved as
screenshots, light and dark, for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Progress
from tests.browser.pages import MOBILE, ROADMAP_URL, SITE_PAGES, open_site_page, progress_block
from tests.factories import make_user

WIDTH = MOBILE["viewport"]["width"]
MIN_TARGET = 24
CONTROLS = "button, input:not([type=hidden]), select, textarea, a.btn, .nav-link, [role=checkbox]"

# A CSS path from the nearest ancestor with an id, so an offender can be found in the template.
CSS_PATH = """
(el) => {
  const parts = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    if (node.id) { parts.unshift(`#${CSS.escape(node.id)}`); break; }
    let part = node.localName + [...node.classList].slice(0, 3).map((c) => `.${CSS.escape(c)}`).join("");
    const siblings = node.parentElement ? [...node.parentElement.children] : [];
    const twins = siblings.filter((sibling) => sibling.localName === node.localName);
    if (twins.length > 1) part += `:nth-of-type(${twins.indexOf(node) + 1})`;
    parts.unshift(part);
  }
  return parts.join(" > ");
}
"""

SMALL_TARGETS = f"""
([scope, selector, minimum]) => {{
  const cssPath = {CSS_PATH};
  const name = (el) =>
    el.getAttribute("aria-label") || [...(el.labels || [])].map((label) => label.textContent).join(" ") ||
    el.textContent || el.value || "";
  return [...document.querySelector(scope).querySelectorAll(selector)]
    .filter((el) => el.checkVisibility({{ visibilityProperty: true }}))
    .map((el) => ({{ el, box: el.getBoundingClientRect() }}))
    // 1 by 1 px is a visually hidden control (Bootstrap's .visually-hidden): its label is the target.
    .filter(({{ box }}) => box.width > 1 || box.height > 1)
    .filter(({{ box }}) => box.width < minimum || box.height < minimum)
    .map(({{ el, box }}) => ({{
      path: cssPath(el),
      name: name(el).replace(/\\s+/g, " ").trim().slice(0, 60),
      width: Math.round(box.width * 10) / 10,
      height: Math.round(box.height * 10) / 10,
    }}));
}}
"""

# The innermost elements that stick out to the right: what to fix when the page scrolls sideways.
OVERFLOW = f"""
(width) => {{
  const cssPath = {CSS_PATH};
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => el.checkVisibility() && el.getBoundingClientRect().right > width + 0.5);
  return {{
    scrollWidth: document.documentElement.scrollWidth,
    culprits: wide
      .filter((el) => !wide.some((other) => other !== el && el.contains(other)))
      .slice(0, 10)
      .map((el) => `${{cssPath(el)}} (right edge at ${{Math.round(el.getBoundingClientRect().right)}} px)`),
  }};
}}
"""


def overflow_problems(page) -> list[str]:
    overflow = page.evaluate(OVERFLOW, WIDTH)
    if overflow["scrollWidth"] <= WIDTH:
        return []
    culprits = "\n".join(f"    {culprit}" for culprit in overflow["culprits"])
    return [f"scrolls sideways: {overflow['scrollWidth']} px wide on a {WIDTH} px screen\n{culprits}"]


def target_problems(page, scope: str = "body") -> list[str]:
    small = page.evaluate(SMALL_TARGETS, [scope, CONTROLS, MIN_TARGET])
    if not small:
        return []
    lines = "\n".join(f"    {s['width']}x{s['height']} px  {s['name']!r}  at {s['path']}" for s in small)
    return [f"{len(small)} control(s) smaller than {MIN_TARGET}x{MIN_TARGET} CSS px:\n{lines}"]


@pytest.mark.parametrize("site_page", SITE_PAGES, ids=str)
def test_page_fits_a_phone_with_tappable_controls(new_page, site_page, site_learner, log_in_as, screenshot):
    page = new_page(**MOBILE, color_scheme="light")
    open_site_page(page, site_page, log_in_as=log_in_as, learner=site_learner)
    screenshot(page, site_page.name, scheme="light", device="mobile")
    overflow = overflow_problems(page)
    problems = overflow + target_problems(page)

    menu = page.locator(".navbar-toggler")
    if menu.is_visible():
        # The collapsed header menu has controls of its own: measure them too.
        menu.tap()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".navbar-collapse.show")).to_be_visible()
        open_menu = target_problems(page, scope=".navbar-collapse.show")
        if not overflow:
            open_menu = overflow_problems(page) + open_menu
        problems += [f"in the open menu, {problem}" for problem in open_menu]

    page.emulate_media(color_scheme="dark")
    page.reload()
    screenshot(page, site_page.name, scheme="dark", device="mobile")
    problems += [f"in the dark theme, {problem}" for problem in overflow_problems(page)]

    assert not problems, f"{site_page.name} ({site_page.path}) at {WIDTH} px:\n" + "\n".join(problems)


def test_learner_on_a_phone_finds_a_stage_and_ticks_a_topic(new_page, log_in_as):
    page = new_page(**MOBILE)
    learner = make_user(username="grace")
    log_in_as(page, learner)
    page.goto("/")

    page.get_by_role("main").get_by_role("link", name=re.compile("^Django Roadmap")).tap()
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))
    page.get_by_role("link", name="Basics of Python", exact=True).last.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Basics of Python")

    done = page.get_by_role("button", name="Done: 1.1 Variables, Data Types, and Operators")
    done.scroll_into_view_if_needed()
    done.tap()
    expect(done).to_have_attribute("aria-pressed", "true")
    expect(progress_block(page, stage="basics-of-python")).to_contain_text("20% · 1 of 5 done")
    assert Progress.objects.get(user=learner).topic.slug == "variables-data-types-and-operators"
