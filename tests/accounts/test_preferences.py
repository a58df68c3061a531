"""The colour theme: a cookie the server renders, so the choice holds without JavaScript."""

import pytest
from django.test import Client

from tests.helpers import soup_of

pytestmark = pytest.mark.django_db

THEME_URL = "/theme/"


def html_tag(client, url="/"):
    return soup_of(client.get(url)).html


def test_default_theme_follows_the_system(client):
    html = html_tag(client)
    assert html["data-theme-preference"] == "auto"
    assert not html.has_attr("data-bs-theme")  # theme.js applies prefers-color-scheme before paint


@pytest.mark.parametrize("choice", ["light", "dark"])
def test_choosing_a_theme_sets_a_long_lived_cookie_and_returns_to_the_page(client, choice):
    response = client.post(THEME_URL, {"theme": choice, "next": "/roadmaps/django-roadmap/"})

    assert response.status_code == 302
    assert response["Location"] == "/roadmaps/django-roadmap/"
    cookie = response.cookies["theme"]
    assert cookie.value == choice
    assert cookie["max-age"] == 60 * 60 * 24 * 365
    assert cookie["samesite"] == "Lax"
    html = html_tag(client)
    assert html["data-bs-theme"] == choice
    assert html["data-theme-preference"] == choice


def test_header_toggle_offers_the_other_theme(client):
    client.cookies["theme"] = "dark"
    toggle = soup_of(client.get("/")).select_one("header [data-theme-toggle]")
    assert toggle["value"] == "light"
    assert "Switch to light theme" in toggle.get_text()


def test_footer_choices_mark_the_current_one_pressed(client):
    client.cookies["theme"] = "light"
    buttons = soup_of(client.get("/")).select("footer [data-theme-choice]")
    assert {button["value"]: button["aria-pressed"] for button in buttons} == {
        "auto": "false",
        "light": "true",
        "dark": "false",
    }


def test_back_to_auto_drops_the_explicit_theme(client):
    client.post(THEME_URL, {"theme": "dark"})
    client.post(THEME_URL, {"theme": "auto"})
    assert not html_tag(client).has_attr("data-bs-theme")


def test_unknown_theme_is_refused_with_a_message(client):
    response = client.post(THEME_URL, {"theme": "purple"})
    assert response.status_code == 400
    assert "choose auto, light or dark" in response.content.decode()
    assert "theme" not in response.cookies


def test_forged_cookie_value_falls_back_to_auto(client):
    client.cookies["theme"] = '"><script>'
    html = html_tag(client)
    assert html["data-theme-preference"] == "auto"


def test_next_pointing_elsewhere_is_ignored(client):
    response = client.post(THEME_URL, {"theme": "dark", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_theme_form_needs_no_csrf_token_and_only_accepts_post():
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(THEME_URL, {"theme": "dark"}).status_code == 302
    assert strict.get(THEME_URL).status_code == 405
