"""A learner tracks progress in a real browser: with JavaScript (in place) and without (plain form posts)."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from roadmap.models import Roadmap, Stage, Topic
from tests.curriculum import load_curriculum

ROADMAP = "django-roadmap"
ROADMAP_URL = f"/roadmaps/{ROADMAP}/"
STAGE = "basics-of-python"
STAGE_URL = f"{ROADMAP_URL}{STAGE}/"
TOPIC_1_1 = "1.1 Variables, Data Types, and Operators"
TOPIC_1_2 = "1.2 Control Flow (if-else, loops)"
TOPIC_1_3 = "1.3 Functions and Modules"
PASSWORD = "a-long-Passw0rd-for-tests"


def create_learner(username="ada"):
    return get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)


def log_in(page, username="ada", next_url=ROADMAP_URL):
    """Log in through the real login form and land on ``next_url``."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def roadmap_bar(page):
    roadmap_id = Roadmap.objects.get(slug=ROADMAP).pk
    return page.locator(f'[data-progress="roadmap-{roadmap_id}"]')


def stage_bar(page, stage=STAGE):
    stage_id = Stage.objects.get(roadmap__slug=ROADMAP, slug=stage).pk
    return page.locator(f'[data-progress="stage-{stage_id}"]')


def topic_id(slug):
    return Topic.objects.get(stage__roadmap__slug=ROADMAP, slug=slug).pk


def tick(page, topic):
    return page.get_by_role("checkbox", name=f"Done: {topic}")


def status_button(page, label, topic):
    # Chromium names these "Done : 4.2 Title" (the visually hidden part is laid out as a block), hence the "\s?".
    return page.get_by_role("button", name=re.compile(rf"^{label}\s?: {re.escape(topic)}$"))


def mark_page(page):
    """Set a marker that only survives as long as no new document is loaded."""
    page.evaluate("window.__marker = 'same document'")


def assert_same_document(page):
    assert page.evaluate("window.__marker") == "same document"


@pytest.fixture
def learner(transactional_db):
    return create_learner()


@pytest.fixture
def learner_page(page, learner):
    log_in(page)
    return page


@pytest.fixture
def no_js_page(browser, live_server, transactional_db):
    load_curriculum()
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()


def test_new_learner_signs_up_and_ticks_topics_in_place(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email address").fill("grace@example.com")
    # Crispy marks required fields with "*"; exact matching keeps "Password" apart from its confirmation.
    page.get_by_role("textbox", name=re.compile(r"^Password\*?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("[data-messages]")).to_contain_text("Welcome, grace!")

    page.goto(ROADMAP_URL)
    mark_page(page)
    first, second = tick(page, TOPIC_1_1), tick(page, TOPIC_1_2)
    expect(first).to_have_attribute("aria-checked", "false")
    first.click()
    expect(first).to_have_attribute("aria-checked", "true")
    live_region = page.get_by_role("status")
    expect(live_region).to_have_text(f"{TOPIC_1_1}: marked as done.")
    second.click()
    expect(second).to_be_checked()
    expect(live_region).to_have_text(f"{TOPIC_1_2}: marked as done.")

    bar = roadmap_bar(page)
    expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "3")
    expect(bar).to_have_text("3% · 2 of 57 done")
    expect(stage_bar(page).get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    expect(stage_bar(page)).to_have_text("40% · 2 of 5 done")
    expect(tick(page, TOPIC_1_3)).not_to_be_checked()
    assert_same_document(page)

    page.reload()
    expect(tick(page, TOPIC_1_1)).to_be_checked()
    expect(tick(page, TOPIC_1_2)).to_be_checked()
    expect(tick(page, TOPIC_1_3)).not_to_be_checked()
    expect(roadmap_bar(page)).to_have_text("3% · 2 of 57 done")
    expect(stage_bar(page)).to_have_text("40% · 2 of 5 done")


def test_without_javascript_the_checkbox_posts_and_comes_back(no_js_page):
    page = no_js_page
    create_learner()
    log_in(page)
    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))

    tick(page, TOPIC_1_1).click()

    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}#t{topic_id('variables-data-types-and-operators')}$"))
    expect(page.locator("[data-messages] .alert-success")).to_have_text(f"{TOPIC_1_1}: marked as done.")
    expect(tick(page, TOPIC_1_1)).to_have_attribute("aria-checked", "true")
    expect(roadmap_bar(page)).to_have_text("1% · 1 of 57 done")
    expect(stage_bar(page)).to_have_text("20% · 1 of 5 done")


