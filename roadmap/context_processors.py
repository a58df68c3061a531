from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from roadmap.models import Roadmap


def navigation(request: HttpRequest) -> dict:
    """Roadmaps for the header navigation; queried only if a template uses them."""
    user = getattr(request, "user", None)
    return {
        "nav_roadmaps": SimpleLazyObject(
            lambda: list(Roadmap.objects.visible_to(user).only("title", "slug")) if user else []
        )
    }
