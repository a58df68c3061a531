"""Fragments: rendered once per key, filled per request, never fooled by what the database holds."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from pagecache import CSRF_SLOT, fragment, make_key
from pagecache.fragments import slot

TEMPLATE = (
    "{% load pagecache %}<ol>{% for item in items %}<li{% slot 'row' item.id %}>{{ item.title }}</li>{% endfor %}"
    "</ol><form>{% csrf_token %}</form>"
)


@pytest.fixture
def template_name(settings, tmp_path):
    (tmp_path / "fragment.html").write_text(TEMPLATE, encoding="utf-8")
    # Django's setting_changed signal rebuilds the template engines for the new DIRS.
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    return "fragment.html"


def build(items, calls):
    def run(slot):
        calls.append(1)
        return {"items": items}, {"ids": [item["id"] for item in items]}

    return run


def request():
    return RequestFactory().get("/")


def test_a_fragment_is_rendered_once_per_key_and_filled_per_request(template_name):
    calls = []
    items = [{"id": 1, "title": "One"}, {"id": 2, "title": "Two"}]
    key = make_key("test", "v1")

    first = fragment(key, template_name, build(items, calls))
    second = fragment(key, template_name, build(items, calls))

    assert calls == [1], "the second request found the stored fragment"
    assert second.data == {"ids": [1, 2]}
    html = second.fill(request(), {"row:1": ' data-status="done"'})
    assert html.startswith('<ol><li data-status="done">One</li><li>Two</li></ol>')
    assert first.parts[1::2] == ("row:1", "row:2", CSRF_SLOT)


def test_each_fill_gets_the_requests_own_csrf_token(template_name):
    stored = fragment(make_key("test", "csrf"), template_name, build([], []))

    one, two = (stored.fill(request(), {}) for _ in range(2))

    assert 'name="csrfmiddlewaretoken" value="' in one
    assert one != two, "each request gets its own token"
    assert "\ue000" not in one


def test_text_from_the_database_cannot_pose_as_a_slot(template_name):
    """A title holding the marker characters stays text: slot markers carry a random nonce."""
    forged = slot("0000000000000000", CSRF_SLOT) + "\ue000row:1\ue001"
    stored = fragment(make_key("test", "forged"), template_name, build([{"id": 1, "title": forged}], []))

    html = stored.fill(request(), {"row:1": " hidden"})

    assert forged in html
    assert stored.parts[1::2] == ("row:1", CSRF_SLOT)


def test_without_a_key_nothing_is_stored(template_name):
    calls = []
    for _ in range(2):
        fragment(None, template_name, build([], calls))
    assert calls == [1, 1]
    assert not cache.get(make_key("test", "None"))


def test_build_can_place_a_slot_in_a_value(template_name, settings, tmp_path):
    """A form field's initial value can be a slot: the marker passes through escaping untouched."""
    (tmp_path / "field.html").write_text("<textarea>{{ text }}</textarea><p>{{ text }}</p>", encoding="utf-8")

    stored = fragment(make_key("test", "value"), "field.html", lambda slot: ({"text": slot("note")}, None))

    html = stored.fill(request(), {"note": "&lt;b&gt;"})
    assert html == "<textarea>&lt;b&gt;</textarea><p>&lt;b&gt;</p>"
