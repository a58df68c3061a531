from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = _("Curriculum")

    def ready(self) -> None:
        from roadmap import signals  # noqa: F401  (connects the receivers)
