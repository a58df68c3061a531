"""Stored and reflected XSS: what editors and learners type is shown as text on every page, never run.

Every text field a person controls (curriculum titles, summaries,
descriptions, resource titles, authors and URLs; a learner's display name, bio
and notes) holds markup, an event-handler breakout and template syntax. Each
page that shows them is parsed as a browser would: no ``<script>`` or element
the payload created, no ``on*`` attribute, no ``javascript:`` link; the
payload is on the page as literal text; template syntax is not evaluated.
Resource URLs only accept http(s), in the model, the admin form and the
database itself.
"""

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from accounts import services
from accounts.models import Note, Progress, Status
from roadmap.models import Resource, RoadmapResource, TopicResource
from roadmap.templatetags.roadmap_tags import inline_code
from tests.factories import make_resource, make_roadmap, make_stage, make_topic, make_user
from tests.helpers import form_data

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ request }}{% debug %}"
# 79 characters: fits a display name (80).
HOSTILE = SCRIPT + BREAKOUT + TEMPLATE
SINGLE_QUOTED = "'><svg onload=alert(1)>"
MARKER = "Zanzibar"  # a word to search for
RESOURCE_URL = 'https://example.com/?q="><script>alert(1)</script>'
# What ``{{ request }}`` and ``{% debug %}`` would print if a page evaluated them.
EVALUATED = [b"WSGIRequest", b"DEFAULT_MESSAGE_LEVELS", b"sql_queries"]
LINK_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")


def assert_inert(response) -> BeautifulSoup:
    """The page runs nothing it was given, as a browser would parse it."""
    assert response.status_code == 200
    raw = response.content
    for fragment in (b"<script>alert", b"<img src=x", b"<svg onload"):
        assert fragment not in raw.lower()
    soup = BeautifulSoup(raw, "html.parser")
    assert not [script for script in soup.find_all("script") if "alert" in script.get_text()]
    assert not soup.select("img[src=x], svg[onload]")
    handlers = [(el.name, attr) for el in soup.find_all(True) for attr in el.attrs if attr.lower().startswith("on")]
    assert handlers == []
    links = [el.get(attr, "") for el in soup.find_all(True) for attr in LINK_ATTRIBUTES if el.has_attr(attr)]
    assert not [link for link in links if "".join(link.split()).lower().startswith(("javascript:", "data:"))]
    for evaluated in EVALUATED:
        assert evaluated not in raw
    return soup


def shown_literally(soup: BeautifulSoup, payload: str) -> bool:
    """``payload`` reaches the reader as the characters typed: in the text, or in a form field's value."""
    values = [field.get("value", "") for field in soup.select("input")]
    return payload in soup.get_text() or any(payload in value for value in values)


@pytest.fixture
def hostile(db):
    """A published roadmap and a learner whose every free-text field is hostile."""
    roadmap = make_roadmap(title=f"{MARKER} {HOSTILE}", slug="hostile", description=f"{HOSTILE}\n{SINGLE_QUOTED}")
    stage = make_stage(roadmap, title=f"{MARKER} {HOSTILE}", slug="stage", position=1, summary=HOSTILE)
    topic = make_topic(
        stage, title=f"{MARKER} {HOSTILE}", slug="topic", position=1, description=f"`{SCRIPT}` {HOSTILE}"
    )
    resource = make_resource(title=f"{MARKER} {HOSTILE}", author=HOSTILE, url=RESOURCE_URL)
    TopicResource.objects.create(topic=topic, resource=resource)
    RoadmapResource.objects.create(
        roadmap=roadmap, resource=make_resource(title=HOSTILE, url="https://example.com/book/")
    )
    learner = make_user(
        username="mallory", display_name=HOSTILE, bio=f"{HOSTILE}\n{SINGLE_QUOTED}", is_profile_public=True
    )
    services.progress_set(user=learner, topic=topic, status=Status.IN_PROGRESS)
    services.note_set(user=learner, topic=topic, text=f"{HOSTILE}\n{SINGLE_QUOTED}")
    return {"roadmap": roadmap, "stage": stage, "topic": topic, "resource": resource, "learner": learner}


def client_as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


SITE_PAGES = {
    "home": lambda h: "/",
    "roadmap": lambda h: h["roadmap"].get_absolute_url(),
    "roadmap, only what is left": lambda h: h["roadmap"].get_absolute_url() + "?show=left",
    "stage": lambda h: h["stage"].get_absolute_url(),
    "topic": lambda h: h["topic"].get_absolute_url(),
    "search results": lambda h: f"/search/?q={MARKER}",
    "public profile": lambda h: h["learner"].get_public_url(),
}
LEARNER_PAGES = {
    "dashboard": lambda h: "/dashboard/",
    "profile form": lambda h: "/accounts/profile/",
}


