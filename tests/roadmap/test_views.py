"""Every page: status, content, order, navigation and 404s, parsed as HTML."""

import pytest
from bs4 import BeautifulSoup
from django.template.loader import render_to_string
from django.test import Client

from roadmap.models import Stage, Topic
from tests.factories import make_curriculum, make_resource, make_roadmap, make_stage, make_topic

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
STAGE = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/"
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"


def page(client: Client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, url
    return BeautifulSoup(response.content, "html.parser")


def text(element) -> str:
    return " ".join(element.get_text().split())


def test_home_lists_roadmaps_with_stage_and_topic_counts(client, seeded):
    soup = page(client, "/")
    cards = soup.select(".roadmap-card")
    assert [text(card.h2) for card in cards] == [
        "Django Roadmap: From the Basics to Advanced Concepts",
        "Mastering Django",
    ]
    assert "15 stages · 57 topics" in text(cards[0])
    assert "10 stages · 48 topics" in text(cards[1])
    assert cards[1].h2.a["href"] == "/roadmaps/mastering-django/"


def test_roadmap_list_url_redirects_home(client):
    response = client.get("/roadmaps/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_roadmap_page_shows_numbered_stages_and_topics_in_order(client, seeded):
    soup = page(client, ROADMAP)
    assert text(soup.h1) == "Django Roadmap: From the Basics to Advanced Concepts"
    stages = soup.select(".stage-card")
    assert len(stages) == 15
    assert [text(stage.h2) for stage in stages][:3] == [
        "Basics of Python",
        "Introduction to Web Development",
        "Setting Up Django",
    ]
    assert text(stages[5].select_one(".stage-eyebrow")) == "Stage 6"
    topics = stages[5].select(".topic-row")
    assert [f"{text(row.select_one('.topic-number'))} {text(row.a)}" for row in topics] == [
        "6.1 Models",
        "6.2 QuerySets",
        "6.3 Relationships (One-to-One, One-to-Many, Many-to-Many)",
        "6.4 Querying the Database",
    ]
    assert topics[1].a["href"] == TOPIC
    assert stages[5].h2.a["href"] == STAGE
    assert len(soup.select(".topic-row")) == 57


def test_roadmap_page_has_a_table_of_contents_and_roadmap_resources(client, seeded):
    soup = page(client, ROADMAP)
    toc = soup.select("nav.toc a")
    assert text(toc[0]) == "1. Basics of Python"
    assert toc[0]["href"] == "#stage-basics-of-python"
    assert soup.select_one("#stage-basics-of-python")
    resources = soup.select("#resources .resource")
    assert text(resources[0].select_one("a, cite")) == "Django Documentation"
    assert any("Two Scoops of Django" in text(r) and "Paid" in text(r) for r in resources)


def test_roadmap_page_shows_topic_descriptions_with_inline_code(client, seeded):
    soup = page(client, "/roadmaps/mastering-django/")
    code = soup.find("code", string="manage.py")
    assert code is not None
    assert "Using django-admin and manage.py." in text(code.parent)


def test_stage_page_shows_summary_topics_resources_and_neighbours(client, seeded):
    soup = page(client, STAGE)
    assert text(soup.h1) == "Django ORM (Object-Relational Mapping)"
    assert "Stage 6" in text(soup.select_one(".stage-eyebrow"))
    assert "Understand Django's ORM to interact with the database." in text(soup.select_one(".lead"))
    headings = [text(h) for h in soup.select("main h2")]
    assert headings[:2] == ["6.1 Models", "6.2 QuerySets"]
    assert soup.select_one("main .resource a[href^='https://docs.djangoproject.com/']")
    assert soup.select_one("a[rel=prev]")["href"] == "/roadmaps/django-roadmap/building-views-and-templates/"
    assert soup.select_one("a[rel=next]")["href"] == "/roadmaps/django-roadmap/forms-and-user-input/"
    crumbs = [text(li) for li in soup.select(".breadcrumb li")]
    assert crumbs == [
        "Home",
        "Django Roadmap: From the Basics to Advanced Concepts",
        "Stage 6: Django ORM (Object-Relational Mapping)",
    ]


def test_first_and_last_stage_have_one_neighbour(client, seeded):
    first = page(client, "/roadmaps/django-roadmap/basics-of-python/")
    assert first.select_one("a[rel=prev]") is None
    assert first.select_one("a[rel=next]")
    last = page(client, "/roadmaps/django-roadmap/continuous-learning/")
    assert last.select_one("a[rel=next]") is None


def test_topic_page_shows_description_resources_breadcrumbs_and_neighbours(client, seeded):
    soup = page(client, "/roadmaps/mastering-django/django-basics/creating-a-simple-app/")
    assert text(soup.h1) == "2.3 Creating a Simple App"
    assert "Stage 2, topic 3" in text(soup.select_one(".stage-eyebrow"))
    assert text(soup.select_one(".lead")) == "Using django-admin and manage.py."
    crumbs = soup.select(".breadcrumb li")
    assert [text(li) for li in crumbs] == [
        "Home",
        "Mastering Django",
        "Stage 2: Django Basics",
        "Creating a Simple App",
    ]
    assert crumbs[-1]["aria-current"] == "page"
    assert (
        soup.select_one("a[rel=prev]")["href"] == "/roadmaps/mastering-django/django-basics/django-project-structure/"
    )
    assert soup.select_one("a[rel=next]")["href"] == "/roadmaps/mastering-django/django-basics/url-routing/"


def test_topic_neighbours_cross_stage_boundaries(client, seeded):
    soup = page(client, "/roadmaps/django-roadmap/introduction-to-web-development/html-css-and-javascript/")
    previous = soup.select_one("a[rel=prev]")
    assert previous["href"] == "/roadmaps/django-roadmap/basics-of-python/object-oriented-programming-oop-concepts/"


def test_topic_resources_are_grouped_by_kind_with_official_docs_first(client):
    topic = make_topic()
    topic.resources.add(
        make_resource(kind="video", title="A talk"),
        make_resource(kind="book", title="A book", url="", author="Someone", is_free=False),
        make_resource(kind="docs", title="The docs"),
    )
    soup = page(client, topic.get_absolute_url())
    assert [text(h) for h in soup.select("main h3")] == ["Official docs", "Book", "Video"]
    badges = [text(b) for b in soup.select(".resource .badge")]
    assert badges == ["Official docs", "Book", "Paid", "Video"]
    assert text(soup.select_one(".resource cite")) == "A book"


def test_resources_of_one_kind_follow_their_link_positions(client):
    topic = make_topic()
    topic.resources.add(make_resource(title="A second"), through_defaults={"position": 2})
    topic.resources.add(make_resource(title="Z first"), through_defaults={"position": 1})
    topic.resources.add(make_resource(title="A book", kind="book"), through_defaults={"position": 0})
    for url in (topic.get_absolute_url(), topic.stage.get_absolute_url()):
        links = [text(a) for a in page(client, url).select(".resource a, .resource cite")]
        assert links == ["Z first", "A second", "A book"], url


def test_numbers_follow_positions_not_ids(client):
    roadmap = make_roadmap()
    stage_b = make_stage(roadmap, position=2, slug="b", title="B")
    stage_a = make_stage(roadmap, position=1, slug="a", title="A")
    make_topic(stage_b, position=5, title="Second")
    make_topic(stage_b, position=3, title="First")
    soup = page(client, roadmap.get_absolute_url())
    assert [text(row) for row in soup.select(".topic-row")] == ["2.1 First", "2.2 Second"]
    assert text(page(client, stage_a.get_absolute_url()).select_one(".stage-eyebrow")).endswith("Stage 1")


@pytest.mark.parametrize(
    "url",
    [
        "/roadmaps/nope/",
        "/roadmaps/django-roadmap/nope/",
        "/roadmaps/django-roadmap/basics-of-python/nope/",
        # A real topic under the wrong stage.
        "/roadmaps/django-roadmap/testing/querysets/",
        "/roadmaps/mastering-django/django-orm-object-relational-mapping/",
        "/no/such/page/",
        "/roadmaps/Not%20a%20slug/",
    ],
)
def test_unknown_slugs_give_the_styled_404_page(client, seeded, url):
    soup = page(client, url, status=404)
    assert text(soup.h1) == "Page not found"
    assert soup.select_one("header nav")
    assert soup.select_one("a[href='/']")


def test_unpublished_roadmap_is_hidden_from_learners_but_previewable_by_staff(client, admin_client):
    stage = make_stage(make_roadmap(is_published=False, slug="draft", title="Draft roadmap"))
    topic = make_topic(stage)
    for url in ("/roadmaps/draft/", stage.get_absolute_url(), topic.get_absolute_url()):
        assert client.get(url).status_code == 404
        assert admin_client.get(url).status_code == 200
    assert "Draft roadmap" not in client.get("/").content.decode()
    assert "Draft roadmap" in admin_client.get("/").content.decode()


def test_500_page_renders_without_a_request_context():
    html = render_to_string("500.html")
    soup = BeautifulSoup(html, "html.parser")
    assert text(soup.h1) == "Something went wrong on our side"
    assert soup.select_one("link[rel=stylesheet]")


def test_server_errors_use_the_styled_500_page(client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("roadmap.selectors.roadmap_list", explode)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_every_page_extends_base_with_landmarks_and_one_h1(client, seeded):
    for url in ("/", ROADMAP, STAGE, TOPIC, "/roadmaps/nope/"):
        soup = BeautifulSoup(client.get(url).content, "html.parser")
        assert soup.html["lang"] == "en"
        assert len(soup.find_all("h1")) == 1, url
        assert soup.select_one("a.skip-link[href='#main']")
        assert soup.select_one("header") and soup.select_one("main#main") and soup.select_one("footer")
        assert soup.title.string.strip().endswith("Learning Roadmaps")


def test_current_roadmap_is_marked_in_the_navigation(client, seeded):
    soup = page(client, ROADMAP)
    current = soup.select("header a[aria-current]")
    assert [(text(a), a["aria-current"]) for a in current] == [
        ("Django Roadmap: From the Basics to Advanced Concepts", "page")
    ]
    soup = page(client, STAGE)
    assert soup.select_one("header a[aria-current]")["aria-current"] == "true"


def test_assets_are_served_locally_never_from_a_cdn(client, seeded):
    soup = page(client, ROADMAP)
    assets = [tag.get("href") or tag.get("src") for tag in soup.select("link[rel=stylesheet], script")]
    assert assets and all(url.startswith("/static/") for url in assets)
    assert not soup.select("script:not([src])")  # no inline scripts (a CSP comes later)
    assert not soup.select("[style]")


def test_content_is_escaped(client):
    topic = make_topic(title="<script>alert(1)</script>", description="`<b>bold</b>` and <i>x</i>")
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code> and &lt;i&gt;x&lt;/i&gt;" in html


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/", 3),
        ("/roadmaps/big/", 7),
        ("/roadmaps/big/s20/", 6),
        ("/roadmaps/big/s20/t10/", 6),
    ],
)
def test_query_count_does_not_grow_with_the_roadmap(client, django_assert_max_num_queries, url, queries):
    """Cold cache: the content version, then what the page's selectors need (tests/roadmap/test_caching.py: warm)."""
    make_curriculum(stages=40, topics=25, resources=3, slug="big")
    with django_assert_max_num_queries(queries):
        assert client.get(url).status_code == 200


def test_stage_and_topic_numbers_match_between_pages(client, seeded):
    """The number a learner sees for a topic is the same on the roadmap, stage and topic pages."""
    for topic in Topic.objects.filter(stage__roadmap__slug="mastering-django").select_related("stage__roadmap")[::7]:
        stage_number = list(Stage.objects.filter(roadmap=topic.stage.roadmap)).index(topic.stage) + 1
        topic_number = list(topic.stage.topics.all()).index(topic) + 1
        expected = f"{stage_number}.{topic_number} {topic.title}"
        assert text(page(client, topic.get_absolute_url()).h1) == expected
        stage_page = page(client, topic.stage.get_absolute_url())
        assert expected in [text(h) for h in stage_page.select("main h2")]
