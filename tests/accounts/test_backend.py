"""The authentication backend loads the logged-in user and the content version in one query.

``accounts.backends.UserBackend`` replaces ModelBackend's per-request user
lookup with one raw SQL query that also reads ``ContentVersion`` (which every
cached page needs). The user it returns must be indistinguishable from the
ORM's, and everything else (inactive users, bad ids, passwords) must behave as
ModelBackend does.
"""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.backends import UserBackend
from accounts.services import progress_set
from roadmap.caching import content_changed
from roadmap.models import ContentVersion, Topic
from tests.factories import make_curriculum, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"
CONTENT_VERSION_TABLE = ContentVersion._meta.db_table


@pytest.fixture
def ada(db):
    """A learner whose every field differs from its default, so a mixed-up column would show."""
    user = make_user(
        username="ada",
        email="ada@example.com",
        password=PASSWORD,
        first_name="Ada",
        last_name="Lovelace",
        display_name="Countess of Lovelace",
        bio="Notes on the Analytical Engine.",
        avatar="avatars/ada.png",
        is_profile_public=True,
    )
    User.objects.filter(pk=user.pk).update(
        last_login=datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        date_joined=datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        state_version="b" * 32,
    )
    return User.objects.get(pk=user.pk)


def fields_of(user) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_get_user_returns_the_same_user_as_the_orm(ada):
    loaded = UserBackend().get_user(ada.pk)

    assert isinstance(loaded, User)
    expected = fields_of(ada)
    assert fields_of(loaded) == expected
    # Equal is not enough: 1 == True and a naive datetime would not compare at all.
    assert {name: type(value) for name, value in fields_of(loaded).items()} == {
        name: type(value) for name, value in expected.items()
    }
    assert loaded.last_login.tzinfo is not None and loaded.date_joined.tzinfo is not None
    assert loaded.avatar.name == "avatars/ada.png"
    assert loaded._state.adding is False
    assert loaded._state.db == "default"


def test_get_user_carries_the_content_version_and_costs_one_query(ada):
    content_changed()

    with CaptureQueriesContext(connection) as queries:
        loaded = UserBackend().get_user(ada.pk)

    assert len(queries) == 1
    assert loaded.content_version == ContentVersion.objects.get(pk=1).value


def test_the_content_version_is_read_afresh_each_time(ada):
    before = UserBackend().get_user(ada.pk).content_version

    content_changed()

    after = UserBackend().get_user(ada.pk).content_version
    assert after != before
    assert after == ContentVersion.objects.get(pk=1).value


def test_a_user_loaded_by_the_backend_can_be_saved(ada):
    """The extra ``content_version`` column must not get in the way of an ordinary save."""
    loaded = UserBackend().get_user(ada.pk)
    loaded.display_name = "A. A. Lovelace"
    loaded.save()

    saved, before = fields_of(User.objects.get(pk=ada.pk)), fields_of(ada)
    # A profile change may give the learner's pages a new state version (accounts/signals.py).
    saved.pop("state_version"), before.pop("state_version")
    assert saved == before | {"display_name": "A. A. Lovelace"}


def test_an_inactive_user_is_no_user(ada):
    User.objects.filter(pk=ada.pk).update(is_active=False)

    assert UserBackend().get_user(ada.pk) is None
    assert ModelBackend().get_user(ada.pk) is None


def test_an_unknown_id_is_no_user(ada):
    assert UserBackend().get_user(ada.pk + 1000) is None


@pytest.mark.parametrize("user_id", ["abc", None, "", "1.5", "1e3", [], {}, object()])
def test_a_malformed_id_is_no_user_and_no_error(ada, user_id):
    assert UserBackend().get_user(user_id) is None


def test_an_id_given_as_a_string_finds_the_user(ada):
    """Sessions store the id as a string (``_auth_user_id``)."""
    assert UserBackend().get_user(str(ada.pk)).pk == ada.pk


@pytest.mark.parametrize("user_id", [str(2**63), -(2**63) - 1])
def test_an_id_too_large_for_the_column_is_no_user(ada, user_id):
    assert ModelBackend().get_user(user_id) is None
    assert UserBackend().get_user(user_id) is None


def login_request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.7")


def test_authenticate_accepts_the_right_password_through_the_configured_backends(ada):
    user = authenticate(login_request(), username="ada", password=PASSWORD)

    assert user is not None
    assert user.pk == ada.pk
    assert user.backend == "accounts.backends.UserBackend"


def test_authenticate_refuses_a_wrong_password_or_an_inactive_user(ada):
    assert authenticate(login_request(), username="ada", password="wrong password") is None
    User.objects.filter(pk=ada.pk).update(is_active=False)
    assert authenticate(login_request(), username="ada", password=PASSWORD) is None


def test_a_logged_in_request_gets_its_user_and_content_version_from_the_backend(ada):
    client = Client()
    assert client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 302

    request = client.get("/dashboard/").wsgi_request

    assert request.user.pk == ada.pk
    assert request.user.content_version == ContentVersion.objects.get(pk=1).value
    assert request.session["_auth_user_backend"] == "accounts.backends.UserBackend"


def test_a_warm_learner_roadmap_page_reads_the_content_version_only_with_the_user(learner, learner_client):
    """The page cache finds the version on the user: no query of its own (at most 6 in all, as in test_caching)."""
    roadmap = make_curriculum(stages=4, topics=5, slug="small")
    for topic in Topic.objects.filter(stage__roadmap=roadmap)[::2]:
        progress_set(user=learner, topic=topic, status="done")
    url = roadmap.get_absolute_url()
    learner_client.get("/")  # a fresh session's first request
    assert learner_client.get(url).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = learner_client.get(url)

    assert response.status_code == 200
    assert len(queries) <= 6
    version_reads = [query["sql"] for query in queries if CONTENT_VERSION_TABLE in query["sql"]]
    assert len(version_reads) == 1, version_reads
    assert User._meta.db_table in version_reads[0], "read with the user row"
