"""The shipped curriculum in a test's database: loaded by ``loaddata`` once per process, then copied.

``loaddata roadmaps`` resolves natural keys and runs signals row by row (about
3,100 queries); most tests only need the rows to be there. The first load in a
process is the real command; its rows are kept as plain values and later tests
get them back with one ``bulk_create`` per table (and the sequences moved past
them, as ``loaddata`` does). The content version moves as it would, through the
database triggers. Tests about ``loaddata`` itself call the command.
"""

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from roadmap.models import Resource, Roadmap, RoadmapResource, Stage, Topic, TopicResource

# In the order the rows must be inserted (foreign keys first).
MODELS = (Roadmap, Resource, Stage, Topic, RoadmapResource, TopicResource)

_rows: dict[type, list[dict]] = {}


def load_curriculum() -> None:
    """The shipped curriculum, as ``loaddata roadmaps`` leaves it in an empty curriculum."""
    empty = not any(model.objects.exists() for model in MODELS)
    if not (empty and _rows):
        call_command("loaddata", "roadmaps", verbosity=0)
        if empty:
            _rows.update((model, list(model.objects.order_by("pk").values())) for model in MODELS)
        return
    for model in MODELS:
        model.objects.bulk_create(model(**values) for values in _rows[model])
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), MODELS):
            cursor.execute(statement)
