"""Drop what the removed per-process copies of sessions and users needed.

The triggers that NOTIFYed every change to a user or session row (0005) fed
those copies, and ``User.state_version`` keyed learners' whole cached pages;
every request now reads its session and user from the database through
Django's own session engine and ``ModelBackend``, and learners' pages are
assembled per request from shared fragments. Reversible: going back recreates
both as 0005 and 0004 made them.
"""

from importlib import import_module

from django.db import migrations, models

notifications = import_module("accounts.migrations.0005_learner_change_notifications")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_user_indexes_covered_by_composites")]

    operations = [
        migrations.RunPython(notifications.drop, notifications.create, elidable=False),
        migrations.RemoveField(model_name="user", name="state_version"),
    ]
