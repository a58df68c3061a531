"""Caching that is never stale: rendered curriculum keyed by the content version.

Every cache key here embeds the current ``ContentVersion.value`` (one
primary-key query per request, remembered on the request), and, for a
learner's own pages, the learner's ``state_version`` (on the user row that
authentication loads anyway). Any change to the curriculum or to the learner's
progress or notes gives those a new value in the same transaction
(``roadmap/signals.py``, ``accounts/signals.py``), so the next request looks
under a new key and renders afresh; old entries simply expire. Because the
versions live in the database, this holds across processes and app servers
whatever cache backend is configured, and through a Redis restart or outage.

Staff see unpublished roadmaps and edit the content: their pages are never
cached. Anonymous pages carry no CSRF token or per-visitor state, so they are
cached whole (per theme) with an ETag; learners' pages cache only the
curriculum part, and the page around it (header, messages, the CSRF-bearing
forms) is rendered for every request.
"""

import hashlib
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe

from roadmap.models import ContentVersion

# Rendered pages change with the content version, which also bounds their life;
# the timeout only evicts entries nobody asks for any more.
TIMEOUT = 60 * 60 * 24


def content_version(request: HttpRequest | None = None) -> str | None:
    """The curriculum's current version (1 query, once per request); None if the row is missing."""
    if request is not None and hasattr(request, "_content_version"):
        return request._content_version
    version = ContentVersion.objects.filter(pk=1).values_list("value", flat=True).first()
    if request is not None:
        request._content_version = version
    return version


def content_changed() -> None:
    """Give the content a new version (call inside the transaction that changes it)."""
    value = uuid.uuid4().hex
    if not ContentVersion.objects.filter(pk=1).update(value=value):
        ContentVersion.objects.update_or_create(pk=1, defaults={"value": value})


def viewer_key(request: HttpRequest) -> str | None:
    """Who the page is rendered for: "anon", "<id>.<state version>", or None (staff: never cached)."""
    user = request.user
    if not user.is_authenticated:
        return "anon"
    if user.is_staff:
        return None
    return f"{user.pk}.{user.state_version}"


def _key(*parts: str) -> str:
    # Slugs and paths are bounded by the URL patterns; hash them anyway so any
    # cache backend accepts the key.
    return "page:" + hashlib.blake2b(":".join(parts).encode(), digest_size=16).hexdigest()


def cached_fragment(request: HttpRequest, name: str, build: Callable[[], Any]) -> Any:
    """``build()``'s result, cached for this viewer and content version.

    ``build`` runs the selectors and renders; an exception in it (a 404)
    caches nothing.
    """
    version, viewer = content_version(request), viewer_key(request)
    if version is None or viewer is None:
        return build()
    key = _key("fragment", name, version, viewer)
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, TIMEOUT)
    return value


# What {% csrf_token %} writes into a cacheable fragment; replaced by the
# request's own (masked) token when the page is served.
CSRF_PLACEHOLDER = "csrf-token-placeholder-9f1c4e"


def render_fragment(template_name: str, context: dict, request: HttpRequest) -> SafeString:
    """Render a part of a page that may be cached and served to later requests of the same viewer.

    No context processors run (nothing request-specific beyond what is passed
    may leak in): the template gets ``request`` and ``user``, and a placeholder
    as its CSRF token.
    """
    return render_to_string(
        template_name, {**context, "request": request, "user": request.user, "csrf_token": CSRF_PLACEHOLDER}
    )


def with_csrf_token(request: HttpRequest, html: str) -> SafeString:
    """A cached fragment with this request's CSRF token in its forms."""
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    return mark_safe(html)  # rendered, and escaped, by a template


def anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Cache a public page whole for anonymous visitors, with an ETag for conditional GETs.

    The key is the path, the query string, the theme cookie and the content
    version. Responses that are not a plain 200, requests with pending
    messages, and anything but GET or HEAD go to the view.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated or _has_messages(request):
            return view(request, *args, **kwargs)
        version = content_version(request)
        if version is None:
            return view(request, *args, **kwargs)
        theme = request.COOKIES.get("theme", "")
        key = _key("page", request.get_full_path(), theme, version)
        etag = f'"{key[5:]}"'
        if etag in _if_none_match(request):
            response = HttpResponse(status=304)
        else:
            cached = cache.get(key)
            if cached is None:
                response = view(request, *args, **kwargs)
                # Never store a page with a CSRF token or a cookie of its own in it.
                if (
                    response.status_code != 200
                    or response.streaming
                    or response.cookies
                    or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                ):
                    return response
                cache.set(key, (response.content, response["Content-Type"]), TIMEOUT)
            else:
                content, content_type = cached
                response = HttpResponse(content, content_type=content_type)
        response["ETag"] = etag
        # Revalidate every time: the content may change at any moment, and a 304 costs one query.
        response["Cache-Control"] = "no-cache"
        patch_vary_headers(response, ("Cookie",))
        return response

    return wrapper


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _has_messages(request: HttpRequest) -> bool:
    # len() loads pending messages without marking them as shown.
    storage = messages.get_messages(request)
    return bool(len(storage))
