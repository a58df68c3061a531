"""The read-replica router, end to end on two real databases.

Two SQLite files stand in for a primary and its replica; the replica's roadmap
titles are marked so the page shows which database it was read from.
"""

import os
import subprocess
import sys

import pytest

from roadmap.models import Topic
from roadmap_site.logging import current_request
from roadmap_site.routers import PrimaryReplicaRouter
from tests.conftest import BASE_DIR

MARK_REPLICA = """
from roadmap.models import Roadmap
for roadmap in Roadmap.objects.all():
    roadmap.title = "REPLICA " + roadmap.title
    roadmap.save()
"""

READ_BOTH_WAYS = """
from django.contrib.auth import get_user_model
from django.test import Client
from roadmap.models import Roadmap

anonymous = Client(HTTP_HOST="localhost")
learner = Client(HTTP_HOST="localhost")
learner.force_login(get_user_model().objects.create_user("ada", password="correct-horse-battery-staple"))
print("anonymous:", "REPLICA" in anonymous.get("/").content.decode())
print("learner:", "REPLICA" in learner.get("/").content.decode())
print("command:", Roadmap.objects.first().title.startswith("REPLICA"))
"""


def manage(*args: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and "DATABASE" not in k}
    environ |= {"DJANGO_SETTINGS_MODULE": "roadmap_site.settings", **env}
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_anonymous_views_read_the_replica_and_everything_else_the_primary(tmp_path):
    primary, replica = f"sqlite:///{tmp_path / 'primary.sqlite3'}", f"sqlite:///{tmp_path / 'replica.sqlite3'}"
    for url in (primary, replica):
        manage("migrate", "--no-input", "-v0", DATABASE_URL=url)
        manage("loaddata", "roadmaps", "-v0", DATABASE_URL=url)
    manage("shell", "--no-imports", "-c", MARK_REPLICA, DATABASE_URL=replica)

    shown = manage("shell", "--no-imports", "-c", READ_BOTH_WAYS, DATABASE_URL=primary, DATABASE_REPLICA_URL=replica)

    assert "anonymous: True" in shown, "an anonymous page view should read the replica"
    assert "learner: False" in shown, "a learner must read their own writes from the primary"
    assert "command: False" in shown, "management commands use the primary"


@pytest.mark.parametrize(
    ("method", "cookies", "database"),
    [("get", {}, "replica"), ("head", {}, "replica"), ("post", {}, "default"), ("get", {"sessionid": "x"}, "default")],
)
def test_only_safe_requests_without_a_session_may_lag(rf, method, cookies, database):

    request = getattr(rf, method)("/")
    request.COOKIES.update(cookies)
    token = current_request.set(request)
    try:
        assert PrimaryReplicaRouter().db_for_read(Topic) == database
        assert PrimaryReplicaRouter().db_for_write(Topic) == "default"
    finally:
        current_request.reset(token)


def test_no_request_means_the_primary():

    assert PrimaryReplicaRouter().db_for_read(Topic) == "default"
