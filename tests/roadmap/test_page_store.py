"""The anonymous page store: answered before the rest of the stack, gzipped, conditional, and in two tiers.

``roadmap.caching.CachedPageMiddleware`` answers a visitor without a session
or messages cookie from the page cache before sessions, authentication and URL
routing run: the version query is the only database work, and the answer must
look exactly like the page the full stack rendered. Pages live in this
process's ``LocalPages`` in front of the shared Django cache; either alone is
enough to answer. (Staleness, other viewers' pages and query counts of whole
pages are in ``test_caching.py``.)
"""

import gzip

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.services import progress_set
from roadmap.caching import CSRF_PLACEHOLDER, LocalPages, Page, anonymous_page, local_pages
from roadmap.models import ContentVersion, Topic
from tests.factories import make_curriculum
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/tiny/"
STAGE = ROADMAP + "s2/"
TOPIC = STAGE + "t1/"
PAGES = ["/", ROADMAP, STAGE, TOPIC]
GZIP = {"accept-encoding": "gzip, deflate, br"}
# What the response to one request carries and the next one's legitimately does not.
PER_REQUEST = {"X-Request-ID"}
SECURITY_HEADERS = [
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
]


@pytest.fixture
def curriculum():
    """A small roadmap (the shipped one takes a second and a half to load, for every test)."""
    return make_curriculum(stages=2, topics=3, resources=1, slug="tiny", title="Tiny Roadmap")


def topic_2_1() -> Topic:
    return Topic.objects.get(stage__roadmap__slug="tiny", stage__slug="s2", slug="t1")


def counted(client: Client, url: str, method: str = "get", **extra):
    """The response and the SQL of the queries it cost."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **extra)
    return response, [query["sql"] for query in queries]


def from_middleware(response) -> bool:
    """Answered before sessions and URL routing: nothing was resolved, no session attached, nothing rendered."""
    request = response.wsgi_request
    return request.resolver_match is None and not hasattr(request, "session") and not response.templates


def rendered(response) -> bool:
    return response.wsgi_request.resolver_match is not None and bool(response.templates)


def headers_of(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in PER_REQUEST}


def is_version_query(sql: str) -> bool:
    return sql.startswith("SELECT value FROM") and ContentVersion._meta.db_table in sql


# Answered before the stack -----------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_a_warm_anonymous_page_costs_only_the_version_query_and_no_rendering(curriculum, client, url):
    first = client.get(url)
    assert first.status_code == 200
    assert rendered(first)

    second, queries = counted(client, url)

    assert second.status_code == 200
    assert from_middleware(second)
    assert len(queries) == 1 and is_version_query(queries[0]), queries


@pytest.mark.parametrize("url", PAGES)
def test_the_cached_answer_is_the_rendered_page_with_the_same_headers(curriculum, client, url):
    first = client.get(url)
    second = client.get(url)

    assert from_middleware(second)
    assert second.content == first.content
    assert headers_of(second) == headers_of(first)
    for name in ["Content-Type", "Content-Length", "ETag", "Cache-Control", "Vary", *SECURITY_HEADERS]:
        assert second.has_header(name), name
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert second["Cache-Control"] == "no-cache"
    assert second["X-Frame-Options"] == "DENY"
    # Each response has its own request id, cached or not.
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_hsts_is_sent_with_the_cached_answer_too(curriculum, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    client = Client()  # loads the middleware with these settings

    first = client.get(ROADMAP, secure=True)
    second = client.get(ROADMAP, secure=True)

    assert from_middleware(second)
    assert first["Strict-Transport-Security"] == second["Strict-Transport-Security"]
    assert second["Strict-Transport-Security"].startswith("max-age=3600")
    assert headers_of(second) == headers_of(first)


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_pages_carry_no_csrf_token(curriculum, client, url):
    """One copy is shared by every visitor: a token (or the placeholder for one) in it would be wrong for all."""
    for response in (client.get(url), client.get(url)):
        html = response.content.decode()
        assert CSRF_PLACEHOLDER not in html
        assert "csrfmiddlewaretoken" not in html


def test_head_is_answered_from_the_cache_without_a_body(curriculum, client):
    page = client.get(ROADMAP)

    head, queries = counted(client, ROADMAP, method="head")

    assert head.status_code == 200
    assert from_middleware(head)
    assert len(queries) == 1
    assert head.content == b""
    assert head["Content-Length"] == page["Content-Length"] == str(len(page.content))
    assert head["ETag"] == page["ETag"]


def test_a_cold_head_stores_the_whole_page_for_the_next_get(curriculum, client):
    head = client.head(TOPIC)
    assert head.status_code == 200
    assert rendered(head)

    get = client.get(TOPIC)

    assert from_middleware(get)
    assert "Topic 2.1" in text(soup_of(get).h1)
    assert get["Content-Length"] == head["Content-Length"] == str(len(get.content))


# Gzip ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "x-gzip, gzip"])
def test_a_client_that_accepts_gzip_gets_the_page_gzipped(curriculum, client, accept):
    plain = client.get(ROADMAP)

    for _ in range(2):
        response = client.get(ROADMAP, headers={"accept-encoding": accept})
        assert from_middleware(response)
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.content) == plain.content
        assert response["Content-Length"] == str(len(response.content))
        assert len(response.content) < len(plain.content)
        assert "Accept-Encoding" in response["Vary"] and "Cookie" in response["Vary"]
        assert response["ETag"] == plain["ETag"][:-1] + '-gzip"'
        assert response["Content-Type"] == plain["Content-Type"]


def test_the_rendered_response_is_gzipped_already(curriculum, client):
    """The first visitor, who made the page, gets it gzipped as well, with the same validator as the next one."""
    first = client.get(TOPIC, headers=GZIP)
    second = client.get(TOPIC, headers=GZIP)

    assert rendered(first) and from_middleware(second)
    assert first["Content-Encoding"] == second["Content-Encoding"] == "gzip"
    assert first.content == second.content
    assert headers_of(first) == headers_of(second)
    assert "Topic 2.1" in gzip.decompress(first.content).decode()


@pytest.mark.parametrize("accept", [None, "", "identity", "br", "deflate, br"])
def test_without_gzip_in_accept_encoding_the_page_is_plain_html(curriculum, client, accept):
    headers = {} if accept is None else {"accept-encoding": accept}
    client.get(ROADMAP, headers=GZIP)  # stored by a client that accepts gzip

    response = client.get(ROADMAP, headers=headers)

    assert from_middleware(response)
    assert not response.has_header("Content-Encoding")
    assert response.content.lstrip().lower().startswith(b"<!doctype html>")
    assert response["Content-Length"] == str(len(response.content))
    assert not response["ETag"].endswith('-gzip"')
    assert "Accept-Encoding" in response["Vary"]


# Conditional GET -----------------------------------------------------------------------------


@pytest.fixture
def etags(curriculum, client) -> dict[str, str]:
    """The roadmap page's two validators: plain and gzipped."""
    return {"plain": client.get(ROADMAP)["ETag"], "gzip": client.get(ROADMAP, headers=GZIP)["ETag"]}


