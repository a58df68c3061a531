"""dumpdata and loaddata keep timestamps to the microsecond (roadmap_site/serializers.py)."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Note
from tests.factories import make_topic, make_user

pytestmark = pytest.mark.django_db


def test_a_dumped_and_reloaded_timestamp_keeps_its_microseconds(tmp_path):
    note = Note.objects.create(user=make_user(username="ada"), topic=make_topic(), text="x")
    moment = datetime(2026, 11, 21, 12, 30, 9, 412, tzinfo=UTC)  # 09.000412: Django's encoder would write 09.000
    Note.objects.filter(pk=note.pk).update(updated_at=moment)
    out = StringIO()

    call_command("dumpdata", "accounts.note", "--format", "json", stdout=out)

    (dumped,) = json.loads(out.getvalue())
    assert dumped["fields"]["updated_at"] == "2026-11-21T12:30:09.000412Z"
    Note.objects.filter(pk=note.pk).update(updated_at=datetime(2000, 1, 1, tzinfo=UTC))
    backup = tmp_path / "backup.json"
    backup.write_text(out.getvalue())
    call_command("loaddata", str(backup), verbosity=0)
    note.refresh_from_db()
    assert note.updated_at == moment
