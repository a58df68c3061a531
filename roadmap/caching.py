"""Caching that is never stale: whole pages keyed by the content version and the viewer's state.

Every cache key here embeds the current ``ContentVersion.value`` (one
primary-key query per request, remembered on the request; for a learner it
comes with the user row, ``accounts/backends.py``) and, for a learner,
their ``state_version`` (on the user row that authentication loads anyway).
Any change to the curriculum, or to the learner's progress or notes, gives
those a new value in the same transaction (``roadmap/signals.py``,
``accounts/signals.py``), so the next request looks under a new key and
renders afresh; old entries just expire. The versions live in the database, so
this holds across processes and app servers whatever the cache backend, and
through a Redis restart or outage.

A page stored under a key never changes, so it may be kept anywhere: each
process keeps the pages it served last in memory (``LocalPages``, bounded in
bytes) in front of the shared cache, and only the version query goes to the
database. Anonymous visitors' pages are answered by ``CachedPageMiddleware``
before sessions, authentication and URL resolution run; they hold nothing
secret, so they are stored compressed too and sent gzipped to clients that
accept it (browsers, and nginx, which passes their ``Accept-Encoding`` on).
On PostgreSQL that middleware takes the version from the process's copy,
pushed by LISTEN/NOTIFY at each commit (``roadmap/version_feed.py``), and so
makes no query at all; whenever that copy is not confirmed current it reads
the database as above.

A cached learner page is the one the view rendered, with a placeholder where
its CSRF tokens go; each response gets this request's own freshly masked token
(so the BREACH mitigation of masking is kept). Once stored, the same
middleware answers it before the stack too (``learner_page``), after one
query for the session and its user (none on PostgreSQL while the process's
copy of them stands, ``accounts.sessions.learners``) and every check
Django's authentication makes. Pages are cached per path and
query, theme and viewer: anonymous visitors share one copy (with an ETag for
conditional GETs), each learner has their own. Never cached: staff (they see
drafts and edit content), requests with messages waiting to be shown, query
parameters the view does not declare, and anything but a plain 200.
"""

import gzip
import hashlib
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CsrfViewMiddleware, get_token
from django.utils import timezone
from django.utils.http import http_date

from accounts import backends, sessions
from accounts.preferences import theme_of
from roadmap import version_feed
from roadmap.models import ContentVersion
from roadmap_site.db import prepared_cursor

# Pages change with the versions, which also bound their life; the timeout only
# evicts entries nobody asks for any more.
TIMEOUT = 60 * 60 * 24
# What {% csrf_token %} writes into a page that is being cached.
CSRF_PLACEHOLDER = "csrf-token-placeholder-9f1c4e"
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()
ANONYMOUS = "anon"
# As django.middleware.gzip.GZipMiddleware decides.
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")
_ANONYMOUS_VARY = "Cookie, Accept-Encoding"
_CSRF_CHARS = frozenset(CSRF_ALLOWED_CHARS)
_CSRF_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
_CSRF_BASE = len(CSRF_ALLOWED_CHARS)
# Random bytes from this value up are dropped, so that every character is equally likely.
_CSRF_UNBIASED = 256 - 256 % _CSRF_BASE
_CSRF_MIDDLEWARE = CsrfViewMiddleware(lambda request: HttpResponse())
# What add_never_cache_headers() writes (with Expires: now).
_NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def content_version(request: HttpRequest | None = None) -> str | None:
    """The curriculum's current version (1 query, once per request); None if the row is missing."""
    if request is not None:
        if hasattr(request, "_content_version"):
            return request._content_version
        # accounts.backends.UserBackend read it with the logged-in user.
        version = getattr(getattr(request, "user", None), "content_version", None)
        if version is not None:
            request._content_version = version
            return version
    # Raw SQL: this runs on every page view, and the ORM would spend longer
    # compiling the query than the database spends answering it.
    connection = connections[router.db_for_read(ContentVersion)]
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    with prepared_cursor(connection) as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = 1")  # the table name is ours, no input
        row = cursor.fetchone()
    version = row[0] if row else None
    if request is not None:
        request._content_version = version
    return version


def content_changed() -> None:
    """Give the content a new version (call inside the transaction that changes it).

    On PostgreSQL the same transaction NOTIFYs the processes' version feeds
    (``roadmap/version_feed.py``); PostgreSQL delivers it at commit, once per
    transaction however many changes it makes, and never after a rollback.
    """
    value = uuid.uuid4().hex
    alias = router.db_for_write(ContentVersion)
    with transaction.atomic(using=alias, savepoint=False):
        if not ContentVersion.objects.using(alias).filter(pk=1).update(value=value):
            ContentVersion.objects.using(alias).update_or_create(pk=1, defaults={"value": value})
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {version_feed.CHANNEL}")


