"""Whole journeys through the site, as people make them: a newcomer (with and without JavaScript, and with
the keyboard alone), an editor in the admin, and a visitor who searches.

The phone-sized journey is in test_responsive.py.
"""

import importlib
import re
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from playwright.sync_api import expect

from roadmap.models import Topic
from tests.browser.pages import ROADMAP, ROADMAP_URL, SEARCH_WORD, STAGE_URL, progress_block
from tests.factories import make_user

ROADMAP_TITLE = "Django Roadmap: From the Basics to Advanced Concepts"
STAGE = "basics-of-python"
STAGE_TITLE = "Basics of Python"
TOPICS = [
    "1.1 Variables, Data Types, and Operators",
    "1.2 Control Flow (if-else, loops)",
    "1.3 Functions and Modules",
]
NEXT_TOPIC = "1.4 Exception Handling"
NEXT_TOPIC_URL = f"{STAGE_URL}exception-handling/"
PASSWORD = "a-long-Passw0rd-for-tests"
# After each of the three ticks: the stage bar's aria-valuenow and text.
STAGE_STEPS = [("20", "20% · 1 of 5 done"), ("40", "40% · 2 of 5 done"), ("60", "60% · 3 of 5 done")]
ROADMAP_AFTER = ("5", "5% · 3 of 57 done")


def sign_up(page, username: str) -> None:
    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email address").fill(f"{username}@example.com")
    # Crispy marks required fields with "*"; exact matching keeps "Password" apart from its confirmation.
    page.get_by_role("textbox", name=re.compile(r"^Password\*?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Log out")).to_be_visible()


def log_out_and_in_again(page, username: str) -> None:
    header = page.get_by_role("banner")
    header.get_by_role("button", name="Log out").click()
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    header.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()


def open_stage_from_home(page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Learning Roadmaps", exact=True).click()
    page.get_by_role("main").get_by_role("link", name=ROADMAP_TITLE).click()
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))
    page.get_by_role("main").get_by_role("link", name=STAGE_TITLE, exact=True).click()
    expect(page).to_have_url(re.compile(rf"{STAGE_URL}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(STAGE_TITLE)


def done_button(page, topic: str):
    return page.get_by_role("button", name=f"Done: {topic}", exact=True)


def expect_bar(block, percent: str, text: str) -> None:
    expect(block.get_by_role("progressbar")).to_have_attribute("aria-valuenow", percent)
    expect(block).to_have_text(text)


def continue_on_dashboard(page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Dashboard").click()
    card = page.get_by_role("article", name=ROADMAP_TITLE)
    expect_bar(progress_block(card), *ROADMAP_AFTER)
    continue_link = card.get_by_role("link", name=re.compile("^Continue"))
    expect(continue_link).to_have_accessible_name(f"Continue: {NEXT_TOPIC}")
    expect(continue_link).to_have_attribute("href", NEXT_TOPIC_URL)
    continue_link.click()
    expect(page).to_have_url(re.compile(rf"{NEXT_TOPIC_URL}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(NEXT_TOPIC)


def topic_anchor(slug: str) -> str:
    return f"#t{Topic.objects.get(stage__roadmap__slug=ROADMAP, stage__slug=STAGE, slug=slug).pk}"


def test_newcomer_ticks_off_a_stage_and_the_bars_follow_in_place(page):
    sign_up(page, "grace")
    open_stage_from_home(page)
    page.evaluate("window.__sameDocument = true")  # gone as soon as a new document loads
    stage_bar = progress_block(page, stage=STAGE)
    expect_bar(stage_bar, "0", "0% · 0 of 5 done")

    for topic, (percent, text) in zip(TOPICS, STAGE_STEPS, strict=True):
        done_button(page, topic).click()
        expect(done_button(page, topic)).to_have_attribute("aria-pressed", "true")
        expect_bar(stage_bar, percent, text)
        expect(page.get_by_role("status")).to_have_text(f"{topic}: marked as done.")
    assert page.evaluate("window.__sameDocument === true"), "ticking a topic loaded a new page"
    expect(done_button(page, NEXT_TOPIC)).to_have_attribute("aria-pressed", "false")

    # Back to the roadmap page: never the browser's copy from before the ticks (learners' pages are no-store).
    page.go_back()
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))
    expect_bar(progress_block(page), *ROADMAP_AFTER)
    expect_bar(progress_block(page, stage=STAGE), *STAGE_STEPS[-1])

    page.reload()
    expect_bar(progress_block(page), *ROADMAP_AFTER)
    expect_bar(progress_block(page, stage=STAGE), *STAGE_STEPS[-1])
    for topic in TOPICS:
        expect(page.get_by_role("checkbox", name=f"Done: {topic}")).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"Done: {NEXT_TOPIC}")).not_to_be_checked()

    log_out_and_in_again(page, "grace")
    continue_on_dashboard(page)


def test_newcomer_without_javascript_ticks_off_a_stage_with_plain_form_posts(new_page):
    page = new_page(java_script_enabled=False)
    sign_up(page, "grace")
    open_stage_from_home(page)
    stage_bar = progress_block(page, stage=STAGE)

    slugs = ["variables-data-types-and-operators", "control-flow-if-else-loops", "functions-and-modules"]
    for topic, slug, (percent, text) in zip(TOPICS, slugs, STAGE_STEPS, strict=True):
        done_button(page, topic).click()
        # The post redirected back to the topic's place on the stage page.
        expect(page).to_have_url(re.compile(rf"{STAGE_URL}{topic_anchor(slug)}$"))
        expect(page.locator("[data-messages]")).to_have_text(f"{topic}: marked as done.")
        expect(done_button(page, topic)).to_have_attribute("aria-pressed", "true")
        expect_bar(stage_bar, percent, text)

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=ROADMAP_TITLE).click()
    expect_bar(progress_block(page), *ROADMAP_AFTER)
    expect_bar(progress_block(page, stage=STAGE), *STAGE_STEPS[-1])

    log_out_and_in_again(page, "grace")
    continue_on_dashboard(page)


