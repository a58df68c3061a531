"""The backup and restore procedures of docs/deployment.md, run as an operator runs them.

Every command is a subprocess (``manage.py``, ``pg_dump``, ``pg_restore``) on
scratch databases: SQLite files in temporary directories, and PostgreSQL
databases named ``roadmap_backup_*_<random>`` that are created here and dropped
afterwards. Nothing uses pytest-django's test database, so these tests behave the
same whichever ``DATABASE_URL`` the suite itself runs on.
"""

import copy
import gzip
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.conftest import BASE_DIR
from tests.deploy.conftest import production_environ

DOCS = BASE_DIR / "docs" / "deployment.md"

# The logical backup command of docs/deployment.md (the file name aside): content
# and learners by natural key, without what a migrated database recreates itself
# (content types, permissions) and without short-lived security data.
DUMPDATA = (
    "dumpdata",
    "--natural-foreign",
    "--natural-primary",
    "--exclude",
    "contenttypes",
    "--exclude",
    "auth.permission",
    "--exclude",
    "sessions",
    "--exclude",
    "admin.logentry",
    "--exclude",
    "axes",
    "--exclude",
    "roadmap.contentversion",
)
# Loading it from standard input, as docs/deployment.md pipes it in from gunzip.
LOADDATA_STDIN = ("loaddata", "--format=json", "-")
PG_DUMP = ("pg_dump", "--format=custom")
PG_RESTORE = ("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction")

