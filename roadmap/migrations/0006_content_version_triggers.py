"""The content version changes with every change to the curriculum, made by the database itself.

Cached pages and fragments are keyed by ``ContentVersion.value``
(``roadmap.selectors.content_version``). Until now signal receivers gave it a
new value, which ``QuerySet.update()``, ``bulk_create()`` and SQL typed by
hand never send; triggers on every curriculum table catch all of them, in the
transaction that makes the change. PostgreSQL runs one per statement (and on
TRUNCATE), SQLite one per row. The value is random, never a counter: a
database restored from a backup must never meet pages cached for later content
under the same value.
"""

from django.db import migrations

CONTENT_MODELS = ("Roadmap", "Stage", "Topic", "Resource", "RoadmapResource", "TopicResource")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def names(apps, schema_editor) -> tuple[str, list[tuple[str, str]]]:
    quote = schema_editor.quote_name
    version = quote(apps.get_model("roadmap", "ContentVersion")._meta.db_table)
    tables = [apps.get_model("roadmap", model)._meta.db_table for model in CONTENT_MODELS]
    return version, [(table, quote(table)) for table in tables]


def create(apps, schema_editor) -> None:
    version, tables = names(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION roadmap_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {version} (id, value) VALUES (1, md5(random()::text || clock_timestamp()::text))
                ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
                RETURN NULL;
            END $$
            """
        )
        for name, table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {name}_content_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION roadmap_content_changed()"
            )
    elif vendor == "sqlite":
        for name, table in tables:
            for operation in OPERATIONS:
                schema_editor.execute(
                    f"CREATE TRIGGER {name}_content_version_{operation.lower()} AFTER {operation} ON {table}"
                    f" BEGIN INSERT OR REPLACE INTO {version} (id, value) VALUES (1, lower(hex(randomblob(16)))); END"
                )
    else:
        raise NotImplementedError(f"No content-version triggers for {vendor}: add them to this migration.")


def drop(apps, schema_editor) -> None:
    _, tables = names(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        for name, table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_content_version ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS roadmap_content_changed()")
    else:
        for name, _table in tables:
            for operation in OPERATIONS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_content_version_{operation.lower()}")


class Migration(migrations.Migration):
    dependencies = [("roadmap", "0005_topic_is_published")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