def content_editors_group() -> Group:
    """The group that migration accounts/0003 creates; rerun it, since a live-server test's flush empties it."""
    migration = importlib.import_module("accounts.migrations.0003_content_editors_group")
    apps = MigrationLoader(connection).project_state(("accounts", "0003_content_editors_group")).apps
    migration.create_content_editors_group(apps, SimpleNamespace(connection=connection))
    return Group.objects.get(name="Content editors")


def test_editor_adds_a_topic_with_a_resource_and_moves_it_up(page):
    editor = make_user(username="edith", password=PASSWORD, is_staff=True)
    editor.groups.add(content_editors_group())
    page.goto("/admin/")
    page.get_by_label("Username").fill("edith")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("row", name="Topics").get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add topic")
    # Django's autocomplete widget (select2): open it, type, pick. Both roadmaps have a "Basics of Python"
    # stage and the options show the title alone; the admin lists them in roadmap order, ours first.
    page.locator(".field-stage .select2-selection").click()
    page.locator(".select2-search__field").fill(STAGE_TITLE)
    expect(page.get_by_role("option", name=STAGE_TITLE)).to_have_count(2)
    page.get_by_role("option", name=STAGE_TITLE).first.click()
    page.get_by_role("spinbutton", name="Position:").fill("6")
    # Typed, not filled: the admin derives the slug from the title on key presses.
    page.get_by_label("Title").press_sequentially("Installing Python")
    expect(page.get_by_label("Slug")).to_have_value("installing-python")
    page.get_by_label("Description").fill("Install Python 3 and check it from the command line.")

    # A new resource, from the resources inline's "+" (a popup window, as in any Django admin).
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Add another resource").first.click()
    popup = popup_info.value
    popup.get_by_label("Title").press_sequentially("Python docs: Python Setup and Usage")
    expect(popup.get_by_label("Slug")).to_have_value("python-docs-python-setup-and-usage")
    popup.get_by_label("URL").fill("https://docs.python.org/3/using/index.html")
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field-resource .select2-selection__rendered").first).to_have_text(
        re.compile("Python docs: Python Setup and Usage")
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    change_url = page.url

    page.goto(STAGE_URL)
    expect(page.get_by_role("region", name="1.6 Installing Python")).to_be_visible()
    page.goto(change_url)

    # Move it up: position 0 comes before the stage's first topic (position 1).
    page.get_by_role("spinbutton", name="Position:").fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(STAGE_URL)
    headings = page.get_by_role("main").get_by_role("heading", level=2)
    expect(headings.nth(0)).to_have_text("1.1 Installing Python")
    expect(headings.nth(1)).to_have_text("1.2 Variables, Data Types, and Operators")
    card = page.get_by_role("region", name="1.1 Installing Python")
    expect(card.get_by_role("link", name="Python docs: Python Setup and Usage")).to_have_attribute(
        "href", "https://docs.python.org/3/using/index.html"
    )
    card.get_by_role("link", name="Installing Python").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1.1 Installing Python")