POSTGRES_SERVER = os.environ.get("BACKUP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

PASSWORD = "correct horse battery staple"
BASICS = ("django-roadmap", "basics-of-python")
# Beyond ASCII: accents, CJK, right-to-left script, characters outside the Basic
# Multilingual Plane (emoji), a decomposed "é" (e + combining accent, which no
# database may normalise), tabs and line breaks.
UNICODE_NAME = "Zoë Ørsted-Nakamura 中村 🦉"
UNICODE_NOTE = "Naïve café, 中文, עברית, 🐍🧪.\nThe decomposed e\u0301 stays decomposed;\ttabs and “quotes” \\ too."

# A learner with progress in every status (and a reset one) and a note, written
# through the app's services; a learner whose name and note go beyond ASCII; an
# editor in the "Content editors" group; and what a logical backup leaves out: a
# live session, a failed login, an admin log entry.
LEARNERS = """
from importlib import import_module

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from accounts.models import User
from accounts.services import note_set, progress_set
from roadmap.models import Topic

ada = User.objects.create_user(
    username="ada", email="ada@example.com", password=PASSWORD, display_name="Ada L.", is_profile_public=True
)
topic = {slug: Topic.objects.get_by_natural_key(*BASICS, slug) for slug in (
    "variables-data-types-and-operators", "control-flow-if-else-loops", "functions-and-modules", "exception-handling"
)}
progress_set(user=ada, topic=topic["variables-data-types-and-operators"], status="done")
progress_set(user=ada, topic=topic["control-flow-if-else-loops"], status="in_progress")
progress_set(user=ada, topic=topic["functions-and-modules"], status="skipped")
progress_set(user=ada, topic=topic["exception-handling"], status="done")
progress_set(user=ada, topic=topic["exception-handling"], status="not_started")
note_set(user=ada, topic=topic["control-flow-if-else-loops"], text="Revisit match statements.")

zoe = User.objects.create_user(username="zoë", email="zoe@example.org", password=PASSWORD, display_name=UNICODE_NAME)
progress_set(user=zoe, topic=topic["functions-and-modules"], status="done")
note_set(user=zoe, topic=topic["functions-and-modules"], text=UNICODE_NOTE)

grace = User.objects.create_user(username="grace", email="grace@example.com", password=PASSWORD, is_staff=True)
grace.groups.add(Group.objects.get(name="Content editors"))

session = import_module(settings.SESSION_ENGINE).SessionStore()
session["learner"] = ada.pk
session.create()
AccessAttempt.objects.create(
    username="ada", ip_address="203.0.113.9", user_agent="curl/8", http_accept="*/*",
    path_info="/accounts/login/", get_data="", post_data="", failures_since_start=1,
)
edited = topic["functions-and-modules"]
LogEntry.objects.create(
    user=grace, content_type=ContentType.objects.get_for_model(Topic), object_id=str(edited.pk),
    object_repr=str(edited), action_flag=CHANGE, change_message="[]",
)
"""

# What an operator checks after a restore, by natural key (database ids may differ).
SUMMARY = """
import json

from accounts.models import User

ada = User.objects.get(username="ada")
grace = User.objects.get(username="grace")
zoe = User.objects.get(username="zoë")
print(json.dumps({
    "ada": [ada.email, ada.display_name, ada.is_profile_public, ada.check_password(PASSWORD)],
    "zoë": [zoe.display_name, [n.text for n in zoe.notes.all()], [p.status for p in zoe.progress.all()]],
    "grace": [grace.is_staff, sorted(grace.groups.values_list("name", flat=True)), grace.check_password(PASSWORD)],
    "progress": sorted([*p.topic.natural_key(), p.status] for p in ada.progress.all()),
    "notes": sorted([*n.topic.natural_key(), n.text] for n in ada.notes.all()),
    "events": sorted([*e.topic.natural_key(), e.status] for e in ada.progress_events.all()),
}))
"""

EXPECTED_SUMMARY = {
    "ada": ["ada@example.com", "Ada L.", True, True],
    "zoë": [UNICODE_NAME, [UNICODE_NOTE], ["done"]],
    "grace": [True, ["Content editors"], True],
    "progress": [
        [*BASICS, "control-flow-if-else-loops", "in_progress"],
        [*BASICS, "functions-and-modules", "skipped"],
        [*BASICS, "variables-data-types-and-operators", "done"],
    ],
    "notes": [[*BASICS, "control-flow-if-else-loops", "Revisit match statements."]],
    "events": [
        [*BASICS, "control-flow-if-else-loops", "in_progress"],
        [*BASICS, "exception-handling", "done"],
        [*BASICS, "exception-handling", "not_started"],
        [*BASICS, "functions-and-modules", "skipped"],
        [*BASICS, "variables-data-types-and-operators", "done"],
    ],
}


@dataclass(frozen=True)
class Site:
    """One deployment's configuration: manage.py runs against its database."""

    environ: dict[str, str]

    @classmethod
    def on(cls, directory: Path, database_url: str | None = None) -> "Site":
        directory.mkdir(parents=True, exist_ok=True)
        overrides = {"DATABASE_URL": database_url} if database_url else {}
        return cls(production_environ(directory, **overrides))

    @property
    def database_url(self) -> str:
        return self.environ["DATABASE_URL"]

    def manage(self, *args: str, stdin: str | None = None) -> str:
        return run([sys.executable, "manage.py", *args], env=self.environ, stdin=stdin)

    def shell(self, script: str) -> str:
        """Run ``script`` in ``manage.py shell``, with PASSWORD, BASICS, UNICODE_NAME, UNICODE_NOTE defined as here."""
        constants = {"PASSWORD": PASSWORD, "BASICS": BASICS, "UNICODE_NAME": UNICODE_NAME, "UNICODE_NOTE": UNICODE_NOTE}
        preamble = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
        return self.manage("shell", "--no-imports", "-c", preamble + script)

    def summary(self) -> dict:
        return json.loads(self.shell(SUMMARY).strip().splitlines()[-1])

    def dump(self) -> list[dict]:
        """The logical backup command, to standard output, parsed."""
        return json.loads(self.manage(*DUMPDATA))


def run(command: list[str], *, env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(command[:3])} ... failed ({result.returncode}):\n{result.stderr}"
    return result.stdout


def install_learners(site: Site) -> None:
    site.manage("migrate", "--no-input", "--verbosity", "0")
    site.manage("loaddata", "roadmaps", "--verbosity", "0")
    site.shell(LEARNERS)


def without_content_timestamps(objects: list[dict]) -> list[dict]:
    """The dump as a logical restore gives it back: without ``Topic.content_updated_at`` (compared in
    test_logical_restore_keeps_when_topics_last_changed)."""
    objects = copy.deepcopy(objects)
    for obj in objects:
        if obj["model"] == "roadmap.topic":
            del obj["fields"]["content_updated_at"]
    return objects


def content_timestamps(objects: list[dict]) -> dict[tuple[str, ...], str | None]:
    return {
        (*obj["fields"]["stage"], obj["fields"]["slug"]): obj["fields"]["content_updated_at"]
        for obj in objects
        if obj["model"] == "roadmap.topic"
    }


# Logical backup (dumpdata / loaddata), on SQLite ---------------------------------------


@dataclass(frozen=True)
class LogicalBackup:
    file: Path
    source_dump: list[dict]
    source_summary: dict


@pytest.fixture(scope="module")
def logical_backup(tmp_path_factory) -> LogicalBackup:
    directory = tmp_path_factory.mktemp("logical-source")
    source = Site.on(directory)
    install_learners(source)
    backup = directory / "roadmap-backup.json.gz"
    source.manage(*DUMPDATA, "--output", str(backup))
    return LogicalBackup(file=backup, source_dump=source.dump(), source_summary=source.summary())


@dataclass(frozen=True)
class Restored:
    dump: list[dict]
    summary: dict


@pytest.fixture(scope="module")
def restored_into_new_database(logical_backup, tmp_path_factory) -> Restored:
    """The documented restore: a freshly migrated database, then loaddata of the backup."""
    target = Site.on(tmp_path_factory.mktemp("logical-target"))
    target.manage("migrate", "--no-input", "--verbosity", "0")
    target.manage("loaddata", str(logical_backup.file), "--verbosity", "0")
    return Restored(dump=target.dump(), summary=target.summary())


def test_the_tested_commands_are_the_documented_ones():
    # Backslash-continued lines joined and whitespace collapsed, as a shell reads them.
    documented = re.sub(r"\s+", " ", DOCS.read_text().replace("\\\n", " "))
    for command in (DUMPDATA, LOADDATA_STDIN, PG_DUMP, PG_RESTORE):
        assert " ".join(command) in documented, f"{' '.join(command)!r} is not in {DOCS.name}"


def test_logical_backup_holds_content_and_learners_but_no_sessions_or_logs(logical_backup):
    with gzip.open(logical_backup.file, "rt") as backup:
        models = {obj["model"] for obj in json.load(backup)}

    assert models == {
        "auth.group",
        "accounts.user",
        "accounts.progress",
        "accounts.progressevent",
        "accounts.note",
        "roadmap.roadmap",
        "roadmap.stage",
        "roadmap.topic",
        "roadmap.resource",
        "roadmap.roadmapresource",
        "roadmap.topicresource",
    }


def test_logical_backup_restores_learners_and_curriculum_into_a_new_database(
    logical_backup, restored_into_new_database
):
    assert logical_backup.source_summary == EXPECTED_SUMMARY
    assert restored_into_new_database.summary == EXPECTED_SUMMARY
    assert without_content_timestamps(restored_into_new_database.dump) == without_content_timestamps(
        logical_backup.source_dump
    )


def test_logical_backup_loads_over_the_shipped_curriculum_without_duplicates(logical_backup, tmp_path):
    target = Site.on(tmp_path)
    target.manage("migrate", "--no-input", "--verbosity", "0")
    target.manage("loaddata", "roadmaps", "--verbosity", "0")

    target.manage("loaddata", str(logical_backup.file), "--verbosity", "0")

    # Equal dumps: every topic, resource and link matched its natural key instead of being added twice.
    assert without_content_timestamps(target.dump()) == without_content_timestamps(logical_backup.source_dump)
    assert target.summary() == EXPECTED_SUMMARY


def test_logical_restore_keeps_when_topics_last_changed(logical_backup, restored_into_new_database):
    assert content_timestamps(restored_into_new_database.dump) == content_timestamps(logical_backup.source_dump)


# PostgreSQL: pg_dump / pg_restore ------------------------------------------------------


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[Callable[[str], str]]:
    """Create throwaway databases on the PostgreSQL server (URL per name); drop them all afterwards."""
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install postgresql-client)")
    try:
        admin_connection().close()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {str(error).strip().splitlines()[0]}")

    created: list[str] = []

    def create(purpose: str) -> str:
        name = f"roadmap_backup_{purpose}_{secrets.token_hex(4)}"
        with admin_connection() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return urlsplit(POSTGRES_SERVER)._replace(path=f"/{name}").geturl()

    yield create

    with admin_connection() as connection:
        for name in created:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class DatabaseBackup:
    file: Path
    source: Site
    source_dump: list[dict]
    # The same data as a logical backup (for the moves to SQLite below).
    logical_file: Path


