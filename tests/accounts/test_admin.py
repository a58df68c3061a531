"""Content editors keep the curriculum; learner data stays read-only or private."""

import importlib
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Note, Progress, ProgressEvent, Status
from roadmap.models import Topic
from tests.factories import make_curriculum, make_resource, make_stage, make_topic
from tests.helpers import form_data

pytestmark = pytest.mark.django_db

ROADMAP_MODELS = ["roadmap", "stage", "topic", "resource", "roadmapresource", "topicresource"]


def make_progress(user, topic: Topic, status: str = Status.DONE) -> Progress:
    return Progress.objects.create(user=user, topic=topic, status=status, updated_at=timezone.now())


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def result_rows(response, *fields: str) -> list[list[str]]:
    """The changelist's rows, as the text of the given ``list_display`` columns."""
    return [
        [tr.select_one(f".field-{field}").get_text(strip=True) for field in fields]
        for tr in soup_of(response).select("#result_list tbody tr")
    ]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.fixture
def learner(django_user_model):
    return django_user_model.objects.create_user("alice-learner", email="alice@example.com", password="x")


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Content editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def progress_viewer_client(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_progress"))
    client.force_login(user)
    return client


# The content editors group


def test_content_editors_group_has_exactly_the_roadmap_apps_permissions():
    group = Group.objects.get(name="Content editors")

    granted = set(group.permissions.values_list("content_type__app_label", "codename"))

    expected = {
        ("roadmap", f"{action}_{model}") for model in ROADMAP_MODELS for action in ["add", "change", "delete", "view"]
    }
    assert granted == expected
    assert granted == set(
        Permission.objects.filter(content_type__app_label="roadmap").values_list("content_type__app_label", "codename")
    )


def test_content_editors_migration_is_idempotent_and_reversible():
    migration = importlib.import_module("accounts.migrations.0003_content_editors_group")
    apps = MigrationLoader(connection).project_state(("accounts", "0003_content_editors_group")).apps
    schema_editor = SimpleNamespace(connection=connection)  # the functions only need its connection
    permissions = set(Group.objects.get(name="Content editors").permissions.all())

    migration.create_content_editors_group(apps, schema_editor)
    assert set(Group.objects.get(name="Content editors").permissions.all()) == permissions

    migration.delete_content_editors_group(apps, schema_editor)
    assert not Group.objects.filter(name="Content editors").exists()
    assert Permission.objects.filter(content_type__app_label="roadmap").count() == len(permissions)

    migration.create_content_editors_group(apps, schema_editor)
    assert set(Group.objects.get(name="Content editors").permissions.all()) == permissions


def test_editor_can_change_a_topic(editor_client):
    topic = make_topic(title="Old title")
    url = f"/admin/roadmap/topic/{topic.pk}/change/"
    response = editor_client.get(url)
    assert response.status_code == 200
    data = form_data(response.content)
    data["title"] = "New title"

    response = editor_client.post(url, data)

    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.title == "New title"


@pytest.mark.parametrize(
    "url", ["/admin/accounts/user/", "/admin/accounts/progress/", "/admin/accounts/note/", "/admin/auth/group/"]
)
def test_editor_is_refused_accounts_pages(editor_client, url):
    assert editor_client.get(url).status_code == 403


def test_admin_index_shows_editors_the_curriculum_but_not_accounts(editor_client):
    soup = soup_of(editor_client.get("/admin/"))

    assert soup.select(".app-roadmap")
    assert not soup.select(".app-accounts")
    assert not soup.select(".app-auth")


# Progress: read-only for staff with the view permission


def test_progress_list_is_read_only_with_roadmap_and_status_filters(progress_viewer_client, learner):
    make_progress(learner, make_topic(), Status.DONE)
    make_progress(learner, make_topic(), Status.SKIPPED)

    response = progress_viewer_client.get("/admin/accounts/progress/")

    assert response.status_code == 200
    soup = soup_of(response)
    assert [details["data-filter-title"] for details in soup.select("#changelist-filter details")] == [
        "roadmap",
        "status",
    ]
    assert soup.select_one("a.addlink") is None
    assert soup.select_one("select[name=action]") is None


def test_progress_list_filters_by_roadmap_and_status(progress_viewer_client, learner):
    kept = make_progress(learner, make_topic(), Status.DONE)
    make_progress(learner, make_topic(), Status.DONE)
    make_progress(learner, make_topic(kept.topic.stage), Status.SKIPPED)
    roadmap = kept.topic.stage.roadmap

    response = progress_viewer_client.get(
        "/admin/accounts/progress/", {"topic__stage__roadmap__id__exact": roadmap.pk, "status__exact": "done"}
    )

    assert list(response.context["cl"].result_list) == [kept]


def test_progress_search_by_username(progress_viewer_client, learner, django_user_model):
    bob = django_user_model.objects.create_user("bob", email="bob@example.com", password="x")
    topic = make_topic(title="Forms")
    make_progress(learner, topic, Status.DONE)
    make_progress(bob, topic, Status.IN_PROGRESS)

    response = progress_viewer_client.get("/admin/accounts/progress/", {"q": "bob"})

    assert result_rows(response, "user", "topic", "status") == [["bob", "Forms", "In progress"]]


def test_progress_change_page_is_read_only(progress_viewer_client, learner):
    progress = make_progress(learner, make_topic(), Status.DONE)
    url = f"/admin/accounts/progress/{progress.pk}/change/"

    response = progress_viewer_client.get(url)

    assert response.status_code == 200
    soup = soup_of(response)
    assert soup.select_one(".field-status .readonly").get_text(strip=True) == "Done"
    assert soup.select_one("#content-main input[name=_save]") is None
    assert progress_viewer_client.post(url, {"status": "skipped"}).status_code == 403
    progress.refresh_from_db()
    assert progress.status == Status.DONE


def test_progress_list_query_count_does_not_grow_with_rows(
    admin_client, django_user_model, django_assert_max_num_queries
):
    stage = make_stage()
    learners = iter(range(100))

    def add_rows(n: int) -> None:
        for _ in range(n):
            make_progress(django_user_model.objects.create_user(f"learner-{next(learners)}"), make_topic(stage))

    add_rows(3)
    few = count_queries(admin_client, "/admin/accounts/progress/")
    add_rows(30)

    with django_assert_max_num_queries(few):
        assert admin_client.get("/admin/accounts/progress/").status_code == 200


def test_superuser_can_delete_a_learner_with_progress(admin_client, learner):
    make_progress(learner, make_topic())

    response = admin_client.post(f"/admin/accounts/user/{learner.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Progress.objects.exists()


# Notes: superusers only


def test_superuser_sees_notes(admin_client, learner):
    note = Note.objects.create(user=learner, topic=make_topic(title="Forms"), text="Remember the CSRF token")

    changelist = admin_client.get("/admin/accounts/note/")
    change = admin_client.get(f"/admin/accounts/note/{note.pk}/change/")

    assert result_rows(changelist, "user", "topic") == [["alice-learner", "Forms"]]
    assert soup_of(change).select_one(".field-text .readonly").get_text(strip=True) == "Remember the CSRF token"


def test_staff_with_every_permission_cannot_see_notes(client, django_user_model, learner):
    staff = django_user_model.objects.create_user("almighty", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    note = Note.objects.create(user=learner, topic=make_topic(), text="private")
    client.force_login(staff)

    assert client.get("/admin/accounts/note/").status_code == 403
    assert client.get(f"/admin/accounts/note/{note.pk}/change/").status_code == 403
    assert client.get("/admin/accounts/progress/").status_code == 200
    assert "/admin/accounts/note/" not in {a["href"] for a in soup_of(client.get("/admin/")).select("a[href]")}


# Users


def test_user_change_page_has_a_profile_fieldset(admin_client, learner):
    soup = soup_of(admin_client.get(f"/admin/accounts/user/{learner.pk}/change/"))

    profile = next(
        heading.parent for heading in soup.select("fieldset > .fieldset-heading") if heading.string == "Profile"
    )
    assert {field["name"] for field in profile.select("input[name], textarea[name]")} == {
        "display_name",
        "bio",
        "avatar",
        "is_profile_public",
    }


def test_user_list_shows_and_searches_display_names(admin_client, learner, django_user_model):
    learner.display_name = "Alice Liddell"
    learner.is_profile_public = True
    learner.save()
    django_user_model.objects.create_user("bob", password="x")

    response = admin_client.get("/admin/accounts/user/", {"q": "Liddell"})

    assert result_rows(response, "username", "display_name") == [["alice-learner", "Alice Liddell"]]


# Topics: learner counts and deletes that never name learners


def topic_row(response, title: str):
    return next(
        tr
        for tr in soup_of(response).select("#result_list tbody tr")
        if tr.select_one(".field-title").get_text() == title
    )


def test_topic_changelist_counts_learners_by_status(editor_client, django_user_model):
    topic = make_topic(title="Busy")
    make_topic(topic.stage, title="Quiet")
    topic.resources.add(make_resource(), make_resource())  # the resources join must not multiply the counts
    for n, status in enumerate([Status.DONE, Status.DONE, Status.IN_PROGRESS, Status.SKIPPED]):
        make_progress(django_user_model.objects.create_user(f"learner-{n}"), topic, status)

    for query in [{}, {"resources__kind": "docs"}]:
        response = editor_client.get("/admin/roadmap/topic/", query)
        busy = topic_row(response, "Busy")
        counts = [
            busy.select_one(f".field-{name}").get_text()
            for name in ["done_count", "in_progress_count", "skipped_count"]
        ]
        assert counts == ["2", "1", "1"]
    quiet = topic_row(editor_client.get("/admin/roadmap/topic/"), "Quiet")
    assert quiet.select_one(".field-done_count").get_text() == "0"


def test_topic_changelist_sorts_by_learner_counts(editor_client, learner):
    stage = make_stage()
    make_topic(stage, title="Nobody")
    make_progress(learner, make_topic(stage, title="Someone"), Status.DONE)
    response = editor_client.get("/admin/roadmap/topic/")
    columns = [th.get("class", []) for th in soup_of(response).select("#result_list thead th")]
    done_column = next(i for i, classes in enumerate(columns) if "column-done_count" in classes)

    response = editor_client.get("/admin/roadmap/topic/", {"o": f"-{done_column}"})

    assert [topic.title for topic in response.context["cl"].result_list] == ["Someone", "Nobody"]


def test_topic_changelist_query_count_does_not_grow_with_topics(
    editor_client, django_user_model, django_assert_max_num_queries
):
    users = [django_user_model.objects.create_user(f"learner-{n}") for n in range(3)]

    def add_curriculum(topics: int) -> None:
        roadmap = make_curriculum(stages=1, topics=topics, resources=1)
        for topic in Topic.objects.filter(stage__roadmap=roadmap):
            for user, status in zip(users, Status.values, strict=True):
                make_progress(user, topic, status)

    add_curriculum(5)
    few = count_queries(editor_client, "/admin/roadmap/topic/")
    add_curriculum(45)

    with django_assert_max_num_queries(few):
        assert editor_client.get("/admin/roadmap/topic/").status_code == 200


PROTECTED_SUMMARY = (
    "1 learner's progress records and notes (learner data is never deleted: unpublish the topic instead; "
    "its progress is kept and comes back when it is published again)"
)


@pytest.fixture
def protected_topic(learner):
    topic = make_topic()
    make_progress(learner, topic, Status.DONE)
    Note.objects.create(user=learner, topic=topic, text="secret")
    return topic


@pytest.mark.parametrize(
    ("model", "get_object"),
    [
        ("topic", lambda topic: topic),
        ("stage", lambda topic: topic.stage),
        ("roadmap", lambda topic: topic.stage.roadmap),
    ],
)
def test_deleting_curriculum_with_learner_data_is_refused_without_naming_learners(
    editor_client, protected_topic, model, get_object
):
    url = f"/admin/roadmap/{model}/{get_object(protected_topic).pk}/delete/"

    response = editor_client.get(url)

    assert response.status_code == 200
    page = soup_of(response).select_one("#content").get_text()
    assert "would require deleting the following protected related objects" in page
    assert [li.get_text() for li in soup_of(response).select("#deleted-objects > li")] == [PROTECTED_SUMMARY]
    assert "alice-learner" not in response.content.decode()
    assert "secret" not in response.content.decode()

    editor_client.post(url, {"post": "yes"})

    assert Topic.objects.filter(pk=protected_topic.pk).exists()
    assert Progress.objects.filter(topic=protected_topic).exists()


def test_bulk_delete_of_topics_with_learner_data_does_not_name_learners(editor_client, protected_topic):
    response = editor_client.post(
        "/admin/roadmap/topic/", {"action": "delete_selected", "_selected_action": [protected_topic.pk]}
    )

    assert response.status_code == 200
    assert [li.get_text() for li in soup_of(response).select("#content ul > li")] == [PROTECTED_SUMMARY]
    assert "alice-learner" not in response.content.decode()


def test_deleting_a_topic_summarises_learners_activity_without_names(editor_client, learner):
    topic = make_topic(title="Abandoned")
    make_resource()
    ProgressEvent.objects.create(user=learner, topic=topic, status="not_started", created_at=timezone.now())
    url = f"/admin/roadmap/topic/{topic.pk}/delete/"

    response = editor_client.get(url)

    assert response.status_code == 200
    assert [li.get_text() for li in soup_of(response).select("#deleted-objects > li")] == [
        "Topic: Abandoned",
        "Progress changes of 1 learner",
    ]
    assert "alice-learner" not in response.content.decode()

    assert editor_client.post(url, {"post": "yes"}).status_code == 302
    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert not ProgressEvent.objects.exists()


def test_deleting_a_stage_still_lists_its_topics_with_links(editor_client):
    stage = make_stage(title="Basics")
    topic = make_topic(stage, title="Variables")

    response = editor_client.get(f"/admin/roadmap/stage/{stage.pk}/delete/")

    links = soup_of(response).select("#deleted-objects a")
    assert [(link.get_text(), link["href"]) for link in links] == [
        ("Basics", f"/admin/roadmap/stage/{stage.pk}/change/"),
        ("Variables", f"/admin/roadmap/topic/{topic.pk}/change/"),
    ]