def test_visitor_searches_from_the_header_and_opens_a_hit(page):
    page.goto("/")
    box = page.get_by_role("banner").locator("#site-search")
    expect(box).to_have_attribute("name", "q")
    expect(box).to_have_accessible_name(re.compile(r"\w"))
    box.fill(SEARCH_WORD)
    box.press("Enter")

    expect(page).to_have_url(re.compile(rf"/search/\?q={SEARCH_WORD}$"))
    # The topic's own hit comes first; its resources' hits link to it again further down.
    hit = page.get_by_role("main").get_by_role("link", name="Using Gunicorn and Nginx", exact=True).first
    expect(hit).to_be_visible()
    hit.click()
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}deployment/using-gunicorn-and-nginx/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Using Gunicorn and Nginx")


DESCRIBE_FOCUS = """
() => {
  const el = document.activeElement;
  const name = el.getAttribute("aria-label") || el.textContent.replace(/\\s+/g, " ").trim().slice(0, 50);
  return `<${el.localName}${el.id ? "#" + el.id : ""}> ${name}`;
}
"""


def tab_to(page, predicate_js: str, *, max_tabs: int = 200, key: str = "Tab") -> None:
    """Press Tab until the focused element satisfies ``predicate_js`` (a JavaScript function of the element).

    Already there counts: a page that autofocuses the right field needs no Tab.
    """
    matches = f"({predicate_js})(document.activeElement)"
    visited = []
    for _ in range(max_tabs):
        if page.evaluate(matches):
            return
        page.keyboard.press(key)
        visited.append(page.evaluate(DESCRIBE_FOCUS))
    if page.evaluate(matches):
        return
    raise AssertionError(
        f"{max_tabs} presses of {key} on {page.url} never focused an element matching {predicate_js}; "
        "the last stops were:\n  " + "\n  ".join(visited[-15:])
    )


def link_to(path: str) -> str:
    return f"(el) => el.localName === 'a' && el.getAttribute('href') === '{path}'"


def test_learner_does_it_all_with_the_keyboard(page):
    page.goto("/")
    tab_to(page, "(el) => el.localName === 'a' && el.textContent.trim() === 'Sign up'")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/accounts/signup/$"))
    for field, text in [
        ("id_username", "kay"),
        ("id_email", "kay@example.com"),
        ("id_password1", PASSWORD),
        ("id_password2", PASSWORD),
    ]:
        tab_to(page, f"(el) => el.id === '{field}'")
        page.keyboard.type(text)
    tab_to(page, "(el) => el.localName === 'button' && el.textContent.trim() === 'Create my account'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")

    tab_to(page, "(el) => el.localName === 'button' && el.textContent.trim() === 'Log out'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning roadmaps")
    tab_to(page, "(el) => el.localName === 'a' && el.textContent.trim() === 'Log in'")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    tab_to(page, "(el) => el.id === 'id_username'")
    page.keyboard.type("kay")
    tab_to(page, "(el) => el.id === 'id_password'")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner").get_by_role("button", name="Log out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))  # back where "Log in" was chosen: the home page

    tab_to(page, link_to(ROADMAP_URL))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))
    tab_to(page, link_to(STAGE_URL))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{STAGE_URL}$"))

    done = done_button(page, TOPICS[0])
    tab_to(page, f"(el) => el.getAttribute('aria-label') === 'Done: {TOPICS[0]}'")
    page.keyboard.press("Space")
    expect(done).to_have_attribute("aria-pressed", "true")
    expect(done).to_be_focused()
    expect_bar(progress_block(page, stage=STAGE), *STAGE_STEPS[0])

    tab_to(page, f"(el) => el.getAttribute('aria-label') === 'Done: {TOPICS[1]}'")
    page.keyboard.press("Enter")
    expect(done_button(page, TOPICS[1])).to_have_attribute("aria-pressed", "true")
    expect_bar(progress_block(page, stage=STAGE), *STAGE_STEPS[1])