@pytest.fixture(scope="module")
def pg_backup(scratch_database, tmp_path_factory) -> DatabaseBackup:
    directory = tmp_path_factory.mktemp("pg-source")
    source = Site.on(directory, scratch_database("src"))
    install_learners(source)
    backup = directory / "roadmap.dump"
    run([*PG_DUMP, f"--dbname={source.database_url}", f"--file={backup}"], env=source.environ)
    logical_file = directory / "roadmap-backup.json.gz"
    source.manage(*DUMPDATA, "--output", str(logical_file))
    return DatabaseBackup(file=backup, source=source, source_dump=source.dump(), logical_file=logical_file)


def restore(backup: DatabaseBackup, site: Site) -> None:
    run([*PG_RESTORE, f"--dbname={site.database_url}", str(backup.file)], env=site.environ)


# Tables the logical backup leaves out; a pg_dump keeps them.
UNDUMPED_TABLES = ("django_session", "axes_accessattempt", "django_admin_log")


def row_counts(database_url: str, tables: tuple[str, ...]) -> dict[str, int]:
    with psycopg.connect(database_url, connect_timeout=3) as connection:
        return {
            table: connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in tables
        }


def test_pg_restore_into_an_empty_database_gives_back_everything(pg_backup, scratch_database, tmp_path):
    target = Site.on(tmp_path, scratch_database("dst"))

    restore(pg_backup, target)

    # Exactly the same rows, timestamps included, and sessions, login records and
    # the admin's log too: nobody is logged out.
    assert target.dump() == pg_backup.source_dump
    assert target.summary() == EXPECTED_SUMMARY
    assert row_counts(target.database_url, UNDUMPED_TABLES) == dict.fromkeys(UNDUMPED_TABLES, 1)


