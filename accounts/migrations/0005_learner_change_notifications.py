"""PostgreSQL: every change to a user row or a session row is NOTIFYed to the app processes.

Each process keeps the sessions and users its learners' requests read, and
drops one as soon as PostgreSQL delivers the notification of its change, at
the commit of the transaction that changed it (``accounts/sessions.py``,
``roadmap/version_feed.py``). Triggers, so that nothing escapes them: the
ORM, ``QuerySet.update()``, the admin, ``clearsessions`` and SQL typed by
hand. A session is named by a SHA-256 of its key (the key itself is a
credential). Nothing on SQLite, which has no NOTIFY.
"""

from django.db import migrations

CHANNEL = "roadmap_learners"  # roadmap.version_feed.LEARNERS_CHANNEL


def statements(user_table: str, session_table: str) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE FUNCTION roadmap_notify_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'user:' || OLD.id);
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION roadmap_notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'session:' || encode(sha256(convert_to(OLD.session_key, 'UTF8')), 'hex'));
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION roadmap_notify_all_learners() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '*');
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER roadmap_user_change AFTER UPDATE OR DELETE ON {user_table}"
        " FOR EACH ROW EXECUTE FUNCTION roadmap_notify_user_change()",
        f"CREATE TRIGGER roadmap_session_change AFTER UPDATE OR DELETE ON {session_table}"
        " FOR EACH ROW EXECUTE FUNCTION roadmap_notify_session_change()",
        f"CREATE TRIGGER roadmap_user_truncate AFTER TRUNCATE ON {user_table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION roadmap_notify_all_learners()",
        f"CREATE TRIGGER roadmap_session_truncate AFTER TRUNCATE ON {session_table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION roadmap_notify_all_learners()",
    ]


def tables(apps, schema_editor) -> tuple[str, str]:
    quote = schema_editor.quote_name
    return (
        quote(apps.get_model("accounts", "User")._meta.db_table),
        quote(apps.get_model("sessions", "Session")._meta.db_table),
    )


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements(*tables(apps, schema_editor)):
        schema_editor.execute(statement)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    user_table, session_table = tables(apps, schema_editor)
    for trigger, table in (
        ("roadmap_user_change", user_table),
        ("roadmap_session_change", session_table),
        ("roadmap_user_truncate", user_table),
        ("roadmap_session_truncate", session_table),
    ):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in ("roadmap_notify_user_change", "roadmap_notify_session_change", "roadmap_notify_all_learners"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_state_version"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