def viewer_key(request: HttpRequest) -> str | None:
    """Whose page it is: "anon", "<id>.<state version>", or None for staff (never cached)."""
    user = request.user
    if not user.is_authenticated:
        return ANONYMOUS
    if user.is_staff:
        return None
    return f"{user.pk}.{user.state_version}"


def csrf_placeholder(request: HttpRequest) -> dict:
    """Context processor (last in settings): while a page is rendered for the cache, tokens are placeholders."""
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, "_rendering_for_cache", False) else {}


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered page as stored; ``gzipped`` only for anonymous pages (no secrets in them)."""

    content: bytes
    content_type: str
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.content) + len(self.gzipped or b"")


class LocalPages:
    """This process's most recently used pages, at most ``max_bytes`` of them (least recently used go first).

    Entries are immutable (their keys embed the versions), so a copy per
    process can never disagree with the shared cache.
    """

    # Paths (with their query) whose anonymous page this process has stored or found: the
    # middleware looks only these up, so other anonymous requests cost it no query.
    MAX_PATHS = 10_000

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers share the process
        self.anonymous_paths: set[str] = set()
        # The same for learners' pages (each learner's own copy; ``learner_page``).
        self.learner_paths: set[str] = set()

    def add_anonymous_path(self, path: str) -> None:
        _add_bounded(self.anonymous_paths, path, self.MAX_PATHS)

    def add_learner_path(self, path: str) -> None:
        _add_bounded(self.learner_paths, path, self.MAX_PATHS)

    def get(self, key: str) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        if page.size > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0
            self.anonymous_paths.clear()
            self.learner_paths.clear()

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def bytes(self) -> int:
        return self._bytes


local_pages = LocalPages(settings.PAGE_CACHE_LOCAL_MAX_BYTES)


def get_page(key: str) -> Page | None:
    page = local_pages.get(key)
    if page is None:
        stored = cache.get(key)
        if stored is not None:
            page = Page(*stored)
            local_pages.put(key, page)
    return page


def put_page(key: str, page: Page) -> None:
    local_pages.put(key, page)
    cache.set(key, (page.content, page.content_type, page.gzipped), TIMEOUT)


def page_key(
    request: HttpRequest, version: str, viewer: str, *, host: str | None = None, path: str | None = None
) -> str:
    """The page's cache key; ``host`` and ``path`` are ``request.get_host()`` and ``get_full_path()`` if known."""
    # The theme as the page renders it: made-up cookie values must not multiply the copies.
    parts = (host or request.get_host(), path or request.get_full_path(), theme_of(request), version, viewer)
    # Hashed: paths and cookies are the client's, and every backend must accept the key.
    return "page:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def anonymous_page(request: HttpRequest) -> HttpResponse | None:
    """The cached page for a visitor without a session, if there is one (``CachedPageMiddleware``)."""
    path = request.get_full_path()
    if path not in local_pages.anonymous_paths:
        return None  # not a page this process has seen cached: the full stack decides
    host = request.get_host()  # DisallowedHost (a 400), as CommonMiddleware would raise it
    # The feed's copy only chooses which stored page to send; on a miss the full stack
    # renders and stores under the version read from the database it renders from.
    version = version_feed.feed.current() or content_version(request)
    if version is None:
        return None
    key = page_key(request, version, ANONYMOUS, host=host, path=path)
    if _etag_matches(request, key):
        return _not_modified(request, key)
    page = get_page(key)
    if page is None:
        return None
    return _not_modified(request, key) if _matches_any(request) else _anonymous_response(request, key, page)