def test_pg_restore_over_a_changed_database_rolls_it_back(pg_backup):
    source = pg_backup.source
    source.shell(
        "from accounts.models import Note, Progress, User\n"
        "Progress.objects.filter(user__username='ada').delete()\n"
        "Note.objects.all().delete()\n"
        "User.objects.create_user(username='newcomer', password='another long passphrase')\n"
    )
    assert source.dump() != pg_backup.source_dump

    restore(pg_backup, source)

    assert source.dump() == pg_backup.source_dump


def test_a_restored_database_accepts_new_progress(pg_backup, scratch_database, tmp_path):
    target = Site.on(tmp_path, scratch_database("seq"))
    restore(pg_backup, target)

    # The sequences came back with the rows, so new records get fresh ids.
    created = target.shell(
        "from accounts.models import Progress, User\n"
        "from accounts.services import progress_set\n"
        "from roadmap.models import Topic\n"
        "topic = Topic.objects.get_by_natural_key('django-roadmap', 'basics-of-python', 'exception-handling')\n"
        "print(progress_set(user=User.objects.get(username='ada'), topic=topic, status='done').pk,"
        " Progress.objects.count())\n"
    )

    new_id, count = map(int, created.split()[-2:])
    assert count == sum(obj["model"] == "accounts.progress" for obj in pg_backup.source_dump) + 1
    assert new_id > max(obj["pk"] for obj in pg_backup.source_dump if obj["model"] == "accounts.progress")


# Moving between SQLite and PostgreSQL: the logical backup -------------------------------


@dataclass(frozen=True)
class Move:
    """A logical backup of one kind of database, loaded into a new database of the other kind."""

    source_dump: list[dict]
    target: Site
    restored: Restored
    # The target's own logical backup, taken right after the load: the next leg of a round trip.
    onward_file: Path


