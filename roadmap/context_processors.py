"""Template context for every page: the roadmaps of the header's navigation."""

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from pagecache import make_key
from pagecache.keys import TIMEOUT
from roadmap.models import Roadmap
from roadmap.selectors import content_version


def navigation(request: HttpRequest) -> dict:
    """Roadmaps for the header navigation; queried only if a template uses them, cached by content version."""
    user = getattr(request, "user", None)

    def roadmaps() -> list[Roadmap]:
        if user is None:
            return []
        query = Roadmap.objects.visible_to(user).only("title", "slug")
        version = content_version(request)
        if version is None:
            return list(query)
        # Staff also see drafts: a list of their own.
        key = make_key("nav", version, "staff" if user.is_staff else "public")
        return cache.get_or_set(key, lambda: list(query), TIMEOUT)

    return {"nav_roadmaps": SimpleLazyObject(roadmaps)}
