"""Helpers shared by the tests: parse pages and read them like a user would; wait for another thread."""

import time
from collections.abc import Callable

from bs4 import BeautifulSoup


def wait_for(condition: Callable[[], object], timeout: float = 3.0) -> object:
    """The condition's value once it is true, or its last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text(element) -> str:
    """The element's visible text with whitespace collapsed."""
    return " ".join(element.get_text().split())


def form_data(html: bytes) -> dict[str, str]:
    """What a browser would submit for the page's main form, unchanged."""
    form = BeautifulSoup(html, "html.parser").select_one("#content-main form")
    data: dict[str, str] = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        name, kind = field["name"], field.get("type", "")
        if field.name == "select":
            selected = field.select_one("option[selected]")
            data[name] = selected["value"] if selected else ""
        elif field.name == "textarea":
            data[name] = field.get_text()
        elif kind in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif kind != "submit":
            data[name] = field.get("value", "")
    return data


def redis_cache(location: str) -> dict:
    """CACHES for django-redis at ``location``, failing fast and swallowing errors, as in production."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "roadmap-test",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }


def page_progress(user, slug: str):
    """A roadmap's outline and the learner's progress laid over it, as the roadmap page computes them."""
    from accounts.progress import LearnerProgress
    from roadmap.progress import overlay
    from roadmap.selectors import roadmap_outline

    outline = roadmap_outline(user=user, slug=slug)
    states = LearnerProgress().topic_states(user=user, roadmap_id=outline.pk)
    return outline, overlay(
        ((stage.pk, [topic.pk for topic in stage.topic_list]) for stage in outline.stage_list), states
    )
