"""Who may reach what: every URL of the site, for every kind of visitor, with the exact answer.

``MATRIX`` below is the access policy as a table: one row per endpoint (more
than one where the answer depends on the object: a draft roadmap, a private
profile) and one column per role. Each row is a test that sends the request
once per role, each with its own client and session, and compares the whole
row (a failure lists the roles that got another answer);
``test_every_url_pattern_is_classified_in_the_matrix`` fails as soon as a URL
is added to the site without a row here.

After the matrix: learner B against learner A's data by every URL and
parameter (insecure direct object references), what content editors may not
see or do in the admin, and inactive users.
"""

import csv
import io
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.models import Note, Progress, Status, User
from roadmap.models import Roadmap, Topic
from tests.factories import make_curriculum, make_user

pytestmark = pytest.mark.django_db

PASSWORD_A = "alice-correct-horse-battery"
PASSWORD_B = "bob-correct-horse-battery"
PASSWORD = "staff-correct-horse-battery"
# On A's topic page, in A's export and in the admin for superusers: nowhere else.
A_NOTE = "Alice private note 7c1e5a, never shown to anyone else"
BACKEND = "django.contrib.auth.backends.ModelBackend"


# Outcomes --------------------------------------------------------------------

LOGIN = "login"  # 302 to the site's login page, with next= the requested path
ADMIN = "admin"  # 302 to the admin's login page, with next= the requested path


@dataclass(frozen=True)
class To:
    """302 to exactly this location (a template, filled in like the paths; ``{path}`` is the requested one)."""

    location: str


HOME = To("/")
DASHBOARD = To("/dashboard/")
ADMIN_INDEX = To("{admin}")
TO_CHANGE = To("{path}change/")
TO_TOPIC = To("{topic_url}")
TO_DRAFT_TOPIC = To("{draft_topic_url}")
LOGIN_TOPIC = To("{login}?next={topic_url}")  # the progress and note forms come back to the topic page
PROFILE = To("/accounts/profile/")
RESET_DONE = To("/accounts/password_reset/done/")
ON_SITE = To("http://testserver/roadmaps/{roadmap}/")  # the admin's "view on site" link


# The matrix ------------------------------------------------------------------
#
# Roles: anonymous; learners A and B (A's profile is private, B's public);
# editor (staff in the "Content editors" group); staff (is_staff, no group, no
# permission); superuser; inactive (a session of an editor since deactivated).
# Placeholders are filled from the ``world`` fixture; {admin} is settings.ADMIN_URL.

ROLES = ("anonymous", "learner_a", "learner_b", "editor", "staff", "superuser", "inactive")

