"""The three findings of the "one way in" review, each with a test that failed on the code it replaced.

1. A session deleted or expired in the database is never accepted again (the
   session cache and the per-process copies used to accept it).
2. After a learner deletes a note or the account, no copy of the note is left
   in the shared cache (learners' whole pages, notes included, used to stay in
   Redis for 24 hours); nothing private is stored there in the first place.
3. Content changed by ``QuerySet.update()``, a bulk admin action, SQL typed by
   hand, the importer or ``loaddata`` is what the next request shows (only
   save/delete signals used to move the content version).
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Progress
from roadmap.models import Resource, Roadmap, Stage, Topic
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
ROADMAP = "/roadmaps/django-roadmap/"
STAGE = ROADMAP + "django-orm-object-relational-mapping/"
TOPIC = STAGE + "querysets/"
NOTE = "A private note: zebra-quartz-7319"


def querysets() -> Topic:
    return Topic.objects.get_by_natural_key("django-roadmap", "django-orm-object-relational-mapping", "querysets")


def logged_in(username: str = "ada") -> tuple[Client, str]:
    make_user(username=username, password=PASSWORD)
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "the login was refused"
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in(client: Client) -> bool:
    response = client.get("/dashboard/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# 1. Sessions ----------------------------------------------------------------------------------


@pytest.fixture(params=["local memory", "redis"])
def any_cache(request, settings):
    """Both cache configurations the site runs with: the embedded default and production's Redis."""
    if request.param == "redis":
        request.getfixturevalue("live_redis")
    return request.param


@pytest.mark.parametrize("ending", ["deleted", "expired"])
def test_a_session_ended_in_the_database_is_never_accepted_again(seeded, any_cache, ending):
    client, key = logged_in()
    for url in [ROADMAP, TOPIC, "/dashboard/"]:  # warm everything a cache could keep
        assert client.get(url).status_code == 200

    sessions = Session.objects.filter(session_key=key)
    if ending == "deleted":  # an admin ending it, logout on another server, clearsessions
        sessions.delete()
    else:
        sessions.update(expire_date=timezone.now() - timedelta(seconds=1))

    assert not signed_in(client)
    tick = client.post(TOPIC + "progress/", {"status": "done"})
    assert tick.status_code == 302 and tick["Location"].startswith("/accounts/login/")
    assert not Progress.objects.exists()
    assert "zebra" not in client.get(TOPIC).content.decode()


# 2. Private notes -----------------------------------------------------------------------------


def redis_holds(live_redis, needle: str) -> list[bytes]:
    """The keys whose name or value contains ``needle`` (values are pickles: text is stored as UTF-8)."""
    found = []
    for key in live_redis.scan_iter(count=1000):
        value = live_redis.get(key) or b""
        if needle.encode() in key or needle.encode() in value:
            found.append(key)
    return found


def write_note(client: Client) -> None:
    response = client.post(TOPIC + "note/", {"text": NOTE})
    assert response.status_code == 302
    assert NOTE in client.get(TOPIC).content.decode()
    for url in ["/", ROADMAP, STAGE, TOPIC, "/dashboard/"]:
        assert client.get(url).status_code == 200


def test_a_note_is_never_stored_in_the_shared_cache(seeded, live_redis):
    client, _ = logged_in()
    write_note(client)

    assert live_redis.dbsize() > 0, "the pages stored their shared parts"
    assert redis_holds(live_redis, "zebra-quartz") == []


def test_no_copy_of_a_deleted_note_remains(seeded, live_redis):
    client, _ = logged_in()
    write_note(client)

    client.post(TOPIC + "note/", {"text": ""})

    assert "zebra-quartz" not in client.get(TOPIC).content.decode()
    assert redis_holds(live_redis, "zebra-quartz") == []


def test_no_copy_of_a_deleted_account_remains(seeded, live_redis):
    # Not "ada": cache keys end in hex digests, where "ada" turns up by chance every few runs.
    client, _ = logged_in("quintus")
    write_note(client)
    client.post(TOPIC + "progress/", {"status": "done"})

    assert client.post("/accounts/delete/", {"password": PASSWORD}).status_code == 302

    assert redis_holds(live_redis, "zebra-quartz") == []
    assert redis_holds(live_redis, "quintus") == []


# 3. Content changed by any path ---------------------------------------------------------------


def changed_title() -> str:
    return "QuerySets, changed behind the ORM"


def by_queryset_update() -> None:
    Topic.objects.filter(pk=querysets().pk).update(title=changed_title())


def by_raw_sql() -> None:
    table = connection.ops.quote_name(Topic._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", [changed_title(), querysets().pk])


def by_bulk_update() -> None:
    topic = querysets()
    topic.title = changed_title()
    Topic.objects.bulk_update([topic], ["title"])


@pytest.mark.parametrize("change", [by_queryset_update, by_raw_sql, by_bulk_update])
@pytest.mark.parametrize("url", [ROADMAP, STAGE, TOPIC])
def test_a_title_changed_without_save_signals_shows_on_the_next_request(seeded, change, url):
    visitor, (learner, _) = Client(), logged_in()
    for client in (visitor, learner):
        assert client.get(url).status_code == 200

    change()

    for client in (visitor, learner):
        assert changed_title() in client.get(url).content.decode(), url


def test_a_roadmap_unpublished_by_update_disappears_and_cannot_be_ticked(seeded):
    visitor, (learner, _) = Client(), logged_in()
    for client in (visitor, learner):
        assert client.get(ROADMAP).status_code == 200
        assert client.get(TOPIC).status_code == 200

    Roadmap.objects.filter(slug="django-roadmap").update(is_published=False)

    for client in (visitor, learner):
        assert client.get(ROADMAP).status_code == 404
        assert client.get(TOPIC).status_code == 404
        assert "Django Roadmap" not in client.get("/").content.decode()
    assert learner.post(TOPIC + "progress/", {"status": "done"}).status_code == 404
    assert not Progress.objects.exists()


def test_a_topic_unpublished_by_update_leaves_the_pages_and_the_totals(seeded):
    learner, _ = logged_in()
    before = learner.get(ROADMAP).content.decode()
    assert "6.2" in before and "of 57 done" in before

    Topic.objects.filter(pk=querysets().pk).update(is_published=False)

    after = learner.get(ROADMAP).content.decode()
    assert "of 56 done" in after
    assert 'href="' + TOPIC + '"' not in after


def test_a_bulk_admin_action_shows_on_the_next_request(seeded, admin_client):
    visitor = Client()
    assert visitor.get(TOPIC).status_code == 200
    assert 'href="' + TOPIC + '"' in visitor.get(ROADMAP).content.decode()

    response = admin_client.post(
        "/admin/roadmap/topic/", {"action": "unpublish", "_selected_action": [querysets().pk]}, follow=True
    )

    assert response.status_code == 200
    assert visitor.get(TOPIC).status_code == 404
    assert 'href="' + TOPIC + '"' not in visitor.get(ROADMAP).content.decode()


def test_renamed_stages_and_resources_show_too(seeded):
    visitor = Client()
    visitor.get(ROADMAP)
    visitor.get(TOPIC)

    Stage.objects.filter(slug="django-orm-object-relational-mapping").update(title="The ORM, renamed")
    resource = querysets().resource_links.select_related("resource").first().resource
    Resource.objects.filter(pk=resource.pk).update(title="A resource, renamed")

    assert "The ORM, renamed" in visitor.get(ROADMAP).content.decode()
    assert "A resource, renamed" in visitor.get(TOPIC).content.decode()
