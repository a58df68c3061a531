"""The migrations: they match the models, and every one of them can be undone.

A release is rolled back with ``manage.py migrate <app> <previous migration>``;
that only works if each operation has a way back. Django refuses to unapply a
``RunPython`` without ``reverse_code`` or a ``RunSQL`` without ``reverse_sql``
(``migrations.RunPython.noop`` and ``migrations.RunSQL.noop`` say "nothing to
undo"), so these tests look at every migration Django loads (the project's,
Django's own and third-party apps'), whatever migrations are added later.
"""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.migrations.recorder import MigrationRecorder

# Migrations allowed to hold an operation without a way back, (app label,
# migration name) → why. Rolling back stops at the latest one listed for an app.
IRREVERSIBLE: dict[tuple[str, str], str] = {}


def database_operations(operations: list[Operation]) -> Iterator[Operation]:
    """The operations that touch the database, including those inside ``SeparateDatabaseAndState``."""
    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from database_operations(operation.database_operations)
        else:
            yield operation


def irreversible_migrations(loader: MigrationLoader) -> dict[tuple[str, str], list[str]]:
    return {
        key: [operation.describe() for operation in irreversible]
        for key, migration in loader.graph.nodes.items()
        if (irreversible := [op for op in database_operations(migration.operations) if not op.reversible])
    }


def schema() -> dict[str, tuple[list, dict]]:
    """Every table's columns and constraints (indexes included), as the database describes them."""
    introspection = connection.introspection
    with connection.cursor() as cursor:
        return {
            table: (
                list(introspection.get_table_description(cursor, table)),
                introspection.get_constraints(cursor, table),
            )
            for table in introspection.table_names(cursor)
        }


def test_the_models_need_no_new_migration(db):
    # (``db``: makemigrations also checks the applied migrations' history in the database.)
    output = StringIO()

    # --check exits (SystemExit) when a model change has no migration yet.
    call_command("makemigrations", "--check", "--dry-run", stdout=output, stderr=output)

    assert output.getvalue().strip() == "No changes detected"


def test_every_migration_can_be_undone_except_the_listed_ones():
    irreversible = irreversible_migrations(MigrationLoader(None, ignore_no_migrations=True))

    # Equal, not a subset: an entry of IRREVERSIBLE naming no such migration is out of date.
    assert irreversible.keys() == IRREVERSIBLE.keys(), (
        f"irreversible operations outside IRREVERSIBLE (add a reverse, or list them with a reason): {irreversible}"
    )


@pytest.mark.django_db(transaction=True)
def test_every_app_migrates_to_zero_and_back():
    """Unapply everything (down to the listed irreversible migrations), then migrate forwards again.

    Run outside a transaction (SQLite cannot change its schema inside one), so the
    database must end migrated whatever happens: later tests run on it.
    """
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    applied_before = set(MigrationRecorder(connection).applied_migrations())
    schema_before = schema()
    floors: dict[str, str | None] = dict.fromkeys(executor.loader.migrated_apps)
    for app_label, name in sorted(IRREVERSIBLE):
        floors[app_label] = name
    # What stays applied: each listed migration and everything it depends on.
    kept = set().union(*(graph.forwards_plan(node) for node in floors.items() if node[1] is not None))

    try:
        executor.migrate(list(floors.items()))
        applied_at_bottom = set(MigrationRecorder(connection).applied_migrations())
    finally:
        call_command("migrate", verbosity=0)

    assert applied_at_bottom == kept
    assert set(MigrationRecorder(connection).applied_migrations()) == applied_before
    assert schema() == schema_before


@pytest.mark.django_db(transaction=True)
def test_a_flush_keeps_the_rows_the_site_needs_like_djangos_own_permissions():
    """``flush`` empties every table, then sends ``post_migrate``: the editors' group and the content version return."""
    from django.contrib.auth.models import Group

    from accounts.editors import GROUP_NAME
    from roadmap.models import ContentVersion

    call_command("flush", interactive=False, verbosity=0)

    group = Group.objects.get(name=GROUP_NAME)
    assert {permission.content_type.app_label for permission in group.permissions.all()} == {"roadmap"}
    assert group.permissions.count() == 24
    assert ContentVersion.objects.filter(pk=1).exists()
