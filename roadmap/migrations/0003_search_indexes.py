"""GIN indexes for the site search's full-text vectors, on PostgreSQL only.

The expressions are copies of ``topic_search_vector()`` and
``resource_search_vector()`` in ``roadmap/search.py`` (migrations must not
import app code, which changes after they are written). PostgreSQL only uses
an expression index for the identical expression, and
``tests/roadmap/test_search.py`` EXPLAINs the search queries to prove it does.

The indexes are deliberately not in the models' ``Meta.indexes``: SQLite
rebuilds tables to alter them and would then try to create a GIN index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations


def topic_index():
    return GinIndex(
        SearchVector("title", weight="A", config="english") + SearchVector("description", weight="B", config="english"),
        name="topic_search_vector",
    )


def resource_index():
    return GinIndex(
        SearchVector("title", weight="A", config="english") + SearchVector("author", weight="B", config="english"),
        name="resource_search_vector",
    )


INDEXES = [("Topic", topic_index), ("Resource", resource_index)]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model("roadmap", model_name), index())


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model("roadmap", model_name), index())


class Migration(migrations.Migration):
    dependencies = [
        ("roadmap", "0002_topic_content_updated_at"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
