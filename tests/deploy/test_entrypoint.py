"""deploy/entrypoint.sh, run outside Docker against a scratch SQLite database."""

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR
from tests.deploy.conftest import production_environ

ENTRYPOINT = BASE_DIR / "deploy" / "entrypoint.sh"
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/nope"


def run_entrypoint(tmp_path: Path, *command: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    # From another directory: the script finds the project by itself, as in the image.
    return subprocess.run(
        [str(ENTRYPOINT), *command],
        cwd=tmp_path,
        env=production_environ(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def count_rows(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def test_execs_the_command_in_its_own_place(tmp_path):
    # exec, not a child: the command keeps the entrypoint's process id (PID 1
    # in a container, so it receives the stop signal) and its exit status.
    process = subprocess.Popen(
        [str(ENTRYPOINT), "python", "-c", "import os, sys; print(os.getpid(), sys.argv[1:]); sys.exit(3)", "a b", "c"],
        cwd=tmp_path,
        env=production_environ(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert stdout.split(maxsplit=1) == [str(process.pid), "['a b', 'c']\n"]


def test_leaves_the_database_alone_unless_asked(tmp_path):
    result = run_entrypoint(tmp_path, "echo", "started")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"
    assert "django_migrations" not in tables(tmp_path / "db.sqlite3")


def test_migrates_a_fresh_database_when_asked(tmp_path):
    result = run_entrypoint(tmp_path, "echo", "started", DJANGO_MIGRATE="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("started\n")
    assert {"django_migrations", "accounts_user", "roadmap_roadmap"} <= tables(tmp_path / "db.sqlite3")


def test_loads_the_shipped_content_when_asked_and_again_without_duplicates(tmp_path):
    database = tmp_path / "db.sqlite3"
    first = run_entrypoint(tmp_path, "true", DJANGO_MIGRATE="true", DJANGO_LOAD_CONTENT="1")
    assert first.returncode == 0, first.stderr
    roadmaps, topics = count_rows(database, "roadmap_roadmap"), count_rows(database, "roadmap_topic")
    assert roadmaps > 0
    assert topics > 0

    again = run_entrypoint(tmp_path, "true", DJANGO_LOAD_CONTENT="yes")
    assert again.returncode == 0, again.stderr
    assert (count_rows(database, "roadmap_roadmap"), count_rows(database, "roadmap_topic")) == (roadmaps, topics)


def test_gives_up_on_an_unreachable_database_without_running_the_command(tmp_path):
    started = time.monotonic()
    result = run_entrypoint(
        tmp_path, "echo", "started", DATABASE_URL=UNREACHABLE_DATABASE, DJANGO_DB_WAIT_TIMEOUT="2", DJANGO_MIGRATE="1"
    )
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "database 'nope' on 127.0.0.1:1 did not accept connections within 2s" in result.stderr
    assert "Connection refused" in result.stderr
    assert 2 <= elapsed < 30


def test_zero_timeout_skips_the_wait(tmp_path):
    result = run_entrypoint(tmp_path, "echo", "started", DATABASE_URL=UNREACHABLE_DATABASE, DJANGO_DB_WAIT_TIMEOUT="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_refuses_a_timeout_that_is_not_whole_seconds(tmp_path, value):
    result = run_entrypoint(tmp_path, "echo", "started", DJANGO_DB_WAIT_TIMEOUT=value)
    assert result.returncode == 2
    assert f"DJANGO_DB_WAIT_TIMEOUT must be a whole number of seconds; got '{value}'" in result.stderr
    assert result.stdout == ""


def test_needs_a_command(tmp_path):
    result = run_entrypoint(tmp_path)
    assert result.returncode == 64
    assert "no command given" in result.stderr