# fmt: off
MATRIX = [
    # method  path                                              anon   A      B      editor staff  super  inactive
    # Public pages
    ("GET",  "/",                                               200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/search/?q=topic",                                200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/roadmaps/",                                      HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    ("GET",  "/roadmaps/{roadmap}/",                            200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/roadmaps/{roadmap}/{stage}/",                    200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/roadmaps/{roadmap}/{stage}/{topic}/",            200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/roadmaps/no-such-roadmap/",                      404,   404,   404,   404,   404,   404,   404),
    # Drafts: staff preview them, nobody else knows they exist
    ("GET",  "/roadmaps/{draft}/",                              404,   404,   404,   200,   200,   200,   404),
    ("GET",  "/roadmaps/{draft}/{draft_stage}/",                404,   404,   404,   200,   200,   200,   404),
    ("GET",  "{draft_topic_url}",                               404,   404,   404,   200,   200,   200,   404),
    # Public profiles: only opted-in, active learners
    ("GET",  "/u/{b}/",                                         200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/u/{a}/",                                         404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/u/{inactive}/",                                  404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/u/no-such-learner/",                             404,   404,   404,   404,   404,   404,   404),
    # Learner pages
    ("GET",  "/dashboard/",                                     LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("GET",  "/dashboard/export.json",                          LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("GET",  "/dashboard/export.csv",                           LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("GET",  "/accounts/profile/",                              LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("POST", "/accounts/profile/",                  LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, LOGIN),
    ("GET",  "/accounts/delete/",                               LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("POST", "/accounts/delete/",                               LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    # Progress and notes: POST only; the topic must be visible to the visitor
    ("POST", "{topic_url}progress/",    LOGIN_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, LOGIN_TOPIC),
    ("GET",  "{topic_url}progress/",                            405,   405,   405,   405,   405,   405,   405),
    ("POST", "{draft_topic_url}progress/",  404, 404, 404, TO_DRAFT_TOPIC, TO_DRAFT_TOPIC, TO_DRAFT_TOPIC, 404),
    ("POST", "{topic_url}note/",        LOGIN_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, TO_TOPIC, LOGIN_TOPIC),
    ("GET",  "{topic_url}note/",                                405,   405,   405,   405,   405,   405,   405),
    ("POST", "/roadmaps/{roadmap}/{stage}/no-such-topic/note/", 404,   404,   404,   404,   404,   404,   404),
    ("POST", "/theme/",                                         HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    ("GET",  "/theme/",                                         405,   405,   405,   405,   405,   405,   405),
    # Accounts (Django's auth views and sign-up)
    ("GET",  "/accounts/signup/",                     200, DASHBOARD, DASHBOARD, DASHBOARD, DASHBOARD, DASHBOARD, 200),
    ("POST", "/accounts/signup/",                     200, DASHBOARD, DASHBOARD, DASHBOARD, DASHBOARD, DASHBOARD, 200),
    ("GET",  "/accounts/login/",                                200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/accounts/logout/",                               405,   405,   405,   405,   405,   405,   405),
    ("POST", "/accounts/logout/",                               HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    ("GET",  "/accounts/password_change/",                      LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("POST", "/accounts/password_change/",                      LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("GET",  "/accounts/password_change/done/",                 LOGIN, 200,   200,   200,   200,   200,   LOGIN),
    ("GET",  "/accounts/password_reset/",                       200,   200,   200,   200,   200,   200,   200),
    ("POST", "/accounts/password_reset/",   RESET_DONE, RESET_DONE, RESET_DONE, RESET_DONE, RESET_DONE, RESET_DONE,
                                                                                                       RESET_DONE),
    ("GET",  "/accounts/password_reset/done/",                  200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/accounts/reset/{a_uid}/bad-token/",              200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/accounts/reset/done/",                           200,   200,   200,   200,   200,   200,   200),
    # Admin, site-wide
    ("GET",  "{admin}",                                         ADMIN, ADMIN, ADMIN, 200,   200,   200,   ADMIN),
    ("GET",  "{admin}login/",               200, 200, 200, ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX, 200),
    ("GET",  "{admin}logout/",              ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX, 405, 405, 405, ADMIN_INDEX),
    ("POST", "{admin}logout/",              ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX, HOME, HOME, HOME, ADMIN_INDEX),
    ("GET",  "{admin}password_change/",                         ADMIN, ADMIN, ADMIN, 200,   200,   200,   ADMIN),
    ("GET",  "{admin}password_change/done/",                    ADMIN, ADMIN, ADMIN, 200,   200,   200,   ADMIN),
    ("GET",  "{admin}jsi18n/",                                  ADMIN, ADMIN, ADMIN, 200,   200,   200,   ADMIN),
    ("GET",  "{admin}autocomplete/?{stage_roadmap_lookup}",     ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}autocomplete/?{progress_user_lookup}",     ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}autocomplete/?{note_user_lookup}",         ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}r/{roadmap_ct}/{roadmap_id}/",  ADMIN, ADMIN, ADMIN, ON_SITE, ON_SITE, ON_SITE, ADMIN),
    ("GET",  "{admin}r/{user_ct}/{a_id}/",                      ADMIN, ADMIN, ADMIN, 404,   404,   404,   ADMIN),
    ("GET",  "{admin}roadmap/",                                 ADMIN, ADMIN, ADMIN, 200,   404,   200,   ADMIN),
    ("GET",  "{admin}accounts/",                                ADMIN, ADMIN, ADMIN, 404,   404,   200,   ADMIN),
    ("GET",  "{admin}auth/",                                    ADMIN, ADMIN, ADMIN, 404,   404,   200,   ADMIN),
    ("GET",  "{admin}axes/",                                    ADMIN, ADMIN, ADMIN, 404,   404,   200,   ADMIN),
    ("GET",  "{admin}no-such-page/",                            ADMIN, ADMIN, ADMIN, 404,   404,   404,   ADMIN),
    # Admin, curriculum: editors' and superusers'
    ("GET",  "{admin}roadmap/roadmap/",                         ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/roadmap/add/",                     ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/roadmap/{roadmap_id}/change/",     ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/roadmap/{roadmap_id}/history/",    ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/roadmap/{roadmap_id}/delete/",     ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/roadmap/{roadmap_id}/",   ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}roadmap/stage/",                           ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/stage/add/",                       ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/stage/{stage_id}/change/",         ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/stage/{stage_id}/history/",        ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/stage/{stage_id}/delete/",         ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/stage/{stage_id}/",       ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}roadmap/topic/",                           ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/topic/add/",                       ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/topic/{topic_id}/change/",         ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/topic/{topic_id}/history/",        ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/topic/{topic_id}/delete/",         ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/topic/{topic_id}/",       ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}roadmap/resource/",                        ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/resource/add/",                    ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/resource/{resource_id}/change/",   ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/resource/{resource_id}/history/",  ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/resource/{resource_id}/delete/",   ADMIN, ADMIN, ADMIN, 200,   403,   200,   ADMIN),
    ("GET",  "{admin}roadmap/resource/{resource_id}/", ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    # Admin, accounts: superusers only; progress is read-only, notes are never added or edited
    ("GET",  "{admin}accounts/user/",                           ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/add/",                       ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("POST", "{admin}accounts/user/add/",                       ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/{a_id}/change/",             ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("POST", "{admin}accounts/user/{a_id}/change/",             ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/{a_id}/password/",           ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/{a_id}/history/",            ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/{a_id}/delete/",             ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/user/{a_id}/",           ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}accounts/progress/",                       ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/progress/add/",                   ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}accounts/progress/{progress_id}/change/",  ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("POST", "{admin}accounts/progress/{progress_id}/change/",  ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}accounts/progress/{progress_id}/history/", ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/progress/{progress_id}/delete/",  ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}accounts/progress/{progress_id}/", ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}accounts/note/",                           ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/note/add/",                       ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}accounts/note/{note_id}/change/",          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("POST", "{admin}accounts/note/{note_id}/change/",          ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}accounts/note/{note_id}/history/",         ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/note/{note_id}/delete/",          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}accounts/note/{note_id}/",        ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    # Admin, groups and django-axes' login records: superusers only
    ("GET",  "{admin}auth/group/",                              ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}auth/group/add/",                          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}auth/group/{group_id}/change/",            ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("POST", "{admin}auth/group/{group_id}/change/",            ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}auth/group/{group_id}/history/",           ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}auth/group/{group_id}/delete/",            ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}auth/group/{group_id}/",          ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}axes/accessattempt/",                      ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessattempt/add/",                  ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}axes/accessattempt/{attempt_id}/change/",  ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessattempt/{attempt_id}/history/", ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessattempt/{attempt_id}/delete/",  ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessattempt/{attempt_id}/", ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}axes/accesslog/",                          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accesslog/add/",                      ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}axes/accesslog/{log_id}/change/",          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accesslog/{log_id}/history/",         ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accesslog/{log_id}/delete/",          ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accesslog/{log_id}/",        ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/",                   ADMIN, ADMIN, ADMIN, 403,   403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/add/",               ADMIN, ADMIN, ADMIN, 403,   403,   403,   ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/{failure_id}/change/",  ADMIN, ADMIN, ADMIN, 403, 403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/{failure_id}/history/", ADMIN, ADMIN, ADMIN, 403, 403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/{failure_id}/delete/",  ADMIN, ADMIN, ADMIN, 403, 403,   200,   ADMIN),
    ("GET",  "{admin}axes/accessfailurelog/{failure_id}/", ADMIN, ADMIN, ADMIN, TO_CHANGE, TO_CHANGE, TO_CHANGE, ADMIN),
]
# fmt: on

# What the POST rows send: a plausible submission, so the answer is about access and not an empty form.
POSTS = {
    "/accounts/profile/": {"display_name": "Renamed"},
    "{topic_url}progress/": {"status": Status.DONE},
    "{draft_topic_url}progress/": {"status": Status.DONE},
    "{topic_url}note/": {"text": "A note"},
    "/roadmaps/{roadmap}/{stage}/no-such-topic/note/": {"text": "A note"},
    "/theme/": {"theme": "dark"},
    "/accounts/password_reset/": {"email": "nobody@example.com"},
}


@dataclass(frozen=True)
class World:
    """The users and objects the matrix's placeholders name."""

    users: dict[str, User | None]
    values: dict[str, str]
    sessions: dict[str, str]  # role -> session key, for the roles with a user

    def fill(self, template: str, **extra: str) -> str:
        return template.format(**self.values, **extra)

    def user(self, role: str) -> User:
        """A fresh copy of ``role``'s user (the world's own instances are shared by every test)."""
        return User.objects.get(pk=self.users[role].pk)

    def client(self, role: str) -> Client:
        """A new client holding the session of ``role``'s user (logged in once, when the world was built)."""
        client = Client()
        if role in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The world, built once for the module in a transaction rolled back after its last test.

    Each test runs in a savepoint inside it (pytest-django's ``db``), so what a
    test changes is undone and the next one starts from the same world: Django's
    ``TestCase.setUpTestData``, without building some twenty rows for each of
    the matrix's many cells.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db) -> World:
    return shared_world


def build_world() -> World:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    roadmap = make_curriculum(stages=1, topics=2, resources=1, slug="python", title="Python")
    draft = make_curriculum(stages=1, topics=1, slug="draft", title="Draft", is_published=False)
    stage = roadmap.stages.get()
    topic, other_topic = stage.topics.order_by("position")
    draft_stage = draft.stages.get()
    draft_topic = draft_stage.topics.get()

    learner_a = make_user(username="alice_private", email="alice@example.com", password=PASSWORD_A)
    learner_b = make_user(username="bob_public", email="bob@example.com", password=PASSWORD_B, is_profile_public=True)
    editor = make_user(username="editor", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    staff = make_user(username="staff_no_group", password=PASSWORD, is_staff=True)
    superuser = make_user(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    inactive = make_user(username="gone", password=PASSWORD, is_active=False, is_staff=True, is_profile_public=True)
    inactive.groups.add(Group.objects.get(name="Content editors"))

    progress = services.progress_set(user=learner_a, topic=topic, status=Status.DONE)
    note = services.note_set(user=learner_a, topic=topic, text=A_NOTE)
    services.progress_set(user=learner_b, topic=other_topic, status=Status.IN_PROGRESS)
    record = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "alice_private", "http_accept": "*/*"}
    attempt = AccessAttempt.objects.create(**record, path_info="/accounts/login/", failures_since_start=1)
    log = AccessLog.objects.create(**record, path_info="/accounts/login/")
    failure = AccessFailureLog.objects.create(**record, path_info="/accounts/login/")

    topic_url = topic.get_absolute_url()
    values = {
        "admin": f"/{settings.ADMIN_URL}",
        "login": resolve_url(settings.LOGIN_URL),
        "roadmap": roadmap.slug,
        "stage": stage.slug,
        "topic": topic.slug,
        "topic_url": topic_url,
        "other_topic": other_topic.slug,
        "draft": draft.slug,
        "draft_stage": draft_stage.slug,
        "draft_topic_url": draft_topic.get_absolute_url(),
        "a": learner_a.username,
        "b": learner_b.username,
        "inactive": inactive.username,
        "a_uid": urlsafe_base64_encode(str(learner_a.pk).encode()),
        "roadmap_id": roadmap.pk,
        "stage_id": stage.pk,
        "topic_id": topic.pk,
        "resource_id": topic.resources.get().pk,
        "a_id": learner_a.pk,
        "progress_id": progress.pk,
        "note_id": note.pk,
        "group_id": Group.objects.get(name="Content editors").pk,
        "attempt_id": attempt.pk,
        "log_id": log.pk,
        "failure_id": failure.pk,
        "roadmap_ct": ContentType.objects.get_for_model(Roadmap).pk,
        "user_ct": ContentType.objects.get_for_model(User).pk,
        "stage_roadmap_lookup": "app_label=roadmap&model_name=stage&field_name=roadmap&term=py",
        "progress_user_lookup": "app_label=accounts&model_name=progress&field_name=user&term=alice",
        "note_user_lookup": "app_label=accounts&model_name=note&field_name=user&term=alice",
    }
    users = {
        "anonymous": None,
        "learner_a": learner_a,
        "learner_b": learner_b,
        "editor": editor,
        "staff": staff,
        "superuser": superuser,
        "inactive": inactive,
    }
    sessions = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            # The backend a login through the form records (django-axes' backend only checks for lockouts).
            client.force_login(user, backend=BACKEND)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return World(users=users, values={key: str(value) for key, value in values.items()}, sessions=sessions)


def outcome_of(response, path: str, world: World) -> int | str | To:
    """What the response was, in the matrix's terms: LOGIN or ADMIN only with ``next`` exactly the requested path."""
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    target = urlsplit(location)
    if not target.netloc and parse_qs(target.query) == {"next": [path]}:
        if target.path == world.values["login"]:
            return LOGIN
        if target.path == world.fill("{admin}login/"):
            return ADMIN
    return To(location)


@pytest.mark.parametrize(
    ("method", "template", "outcomes"),
    [pytest.param(method, path, outcomes, id=f"{method} {path}") for method, path, *outcomes in MATRIX],
)
def test_access(world, method, template, outcomes):
    """One row of the matrix: each role (its own client and session) gets exactly the answer in its column."""
    path = world.fill(template)
    data = {key: world.fill(value) for key, value in POSTS.get(template, {}).items()}
    expected = {
        role: To(world.fill(outcome.location, path=path)) if isinstance(outcome, To) else outcome
        for role, outcome in zip(ROLES, outcomes, strict=True)
    }

    actual = {}
    for role in ROLES:
        client = world.client(role)
        response = client.get(path) if method == "GET" else client.post(path, data)
        actual[role] = outcome_of(response, path, world)

    assert actual == expected


def _join(prefix: str, route: str) -> str:
    # As django.urls.resolvers.URLResolver joins routes for ResolverMatch.route.
    return prefix + route.removeprefix("^") if prefix else route


def all_routes(resolver: URLResolver, prefix: str = "") -> set[str]:
    routes = set()
    for pattern in resolver.url_patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLPattern):
            routes.add(route)
        else:
            routes |= all_routes(pattern, route)
    return routes


def test_every_url_pattern_is_classified_in_the_matrix(world):
    """A URL added to the site fails this test until the matrix says who may reach it."""
    classified = {resolve(urlsplit(world.fill(path)).path).route for _, path, *_ in MATRIX}

    unclassified = all_routes(get_resolver()) - classified

    # Uploaded media (avatars) are served by Django only with DEBUG on; in production by nginx.
    # Whether the route reads "media/..." or "^media/..." depends on how the URLconf was last loaded.
    media = settings.MEDIA_URL.strip("/") + "/"
    assert {route for route in unclassified if not route.removeprefix("^").startswith(media)} == set()


def test_every_row_is_a_distinct_endpoint_with_one_outcome_per_role():
    rows = [(method, path) for method, path, *_ in MATRIX]

    assert len(rows) == len(set(rows))
    assert {len(outcomes) for _, _, *outcomes in MATRIX} == {len(ROLES)}


# Insecure direct object references: learner B against learner A's data ----------


def a_parameters(world: World) -> dict[str, str]:
    """Every name a view might take the learner from, all pointing at A."""
    pk, username = world.values["a_id"], world.values["a"]
    return {"user": pk, "user_id": pk, "id": pk, "pk": pk, "owner": pk, "username": username, "learner": username}


def a_secrets(world: World) -> list[str]:
    """What would show A's data on a page: her note and her email address."""
    return [A_NOTE, world.users["learner_a"].email]


B_PAGES = [
    "/",
    "/search/?q=topic",
    "/roadmaps/{roadmap}/",
    "/roadmaps/{roadmap}/?show=left",
    "/roadmaps/{roadmap}/{stage}/",
    "{topic_url}",
    "/dashboard/",
    "/dashboard/export.json",
    "/dashboard/export.csv",
    "/accounts/profile/",
    "/accounts/delete/",
    "/accounts/password_change/",
    "/u/{b}/",
]


def test_a_sees_her_own_note_and_progress(world):
    """The control for the tests below: A's note and status are on her pages, so their absence elsewhere counts."""
    client = world.client("learner_a")

    topic_page = client.get(world.fill("{topic_url}"))
    export = client.get("/dashboard/export.json").json()

    assert A_NOTE in topic_page.content.decode()
    assert A_NOTE in client.get("/dashboard/").content.decode()
    assert [(row["topic"], row["status"], row["note"]) for row in export["topics"]] == [
        (world.values["topic"], Status.DONE, A_NOTE)
    ]


@pytest.mark.parametrize("page", B_PAGES)
def test_b_never_sees_a_data_whatever_the_query_parameters(world, page):
    """A's id and username in every parameter a view might read the learner from: B still gets only B's page."""
    path = world.fill(page)
    separator = "&" if "?" in path else "?"
    query = "&".join(f"{name}={value}" for name, value in a_parameters(world).items())

    response = world.client("learner_b").get(f"{path}{separator}{query}")

    assert response.status_code == 200
    content = response.content.decode()
    assert [secret for secret in a_secrets(world) if secret in content] == []


@pytest.mark.parametrize("extension", ["json", "csv"])
def test_b_export_is_b_data_only_whatever_the_parameters(world, extension):
    """The export names B and holds exactly B's one record, with A's id or username in the query."""
    response = world.client("learner_b").get(f"/dashboard/export.{extension}", a_parameters(world))

    assert response.status_code == 200
    assert f"roadmap-progress-{world.values['b']}-" in response["Content-Disposition"]
    if extension == "json":
        document = response.json()
        assert document["user"] == world.values["b"]
        rows = document["topics"]
    else:
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["status"], row["note"]) for row in rows] == [(Status.IN_PROGRESS, "")]


def test_b_topic_page_shows_b_status_not_a_status(world):
    """A has ticked the topic off; on B's copy of the same page nothing is ticked and the note box is empty."""
    client_a, client_b = world.client("learner_a"), world.client("learner_b")
    path = world.fill("{topic_url}")
    # A's copy is rendered (and cached for A) first.
    assert client_a.get(path).status_code == 200

    page = BeautifulSoup(client_b.get(path, a_parameters(world)).content, "html.parser")

    assert page.select('button[name=status][aria-pressed="true"]') == []
    assert page.select_one("textarea[name=text]").get_text(strip=True) == ""


@pytest.mark.parametrize("page", ["{topic_url}", "/roadmaps/{roadmap}/", "/dashboard/", "/"])
def test_pages_cached_for_a_are_never_served_to_b_or_to_anonymous_visitors(world, page):
    """The shared part of a page is cached (``pagecache``): what A saw first never reaches anyone else."""
    path = world.fill(page)
    assert world.client("learner_a").get(path).status_code == 200

    for role in ("learner_b", "anonymous", "inactive"):
        response = world.client(role).get(path, follow=True)
        assert response.status_code == 200
        content = response.content.decode()
        assert [secret for secret in a_secrets(world) if secret in content] == [], role
        assert world.values["a"] not in content, role


def a_records(world: World) -> tuple[list, list]:
    learner_a = world.users["learner_a"]
    return (
        list(Progress.objects.filter(user=learner_a).values_list("topic_id", "status", "updated_at")),
        list(Note.objects.filter(user=learner_a).values_list("topic_id", "text", "updated_at")),
    )


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_b_progress_post_naming_a_changes_only_b_progress(world, accept):
    """A's ids in the form (and the query) of a tick-off: B's status changes, A's record is untouched."""
    before = a_records(world)
    params = a_parameters(world)
    path = world.fill("{topic_url}progress/?") + "&".join(f"{name}={value}" for name, value in params.items())

    response = world.client("learner_b").post(path, {"status": Status.SKIPPED, **params}, HTTP_ACCEPT=accept)

    assert response.status_code == (200 if accept == "application/json" else 302)
    assert a_records(world) == before
    learner_b = world.users["learner_b"]
    assert dict(Progress.objects.filter(user=learner_b).values_list("topic__slug", "status")) == {
        world.values["topic"]: Status.SKIPPED,
        world.values["other_topic"]: Status.IN_PROGRESS,
    }
    if accept == "application/json":
        summary = {
            key: (value["done"], value["in_progress"], value["skipped"])
            for key, value in response.json()["progress"].items()
        }
        # B's counts (A's done topic is not among them).
        assert summary == {
            f"roadmap-{world.values['roadmap_id']}": (0, 1, 1),
            f"stage-{world.values['stage_id']}": (0, 1, 1),
        }


@pytest.mark.parametrize("text", ["Bob was here", ""])
def test_b_note_post_naming_a_neither_changes_nor_deletes_a_note(world, text):
    """Saving (or blanking, which deletes) a note with A's ids in the form touches only B's note."""
    before = a_records(world)

    response = world.client("learner_b").post(world.fill("{topic_url}note/"), {"text": text, **a_parameters(world)})

    assert response.status_code == 302
    assert a_records(world) == before
    assert list(Note.objects.filter(user=world.users["learner_b"]).values_list("text", flat=True)) == (
        [text] if text else []
    )


def test_b_profile_post_naming_a_changes_only_b_own_editable_fields(world):
    """Extra fields (A's id and username, staff flags, another password) are ignored: no takeover, no escalation."""
    response = world.client("learner_b").post(
        "/accounts/profile/",
        {
            **a_parameters(world),
            "display_name": "Bob B.",
            "email": "takeover@example.com",
            "password": "hacked-password-123",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "groups": world.values["group_id"],
        },
    )

    assert response.status_code == 302
    a, b = world.user("learner_a"), world.user("learner_b")
    assert (a.username, a.email, a.display_name, a.check_password(PASSWORD_A)) == (
        "alice_private",
        "alice@example.com",
        "",
        True,
    )
    assert (b.username, b.email, b.display_name, b.is_staff, b.is_superuser, list(b.groups.all())) == (
        "bob_public",
        "bob@example.com",
        "Bob B.",
        False,
        False,
        [],
    )
    assert b.check_password(PASSWORD_B)


def test_b_cannot_delete_a_with_a_password(world):
    """The delete form checks the logged-in learner's password, whatever else is posted."""
    response = world.client("learner_b").post("/accounts/delete/", {"password": PASSWORD_A, **a_parameters(world)})

    assert response.status_code == 200
    assert User.objects.filter(username__in=["alice_private", "bob_public"]).count() == 2


def test_b_deleting_their_account_with_a_ids_deletes_only_b(world):
    """The account deleted is the logged-in one; A's ids in the form are ignored."""
    before = a_records(world)

    response = world.client("learner_b").post("/accounts/delete/", {"password": PASSWORD_B, **a_parameters(world)})

    assert response["Location"] == "/"
    assert not User.objects.filter(username="bob_public").exists()
    assert User.objects.filter(username="alice_private").exists()
    assert a_records(world) == before


def test_b_password_change_naming_a_changes_only_b_password(world):
    """Password change acts on the logged-in learner: A's old password and id in the form change nothing of A's."""
    new = "a-brand-new-passphrase"
    refused = world.client("learner_b").post(
        "/accounts/password_change/",
        {"old_password": PASSWORD_A, "new_password1": new, "new_password2": new, **a_parameters(world)},
    )
    changed = world.client("learner_b").post(
        "/accounts/password_change/",
        {"old_password": PASSWORD_B, "new_password1": new, "new_password2": new, **a_parameters(world)},
    )

    assert refused.status_code == 200
    assert changed["Location"] == "/accounts/password_change/done/"
    assert world.user("learner_a").check_password(PASSWORD_A)
    assert world.user("learner_b").check_password(new)


@pytest.mark.parametrize("name", ["{a}", "ALICE_PRIVATE", "{a_id}", "{a}%20", "%20{a}"])
def test_a_private_profile_is_not_found_by_any_spelling(world, name):
    """A private profile is a 404 (as for nobody at all) by username, another case, id or padded name."""
    response = world.client("learner_b").get(world.fill(f"/u/{name}/"))

    assert response.status_code == 404
    assert [secret for secret in a_secrets(world) if secret in response.content.decode()] == []


def test_public_profiles_never_show_notes(world):
    """Even B's own note stays off B's public page (the profile promises: notes are never shown)."""
    services.note_set(
        user=world.user("learner_b"),
        topic=Topic.objects.get(slug=world.values["other_topic"], stage__roadmap__slug=world.values["roadmap"]),
        text="Bob own note 99f0",
    )

    content = world.client("anonymous").get(world.fill("/u/{b}/")).content.decode()

    assert "Bob own note 99f0" not in content
    assert A_NOTE not in content
    assert "Bob own note 99f0" in world.client("learner_b").get("/dashboard/").content.decode()  # the control


# Content editors in the admin -------------------------------------------------

LEARNER_DATA_ADMIN = ("accounts/", "auth/", "axes/")


def admin_links(response) -> set[str]:
    return {a["href"] for a in BeautifulSoup(response.content, "html.parser").select("a[href]")}


@pytest.mark.parametrize("page", ["{admin}", "{admin}roadmap/", "{admin}roadmap/topic/"])
def test_editor_admin_pages_link_to_no_user_note_progress_group_or_login_records(world, page):
    """The index, app index and sidebar list only the curriculum for editors (superusers see everything)."""
    admin = world.values["admin"]
    hidden = tuple(f"{admin}{app}" for app in LEARNER_DATA_ADMIN)

    links = admin_links(world.client("editor").get(world.fill(page)))

    assert {link for link in links if link.startswith(hidden)} == set()
    assert f"{admin}roadmap/topic/" in links


def test_superuser_admin_index_links_to_users_notes_and_progress(world):
    """The control for the test above: the links it looks for are the ones the index shows."""
    admin = world.values["admin"]

    links = admin_links(world.client("superuser").get(admin))

    assert {f"{admin}accounts/user/", f"{admin}accounts/note/", f"{admin}accounts/progress/"} <= links


@pytest.mark.parametrize(
    "page",
    [
        "{admin}roadmap/topic/",
        "{admin}roadmap/topic/{topic_id}/change/",
        "{admin}roadmap/topic/{topic_id}/history/",
        "{admin}roadmap/topic/{topic_id}/delete/",
        "{admin}roadmap/stage/{stage_id}/delete/",
        "{admin}roadmap/roadmap/{roadmap_id}/delete/",
    ],
)
def test_editor_curriculum_pages_name_no_learner(world, page):
    """A's progress and note protect the topic; the editor's pages about it still never say whose they are."""
    response = world.client("editor").get(world.fill(page))

    assert response.status_code == 200
    content = response.content.decode()
    assert [text for text in [*a_secrets(world), world.values["a"]] if text in content] == []


def test_editor_cannot_make_themselves_superuser(world):
    """Editors cannot post to the user change form either, not even for their own account."""
    editor = world.user("editor")
    path = world.fill(f"{{admin}}accounts/user/{editor.pk}/change/")

    response = world.client("editor").post(
        path, {"username": "editor", "is_active": "on", "is_staff": "on", "is_superuser": "on"}
    )

    assert response.status_code == 403
    editor.refresh_from_db()
    assert (editor.is_superuser, editor.user_permissions.count()) == (False, 0)


def test_editor_cannot_add_a_user_or_grant_the_group_more_permissions(world):
    """No way around the group's permissions: no new accounts, no extra permissions for the editors' group."""
    group = Group.objects.get(name="Content editors")
    permissions = set(group.permissions.all())
    users = User.objects.count()
    client = world.client("editor")

    add = client.post(
        world.fill("{admin}accounts/user/add/"),
        {"username": "sockpuppet", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    grant = client.post(
        world.fill("{admin}auth/group/{group_id}/change/"),
        {"name": group.name, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )

    assert (add.status_code, grant.status_code) == (403, 403)
    assert User.objects.count() == users
    assert set(group.permissions.all()) == permissions


def test_editor_autocomplete_never_lists_learners(world):
    """The admin's autocomplete searches any registered model's rows: for users it needs the view permission."""
    response = world.client("editor").get(
        world.fill("{admin}autocomplete/"),
        {"app_label": "accounts", "model_name": "progress", "field_name": "user", "term": ""},
    )

    assert response.status_code == 403
    assert world.values["a"] not in response.content.decode()


# Inactive users ---------------------------------------------------------------


@pytest.mark.parametrize("login", ["{login}", "{admin}login/"])
def test_inactive_user_cannot_log_in_with_the_right_password(world, login):
    """The answer is the one a wrong password gets (nothing tells that the account exists), and no session."""
    client = Client()
    path = world.fill(login)

    inactive = client.post(path, {"username": "gone", "password": PASSWORD})
    wrong = Client().post(path, {"username": "gone", "password": "wrong-password"})

    assert inactive.status_code == wrong.status_code == 200
    assert inactive.context["form"].non_field_errors()
    assert inactive.context["form"].errors == wrong.context["form"].errors
    assert SESSION_KEY not in client.session
    assert client.get("/dashboard/")["Location"].startswith(world.values["login"])
    # The control: the same credentials log in once the account is active again.
    User.objects.filter(username="gone").update(is_active=True)
    assert client.post(path, {"username": "gone", "password": PASSWORD}).status_code == 302
    assert SESSION_KEY in client.session


def test_deactivating_a_logged_in_user_logs_them_out(world):
    """A session from before the deactivation authenticates no further request."""
    client = Client()
    assert client.post(world.values["login"], {"username": "bob_public", "password": PASSWORD_B}).status_code == 302
    assert client.get("/dashboard/").status_code == 200

    User.objects.filter(username="bob_public").update(is_active=False)

    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(world.values["login"])
