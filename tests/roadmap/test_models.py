import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from roadmap.models import Resource, ResourceKind, Roadmap, Stage, Topic
from tests.factories import make_resource, make_roadmap, make_stage, make_topic

pytestmark = pytest.mark.django_db


def assert_rejected_by_database(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_custom_user_model_is_active():
    assert get_user_model() is User


def test_stage_slug_is_unique_within_its_roadmap():
    stage = make_stage(slug="basics")
    assert_rejected_by_database(
        lambda: Stage.objects.create(roadmap=stage.roadmap, slug="basics", title="X", position=2)
    )


def test_same_stage_slug_is_allowed_in_another_roadmap():
    make_stage(slug="basics")
    assert make_stage(slug="basics").pk


def test_topic_slug_is_unique_within_its_stage():
    topic = make_topic(slug="views")
    assert_rejected_by_database(lambda: Topic.objects.create(stage=topic.stage, slug="views", title="X", position=2))


@pytest.mark.parametrize(
    "create",
    [
        lambda: Roadmap.objects.create(title="No slug", slug=""),
        lambda: Roadmap.objects.create(title="", slug="no-title"),
        lambda: Stage.objects.create(roadmap=make_roadmap(), title="No slug", slug="", position=1),
        lambda: Topic.objects.create(stage=make_stage(), title="No slug", slug="", position=1),
        lambda: Resource.objects.create(title="No slug", slug="", url="https://example.com/"),
    ],
    ids=["roadmap-slug", "roadmap-title", "stage-slug", "topic-slug", "resource-slug"],
)
def test_empty_slugs_and_titles_are_rejected_by_the_database(create):
    assert_rejected_by_database(create)


def test_resource_url_must_be_http_in_the_database():
    assert_rejected_by_database(lambda: make_resource(url="javascript:alert(1)"))


def test_resource_url_must_be_http_in_forms():
    resource = Resource(title="Bad", slug="bad", url="ftp://example.com/file", kind=ResourceKind.DOCS)
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "url" in error.value.message_dict


def test_resource_kind_is_checked_by_the_database():
    assert_rejected_by_database(lambda: make_resource(kind="podcast"))


def test_resource_url_is_unique_but_several_books_may_have_none():
    make_resource(url="https://example.com/docs/")
    assert_rejected_by_database(lambda: make_resource(url="https://example.com/docs/"))
    make_resource(url="", kind=ResourceKind.BOOK)
    assert make_resource(url="", kind=ResourceKind.BOOK).pk


def test_one_resource_serves_several_topics():
    resource = make_resource()
    first, second = make_topic(), make_topic()
    first.resources.add(resource)
    second.resources.add(resource)
    assert set(resource.topics.all()) == {first, second}
    assert Resource.objects.count() == 1


def test_stages_and_topics_are_ordered_by_position_not_id():
    roadmap = make_roadmap()
    later = make_stage(roadmap, position=20, slug="later")
    earlier = make_stage(roadmap, position=10, slug="earlier")
    assert list(roadmap.stages.all()) == [earlier, later]
    second = make_topic(earlier, position=2, slug="b")
    first = make_topic(earlier, position=1, slug="a")
    assert list(earlier.topics.all()) == [first, second]


def test_resources_list_official_docs_first():
    topic = make_topic()
    book = make_resource(kind=ResourceKind.BOOK, title="A book")
    docs = make_resource(kind=ResourceKind.DOCS, title="Z docs")
    video = make_resource(kind=ResourceKind.VIDEO, title="A video")
    topic.resources.add(book, docs, video)
    assert list(topic.resources.all()) == [docs, book, video]


def test_natural_keys_are_slug_paths_and_round_trip():
    topic = make_topic(slug="views", stage=make_stage(slug="basics", roadmap=make_roadmap(slug="django")))
    resource = make_resource(slug="django-docs")
    assert topic.natural_key() == ("django", "basics", "views")
    assert topic.stage.natural_key() == ("django", "basics")
    assert topic.stage.roadmap.natural_key() == ("django",)
    assert Topic.objects.get_by_natural_key("django", "basics", "views") == topic
    assert Stage.objects.get_by_natural_key("django", "basics") == topic.stage
    assert Roadmap.objects.get_by_natural_key("django") == topic.stage.roadmap
    assert Resource.objects.get_by_natural_key("django-docs") == resource


def test_absolute_urls_follow_the_slug_path():
    topic = make_topic(slug="views", stage=make_stage(slug="basics", roadmap=make_roadmap(slug="django")))
    assert topic.stage.roadmap.get_absolute_url() == "/roadmaps/django/"
    assert topic.stage.get_absolute_url() == "/roadmaps/django/basics/"
    assert topic.get_absolute_url() == "/roadmaps/django/basics/views/"


def test_str_is_the_title():
    topic = make_topic(title="Views")
    assert str(topic) == "Views"
    assert str(topic.stage) == topic.stage.title
    assert str(make_resource(title="Docs")) == "Docs"


def test_drafts_are_visible_to_staff_only(django_user_model):
    draft = make_roadmap(is_published=False)
    learner = django_user_model.objects.create_user("learner")
    editor = django_user_model.objects.create_user("editor", is_staff=True)
    assert draft not in Roadmap.objects.visible_to(learner)
    assert draft in Roadmap.objects.visible_to(editor)
    assert not draft.is_visible_to(learner)
    assert draft.is_visible_to(editor)
