"""Whole pages for visitors without a login, stored per content version, revalidated with an ETag.

Only visitors who are not logged in share a copy: their pages hold nothing
private and no CSRF token (a page that needs one is not stored). Everyone
else, and any request the page does not declare (other methods, unknown query
parameters, pending messages), gets the view's own answer.
"""

from collections.abc import Callable, Iterable, Mapping
from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from pagecache.keys import TIMEOUT, make_key


def public_page(
    *,
    version: Callable[[HttpRequest], str | None],
    vary: Callable[[HttpRequest], str] = lambda request: "",
    query: Mapping[str, Iterable[str]] | None = None,
) -> Callable:
    """Serve an anonymous visitor the page stored under ``version(request)`` and ``vary(request)``.

    ``query`` maps the query parameters the page depends on to the values worth
    a copy of their own; a request with any other parameter or value (or one
    twice) is answered live and not stored, so nobody can fill the cache with
    copies of one page. ``vary`` names what else the page shows (the theme),
    normalised so that made-up cookie values share one copy.
    """
    allowed = {name: frozenset(values) for name, values in (query or {}).items()}

    def cacheable(request: HttpRequest) -> bool:
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
            return False
        if any(
            name not in allowed or len(values) != 1 or values[0] not in allowed[name]
            for name, values in request.GET.lists()
        ):
            return False
        # len() loads the pending messages without marking them as shown.
        return not len(messages.get_messages(request))

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            current = version(request) if cacheable(request) else None
            if current is None:
                return view(request, *args, **kwargs)
            key = make_key("page", request.get_host(), request.get_full_path(), vary(request), current)
            etag = f'"{key.partition(":")[2]}"'
            not_modified = get_conditional_response(request, etag=etag)
            if not_modified is not None:
                return _public(not_modified, etag)
            stored = cache.get(key)
            if stored is not None:
                content, content_type = stored
                return _public(HttpResponse(content, content_type=content_type), etag)
            response = view(request, *args, **kwargs)
            if (
                response.status_code != 200
                or response.streaming
                or response.cookies
                or b'name="csrfmiddlewaretoken"' in response.content
            ):
                return response
            cache.set(key, (response.content, response["Content-Type"]), TIMEOUT)
            return _public(response, etag)

        return wrapper

    return decorator


def _public(response: HttpResponse, etag: str) -> HttpResponse:
    """Revalidate every time: the content may change at any moment, and a 304 costs one query."""
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response