def learner_page(request: HttpRequest) -> HttpResponse | None:
    """A learner's cached page, for a request with a session this process knows (``CachedPageMiddleware``).

    What the full stack would answer, with one query (the session and its user,
    ``accounts/sessions.py``; none while the feed's lease holds and the
    process's copy of them stands) and none of the middleware, routing and
    view in between. It makes every check ``django.contrib.auth.get_user()`` and
    ``UserBackend`` make (a live, unexpired session; its signature; the user it
    names, active, with the backend and password hash it was logged in with)
    and serves only a page the full stack already rendered for this learner,
    at this content version and progress state. Anything else (staff, pending
    messages, a CSRF cookie Django would replace, a session or user that is
    not just so) returns None and goes down the full stack.
    """
    path = request.get_full_path()
    if path not in local_pages.learner_paths or settings.CSRF_USE_SESSIONS:
        return None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    user_id = sessions.known.get(session_key)
    secret = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    if user_id is None or len(secret) != CSRF_SECRET_LENGTH or not set(secret) <= _CSRF_CHARS:
        return None
    host = request.get_host()  # DisallowedHost (a 400), as CommonMiddleware would raise it
    # While the feed's lease holds, the process's copy of the session and user (dropped at
    # any change of either, as PostgreSQL notifies it) stands for the database's rows.
    version = version_feed.feed.current()
    copy = sessions.learners.get(session_key) if version is not None else None
    keep = None
    if copy is not None and copy.expire_date > timezone.now():
        session_data, user = copy.session_data, copy.user
    else:
        epoch = sessions.learners.epoch  # before the read: see LearnerCopies.put
        found = sessions.read_with_user(session_key, user_id)
        if found is None:
            return None
        sessions.preloaded.set((session_key, *found))  # for the full stack, should it come to that
        session_data, user, expire_date = found
        if user is None:
            return None
        if version is not None and sessions.read_alias() == version_feed.feed.alias:
            keep = sessions.LearnerCopy(session_data, user, expire_date), epoch
        version = user.content_version
    if not sessions.signed_in_learner(session_data, user, user_id):
        return None
    if keep is not None:
        sessions.learners.put(session_key, *keep)
    request.user = user
    key = page_key(request, version, f"{user.pk}.{user.state_version}", host=host, path=path)
    page = get_page(key)
    if page is None:
        return None
    request.META["CSRF_COOKIE"] = secret
    response = _learner_response(request, page)
    # What the middlewares it skips add: the CSRF cookie sent again (CsrfViewMiddleware,
    # after get_token()), and the headers of a learner's response.
    _CSRF_MIDDLEWARE.process_response(request, response)
    return private_headers(response)


def private_headers(response: HttpResponse) -> HttpResponse:
    """What the middlewares after ``CachedPageMiddleware`` add to a learner's response that has none of them yet.

    Vary (SessionMiddleware, the session was read), never-cache
    (PrivatePagesMiddleware) and X-Frame-Options, as the functions they call
    (``patch_vary_headers``, ``add_never_cache_headers``) would write them.
    """
    headers = response.headers
    headers["Vary"] = "Cookie"
    headers["Expires"] = http_date()
    headers["Cache-Control"] = _NEVER_CACHE
    headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS
    return response


def cached_page(*, query: Mapping[str, Iterable[str]] | None = None) -> Callable:
    """Serve the view's page from the cache for this viewer, content version and theme.

    ``query`` maps the query parameters the page depends on to the values
    worth a copy of their own; a request with any other parameter or value
    (or a parameter twice) is served live and not stored, so nobody can fill
    the cache with copies of one page.
    """
    allowed = {name: frozenset(values) for name, values in (query or {}).items()}

    def cacheable(request: HttpRequest) -> bool:
        return all(
            name in allowed and len(values) == 1 and values[0] in allowed[name] for name, values in request.GET.lists()
        )

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not cacheable(request) or _has_messages(request):
                return view(request, *args, **kwargs)
            version, viewer = content_version(request), viewer_key(request)
            if version is None or viewer is None:
                return view(request, *args, **kwargs)
            key = page_key(request, version, viewer)
            anonymous = viewer == ANONYMOUS
            if anonymous and _etag_matches(request, key):
                local_pages.add_anonymous_path(request.get_full_path())
                return _not_modified(request, key)
            page = get_page(key)
            if page is None:
                request._rendering_for_cache = True
                try:
                    response = view(request, *args, **kwargs)
                finally:
                    request._rendering_for_cache = False
                if response.status_code != 200 or response.streaming or response.cookies:
                    return _with_token(request, response)
                content = response.content
                page = Page(content, response["Content-Type"], gzip.compress(content, 6) if anonymous else None)
                put_page(key, page)
            if anonymous:
                local_pages.add_anonymous_path(request.get_full_path())
                return _not_modified(request, key) if _matches_any(request) else _anonymous_response(request, key, page)
            local_pages.add_learner_path(request.get_full_path())
            return _learner_response(request, page)

        return wrapper

    return decorator


