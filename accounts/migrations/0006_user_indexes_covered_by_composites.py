"""Drop the user foreign keys' own indexes on progress, progress events and notes.

Each table has composite indexes that lead with ``user_id`` (its unique
(user, topic) constraint and its "recent" index), which serve every lookup and
cascade by user; the single-column copy only cost every tick-off another
index to maintain. Only the indexes are dropped (the constraints stay as they
are: ``AlterField`` would drop and re-add them, checking every row again).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, index) as Django named them in 0002 (the same on every database).
INDEXES = [
    ("accounts_note", "accounts_note_user_id_6e831292"),
    ("accounts_progress", "accounts_progress_user_id_ff29c0fe"),
    ("accounts_progressevent", "accounts_progressevent_user_id_63304f2a"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_learner_change_notifications"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"', reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("user_id")'
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="note",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="progress",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="progress",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="learner",
                    ),
                ),
                migrations.AlterField(
                    model_name="progressevent",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="progress_events",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
