"""Django's ``loaddata``, telling the content signals which topics arrive with it.

A topic that is created by the same load as its resource links (a fresh
database, a restored backup) keeps the "content last changed" time it came
with: its links are part of it, not a later change. Links added by a load to a
topic that was already there (a curriculum update) still mark it changed for
the learners who completed it (``roadmap/signals.py``).
"""

from django.core.management.commands import loaddata

from roadmap.signals import loading_fixtures


class Command(loaddata.Command):
    def handle(self, *fixture_labels, **options):
        with loading_fixtures():
            return super().handle(*fixture_labels, **options)