@pytest.mark.parametrize("tag", ["plain", "gzip"])
@pytest.mark.parametrize("encoding", ["plain", "gzip"])
def test_either_etag_gives_304_with_the_negotiated_encodings_etag(client, etags, tag, encoding):
    headers = {"if-none-match": etags[tag]} | (GZIP if encoding == "gzip" else {})

    response, queries = counted(client, ROADMAP, headers=headers)

    assert response.status_code == 304
    assert from_middleware(response)
    assert len(queries) == 1
    assert response.content == b""
    assert response["ETag"] == etags[encoding]
    assert response["Cache-Control"] == "no-cache"
    assert "Accept-Encoding" in response["Vary"]


@pytest.mark.parametrize("header", ['"other", {tag}', "W/{tag}", '{tag}, W/"other"'])
def test_a_weak_or_listed_etag_matches_too(client, etags, header):
    response = client.get(ROADMAP, headers={"if-none-match": header.format(tag=etags["gzip"])} | GZIP)

    assert response.status_code == 304
    assert from_middleware(response)


def test_an_etag_for_another_page_does_not_match(client, etags):
    response = client.get(STAGE, headers={"if-none-match": etags["plain"]})

    assert response.status_code == 200
    assert response["ETag"] != etags["plain"]


def test_a_stale_etag_after_a_content_change_gets_the_new_page(client, etags):
    topic = topic_2_1()
    topic.title = "Topic 2.1, renamed"
    topic.save()

    for encoding in ("plain", "gzip"):
        headers = {"if-none-match": f"{etags['plain']}, {etags['gzip']}"} | (GZIP if encoding == "gzip" else {})
        response = client.get(ROADMAP, headers=headers)

        assert response.status_code == 200, encoding
        body = gzip.decompress(response.content) if encoding == "gzip" else response.content
        assert "Topic 2.1, renamed" in body.decode()
        assert response["ETag"] not in etags.values()


# Who is not answered from the anonymous copy -----------------------------------------------


def test_a_logged_in_learner_gets_their_own_page_not_the_anonymous_copy(curriculum, client, learner, learner_client):
    progress_set(user=learner, topic=topic_2_1(), status="done")
    client.get(ROADMAP)
    assert from_middleware(client.get(ROADMAP))

    for attempt in range(2):  # a miss (rendered), then a hit in the learner's own cache (learner_page)
        response = learner_client.get(ROADMAP, headers=GZIP)

        assert response.status_code == 200
        assert from_middleware(response) == (attempt == 1)
        assert not response.has_header("Content-Encoding")
        assert not response.has_header("ETag")
        page = soup_of(response)
        assert "Log out" in text(page.header)
        assert page.select_one(f"#t{topic_2_1().pk}")["data-status"] == "done"

    anonymous = client.get(ROADMAP)
    assert from_middleware(anonymous)
    assert "Log out" not in anonymous.content.decode()
    assert "data-status" not in anonymous.content.decode()