def move(backup_file: Path, source_dump: list[dict], directory: Path, database_url: str | None = None) -> Move:
    """The documented move: migrate the new database, pipe the backup into loaddata, back the result up."""
    target = Site.on(directory, database_url)
    target.manage("migrate", "--no-input", "--verbosity", "0")
    with gzip.open(backup_file, "rt", encoding="utf-8") as backup:
        target.manage(*LOADDATA_STDIN, "--verbosity", "0", stdin=backup.read())
    onward_file = directory / "onward-backup.json.gz"
    target.manage(*DUMPDATA, "--output", str(onward_file))
    with gzip.open(onward_file, "rt", encoding="utf-8") as onward:
        restored = Restored(dump=json.load(onward), summary=target.summary())
    return Move(source_dump=source_dump, target=target, restored=restored, onward_file=onward_file)


@pytest.fixture(scope="module")
def sqlite_to_postgresql(logical_backup, scratch_database, tmp_path_factory) -> Move:
    directory = tmp_path_factory.mktemp("to-postgresql")
    return move(logical_backup.file, logical_backup.source_dump, directory, scratch_database("from_sqlite"))


@pytest.fixture(scope="module")
def postgresql_to_sqlite(pg_backup, tmp_path_factory) -> Move:
    return move(pg_backup.logical_file, pg_backup.source_dump, tmp_path_factory.mktemp("to-sqlite"))


@pytest.fixture(scope="module")
def sqlite_to_postgresql_to_sqlite(logical_backup, sqlite_to_postgresql, tmp_path_factory) -> Move:
    """There and back: what comes home is compared with what left."""
    directory = tmp_path_factory.mktemp("round-trip")
    return move(sqlite_to_postgresql.onward_file, logical_backup.source_dump, directory)


@pytest.fixture(params=["sqlite_to_postgresql", "postgresql_to_sqlite", "sqlite_to_postgresql_to_sqlite"])
def moved(request) -> Move:
    return request.getfixturevalue(request.param)


def test_a_logical_backup_moves_between_database_kinds_unchanged(moved):
    assert moved.restored.summary == EXPECTED_SUMMARY
    assert without_content_timestamps(moved.restored.dump) == without_content_timestamps(moved.source_dump)


def test_a_move_between_database_kinds_keeps_when_topics_last_changed(moved):
    assert content_timestamps(moved.restored.dump) == content_timestamps(moved.source_dump)


# A new learner with progress (and so its history) and a note: their ids, and the highest ids the load left.
NEW_LEARNER = """
import json

from accounts.models import Note, Progress, ProgressEvent, User
from accounts.services import note_set, progress_set
from roadmap.models import Topic

models = (User, Progress, ProgressEvent, Note)
loaded = {model.__name__: max(model.objects.values_list("pk", flat=True)) for model in models}
topic = Topic.objects.get_by_natural_key(*BASICS, "exception-handling")
newcomer = User.objects.create_user(username="newcomer", email="newcomer@example.com", password=PASSWORD)
progress = progress_set(user=newcomer, topic=topic, status="done")
note = note_set(user=newcomer, topic=topic, text="Started after the move.")
event = newcomer.progress_events.get()
new = {"User": newcomer.pk, "Progress": progress.pk, "ProgressEvent": event.pk, "Note": note.pk}
print(json.dumps({"loaded": loaded, "new": new}))
"""


@pytest.mark.parametrize("kind", ["sqlite_to_postgresql", "postgresql_to_sqlite"])
def test_a_database_loaded_from_a_logical_backup_gives_new_rows_fresh_ids(kind, request):
    # Progress, its history and notes keep their ids in the backup. On PostgreSQL,
    # loaddata then moves each table's sequence past the highest id it loaded: a
    # sequence left behind would hand out a loaded id again and the insert would fail.
    # (The move's dumps were taken before: adding rows here changes no other test's data.)
    target = request.getfixturevalue(kind).target

    ids = json.loads(target.shell(NEW_LEARNER).strip().splitlines()[-1])

    fresh = {model: ids["new"][model] > highest for model, highest in ids["loaded"].items()}
    assert fresh == dict.fromkeys(ids["loaded"], True), ids
