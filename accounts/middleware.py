"""Responses for a logged-in learner are never stored by browsers or proxies.

Their pages show the learner's own progress, which changes with every tick:
a copy from the HTTP cache (which browsers use for Back and Forward however old
it is) would show stale percentages, and a shared cache must never hold them.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