def test_without_javascript_the_stage_buttons_post_and_come_back(no_js_page):
    page = no_js_page
    create_learner()
    log_in(page, next_url=STAGE_URL)

    status_button(page, "In progress", TOPIC_1_2).click()
    expect(page).to_have_url(re.compile(rf"{STAGE_URL}#t{topic_id('control-flow-if-else-loops')}$"))
    expect(page.locator("[data-messages]")).to_have_text(f"{TOPIC_1_2}: marked as in progress.")
    expect(status_button(page, "In progress", TOPIC_1_2)).to_have_attribute("aria-pressed", "true")

    status_button(page, "Skip", TOPIC_1_3).click()
    expect(page).to_have_url(re.compile(rf"{STAGE_URL}#t{topic_id('functions-and-modules')}$"))
    expect(page.locator("[data-messages]")).to_have_text(f"{TOPIC_1_3}: skipped.")
    expect(status_button(page, "Skip", TOPIC_1_3)).to_have_attribute("aria-pressed", "true")
    expect(status_button(page, "In progress", TOPIC_1_2)).to_have_attribute("aria-pressed", "true")

    bar = stage_bar(page)
    expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "20")
    expect(bar).to_have_text("20% · 0 of 5 done · 1 in progress · 1 skipped")


def test_stage_page_buttons_update_in_place(learner_page):
    page = learner_page
    page.goto(STAGE_URL)
    mark_page(page)
    labels = ["Done", "In progress", "Skip"]
    buttons = {label: status_button(page, label, TOPIC_1_1) for label in [*labels, "Reset"]}
    badge = page.locator(f"#t{topic_id('variables-data-types-and-operators')} [data-status-badge]")
    bar = stage_bar(page)
    expect(badge).to_have_text("○ Not started")

    steps = [
        ("Done", "✓ Done", "20", "20% · 1 of 5 done"),
        ("In progress", "◐ In progress", "0", "0% · 0 of 5 done · 1 in progress"),
        ("Skip", "↷ Skipped", "20", "20% · 0 of 5 done · 1 skipped"),
    ]
    for pressed, badge_text, percent, text in steps:
        buttons[pressed].click()
        for label in labels:
            expect(buttons[label]).to_have_attribute("aria-pressed", "true" if label == pressed else "false")
        expect(badge).to_have_text(badge_text)
        expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuenow", percent)
        expect(bar).to_have_text(text)

    buttons["Reset"].click()
    expect(bar).to_have_text("0% · 0 of 5 done")
    expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    for label in labels:
        expect(buttons[label]).to_have_attribute("aria-pressed", "false")
    expect(badge).to_have_text("○ Not started")
    expect(page.get_by_role("status")).to_have_text(f"{TOPIC_1_1}: reset to not started.")
    assert_same_document(page)


def test_topic_page_status_and_escaped_note(learner_page):
    page = learner_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{STAGE_URL}variables-data-types-and-operators/")

    mark_page(page)
    status_button(page, "In progress", TOPIC_1_1).click()
    expect(status_button(page, "In progress", TOPIC_1_1)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-status-badge]")).to_have_text("◐ In progress")
    expect(page.get_by_role("status")).to_have_text(f"{TOPIC_1_1}: marked as in progress.")
    status_button(page, "Done", TOPIC_1_1).click()
    expect(status_button(page, "Done", TOPIC_1_1)).to_have_attribute("aria-pressed", "true")
    expect(status_button(page, "In progress", TOPIC_1_1)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-status-badge]")).to_have_text("✓ Done")
    assert_same_document(page)

    note = 'Tricky: </textarea><script>alert(1)</script> & "quotes"'
    page.get_by_label("Your private note").fill(note)
    page.get_by_role("button", name="Save note").click()

    expect(page.get_by_role("status")).to_have_text("Your note was saved.")
    expect(page.get_by_label("Your private note")).to_have_value(note)
    expect(page.locator("#note script")).to_have_count(0)
    # The status survived the note's full-page post.
    expect(page.locator("[data-status-badge]")).to_have_text("✓ Done")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    notes = page.get_by_role("region", name="My notes")
    expect(notes.get_by_role("link", name="Variables, Data Types, and Operators")).to_be_visible()
    expect(notes.locator(".note-text")).to_have_text(note)
    expect(notes.locator("script")).to_have_count(0)
    assert dialogs == []


