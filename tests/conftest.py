from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCES = BASE_DIR / "fixtures" / "sources"


@pytest.fixture
def seeded(db) -> None:
    """The shipped curriculum (fixtures/roadmaps.json)."""
    call_command("loaddata", "roadmaps", verbosity=0)
