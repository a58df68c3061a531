"""The colour theme a visitor chose: a cookie, so it works for everyone and without JavaScript.

``auto`` (the default) follows the operating system's ``prefers-color-scheme``;
``static/js/theme.js`` applies it before the page paints. An explicit ``light``
or ``dark`` is also rendered by the server into ``<html data-bs-theme>``, so
the choice holds with JavaScript off.
"""

from django.http import HttpRequest

THEME_COOKIE = "theme"
THEMES = ("auto", "light", "dark")
THEME_COOKIE_MAX_AGE = 60 * 60 * 24 * 365


def theme_of(request: HttpRequest) -> str:
    value = request.COOKIES.get(THEME_COOKIE, "auto")
    return value if value in THEMES else "auto"


def theme(request: HttpRequest) -> dict:
    """Context processor: ``theme`` is "auto", "light" or "dark"."""
    return {"theme": theme_of(request)}