@pytest.mark.parametrize("role", ["anonymous", "learner"])
@pytest.mark.parametrize("page", SITE_PAGES)
def test_site_pages_show_hostile_content_as_text(hostile, role, page):
    """Curriculum text and the learner's public text are escaped on every public page, signed in or not."""
    client = client_as(hostile["learner"] if role == "learner" else None)

    soup = assert_inert(client.get(SITE_PAGES[page](hostile)))

    assert shown_literally(soup, SCRIPT)
    assert shown_literally(soup, BREAKOUT)
    assert shown_literally(soup, TEMPLATE)


@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_learner_pages_show_hostile_text_as_text(hostile, page):
    """The dashboard (notes, display name, roadmap and topic titles) and the profile form escape it too."""
    soup = assert_inert(client_as(hostile["learner"]).get(LEARNER_PAGES[page](hostile)))

    assert shown_literally(soup, SCRIPT)
    assert shown_literally(soup, TEMPLATE)


def test_the_note_is_shown_in_its_textarea_as_typed(hostile):
    """The note comes back into the topic page's textarea verbatim (escaped), ready to edit."""
    soup = assert_inert(client_as(hostile["learner"]).get(hostile["topic"].get_absolute_url()))

    assert soup.select_one("textarea[name=text]").get_text().strip() == f"{HOSTILE}\n{SINGLE_QUOTED}"


def test_a_resource_url_with_markup_stays_one_attribute(hostile):
    """A quote in a resource's URL cannot close the ``href``: the link points exactly where it was saved."""
    soup = assert_inert(client_as(None).get(hostile["topic"].get_absolute_url()))

    links = [a["href"] for a in soup.select(".resource a[href]")]
    assert RESOURCE_URL in links


def test_descriptions_turn_backticks_into_code_and_nothing_else_into_markup(hostile):
    """``inline_code`` is the only "markdown": escaped first, so backticked markup is code text, not an element."""
    soup = assert_inert(client_as(None).get(hostile["topic"].get_absolute_url()))

    code = soup.select_one("main .lead code")
    assert code.get_text() == SCRIPT
    assert code.find(True) is None


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("`<b>x</b>`", "<code>&lt;b&gt;x&lt;/b&gt;</code>"),
        ("<b>y</b> and `a`", "&lt;b&gt;y&lt;/b&gt; and <code>a</code>"),
        ('`" onmouseover="alert(1)`', "<code>&quot; onmouseover=&quot;alert(1)</code>"),
        ("[x](javascript:alert(1)) **b**", "[x](javascript:alert(1)) **b**"),
    ],
)
def test_inline_code_passes_no_html_through(text, html):
    """Only backticks become markup (``<code>``); raw HTML, links and emphasis stay text."""
    assert inline_code(text) == html


def test_exports_carry_hostile_text_as_data_never_as_a_page(hostile):
    """JSON and CSV exports are attachments of their own type (never sniffed as HTML) and keep the text exact."""
    client = client_as(hostile["learner"])

    exported = client.get("/dashboard/export.json")
    as_csv = client.get("/dashboard/export.csv")

    for response, content_type in ((exported, "application/json"), (as_csv, "text/csv")):
        assert response["Content-Type"].startswith(content_type)
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
    (row,) = json.loads(exported.content)["topics"]
    assert row["topic_title"] == f"{MARKER} {HOSTILE}"
    assert row["note"] == f"{HOSTILE}\n{SINGLE_QUOTED}"
    (csv_row,) = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert csv_row["note"] == f"{HOSTILE}\n{SINGLE_QUOTED}"


@pytest.mark.parametrize(
    "path",
    [
        f"/search/?q={HOSTILE}",
        f"/?next={BREAKOUT}&x={SCRIPT}",
        f"/accounts/login/?next={BREAKOUT}",
        f"/accounts/signup/?next={BREAKOUT}",
        f"/roadmaps/hostile/?show={BREAKOUT}",
    ],
)
def test_reflected_query_values_are_escaped(hostile, path):
    """What the address carries (the search box, ``next``, the theme form's return path) is escaped too."""
    assert_inert(Client().get(path))


def test_a_reflected_search_is_shown_literally_in_the_box_and_the_summary(hostile):
    """The query itself comes back as text in the search box and the result summary."""
    soup = assert_inert(Client().get("/search/", {"q": HOSTILE}))

    assert soup.select_one("#search-q")["value"] == HOSTILE
    assert HOSTILE in soup.select_one(".search-summary").get_text()


# The admin, as a superuser (who sees every model).


