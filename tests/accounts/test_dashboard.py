"""Dashboard, notes, export and the public profile."""

import csv
import io
import json

import pytest
from django.test import Client

from accounts.models import NOTE_MAX_LENGTH, Note
from accounts.services import note_set, progress_set
from roadmap.models import Roadmap, Topic
from tests.factories import make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
NOTE = TOPIC + "note/"
XSS = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{ user.password }} {% debug %}'


@pytest.fixture
def learner(db):
    return make_user(username="ada", display_name="Ada L.")


def reading_order(slug: str) -> list[Topic]:
    return list(
        Topic.objects.filter(stage__roadmap__slug=slug)
        .select_related("stage__roadmap")
        .order_by("stage__position", "stage__slug", "position", "slug")
    )


# Dashboard ---------------------------------------------------------------------------


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_new_learner_is_invited_to_start(learner_client, seeded):
    soup = soup_of(learner_client.get("/dashboard/"))
    assert "You have not started a roadmap yet." in text(soup)
    assert soup.select(".dashboard-roadmap") == []


def test_dashboard_lists_started_roadmaps_with_continue_link(learner_client, learner, seeded):
    topics = reading_order("django-roadmap")
    progress_set(user=learner, topic=topics[0], status="done")
    progress_set(user=learner, topic=topics[1], status="skipped")
    progress_set(user=learner, topic=topics[2], status="in_progress")
    soup = soup_of(learner_client.get("/dashboard/"))
    cards = soup.select(".dashboard-roadmap")
    assert [text(card.h3) for card in cards] == ["Django Roadmap: From the Basics to Advanced Concepts"]
    link = cards[0].select_one(".continue-link")
    # The first topic that is neither done nor skipped, in roadmap order: 1.3 (in progress).
    assert text(link) == f"Continue: 1.3 {topics[2].title}"
    assert link["href"] == topics[2].get_absolute_url()
    stages = cards[0].select(".stage-breakdown li")
    assert len(stages) == 15
    first_stage = topics[0].stage.topics.count()
    assert text(stages[0]).endswith(f"1 of {first_stage} done · 1 in progress · 1 skipped")


def test_completed_roadmap_is_congratulated(learner_client, learner, seeded):
    for topic in reading_order("mastering-django"):
        progress_set(user=learner, topic=topic, status="done")
    card = soup_of(learner_client.get("/dashboard/")).select_one(".dashboard-roadmap")
    assert "Congratulations" in text(card)
    assert card.select(".continue-link") == []
    assert card.select_one('[role="progressbar"]')["aria-valuenow"] == "100"


def test_recent_activity_shows_the_last_ten_changes_newest_first(learner_client, learner, seeded):
    topics = reading_order("django-roadmap")[:12]
    for topic in topics:
        progress_set(user=learner, topic=topic, status="done")
    progress_set(user=learner, topic=topics[0], status="not_started")
    items = soup_of(learner_client.get("/dashboard/")).select("#activity-heading + ol li")
    assert len(items) == 10
    assert text(items[0]).startswith(f"○ Not started 1.1 {topics[0].title}")
    assert f"✓ Done {topics[11].title}" not in text(items[0])
    assert items[0].time["datetime"]


def test_in_progress_topics_are_listed(learner_client, learner, seeded):
    topic = reading_order("mastering-django")[4]
    progress_set(user=learner, topic=topic, status="in_progress")
    items = soup_of(learner_client.get("/dashboard/")).select("#in-progress-heading + ul li")
    assert [item.a.get_text() for item in items] == [topic.title]


def test_unpublished_roadmaps_drop_out_of_the_dashboard(learner_client, learner, seeded):
    progress_set(user=learner, topic=reading_order("django-roadmap")[0], status="done")
    Roadmap.objects.filter(slug="django-roadmap").update(is_published=False)
    soup = soup_of(learner_client.get("/dashboard/"))
    assert soup.select(".dashboard-roadmap") == []


# Notes --------------------------------------------------------------------------------


def test_note_is_saved_escaped_and_listed_in_the_dashboard(learner_client, learner, seeded):
    response = learner_client.post(NOTE, {"text": XSS}, follow=True)
    assert response.redirect_chain == [(TOPIC, 302)]
    soup = soup_of(response)
    assert "Your note was saved." in text(soup.select_one("[data-messages]"))
    assert soup.select_one("textarea[name=text]").get_text().strip() == XSS
    assert "<script>alert(1)</script>" not in response.content.decode()
    dashboard = learner_client.get("/dashboard/")
    html = dashboard.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "<img src=x" not in html
    note = soup_of(dashboard).select_one(".dashboard-notes li")
    assert "QuerySets" in text(note)


