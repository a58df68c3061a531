"""Progress: the service's rules, the tick-off endpoint, and the pages that show it."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Note, Progress, ProgressEvent, Status
from accounts.selectors import ProgressSummary
from accounts.services import InvalidStatus, progress_set
from roadmap.models import Topic
from tests.factories import make_curriculum, make_stage, make_topic, make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
STAGE = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/"
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
PROGRESS = TOPIC + "progress/"


# The summary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "done", "skipped", "percent"),
    [(57, 0, 0, 0), (57, 12, 2, 24), (3, 2, 0, 66), (3, 2, 1, 100), (0, 0, 0, 0), (200, 199, 0, 99)],
)
def test_percent_counts_done_and_skipped_rounded_down(total, done, skipped, percent):
    summary = ProgressSummary(total=total, done=done, skipped=skipped)
    assert summary.percent == percent
    assert summary.is_complete is (total > 0 and done + skipped == total)


def test_summary_label_lists_only_what_is_there():
    assert ProgressSummary(total=57, done=12, in_progress=3, skipped=2).label == (
        "12 of 57 done · 3 in progress · 2 skipped"
    )
    assert ProgressSummary(total=5, done=1).label == "1 of 5 done"


# The service ---------------------------------------------------------------------


def test_progress_set_creates_one_record_with_timestamps(learner):
    topic = make_topic()
    progress = progress_set(user=learner, topic=topic, status="in_progress")
    assert progress.started_at is not None and progress.completed_at is None
    done = progress_set(user=learner, topic=topic, status="done")
    assert done.pk == progress.pk
    assert done.completed_at >= done.started_at == progress.started_at
    assert Progress.objects.filter(user=learner, topic=topic).count() == 1


def test_progress_set_is_idempotent(learner):
    topic = make_topic()
    first = progress_set(user=learner, topic=topic, status="done")
    again = progress_set(user=learner, topic=topic, status="done")
    assert again.updated_at == first.updated_at
    assert again.completed_at == first.completed_at
    assert ProgressEvent.objects.filter(user=learner).count() == 1


def stored_state(learner, topic) -> tuple:
    record = Progress.objects.filter(user=learner, topic=topic).first()
    events = list(ProgressEvent.objects.filter(user=learner, topic=topic).order_by("id"))
    return record, events


@pytest.mark.parametrize(
    "path",
    [
        ["done"],
        ["in_progress", "done"],
        ["in_progress", "skipped"],
        ["skipped", "in_progress"],
        ["done", "in_progress", "done"],
        ["done", "not_started", "skipped"],
    ],
)
def test_every_transition_stores_what_the_rules_say(learner, path):
    """The same rules on every database: timestamps and events."""
    topic = make_topic()
    started = None
    for status in path:
        returned = progress_set(user=learner, topic=topic, status=status)
        record, events = stored_state(learner, topic)
        assert events[-1].status == status
        if status == "not_started":
            assert returned is None and record is None
            started = None
            continue
        assert (returned.pk, returned.status, returned.updated_at) == (record.pk, status, record.updated_at)
        assert events[-1].created_at == record.updated_at
        if status == "done":
            assert record.completed_at == record.updated_at
        else:
            assert record.completed_at is None
        if status == "skipped":
            assert record.started_at == started  # skipping keeps (or lacks) the start
        else:
            started = started or record.updated_at
            assert record.started_at == started
    assert len(events) == len(path)


def test_not_started_deletes_the_record_and_is_recorded_as_activity(learner):
    topic = make_topic()
    progress_set(user=learner, topic=topic, status="skipped")
    assert progress_set(user=learner, topic=topic, status="not_started") is None
    assert not Progress.objects.filter(user=learner).exists()
    assert list(ProgressEvent.objects.filter(user=learner).values_list("status", flat=True).order_by("id")) == [
        "skipped",
        "not_started",
    ]
    # Resetting what was never started changes nothing.
    assert progress_set(user=learner, topic=topic, status="not_started") is None
    assert ProgressEvent.objects.filter(user=learner).count() == 2


def test_unknown_status_is_rejected(learner):
    with pytest.raises(InvalidStatus, match="Unknown status 'finished'"):
        progress_set(user=learner, topic=make_topic(), status="finished")
    assert not Progress.objects.exists()


def test_database_refuses_a_second_record_for_the_same_topic(learner):
    from django.db import IntegrityError
    from django.utils import timezone

    topic = make_topic()
    progress_set(user=learner, topic=topic, status="done")
    with pytest.raises(IntegrityError):
        Progress.objects.create(user=learner, topic=topic, status=Status.DONE, updated_at=timezone.now())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL's row locks")
def test_concurrent_updates_never_duplicate():
    learner = make_user()
    topic = make_topic()
    statuses = ["done", "in_progress", "skipped", "done"] * 4
    barrier = threading.Barrier(len(statuses))
    errors = []

    def worker(status):
        try:
            barrier.wait()
            progress_set(user=learner, topic=topic, status=status)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(status,)) for status in statuses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = list(Progress.objects.filter(user=learner, topic=topic))
    assert len(records) == 1
    assert records[0].status in {"done", "in_progress", "skipped"}
    # The last acknowledged change is the record's status.
    last = ProgressEvent.objects.filter(user=learner).order_by("-created_at", "-id").first()
    assert last.status == records[0].status


# The endpoint --------------------------------------------------------------------


def test_anonymous_post_is_sent_to_log_in_and_back_to_the_page(client, seeded):
    response = client.post(PROGRESS, {"status": "done", "next": ROADMAP})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + ROADMAP
    assert not Progress.objects.exists()


def test_get_is_not_allowed(learner_client, seeded):
    assert learner_client.get(PROGRESS).status_code == 405


def test_post_marks_done_and_redirects_back_with_a_message(learner_client, learner, seeded):
    response = learner_client.post(PROGRESS + "?next=" + STAGE, {"status": "done"}, follow=True)
    assert response.redirect_chain == [(STAGE, 302)]
    assert Progress.objects.get(user=learner).status == "done"
    message = text(soup_of(response).select_one("[data-messages]"))
    assert message == "6.2 QuerySets: marked as done."


def test_post_without_next_returns_to_the_topic(learner_client, seeded):
    response = learner_client.post(PROGRESS, {"status": "in_progress"})
    assert response["Location"] == TOPIC


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example", "javascript:x"]
)
def test_next_cannot_redirect_off_site(learner_client, seeded, target):
    response = learner_client.post(PROGRESS, {"status": "done", "next": target})
    assert response["Location"] == TOPIC


@pytest.mark.parametrize("status", ["finished", "", "DONE"])
def test_unknown_status_is_a_400_with_a_message(learner_client, seeded, status):
    response = learner_client.post(PROGRESS, {"status": status})
    assert response.status_code == 400
    assert "status" in text(soup_of(response).select_one("main")).lower()
    assert not Progress.objects.exists()


def test_missing_status_is_a_400(learner_client, seeded):
    response = learner_client.post(PROGRESS, {})
    assert response.status_code == 400
    assert "Choose a status" in response.content.decode()


def test_json_answer_carries_the_new_summaries(learner_client, learner, seeded):
    response = learner_client.post(PROGRESS, {"status": "done"}, headers={"accept": "application/json"})
    assert response.status_code == 200
    data = response.json()
    progress = Progress.objects.get(user=learner)
    assert data["status"] == "done" and data["topic"] == progress.topic_id
    roadmap_key = f"roadmap-{progress.topic.stage.roadmap_id}"
    stage_key = f"stage-{progress.topic.stage_id}"
    assert data["progress"][roadmap_key] | {} == {
        "total": 57,
        "done": 1,
        "in_progress": 0,
        "skipped": 0,
        "finished": 1,
        "left": 56,
        "is_complete": False,
        "percent": 1,
        "label": "1 of 57 done",
    }
    assert data["progress"][stage_key]["label"] == f"1 of {progress.topic.stage.topics.count()} done"


def test_json_errors_are_json(learner_client, seeded):
    response = learner_client.post(PROGRESS, {"status": "nope"}, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert "Unknown status" in response.json()["error"]
    anonymous = Client().post(PROGRESS, {"status": "done"}, headers={"accept": "application/json"})
    assert anonymous.status_code == 401
    assert anonymous.json()["login_url"] == "/accounts/login/"


def test_unknown_topic_is_404(learner_client, seeded):
    assert learner_client.post(ROADMAP + "nope/nope/progress/", {"status": "done"}).status_code == 404


def test_unpublished_roadmap_cannot_be_ticked_by_learners(learner_client, learner, seeded):
    from roadmap.models import Roadmap

    Roadmap.objects.filter(slug="django-roadmap").update(is_published=False)
    assert learner_client.post(PROGRESS, {"status": "done"}).status_code == 404
    assert not Progress.objects.exists()


def test_csrf_is_enforced(learner, seeded):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.post(PROGRESS, {"status": "done"}).status_code == 403
    page = client.get(TOPIC)
    token = soup_of(page).select_one("#progress-form input[name=csrfmiddlewaretoken]")["value"]
    assert client.post(PROGRESS, {"status": "done", "csrfmiddlewaretoken": token}).status_code == 302
    assert Progress.objects.filter(user=learner).count() == 1


def test_a_learner_only_changes_their_own_progress(learner_client, learner, seeded):
    other = make_user(username="grace")
    learner_client.post(PROGRESS, {"status": "done"})
    assert not Progress.objects.filter(user=other).exists()
    grace = Client()
    grace.force_login(other)
    soup = soup_of(grace.get(ROADMAP))
    assert soup.select('.tick[aria-checked="true"]') == []
    assert text(soup.select_one('.roadmap-progress [role="progressbar"]').parent) == "0% · 0 of 57 done"


# Controls on the pages -------------------------------------------------------------


def test_roadmap_page_has_one_form_and_a_named_checkbox_per_topic(learner_client, seeded):
    soup = soup_of(learner_client.get(ROADMAP))
    assert len(soup.select("form#progress-form")) == 1
    assert len(soup.select("input[name=csrfmiddlewaretoken]")) == 2  # the progress form and the log-out button
    ticks = soup.select('button.tick[role="checkbox"]')
    assert len(ticks) == 57
    first = ticks[0]
    assert text(first) == "Done: 1.1 Variables, Data Types, and Operators"
    assert first["form"] == "progress-form"
    assert first["aria-checked"] == "false" and first["value"] == "done"
    assert first["formaction"].startswith(
        "/roadmaps/django-roadmap/basics-of-python/variables-data-types-and-operators/progress/?next="
    )


def test_done_topic_is_checked_and_unticks_to_not_started(learner_client, seeded):
    learner_client.post(PROGRESS, {"status": "done"})
    soup = soup_of(learner_client.get(ROADMAP))
    tick = next(t for t in soup.select(".tick") if "QuerySets" in text(t))
    assert tick["aria-checked"] == "true" and tick["value"] == "not_started"


def test_stage_and_topic_pages_offer_four_named_controls(learner_client, seeded):
    for url in (STAGE, TOPIC):
        soup = soup_of(learner_client.get(url))
        group = next(g for g in soup.select(".progress-controls") if "QuerySets" in g["aria-label"])
        assert group["aria-label"] == "Progress on 6.2 QuerySets"
        names = [button["aria-label"] for button in group.select("button")]
        assert names == [
            "Done: 6.2 QuerySets",
            "In progress: 6.2 QuerySets",
            "Skip: 6.2 QuerySets",
            "Reset: 6.2 QuerySets",
        ]
        # The visible words start the accessible names (WCAG 2.5.3, label in name).
        assert [text(button) for button in group.select("button")] == ["✓ Done", "◐ In progress", "↷ Skip", "↺ Reset"]
        assert [b["value"] for b in group.select("button")] == ["done", "in_progress", "skipped", "not_started"]


def test_anonymous_pages_invite_to_log_in_instead_of_controls(client, seeded):
    for url in (ROADMAP, STAGE, TOPIC):
        soup = soup_of(client.get(url))
        assert soup.select("#progress-form, .tick, .progress-controls, [role=progressbar]") == []
        login = soup.find("a", string="Log in", href=lambda href: href and "next=" in href)
        assert login["href"] == "/accounts/login/?next=" + url


def _bar(soup, key):
    block = soup.select_one(f'[data-progress="{key}"]')
    bar = block.select_one('[role="progressbar"]')
    assert bar["aria-valuemin"] == "0" and bar["aria-valuemax"] == "100"
    return int(bar["aria-valuenow"]), text(block.select_one(".progress-text"))


def test_the_same_percentage_on_every_page(learner_client, learner, seeded):
    from roadmap.models import Roadmap, Topic

    roadmap = Roadmap.objects.get(slug="django-roadmap")
    topics = list(Topic.objects.filter(stage__roadmap=roadmap).order_by("stage__position", "position"))
    for topic in topics[:12]:
        progress_set(user=learner, topic=topic, status="done")
    for topic in topics[12:15]:
        progress_set(user=learner, topic=topic, status="in_progress")
    for topic in topics[15:17]:
        progress_set(user=learner, topic=topic, status="skipped")
    learner.is_profile_public = True
    learner.save()
    expected = (24, "24% · 12 of 57 done · 3 in progress · 2 skipped")
    key = f"roadmap-{roadmap.pk}"
    pages = ["/", ROADMAP, "/dashboard/", "/u/ada/"]
    assert [_bar(soup_of(learner_client.get(url)), key) for url in pages] == [expected] * len(pages)


def test_stage_bars_agree_between_roadmap_stage_and_dashboard(learner_client, learner, seeded):
    from roadmap.models import Stage

    stage = Stage.objects.get(slug="django-orm-object-relational-mapping", roadmap__slug="django-roadmap")
    first, second = list(stage.topics.all())[:2]
    progress_set(user=learner, topic=first, status="done")
    progress_set(user=learner, topic=second, status="skipped")
    key = f"stage-{stage.pk}"
    on_roadmap = _bar(soup_of(learner_client.get(ROADMAP)), key)
    on_stage = _bar(soup_of(learner_client.get(STAGE)), key)
    total = stage.topics.count()
    assert on_roadmap == on_stage == (200 // total, f"{200 // total}% · 1 of {total} done · 1 skipped")


def test_finishing_every_topic_shows_exactly_100(learner_client, learner):
    roadmap = make_curriculum(stages=1, topics=3, slug="tiny", title="Tiny")
    topics = list(roadmap.stages.get().topics.all())
    for topic in topics[:2]:
        progress_set(user=learner, topic=topic, status="done")
    assert _bar(soup_of(learner_client.get("/roadmaps/tiny/")), f"roadmap-{roadmap.pk}")[0] == 66
    progress_set(user=learner, topic=topics[2], status="skipped")
    assert _bar(soup_of(learner_client.get("/roadmaps/tiny/")), f"roadmap-{roadmap.pk}") == (
        100,
        "100% · 2 of 3 done · 1 skipped",
    )


# Constant query counts -----------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["roadmap_detail", "stage_detail", "topic_detail", "home"])
def test_logged_in_pages_use_a_constant_number_of_queries(learner_client, learner, django_assert_num_queries, url_name):
    counts = []
    for size in (5, 500):
        slug = f"size-{size}"
        roadmap = make_curriculum(stages=1 if size == 5 else 20, topics=5 if size == 5 else 25, resources=1, slug=slug)
        stage = roadmap.stages.first()
        topic = stage.topics.first()
        for t in list(stage.topics.all())[:3]:
            progress_set(user=learner, topic=t, status="done")
        kwargs = {
            "home": {},
            "roadmap_detail": {"roadmap": slug},
            "stage_detail": {"roadmap": slug, "stage": stage.slug},
            "topic_detail": {"roadmap": slug, "stage": stage.slug, "topic": topic.slug},
        }[url_name]
        from django.db import connection as conn
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(conn) as queries:
            assert learner_client.get(reverse(f"roadmap:{url_name}", kwargs=kwargs)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # A first view (nothing cached yet): session, user, content version, the curriculum's reads, then the
    # learner's states (their record and note on the topic page).
    assert counts[0] <= 10


def test_dashboard_uses_a_constant_number_of_queries(learner_client, learner):
    counts = []
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    for size in (1, 20):
        roadmap = make_curriculum(stages=size, topics=10, slug=f"dash-{size}")
        for topic in [t for s in roadmap.stages.all() for t in s.topics.all()][: size * 5]:
            progress_set(user=learner, topic=topic, status="in_progress")
            Note.objects.create(user=learner, topic=topic, text="remember")
        with CaptureQueriesContext(conn) as queries:
            assert learner_client.get("/dashboard/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10


# Content changes ------------------------------------------------------------------------


def test_reloading_fixtures_keeps_every_record(learner, seeded):
    from django.core.management import call_command

    from roadmap.models import Topic

    for topic in Topic.objects.all()[:20]:
        progress_set(user=learner, topic=topic, status="done")
    before = list(Progress.objects.values_list("pk", "topic_id", "status", "completed_at").order_by("pk"))
    call_command("loaddata", "roadmaps", verbosity=0)
    after = list(Progress.objects.values_list("pk", "topic_id", "status", "completed_at").order_by("pk"))
    assert after == before


def test_reimporting_a_roadmap_keeps_progress_even_for_removed_topics(learner, seeded, tmp_path):
    from django.core.management import call_command

    from roadmap.models import Topic
    from tests.conftest import SOURCES

    topic = Topic.objects.get(slug="querysets", stage__roadmap__slug="django-roadmap")
    progress_set(user=learner, topic=topic, status="done")
    document = (SOURCES / "django-roadmap.md").read_text(encoding="utf-8")
    shortened = tmp_path / "roadmap.md"
    shortened.write_text(document.replace("  - QuerySets\n", "  - QuerySet basics\n"), encoding="utf-8")
    assert "QuerySet basics" in shortened.read_text(encoding="utf-8")
    call_command(
        "import_roadmap",
        shortened,
        slug="django-roadmap",
        title="Django Roadmap: From the Basics to Advanced Concepts",
        verbosity=0,
    )
    # The renamed topic is new; the one the learner completed is kept, with its record.
    assert Topic.objects.filter(slug="queryset-basics", stage=topic.stage).exists()
    assert Topic.objects.filter(pk=topic.pk).exists()
    assert Progress.objects.get(user=learner).topic_id == topic.pk


def test_editing_a_completed_topic_marks_it_updated(learner_client, learner):
    from roadmap.models import TopicResource
    from tests.factories import make_resource

    stage = make_stage()
    topic = make_topic(stage, description="Old text")
    other = make_topic(stage)
    progress_set(user=learner, topic=topic, status="done")
    progress_set(user=learner, topic=other, status="done")
    url = stage.get_absolute_url()

    def marked() -> list[str]:
        soup = soup_of(learner_client.get(url))
        return [card["id"] for card in soup.select(".topic-card") if card.select(".updated-mark")]

    assert marked() == []
    topic.description = "New text"
    topic.save()
    TopicResource.objects.create(topic=other, resource=make_resource(), position=1)
    assert marked() == [f"t{topic.pk}", f"t{other.pk}"]
    # Completing it again acknowledges the change.
    progress_set(user=learner, topic=topic, status="in_progress")
    progress_set(user=learner, topic=topic, status="done")
    assert marked() == [f"t{other.pk}"]


def test_saving_a_topic_unchanged_or_reloading_fixtures_does_not_mark_it(learner, seeded):
    from django.core.management import call_command

    from roadmap.models import Topic

    topic = Topic.objects.get(slug="querysets", stage__roadmap__slug="django-roadmap")
    stamp = topic.content_updated_at
    topic.title = "QuerySets"
    topic.save()
    call_command("loaddata", "roadmaps", verbosity=0)
    topic.refresh_from_db()
    assert topic.content_updated_at == stamp


@pytest.mark.parametrize("status", ["done", "not_started"])
def test_a_tick_off_costs_the_same_few_queries_whatever_the_roadmap_size(learner_client, learner, status):
    """The confirmation names the topic by number ("40.25") from the roadmap's reading order, read from the
    cache (built with 3 queries once per content version) whatever the roadmap's size."""
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for stages, topics in ((1, 2), (40, 25)):
        roadmap = make_curriculum(stages=stages, topics=topics, slug=f"tick-{stages}")
        first, *_, last = Topic.objects.filter(stage__roadmap=roadmap).order_by("stage__position", "position")
        for topic in (first, last):  # the first tick after the content changed builds the reading order
            if status == "not_started":
                progress_set(user=learner, topic=topic, status="done")
            url = topic.get_absolute_url() + "progress/"
            with CaptureQueriesContext(connection) as queries:
                response = learner_client.post(url, {"status": status})
            assert response.status_code == 302
            counts[stages, topic == first] = len(queries)
        shown = " ".join(text(alert) for alert in soup_of(learner_client.get(response.url)).select(".alert"))
        assert f"{stages}.{topics} {last.title}" in shown
    assert counts[1, True] == counts[40, True] == counts[1, False] + 3
    assert counts[1, False] == counts[40, False]
    # The session, the user, the topic and the content version, then the locked read, the activity event and
    # the write; SQLite adds BEGIN/COMMIT statements that PostgreSQL's driver does not count.
    assert counts[40, False] <= 9


