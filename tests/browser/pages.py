"""Every kind of page the site has, for the checks that visit them all.

The accessibility and responsive-layout tests (which take the screenshots) are parametrised
over ``SITE_PAGES``; ``open_site_page`` sets up what a page needs (a learner
with some progress, a public profile, a login) and opens it.
"""

from dataclasses import dataclass

from accounts.services import note_set, progress_set
from roadmap.models import Roadmap, Stage, Topic
from tests.factories import make_user

ROADMAP = "django-roadmap"
ROADMAP_URL = f"/roadmaps/{ROADMAP}/"
STAGE_URL = f"{ROADMAP_URL}basics-of-python/"
TOPIC_URL = f"{STAGE_URL}variables-data-types-and-operators/"
SEARCH_WORD = "Gunicorn"
LEARNER = "ada"

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# A small phone: the viewport meta tag is honoured and taps are touch events, as on the real thing.
MOBILE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@dataclass(frozen=True)
class SitePage:
    name: str  # test id and screenshot file name
    path: str
    logged_in: bool = False  # as LEARNER, who has some progress and a note
    status: int = 200

    def __str__(self) -> str:
        return self.name


SITE_PAGES = [
    SitePage("home", "/"),
    SitePage("roadmap", ROADMAP_URL),
    SitePage("stage", STAGE_URL),
    SitePage("topic", TOPIC_URL),
    SitePage("search", f"/search/?q={SEARCH_WORD}"),
    SitePage("signup", "/accounts/signup/"),
    SitePage("login", "/accounts/login/"),
    SitePage("public-profile", f"/u/{LEARNER}/"),
    SitePage("404", "/no-such-page/", status=404),
    SitePage("roadmap-learner", ROADMAP_URL, logged_in=True),
    SitePage("stage-learner", STAGE_URL, logged_in=True),
    SitePage("topic-learner", TOPIC_URL, logged_in=True),
    SitePage("dashboard", "/dashboard/", logged_in=True),
    SitePage("profile", "/accounts/profile/", logged_in=True),
]


def make_learner_with_progress():
    """A learner with a public profile, every status in the first stage and a note: pages show all their parts."""
    learner = make_user(username=LEARNER, display_name="Ada L.", bio="Learning Django.", is_profile_public=True)
    topics = list(Topic.objects.filter(stage__roadmap__slug=ROADMAP, stage__position=1).order_by("position"))
    for topic, status in zip(topics, ["done", "done", "in_progress", "skipped"], strict=False):
        progress_set(user=learner, topic=topic, status=status)
    note_set(user=learner, topic=topics[0], text="Remember: `is` compares identity, `==` equality.")
    return learner


def open_site_page(page, site_page: SitePage, *, log_in_as, learner) -> None:
    """Open ``site_page`` in ``page`` (logged in as ``learner`` if the page type wants it) and check its status."""
    if site_page.logged_in:
        log_in_as(page, learner)
    response = page.goto(site_page.path)
    assert response is not None, f"No response for {site_page.path}"
    assert response.status == site_page.status, (
        f"{site_page.name}: GET {site_page.path} answered {response.status}, expected {site_page.status}"
    )


def progress_block(page, *, roadmap: str = ROADMAP, stage: str | None = None):
    """The progress bar (with its text) of ``roadmap``, or of its ``stage``: ``[data-progress="stage-<pk>"]``."""
    if stage is None:
        key = f"roadmap-{Roadmap.objects.get(slug=roadmap).pk}"
    else:
        key = f"stage-{Stage.objects.get(roadmap__slug=roadmap, slug=stage).pk}"
    return page.locator(f'[data-progress="{key}"]')
