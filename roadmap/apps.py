from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = _("Curriculum")

    def ready(self) -> None:
        from roadmap import signals  # (connects the receivers)

        # The content version's one row, again after a flush (migration 0004 made it first).
        post_migrate.connect(signals.ensure_content_version, sender=self)