def test_a_lost_creation_race_updates_the_winners_record(learner, monkeypatch):
    """Two first ticks at once: the loser's INSERT fails on the unique constraint; it runs again and updates."""
    topic = make_topic()
    winner = progress_set(user=learner, topic=topic, status="in_progress")
    real_first = Progress.objects.none().__class__.first
    calls = []

    def first_misses_once(queryset):
        calls.append(queryset.model)
        if queryset.model is Progress and len(calls) == 1:
            return None  # as if the winner had not committed yet when we looked
        return real_first(queryset)

    monkeypatch.setattr(type(Progress.objects.all()), "first", first_misses_once)
    progress = progress_set(user=learner, topic=topic, status="done")

    assert progress.pk == winner.pk
    assert list(Progress.objects.filter(user=learner, topic=topic).values_list("status", flat=True)) == ["done"]
    assert list(ProgressEvent.objects.filter(user=learner, topic=topic).values_list("status", flat=True)) == [
        "in_progress",
        "done",
    ]


def test_a_tick_off_names_the_topic_as_the_curriculum_is_now(learner_client, learner):
    """The topic a POST names is remembered per content version: an edit is seen by the next POST."""
    roadmap = make_curriculum(stages=1, topics=2, slug="renamed")
    topic = roadmap.stages.get().topics.order_by("position").last()
    url = topic.get_absolute_url() + "progress/"

    def message(status: str) -> str:
        response = learner_client.post(url, {"status": status})
        assert response.status_code == 302
        return text(soup_of(learner_client.get(response.url)).select_one(".alert"))

    assert f"1.2 {topic.title}" in message("done")
    topic.title = "A better title"
    topic.save()
    assert "1.2 A better title" in message("in_progress")
    roadmap.is_published = False
    roadmap.save()
    assert learner_client.post(url, {"status": "done"}).status_code == 404


def test_a_tick_off_works_without_a_content_version_row(learner_client):
    """No version to key the memo on (the row deleted by hand): the topic is read and numbered directly."""
    from roadmap.models import ContentVersion

    roadmap = make_curriculum(stages=2, topics=2, slug="unversioned")
    topic = Topic.objects.get(stage__roadmap=roadmap, stage__position=2, position=2)
    url = topic.get_absolute_url() + "progress/"
    ContentVersion.objects.all().delete()
    response = learner_client.post(url, {"status": "done"})
    assert response.status_code == 302
    shown = " ".join(text(alert) for alert in soup_of(learner_client.get(response.url)).select(".alert"))
    assert f"2.2 {topic.title}: marked as done" in shown