def test_a_visitor_with_a_messages_cookie_sees_the_message_not_the_cached_page(curriculum, client, learner):
    """After deleting their account a visitor lands on the home page with a message in a cookie, and no session."""
    client.get("/")
    assert from_middleware(client.get("/"))
    leaving = Client()
    leaving.force_login(learner)
    deleted = leaving.post("/accounts/delete/", {"password": "correct-horse-battery-staple"})
    assert deleted.status_code == 302
    visitor = Client()
    visitor.cookies["messages"] = deleted.cookies["messages"].value

    response = visitor.get("/")

    assert rendered(response)
    assert "Your account and all your data were deleted." in text(soup_of(response).select_one("[data-messages]"))
    assert not response.has_header("ETag")
    # Shown once; other visitors still get the cached copy, without it.
    cached = client.get("/")
    assert from_middleware(cached)
    assert "Your account and all your data were deleted." not in cached.content.decode()


def test_a_disallowed_host_gets_400_not_a_cached_page(curriculum, client):
    etag = client.get(ROADMAP)["ETag"]
    assert from_middleware(client.get(ROADMAP))

    for headers in ({}, {"if-none-match": etag}, GZIP):
        response = client.get(ROADMAP, headers=headers, HTTP_HOST="evil.example.com")

        assert response.status_code == 400, headers
        assert not response.has_header("ETag")
        assert b"Tiny Roadmap" not in response.content


def test_an_allowed_host_is_answered_from_the_cache(curriculum, client, settings):
    settings.ALLOWED_HOSTS = ["roadmaps.example.com"]

    first = client.get(ROADMAP, HTTP_HOST="roadmaps.example.com")
    second = client.get(ROADMAP, HTTP_HOST="roadmaps.example.com")

    assert rendered(first) and from_middleware(second)
    assert client.get(ROADMAP, HTTP_HOST="localhost").status_code == 400


# Query strings -----------------------------------------------------------------------------


def test_undeclared_query_parameters_are_neither_answered_from_nor_stored_in_the_cache(curriculum, client):
    client.get(ROADMAP)
    stored = len(local_pages)

    for _ in range(2):
        response, queries = counted(client, ROADMAP + "?utm=1")

        assert response.status_code == 200
        assert rendered(response)
        assert len(queries) > 1
        assert not response.has_header("ETag")
        assert not response.has_header("Content-Encoding")
    assert len(local_pages) == stored


def test_a_declared_query_parameter_is_cached_as_a_page_of_its_own(curriculum, client):
    plain = client.get(ROADMAP)
    first = client.get(ROADMAP + "?show=left")

    second, queries = counted(client, ROADMAP + "?show=left", headers=GZIP)

    assert rendered(first)
    assert from_middleware(second)
    assert len(queries) == 1
    assert second["ETag"] == first["ETag"][:-1] + '-gzip"'
    assert first["ETag"] != plain["ETag"]
    assert gzip.decompress(second.content) == first.content


# Two tiers: this process's pages in front of the shared cache ----------------------------


def test_another_process_without_the_page_in_memory_is_answered_from_the_shared_cache(curriculum, client):
    """A process that never served the page goes down the full stack once, finds it in the shared cache
    without rendering it, and answers it from the middleware from then on."""
    first = client.get(ROADMAP)
    local_pages.clear()  # another worker process: same Django cache, nothing in memory

    response = client.get(ROADMAP)
    assert not from_middleware(response)
    assert not response.templates, "not rendered: the shared cache had it"
    assert response.content == first.content
    assert response["ETag"] == first["ETag"]
    assert len(local_pages) == 1, "kept in memory for the next request"

    response, queries = counted(client, ROADMAP)
    assert from_middleware(response)
    assert len(queries) == 1
    # And the gzipped copy came along.
    zipped = client.get(ROADMAP, headers=GZIP)
    assert from_middleware(zipped)
    assert gzip.decompress(zipped.content) == first.content


def test_other_anonymous_pages_cost_the_middleware_no_query(curriculum, client, django_assert_num_queries):
    """Only paths this process has seen cached are looked up: a login page or a 404 costs the middleware nothing."""
    client.get(ROADMAP)
    factory = RequestFactory(HTTP_HOST="testserver")
    for path in ("/accounts/login/", "/roadmaps/no-such-roadmap/", ROADMAP + "?utm=1"):
        with django_assert_num_queries(0):
            assert anonymous_page(factory.get(path)) is None
    with django_assert_num_queries(1):
        assert anonymous_page(factory.get(ROADMAP)) is not None


