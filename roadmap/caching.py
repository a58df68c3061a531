"""Caching that is never stale: whole pages keyed by the content version and the viewer's state.

Every cache key here embeds the current ``ContentVersion.value`` (one
primary-key query per request, remembered on the request) and, for a learner,
their ``state_version`` (on the user row that authentication loads anyway).
Any change to the curriculum, or to the learner's progress or notes, gives
those a new value in the same transaction (``roadmap/signals.py``,
``accounts/signals.py``), so the next request looks under a new key and
renders afresh; old entries just expire. The versions live in the database, so
this holds across processes and app servers whatever the cache backend, and
through a Redis restart or outage.

A cached page is the one the view rendered, with a placeholder where its CSRF
tokens go; each response gets this request's own freshly masked token (so the
BREACH mitigation of masking is kept). Pages are cached per path and query,
theme and viewer: anonymous visitors share one copy (with an ETag for
conditional GETs), each learner has their own. Never cached: staff (they see
drafts and edit content), requests with messages waiting to be shown, query
parameters the view does not declare, and anything but a plain 200.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers

from roadmap.models import ContentVersion

# Pages change with the versions, which also bound their life; the timeout only
# evicts entries nobody asks for any more.
TIMEOUT = 60 * 60 * 24
# What {% csrf_token %} writes into a page that is being cached.
CSRF_PLACEHOLDER = "csrf-token-placeholder-9f1c4e"
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()


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
    """Whose page it is: "anon", "<id>.<state version>", or None for staff (never cached)."""
    user = request.user
    if not user.is_authenticated:
        return "anon"
    if user.is_staff:
        return None
    return f"{user.pk}.{user.state_version}"


def csrf_placeholder(request: HttpRequest) -> dict:
    """Context processor (last in settings): while a page is rendered for the cache, tokens are placeholders."""
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, "_rendering_for_cache", False) else {}


def cached_page(*, query: Iterable[str] = ()) -> Callable:
    """Serve the view's page from the cache for this viewer, content version and theme.

    ``query`` names the query parameters the page depends on; a request with
    any other parameter is served live and not stored.
    """
    allowed = frozenset(query)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not allowed.issuperset(request.GET) or _has_messages(request):
                return view(request, *args, **kwargs)
            version, viewer = content_version(request), viewer_key(request)
            if version is None or viewer is None:
                return view(request, *args, **kwargs)
            key = _key(request.get_full_path(), request.COOKIES.get("theme", ""), version, viewer)
            anonymous = viewer == "anon"
            etag = f'"{key}"'
            if anonymous and etag in _if_none_match(request):
                return _finish(HttpResponse(status=304), etag)
            cached = cache.get(key)
            if cached is None:
                request._rendering_for_cache = True
                try:
                    response = view(request, *args, **kwargs)
                finally:
                    request._rendering_for_cache = False
                if response.status_code != 200 or response.streaming or response.cookies:
                    return _with_token(request, response)
                cached = (response.content, response["Content-Type"])
                cache.set(key, cached, TIMEOUT)
            content, content_type = cached
            response = _with_token(request, HttpResponse(content, content_type=content_type))
            return _finish(response, etag) if anonymous else response

        return wrapper

    return decorator


def _key(*parts: str) -> str:
    # Hashed: paths and cookies are the client's, and every backend must accept the key.
    return "page:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _with_token(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Put this request's own CSRF token where the cached page has placeholders."""
    if not response.streaming and _PLACEHOLDER in response.content:
        response.content = response.content.replace(_PLACEHOLDER, get_token(request).encode())
    return response


def _finish(response: HttpResponse, etag: str) -> HttpResponse:
    """Public page: revalidate every time (the content may change at any moment; a 304 costs one query)."""
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ("Cookie",))
    return response


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _has_messages(request: HttpRequest) -> bool:
    # len() loads the pending messages without marking them as shown.
    return bool(len(messages.get_messages(request)))