def test_blank_note_deletes_it(learner_client, learner, seeded):
    learner_client.post(NOTE, {"text": "keep this"})
    assert Note.objects.get(user=learner).text == "keep this"
    response = learner_client.post(NOTE, {"text": "   "}, follow=True)
    assert "Your note was deleted." in text(soup_of(response).select_one("[data-messages]"))
    assert not Note.objects.exists()


def test_too_long_note_is_refused_and_the_text_is_kept_on_the_page(learner_client, learner, seeded):
    long = "x" * (NOTE_MAX_LENGTH + 1)
    response = learner_client.post(NOTE, {"text": long})
    assert response.status_code == 400
    soup = soup_of(response)
    assert soup.select_one("textarea[name=text]").get_text().strip() == long
    assert "at most 10000 characters" in text(soup.select_one("#note")).replace(",", "")
    assert not Note.objects.exists()


def test_note_requires_login_and_post(client, learner_client, seeded):
    assert client.post(NOTE, {"text": "x"})["Location"] == "/accounts/login/?next=" + TOPIC
    assert learner_client.get(NOTE).status_code == 405
    assert not Note.objects.exists()


def test_notes_are_private(learner, seeded):
    topic = Topic.objects.get(slug="querysets", stage__roadmap__slug="django-roadmap")
    note_set(user=learner, topic=topic, text="my secret plan")
    other = Client()
    other.force_login(make_user(username="grace"))
    for url in (TOPIC, "/dashboard/", "/dashboard/export.json", "/dashboard/export.csv"):
        assert "my secret plan" not in other.get(url).content.decode()


# Export --------------------------------------------------------------------------------


def _prepare(learner):
    topics = reading_order("django-roadmap")
    progress_set(user=learner, topic=topics[3], status="done")
    progress_set(user=learner, topic=topics[0], status="in_progress")
    note_set(user=learner, topic=topics[0], text='Line one\nwith "quotes", commas')
    note_set(user=learner, topic=topics[5], text="Only a note")
    return topics


def test_json_export_is_a_download_with_slug_identifiers(learner_client, learner, seeded):
    topics = _prepare(learner)
    response = learner_client.get("/dashboard/export.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="roadmap-progress-ada-')
    document = json.loads(response.content)
    assert document["format"] == "roadmap-site-progress" and document["version"] == 1
    assert document["user"] == "ada"
    rows = document["topics"]
    assert [(row["stage"], row["topic"]) for row in rows] == [(topics[i].stage.slug, topics[i].slug) for i in (0, 3, 5)]
    assert rows[0]["roadmap"] == "django-roadmap"
    assert rows[0]["status"] == "in_progress" and rows[0]["note"] == 'Line one\nwith "quotes", commas'
    assert rows[1]["status"] == "done" and rows[1]["completed_at"] and rows[1]["note"] == ""
    assert rows[2]["status"] == "not_started" and rows[2]["note"] == "Only a note"


def test_csv_export_round_trips_through_a_csv_reader(learner_client, learner, seeded):
    _prepare(learner)
    response = learner_client.get("/dashboard/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    json_rows = json.loads(learner_client.get("/dashboard/export.json").content)["topics"]
    assert rows == json_rows


def test_export_requires_login(client):
    for url in ("/dashboard/export.json", "/dashboard/export.csv"):
        assert client.get(url)["Location"] == "/accounts/login/?next=" + url


# Public profile -------------------------------------------------------------------------


def test_public_profile_is_404_until_switched_on(client, learner, seeded):
    assert client.get("/u/ada/").status_code == 404
    assert client.get("/u/nobody/").status_code == 404
    learner.is_profile_public = True
    learner.save()
    assert client.get("/u/ada/").status_code == 200
    learner.is_active = False
    learner.save()
    assert client.get("/u/ada/").status_code == 404


def test_public_profile_shows_name_bio_and_progress_but_never_notes(client, learner, seeded):
    learner.is_profile_public = True
    learner.bio = "Learning <b>Django</b>"
    learner.save()
    topics = reading_order("mastering-django")
    progress_set(user=learner, topic=topics[0], status="done")
    note_set(user=learner, topic=topics[0], text="private thoughts")
    response = client.get("/u/ada/")
    soup = soup_of(response)
    assert text(soup.h1) == "Ada L."
    assert "Learning <b>Django</b>" in text(soup.select_one(".profile-bio"))
    bar = soup.select_one('[role="progressbar"]')
    assert bar["aria-label"] == "Ada L.'s progress in Mastering Django"
    assert bar["aria-valuenow"] == str(100 // 48)
    assert "private thoughts" not in response.content.decode()