def admin_pages(hostile) -> dict[str, str]:
    learner = hostile["learner"]
    objects = {
        "roadmap": hostile["roadmap"],
        "stage": hostile["stage"],
        "topic": hostile["topic"],
        "resource": hostile["resource"],
        "user": learner,
        "note": Note.objects.get(user=learner),
        "progress": Progress.objects.get(user=learner),
    }
    pages = {}
    for name, obj in objects.items():
        prefix = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
        pages[f"{name} list"] = reverse(f"{prefix}_changelist")
        pages[f"{name} list, searched"] = reverse(f"{prefix}_changelist") + "?" + urlencode({"q": HOSTILE})
        pages[f"{name} change"] = reverse(f"{prefix}_change", args=[obj.pk])
        pages[f"{name} history"] = reverse(f"{prefix}_history", args=[obj.pk])
        if name != "progress":  # read-only: nobody may delete a learner's record by hand
            pages[f"{name} delete"] = reverse(f"{prefix}_delete", args=[obj.pk])
    pages["autocomplete"] = f"/admin/autocomplete/?app_label=roadmap&model_name=topic&field_name=stage&term={MARKER}"
    return pages


ADMIN_PAGE_NAMES = [
    f"{name} {page}"
    for name in ("roadmap", "stage", "topic", "resource", "user", "note", "progress")
    for page in ("list", "list, searched", "change", "history", "delete")
    # Progress is read-only (nobody deletes a learner's record by hand); a user's str() is the username.
    if (name, page) not in {("progress", "delete"), ("user", "history")}
]


@pytest.mark.parametrize("page", ADMIN_PAGE_NAMES)
def test_admin_pages_show_hostile_content_as_text(hostile, admin_client, page):
    """Changelists (searched for the payload too), change forms, histories and delete confirmations escape it."""
    soup = assert_inert(admin_client.get(admin_pages(hostile)[page]))

    assert shown_literally(soup, SCRIPT)


def test_admin_autocomplete_answers_json_with_the_text_as_data(hostile, admin_client):
    """The autocomplete widget gets JSON (the widget inserts it as text), with the title exact."""
    response = admin_client.get(admin_pages(hostile)["autocomplete"])

    assert response["Content-Type"] == "application/json"
    assert [result["text"] for result in response.json()["results"]] == [f"{MARKER} {HOSTILE}"]


def test_recent_actions_show_a_hostile_title_as_text(hostile, admin_client):
    """An editor saving a hostile title: the admin index's "Recent actions" prints the stored repr escaped."""
    url = reverse("admin:roadmap_roadmap_change", args=[hostile["roadmap"].pk])
    data = form_data(admin_client.get(url).content)
    data["title"] = HOSTILE

    assert admin_client.post(url, data).status_code == 302
    assert LogEntry.objects.get().object_repr == HOSTILE
    soup = assert_inert(admin_client.get(reverse("admin:index")))
    assert HOSTILE in soup.select_one("#recent-actions-module").get_text()


# Resource URLs: http and https only, whoever saves them.

NOT_HTTP = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://example.com/file",
    "file:///etc/passwd",
]
HTTP_ONLY = "Enter an http:// or https:// URL."


@pytest.mark.parametrize("url", NOT_HTTP)
def test_the_model_refuses_a_resource_url_that_is_not_http(url):
    """``full_clean`` (used by the importer and any form) explains what is accepted."""
    resource = Resource(title="Bad", slug="bad", url=url)

    with pytest.raises(ValidationError) as raised:
        resource.full_clean()

    assert HTTP_ONLY in raised.value.message_dict["url"] or "Enter a valid URL." in raised.value.message_dict["url"]


@pytest.mark.parametrize("url", NOT_HTTP)
def test_the_admin_refuses_a_resource_url_that_is_not_http(admin_client, url):
    """The editor sees why next to the field, and nothing is saved."""
    data = {"title": "Bad", "slug": "bad", "kind": "docs", "url": url, "author": "", "is_free": "on"}

    response = admin_client.post(reverse("admin:roadmap_resource_add"), data)

    assert response.status_code == 200
    errors = BeautifulSoup(response.content, "html.parser").select_one(".field-url .errorlist").get_text()
    assert HTTP_ONLY in errors or "Enter a valid URL." in errors
    assert not Resource.objects.filter(slug="bad").exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://example.com/"])
def test_the_database_refuses_a_resource_url_that_is_not_http(url):
    """Code that skips validation (a raw ``create``) still cannot store one: a check constraint."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(title="Bad", slug="bad", url=url)


def test_the_admin_accepts_an_https_url_and_a_schemeless_one_as_https(admin_client):
    """The refusal is about the scheme, not URLs in general: "example.com/x" becomes https."""
    data = {"title": "Good", "slug": "good", "kind": "docs", "url": "example.com/x", "author": "", "is_free": "on"}

    assert admin_client.post(reverse("admin:roadmap_resource_add"), data).status_code == 302
    assert Resource.objects.get(slug="good").url == "https://example.com/x"