def test_dashboard_matches_roadmap_and_continues_at_first_unfinished_topic(learner_page):
    page = learner_page
    page.goto(ROADMAP_URL)
    for topic in (TOPIC_1_1, TOPIC_1_2):
        tick(page, topic).click()
        expect(tick(page, topic)).to_be_checked()
    expect(roadmap_bar(page)).to_have_text("3% · 2 of 57 done")
    percent = roadmap_bar(page).get_by_role("progressbar").get_attribute("aria-valuenow")
    first_open = page.locator('[role="checkbox"][aria-checked="false"]').first.text_content()
    expected_next = first_open.removeprefix("Done: ")
    assert expected_next == TOPIC_1_3

    page.get_by_role("link", name="Dashboard").click()
    card = page.get_by_role("article", name="Django Roadmap: From the Basics to Advanced Concepts")
    expect(roadmap_bar(card).get_by_role("progressbar")).to_have_attribute("aria-valuenow", percent)
    expect(roadmap_bar(card)).to_have_text("3% · 2 of 57 done")
    card.get_by_role("link", name=f"Continue: {expected_next}").click()

    expect(page).to_have_url(re.compile(rf"{STAGE_URL}functions-and-modules/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(expected_next)


def test_anonymous_visitor_logs_in_and_comes_back_to_the_roadmap(page):
    create_learner()
    page.goto(ROADMAP_URL)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    log_in_link = page.get_by_role("main").get_by_role("link", name="Log in", exact=True)
    expect(log_in_link).to_have_attribute("href", f"/accounts/login/?next={ROADMAP_URL}")

    log_in_link.click()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(rf"{ROADMAP_URL}$"))
    expect(page.get_by_role("checkbox")).to_have_count(57)
    expect(roadmap_bar(page)).to_have_text("0% · 0 of 57 done")


def test_checkbox_toggles_from_the_keyboard(learner_page):
    page = learner_page
    page.goto(ROADMAP_URL)
    page.locator(f"#stage-{STAGE}-heading a").focus()

    page.keyboard.press("Tab")
    first = tick(page, TOPIC_1_1)
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    expect(first).to_be_focused()

    page.keyboard.press("Tab")  # the topic's link
    page.keyboard.press("Tab")
    second = tick(page, TOPIC_1_2)
    expect(second).to_be_focused()
    page.keyboard.press("Enter")
    expect(second).to_be_checked()
    expect(roadmap_bar(page)).to_have_text("3% · 2 of 57 done")

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).not_to_be_checked()
    expect(roadmap_bar(page)).to_have_text("1% · 1 of 57 done")


def test_table_of_contents_and_whats_left_count_follow_ticks_in_place(learner_page):
    page = learner_page
    page.goto(ROADMAP_URL)
    mark_page(page)
    toc_entry = page.get_by_role("navigation", name="Stages").get_by_role("link", name=re.compile("^1\\. Basics"))
    left = page.get_by_role("navigation", name="Filter topics").get_by_role("link", name=re.compile("what's left"))
    expect(toc_entry).to_have_accessible_name("1. Basics of Python 0/5 finished")
    expect(left).to_have_accessible_name("Only what's left 57 topics")

    tick(page, TOPIC_1_1).click()
    expect(toc_entry).to_have_accessible_name("1. Basics of Python 1/5 finished")
    expect(left).to_have_accessible_name("Only what's left 56 topics")

    for number in range(2, 6):
        page.get_by_role("checkbox", name=re.compile(rf"^Done: 1\.{number} ")).click()
    expect(toc_entry).to_have_accessible_name("1. Basics of Python , finished")
    expect(toc_entry.locator(".toc-count")).to_have_class(re.compile("is-complete"))
    expect(left).to_have_accessible_name("Only what's left 52 topics")
    assert_same_document(page)
    page.reload()
    expect(toc_entry).to_have_accessible_name("1. Basics of Python , finished")