def test_pages_in_memory_are_answered_without_the_shared_cache(curriculum, client):
    first = client.get(ROADMAP)
    cache.clear()  # e.g. Redis restarted

    response, queries = counted(client, ROADMAP, headers=GZIP)

    assert from_middleware(response)
    assert len(queries) == 1
    assert gzip.decompress(response.content) == first.content


def test_without_either_copy_the_page_is_rendered_again(curriculum, client):
    client.get(ROADMAP)
    local_pages.clear()
    cache.clear()

    response = client.get(ROADMAP)

    assert response.status_code == 200
    assert rendered(response)
    assert from_middleware(client.get(ROADMAP))


# LocalPages --------------------------------------------------------------------------------


def page(size: int, gzipped: int = 0) -> Page:
    return Page(b"x" * size, "text/html; charset=utf-8", b"z" * gzipped if gzipped else None)


def test_a_page_counts_its_gzipped_copy_in_its_size():
    assert page(30).size == 30
    assert page(30, gzipped=10).size == 40


def test_local_pages_evict_the_least_recently_used_to_stay_within_max_bytes():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(40))
    pages.put("b", page(40))
    assert pages.get("a") is not None  # "a" is now the most recently used

    pages.put("c", page(30, gzipped=10))

    assert pages.get("b") is None
    assert pages.get("a") is not None and pages.get("c") is not None
    assert len(pages) == 2
    assert pages.bytes == 80


def test_local_pages_evict_as_many_pages_as_a_big_one_needs():
    pages = LocalPages(max_bytes=100)
    for key in "abcd":
        pages.put(key, page(25))

    pages.put("big", page(90))

    assert [key for key in "abcd" if pages.get(key) is not None] == []
    assert pages.get("big") is not None
    assert (len(pages), pages.bytes) == (1, 90)


def test_putting_a_key_again_replaces_it_without_counting_it_twice():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(40))
    pages.put("a", page(40))
    assert (len(pages), pages.bytes) == (1, 40)

    pages.put("a", page(60))
    pages.put("b", page(40))

    assert (len(pages), pages.bytes) == (2, 100)
    assert pages.get("a").size == 60


def test_putting_a_key_again_makes_it_the_most_recently_used():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(50))
    pages.put("b", page(50))
    pages.put("a", page(50))

    pages.put("c", page(50))

    assert pages.get("b") is None
    assert pages.get("a") is not None


def test_a_page_larger_than_max_bytes_is_not_kept_and_evicts_nothing():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(60))

    pages.put("huge", page(80, gzipped=30))

    assert pages.get("huge") is None
    assert pages.get("a") is not None
    assert (len(pages), pages.bytes) == (1, 60)


def test_a_page_of_exactly_max_bytes_is_kept():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(10))

    pages.put("full", page(100))

    assert pages.get("full") is not None
    assert pages.get("a") is None
    assert pages.bytes == 100


def test_clear_empties_local_pages():
    pages = LocalPages(max_bytes=100)
    pages.put("a", page(40))
    pages.put("b", page(40))

    pages.clear()

    assert (len(pages), pages.bytes) == (0, 0)
    assert pages.get("a") is None
    pages.put("c", page(100))
    assert pages.bytes == 100


def test_the_process_wide_store_is_bounded_by_the_setting(settings):
    assert local_pages.max_bytes == settings.PAGE_CACHE_LOCAL_MAX_BYTES > 0


@pytest.mark.parametrize("query", ["?show=everything", "?show=left&show=left", "?show=LEFT"])
def test_values_a_page_does_not_declare_are_served_live_and_not_stored(client, curriculum, query):
    """Only ``?show=left`` gets a copy of its own: made-up values cannot fill the cache."""
    path = ROADMAP + query
    client.get(path)
    assert len(local_pages) == 0
    assert rendered(client.get(path))


def test_made_up_theme_cookies_share_the_default_themes_copy(client, curriculum):
    path = ROADMAP
    client.cookies["theme"] = "auto"
    client.get(path)
    stored = len(local_pages)
    for junk in ("neon", "x" * 50):
        client.cookies["theme"] = junk
        assert from_middleware(client.get(path))
    assert len(local_pages) == stored


def test_if_none_match_star_is_not_modified_when_the_page_exists(client, curriculum):
    """RFC 9110: ``*`` matches any current representation (rendered or cached)."""
    for _ in range(2):
        response = client.get(ROADMAP, headers={"If-None-Match": "*"})
        assert response.status_code == 304
        assert response.content == b""
    assert client.get("/roadmaps/no-such-roadmap/", headers={"If-None-Match": "*"}).status_code == 404
