"""Editors maintain the curriculum in the admin."""

import pytest
from bs4 import BeautifulSoup

from roadmap.models import Resource, Roadmap, Stage, Topic
from tests.helpers import form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["roadmap", "stage", "topic", "resource"])
@pytest.mark.parametrize("view", ["changelist", "add"])
def test_admin_pages_load_for_a_superuser(admin_client, seeded, model, view):
    url = f"/admin/roadmap/{model}/" + ("add/" if view == "add" else "")
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("model", "obj"),
    [
        ("roadmap", lambda: Roadmap.objects.get(slug="django-roadmap")),
        ("stage", lambda: Stage.objects.get_by_natural_key("django-roadmap", "testing")),
        ("topic", lambda: Topic.objects.get_by_natural_key("django-roadmap", "testing", "unit-testing")),
        ("resource", lambda: Resource.objects.get(slug="django-documentation")),
    ],
)
def test_change_pages_load_with_view_on_site_links(admin_client, seeded, model, obj):
    instance = obj()
    response = admin_client.get(f"/admin/roadmap/{model}/{instance.pk}/change/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    view_on_site = soup.select_one("a.viewsitelink")
    assert view_on_site is not None
    if model == "resource":
        assert view_on_site["href"] == instance.url
    else:
        assert view_on_site["href"].startswith("/admin/r/")


def test_users_admin_loads(admin_client):
    assert admin_client.get("/admin/accounts/user/").status_code == 200


def test_changelists_show_counts(admin_client, seeded):
    soup = BeautifulSoup(admin_client.get("/admin/roadmap/roadmap/").content, "html.parser")
    row = next(tr for tr in soup.select("#result_list tbody tr") if "Mastering Django" in tr.get_text())
    assert row.select_one(".field-stage_count").get_text() == "10"
    assert row.select_one(".field-topic_count").get_text() == "48"


def test_changelist_search_and_filter(admin_client, seeded):
    response = admin_client.get("/admin/roadmap/topic/", {"q": "QuerySets"})
    assert [topic.title for topic in response.context["cl"].result_list] == ["QuerySets"]
    roadmap = Roadmap.objects.get(slug="mastering-django")
    response = admin_client.get("/admin/roadmap/topic/", {"stage__roadmap__id__exact": roadmap.pk})
    assert response.context["cl"].result_count == 48


def test_resource_autocomplete_finds_resources(admin_client, seeded):
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "roadmap", "model_name": "topicresource", "field_name": "resource", "term": "Gunicorn"},
    )
    assert response.status_code == 200
    titles = [item["text"] for item in response.json()["results"]]
    assert titles and all("unicorn" in title.lower() for title in titles)


def test_editor_can_reorder_stages_inline(admin_client, seeded):
    """Swapping two positions in the inline saves without an integrity error."""
    roadmap = Roadmap.objects.get(slug="mastering-django")
    url = f"/admin/roadmap/roadmap/{roadmap.pk}/change/"
    data = form_data(admin_client.get(url).content)
    assert (data["stages-0-position"], data["stages-1-position"]) == ("1", "2")
    data["stages-0-position"], data["stages-1-position"] = "2", "1"

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert [s.slug for s in roadmap.stages.all()][:2] == ["django-basics", "basics-of-python"]


def test_editor_can_add_and_order_topic_resources(admin_client, seeded):
    topic = Topic.objects.get_by_natural_key("django-roadmap", "testing", "unit-testing")
    extra = Resource.objects.create(
        title="A testing talk", slug="a-testing-talk", url="https://example.com/t/", kind="video"
    )
    url = f"/admin/roadmap/topic/{topic.pk}/change/"
    data = form_data(admin_client.get(url).content)
    index = int(data["resource_links-INITIAL_FORMS"])
    data |= {f"resource_links-{index}-resource": str(extra.pk), f"resource_links-{index}-position": "5"}
    data["resource_links-TOTAL_FORMS"] = str(index + 1)

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert topic.resource_links.get(resource=extra).position == 5


def test_duplicate_stage_slug_is_a_form_error_not_a_crash(admin_client, seeded):
    roadmap = Roadmap.objects.get(slug="mastering-django")
    response = admin_client.post(
        "/admin/roadmap/stage/add/",
        {
            "roadmap": roadmap.pk,
            "position": 11,
            "title": "Dup",
            "slug": "django-basics",
            "summary": "",
            "topics-TOTAL_FORMS": 0,
            "topics-INITIAL_FORMS": 0,
            "topics-MIN_NUM_FORMS": 0,
            "topics-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


@pytest.mark.parametrize("url", ["ftp://example.com/file", "javascript:alert(1)", "not a url"])
def test_resource_with_a_non_http_url_is_rejected_by_the_form(admin_client, url):
    response = admin_client.post(
        "/admin/roadmap/resource/add/", {"title": "Bad", "slug": "bad", "kind": "docs", "url": url, "author": ""}
    )
    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    assert not Resource.objects.filter(slug="bad").exists()


def test_admin_requires_staff(client, django_user_model):
    learner = django_user_model.objects.create_user("learner", password="x")
    client.force_login(learner)
    response = client.get("/admin/roadmap/roadmap/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
