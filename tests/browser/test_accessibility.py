"""Every page type passes axe-core (WCAG 2.2 AA and best practice) in the light and the dark theme, and has
a sound structure: one <h1>, no skipped heading levels, a page language, labelled fields and a skip link first.

One test per page type checks both themes (the database is reset once, not twice), and reports every problem
it finds rather than only the first. The pages it checks are saved as screenshots for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.axe import axe_problems
from tests.browser.pages import SITE_PAGES, open_site_page

THEME = """
() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
  const linear = (c) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return {
    attribute: document.documentElement.getAttribute("data-bs-theme"),
    background: getComputedStyle(document.body).backgroundColor,
    luminance: 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b),
  };
}
"""

# What assistive technology gets: elements that are rendered (visually hidden ones included) and not aria-hidden.
STRUCTURE = """
() => {
  const exposed = (el) => el.checkVisibility({ visibilityProperty: true }) && !el.closest("[aria-hidden='true']");
  const describe = (el) => {
    const id = el.id ? `#${el.id}` : "";
    const name = el.getAttribute("name") ? `[name="${el.getAttribute("name")}"]` : "";
    const type = el.getAttribute("type") ? `[type="${el.getAttribute("type")}"]` : "";
    return `${el.localName}${id}${name}${type}`;
  };
  const text = (el) => (el.textContent || "").replace(/\\s+/g, " ").trim();

  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6, [role='heading']")]
    .filter(exposed)
    .map((el) => ({
      level: Number(el.getAttribute("aria-level")) || (/^h[1-6]$/.test(el.localName) ? Number(el.localName[1]) : 2),
      text: text(el).slice(0, 80),
    }));

  const unlabelled = [...document.querySelectorAll("input, select, textarea")]
    .filter((el) => !["hidden", "submit", "button", "reset", "image"].includes(el.type))
    .filter(exposed)
    .filter((el) => {
      const labelledBy = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
        .map((id) => document.getElementById(id)).filter(Boolean).map(text).join(" ");
      const labels = [...el.labels].map(text).join(" ");
      return !(labelledBy.trim() || (el.getAttribute("aria-label") || "").trim() || labels.trim());
    })
    .map(describe);

  return { lang: document.documentElement.getAttribute("lang"), headings, unlabelled };
}
"""

FOCUSED = """
() => {
  const el = document.activeElement;
  const href = el.getAttribute("href") || "";
  const target = href.startsWith("#") ? document.getElementById(href.slice(1)) : null;
  const box = el.getBoundingClientRect();
  return {
    html: el.outerHTML.slice(0, 200),
    isLink: el.localName === "a",
    text: (el.textContent || "").trim(),
    href,
    targetInMain: Boolean(target && target.closest("main")),
    visible: box.width > 1 && box.height > 1,
  };
}
"""


def theme_problems(page, scheme: str) -> list[str]:
    theme = page.evaluate(THEME)
    problems = []
    if scheme == "dark":
        if theme["attribute"] != "dark":
            problems.append(f"dark: <html data-bs-theme> is {theme['attribute']!r} under prefers-color-scheme: dark")
        if theme["luminance"] > 0.2:
            problems.append(f"dark: the page background is {theme['background']}, not dark")
    else:
        if theme["attribute"] == "dark":
            problems.append('light: <html data-bs-theme="dark"> under prefers-color-scheme: light')
        if theme["luminance"] < 0.5:
            problems.append(f"light: the page background is {theme['background']}, not light")
    return problems


def structure_problems(page) -> list[str]:
    structure = page.evaluate(STRUCTURE)
    problems = []
    if not (structure["lang"] or "").strip():
        problems.append("<html> has no lang attribute")

    headings = structure["headings"]
    outline = "\n".join(f"    {'  ' * (h['level'] - 1)}h{h['level']} {h['text']}" for h in headings)
    h1_count = sum(h["level"] == 1 for h in headings)
    if h1_count != 1:
        problems.append(f"{h1_count} level-1 headings, expected exactly one. Outline:\n{outline}")
    skips = [
        f"h{heading['level']} {heading['text']!r} after {f'h{previous}' if previous else 'the start of the page'}"
        for previous, heading in zip([0, *(h["level"] for h in headings)], headings, strict=False)
        if heading["level"] > previous + 1
    ]
    if skips:
        problems.append(f"headings skip a level: {'; '.join(skips)}. Outline:\n{outline}")

    if structure["unlabelled"]:
        problems.append(f"form fields without a label: {', '.join(structure['unlabelled'])}")

    # Tab from the very top of the page, whatever has focus now (a login form autofocuses its first field).
    page.evaluate(
        "() => { document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex'); }"
    )
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    if not (first["isLink"] and "skip" in first["text"].lower() and first["targetInMain"]):
        problems.append(f"the first Tab stop is not a skip link to (something in) <main>: {first['html']}")
    elif not first["visible"]:
        problems.append(f"the skip link stays invisible when focused: {first['html']}")
    return problems


@pytest.mark.parametrize("site_page", SITE_PAGES, ids=str)
def test_page_is_accessible_in_light_and_dark_theme(page, site_page, site_learner, log_in_as, screenshot):
    problems = []
    page.emulate_media(color_scheme="light")
    open_site_page(page, site_page, log_in_as=log_in_as, learner=site_learner)
    screenshot(page, site_page.name, scheme="light", device="desktop")
    problems += theme_problems(page, "light")
    problems += axe_problems(page, f"{site_page.name}, light theme")
    problems += structure_problems(page)

    page.emulate_media(color_scheme="dark")
    page.reload()
    screenshot(page, site_page.name, scheme="dark", device="desktop")
    problems += theme_problems(page, "dark")
    problems += axe_problems(page, f"{site_page.name}, dark theme")

    assert not problems, f"{len(problems)} problem(s) on {site_page.name} ({site_page.path}):\n" + "\n".join(problems)


def test_form_errors_are_announced_linked_and_accessible(new_page):
    page = new_page(color_scheme="dark")
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Create my account").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()  # read out first, before the form
    expect(summary).to_contain_text("There are 3 problems")
    summary.get_by_role("link", name="Email address: Enter a valid email address.").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    expect(page.get_by_label("Email address")).to_have_accessible_description(
        re.compile("Enter a valid email address.")
    )
    assert axe_problems(page, "signup with errors") == []
