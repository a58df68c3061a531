"""Unpublishing a topic: it leaves the site, its learners' data stays, and both come back when it is published again.

Deleting a topic that learners' progress or notes point at is refused (``PROTECT``,
tests/accounts/test_admin.py); unpublishing is what editors do instead, in the
admin or by dropping the topic from an imported document.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Note, Progress, Status
from accounts.selectors import dashboard, roadmap_summaries, summaries_for_topic
from accounts.services import progress_set
from roadmap.models import Roadmap, Topic
from roadmap.selectors import content_version, reading_orders
from tests.factories import make_curriculum, make_user
from tests.helpers import page_progress, soup_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    """One stage of four topics; the learner finished t1 and t2 and wrote a note on t2."""
    roadmap = make_curriculum(stages=1, topics=4, slug="course", title="Course")
    learner = make_user(username="ada")
    topics = {topic.slug: topic for topic in Topic.objects.filter(stage__roadmap=roadmap)}
    progress_set(user=learner, topic=topics["t1"], status=Status.DONE)
    progress_set(user=learner, topic=topics["t2"], status=Status.DONE)
    Note.objects.create(user=learner, topic=topics["t2"], text="Remember the ORM bits")
    client = Client()
    client.force_login(learner)
    return roadmap, learner, topics, client


@pytest.fixture
def editor_client(django_user_model):
    from django.contrib.auth.models import Group

    editor = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    client = Client()
    client.force_login(editor)
    return client


def unpublish(topic: Topic) -> None:
    topic.is_published = False
    topic.save()


def republish(topic: Topic) -> None:
    topic.is_published = True
    topic.save()


def percent(learner, roadmap) -> int:
    return page_progress(learner, roadmap.slug)[1].total.percent


def every_percentage(learner, roadmap, topic) -> set[int]:
    """The roadmap's percentage as each place that computes one computes it."""
    listed = Roadmap.objects.filter(pk=roadmap.pk).with_counts()
    (started,) = dashboard(user=learner, version=content_version()).roadmaps
    order = reading_orders([roadmap.pk], version=content_version())[roadmap.pk]
    return {
        percent(learner, roadmap),
        roadmap_summaries(user=learner, roadmaps=list(listed))[roadmap.pk].percent,
        summaries_for_topic(user=learner, topic=topic, order=order)[f"roadmap-{roadmap.pk}"].percent,
        started.progress.percent,
    }


def test_an_unpublished_topic_leaves_every_page_and_every_count(course):
    roadmap, learner, topics, client = course
    t2 = topics["t2"]
    assert every_percentage(learner, roadmap, topics["t1"]) == {50}  # 2 of 4

    unpublish(t2)

    # Gone from the pages, including for a learner who finished it and for anonymous visitors.
    page = client.get("/roadmaps/course/").content.decode()
    assert "Topic 1.2" not in page and "Topic 1.3" in page
    assert "Topic 1.2" not in Client().get("/roadmaps/course/").content.decode()
    assert "Topic 1.2" not in client.get("/roadmaps/course/s1/").content.decode()
    assert client.get("/roadmaps/course/s1/t2/").status_code == 404
    assert "Topic 1.2" not in client.get("/search/?q=Topic").content.decode()
    # Counted nowhere: 1 of 3, the same figure on every page.
    assert every_percentage(learner, roadmap, topics["t1"]) == {33}
    # The neighbours are renumbered as the page lists them: t3 is now 1.2.
    assert soup_of(client.get("/roadmaps/course/s1/t3/")).select_one(".topic-number").get_text() == "1.2"
    assert "Remember the ORM bits" not in client.get("/dashboard/").content.decode()


