"""Test-only models, installed by roadmap_site.test_settings.

``TopicReference`` stands in for learner data that protects a topic from
deletion (``on_delete=PROTECT``), as learner progress does, so the importer's
protection can be tested independently of the accounts app.
"""

from django.db import models

from roadmap.models import Topic


class TopicReference(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"reference to {self.topic}"