class CachedPageMiddleware:
    """Answer what needs no more, before sessions, authentication and URL routing.

    Sits after WhiteNoise and before SessionMiddleware. GET and HEAD requests
    without a messages cookie are answered from the page cache: visitors
    without a session (``anonymous_page``) and learners whose page is stored
    (``learner_page``); a learner's tick-off form POST is answered by
    ``accounts.ticks.tick_response``. Anything else, or not in the cache, goes
    down the full stack, whose view stores the page for the next request. The
    responses carry the headers the full stack would give them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from accounts.ticks import tick_response  # it imports the views, which import this module

        self.get_response = get_response
        self.tick_response = tick_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = sessions.preloaded.set(None)
        try:
            response = None
            if request.method in ("GET", "HEAD") and CookieStorage.cookie_name not in request.COOKIES:
                if settings.SESSION_COOKIE_NAME not in request.COOKIES:
                    response = anonymous_page(request)
                else:
                    response = learner_page(request)
            elif request.method == "POST" and settings.SESSION_COOKIE_NAME in request.COOKIES:
                response = self.tick_response(request)
            if response is not None:
                return response
            return self.get_response(request)
        finally:
            sessions.preloaded.reset(token)
            backends.prefetch(None)  # a user read for this request never serves the next one


def _anonymous_response(request: HttpRequest, key: str, page: Page) -> HttpResponse:
    compressed = page.gzipped is not None and _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    response = HttpResponse(page.gzipped if compressed else page.content, content_type=page.content_type)
    if compressed:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(response.content))
    return _public(response, _etag(key, gzipped=bool(compressed)))


def _not_modified(request: HttpRequest, key: str) -> HttpResponse:
    compressed = bool(_ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    return _public(HttpResponse(status=304), _etag(key, gzipped=compressed))


def _public(response: HttpResponse, etag: str) -> HttpResponse:
    """Public page: revalidate every time (the content may change at any moment; a 304 costs one query)."""
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    response["Vary"] = _ANONYMOUS_VARY
    # What XFrameOptionsMiddleware adds, which the middleware's answers skip.
    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
    return response


def _etag(key: str, *, gzipped: bool) -> str:
    # Each encoding its own strong validator, as RFC 9110 requires.
    return f'"{key.removeprefix("page:")}{"-gzip" if gzipped else ""}"'


def _etag_matches(request: HttpRequest, key: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return bool(tags & {_etag(key, gzipped=False), _etag(key, gzipped=True)})


def _matches_any(request: HttpRequest) -> bool:
    """``If-None-Match: *``: any current copy of the page will do."""
    return request.META.get("HTTP_IF_NONE_MATCH", "").strip() == "*"


def _with_token(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Put this request's own CSRF token where the cached page has placeholders."""
    if not response.streaming and _PLACEHOLDER in response.content:
        response.content = response.content.replace(_PLACEHOLDER, get_token(request).encode())
    return response


def _learner_response(request: HttpRequest, page: Page) -> HttpResponse:
    """A stored learner page with this request's own CSRF token, copied once (pages are ~100 KB)."""
    content = page.content
    if _PLACEHOLDER in content:
        content = content.replace(_PLACEHOLDER, _fresh_token(request).encode())
    response = HttpResponse(content, content_type=page.content_type)
    response["Content-Length"] = str(len(content))  # as CommonMiddleware would, without copying the body again
    return response


def _fresh_token(request: HttpRequest) -> str:
    """``get_token(request)``: this request's CSRF secret, masked afresh (and the cookie sent again)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None or len(secret) != CSRF_SECRET_LENGTH or not set(secret) <= _CSRF_CHARS:
        return get_token(request)  # it makes the secret and the cookie (or fails as Django would)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token() does
    return masked_token(secret)


def masked_token(secret: str) -> str:
    """What Django's ``_mask_cipher_secret(secret)`` returns: a fresh random mask, and the secret enciphered with it.

    Django draws the mask with 32 calls of ``secrets.choice``, a sixth of a
    cached learner page's time; this draws it from one read of the same
    source (``secrets.token_bytes``), each byte taken modulo 62 and those that
    would favour some characters dropped, so every mask is as likely as with
    Django's. The token is Django's format and ``CsrfViewMiddleware`` checks
    it as its own.
    """
    offsets: list[int] = []
    while len(offsets) < CSRF_SECRET_LENGTH:
        offsets += [byte % _CSRF_BASE for byte in secrets.token_bytes(2 * CSRF_SECRET_LENGTH) if byte < _CSRF_UNBIASED]
    offsets = offsets[:CSRF_SECRET_LENGTH]
    mask = "".join([CSRF_ALLOWED_CHARS[offset] for offset in offsets])
    cipher = "".join(
        [
            CSRF_ALLOWED_CHARS[(_CSRF_INDEX[char] + offset) % _CSRF_BASE]
            for char, offset in zip(secret, offsets, strict=True)
        ]
    )
    return mask + cipher


def _add_bounded(paths: set[str], path: str, limit: int) -> None:
    if len(paths) >= limit:
        paths.clear()  # forget them all; the next requests find them again
    paths.add(path)


def _has_messages(request: HttpRequest) -> bool:
    # len() loads the pending messages without marking them as shown.
    return bool(len(messages.get_messages(request)))