def test_learner_data_on_an_unpublished_topic_is_kept_and_comes_back(course):
    roadmap, learner, topics, client = course
    t2 = topics["t2"]
    unpublish(t2)

    assert Progress.objects.get(user=learner, topic=t2).status == Status.DONE
    assert Note.objects.get(user=learner, topic=t2).text == "Remember the ORM bits"
    # Nothing is lost from the learner's own export either: it is their data.
    assert "t2" in client.get("/dashboard/export.csv").content.decode()

    republish(t2)

    assert every_percentage(learner, roadmap, topics["t1"]) == {50}
    assert client.get("/roadmaps/course/s1/t2/").status_code == 200
    assert "Remember the ORM bits" in client.get("/roadmaps/course/s1/t2/").content.decode()


def test_an_unpublished_topic_cannot_be_ticked_or_annotated(course):
    _, learner, topics, client = course
    t3 = topics["t3"]
    unpublish(t3)

    assert client.post("/roadmaps/course/s1/t3/progress/", {"status": Status.DONE}).status_code == 404
    assert client.post("/roadmaps/course/s1/t3/note/", {"text": "hidden"}).status_code == 404
    assert not Progress.objects.filter(user=learner, topic=t3).exists()
    assert not Note.objects.filter(user=learner, topic=t3).exists()


def test_a_cached_page_is_never_served_after_an_unpublish(course):
    _, _, topics, client = course
    anonymous = Client()
    assert "Topic 1.4" in anonymous.get("/roadmaps/course/").content.decode()  # now cached
    assert "Topic 1.4" in client.get("/roadmaps/course/").content.decode()

    unpublish(topics["t4"])

    assert "Topic 1.4" not in anonymous.get("/roadmaps/course/").content.decode()
    assert "Topic 1.4" not in client.get("/roadmaps/course/").content.decode()


def test_editors_unpublish_and_publish_in_the_admin_and_deleting_points_them_there(course, editor_client):
    roadmap, learner, topics, client = course
    t1 = topics["t1"]

    delete_page = editor_client.get(f"/admin/roadmap/topic/{t1.pk}/delete/").content.decode()
    assert "unpublish the topic instead" in delete_page

    response = editor_client.post(
        "/admin/roadmap/topic/", {"action": "unpublish", "_selected_action": [t1.pk, topics["t2"].pk]}, follow=True
    )
    assert "2 topics unpublished; their learners&#x27; progress and notes are kept." in response.content.decode()
    assert Topic.objects.filter(is_published=False).count() == 2
    assert "Topic 1.1" not in client.get("/roadmaps/course/").content.decode()
    assert percent(learner, roadmap) == 0

    response = editor_client.post(
        "/admin/roadmap/topic/", {"action": "publish", "_selected_action": [t1.pk]}, follow=True
    )
    assert "1 topic published." in response.content.decode()
    assert percent(learner, roadmap) == 33  # t1 of t1, t3, t4
    assert Progress.objects.filter(user=learner).count() == 2


def test_the_importer_unpublishes_what_learners_data_protects_and_publishes_it_again(tmp_path):
    document = tmp_path / "course.md"
    full = "### 1. **Stage**\n- **Alpha**: First.\n- **Beta**: Second.\n"
    document.write_text(full)
    call_command("import_roadmap", str(document), "--slug", "imp", "--title", "Imported", stdout=StringIO())
    learner = make_user(username="ada")
    beta = Topic.objects.get(slug="beta")
    progress_set(user=learner, topic=beta, status=Status.DONE)

    document.write_text(full.replace("- **Beta**: Second.\n", ""))
    err = StringIO()
    call_command("import_roadmap", str(document), "--slug", "imp", stdout=StringIO(), stderr=err)

    beta.refresh_from_db()
    assert not beta.is_published
    assert "learners' progress points at it (unpublished)" in err.getvalue()
    assert percent(learner, Roadmap.objects.get(slug="imp")) == 0

    document.write_text(full)
    call_command("import_roadmap", str(document), "--slug", "imp", stdout=StringIO())

    beta.refresh_from_db()
    assert beta.is_published
    assert Progress.objects.get(user=learner, topic=beta).status == Status.DONE
    assert percent(learner, Roadmap.objects.get(slug="imp")) == 50
