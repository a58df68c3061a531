"""Site search: topics and resources of the roadmaps a user may see, in a fixed number of queries.

On PostgreSQL this is full-text search, ranked, and backed by GIN expression
indexes (migration 0003). PostgreSQL only uses an expression index when the
query's expression is exactly the indexed one, so both sides are spelled by
``topic_search_vector()`` / ``resource_search_vector()`` here, copied verbatim
into the migration, and a test EXPLAINs the queries to prove they still match.

Other databases (SQLite in development) fall back to a plain match: every word
must occur, case-insensitively, in one of the searched fields.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Window

from roadmap.models import KIND_RANK, Resource, Roadmap, RoadmapResource, Topic, TopicResource
from roadmap.progress import NOT_STARTED, learner_progress
from roadmap.selectors import topics_number

SEARCH_CONFIG = "english"
TOPIC_FIELDS = ("title", "description")
RESOURCE_FIELDS = ("title", "author")

# Reading order: the order the roadmap pages list topics in.
TOPIC_READING_ORDER = (
    "stage__roadmap__position",
    "stage__roadmap__title",
    "stage__roadmap__slug",
    "stage__position",
    "stage__slug",
    "position",
    "slug",
)


def topic_search_vector() -> SearchVector:
    """What a topic is searched by; migration 0003 indexes this very expression."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "description", weight="B", config=SEARCH_CONFIG
    )


def resource_search_vector() -> SearchVector:
    """What a resource is searched by (it has no description); indexed by migration 0003."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "author", weight="B", config=SEARCH_CONFIG
    )


@dataclass(frozen=True)
class ResourceHit:
    resource: Resource
    # Numbered topics (``topic.number``, ``topic.stage.number``, ``topic.stage.roadmap``) in reading order.
    topics: list[Topic]
    # Roadmaps it is a roadmap-wide resource of.
    roadmaps: list[Roadmap]


@dataclass(frozen=True)
class SearchResults:
    query: str
    # Numbered topics with ``stage.roadmap``; ``status`` is the learner's, or None for anonymous users.
    topics: list[Topic]
    resources: list[ResourceHit]
    # How many match in all; at most ``limit`` of each are in the lists.
    topic_count: int
    resource_count: int
    limit: int

    @property
    def topics_truncated(self) -> bool:
        return self.topic_count > len(self.topics)

    @property
    def resources_truncated(self) -> bool:
        return self.resource_count > len(self.resources)

    @property
    def is_truncated(self) -> bool:
        return self.topics_truncated or self.resources_truncated

    @property
    def count(self) -> int:
        return self.topic_count + self.resource_count


def search(*, user, query: str, limit: int = 50) -> SearchResults:
    """Topics and resources matching ``query``, best first on PostgreSQL, else in reading order.

    At most 6 queries (7 with a logged-in user's progress), however many hits:
    topics, resources, the resources' topic links and roadmap links, then
    stages and topics of the roadmaps involved to number the hits as their
    pages do. A query without words runs no query at all.
    """
    query = query.strip()
    if not query:
        return SearchResults(query=query, topics=[], resources=[], topic_count=0, resource_count=0, limit=limit)
    topics, topic_count = _first(topics_matching(user=user, query=query), limit)
    resources, resource_count = _first(resources_matching(user=user, query=query), limit)
    resource_hits = _resource_hits(resources, visible=Roadmap.objects.visible_to(user))

    topics_number([*topics, *(topic for hit in resource_hits for topic in hit.topics)])
    if user.is_authenticated:
        states = learner_progress().topic_states(user=user, topic_ids=[topic.pk for topic in topics])
        for topic in topics:
            state = states.get(topic.pk)
            topic.status = state.status if state else NOT_STARTED
    else:
        for topic in topics:
            topic.status = None
    return SearchResults(
        query=query,
        topics=topics,
        resources=resource_hits,
        topic_count=topic_count,
        resource_count=resource_count,
        limit=limit,
    )


def topics_matching(*, user, query: str) -> QuerySet[Topic]:
    """Topics of the roadmaps ``user`` may see that match ``query``, best first, with stage and roadmap."""
    return _matching(
        Topic.objects.published()
        .filter(stage__roadmap__in=Roadmap.objects.visible_to(user))
        .select_related("stage__roadmap"),
        query=query,
        vector=topic_search_vector(),
        fields=TOPIC_FIELDS,
        order=TOPIC_READING_ORDER,
    )


def resources_matching(*, user, query: str) -> QuerySet[Resource]:
    """Resources matching ``query`` that a topic or roadmap ``user`` may see links to, best first."""
    visible = Roadmap.objects.visible_to(user)
    return _matching(
        Resource.objects.filter(
            Exists(
                TopicResource.objects.filter(
                    resource=OuterRef("pk"), topic__is_published=True, topic__stage__roadmap__in=visible
                )
            )
            | Exists(RoadmapResource.objects.filter(resource=OuterRef("pk"), roadmap__in=visible))
        ),
        query=query,
        vector=resource_search_vector(),
        fields=RESOURCE_FIELDS,
        order=(KIND_RANK, "title", "slug"),
    )


def _matching(queryset: QuerySet, *, query: str, vector: SearchVector, fields: Iterable[str], order) -> QuerySet:
    if connections[queryset.db].vendor == "postgresql":
        # websearch syntax never raises: "&|!" or a lone stop word just match nothing.
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        return (
            queryset.alias(search_vector=vector)
            .filter(search_vector=search_query)
            .annotate(rank=SearchRank(vector, search_query))
            .order_by("-rank", *order)
        )
    words = (reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields)) for word in query.split())
    return queryset.filter(*words).order_by(*order)


def _first(queryset: QuerySet, limit: int) -> tuple[list, int]:
    """The first ``limit`` rows and the number of all matching rows, in one query."""
    rows = list(queryset.annotate(total_matches=Window(Count("pk")))[:limit])
    return rows, rows[0].total_matches if rows else 0


def _resource_hits(resources: list[Resource], *, visible: QuerySet) -> list[ResourceHit]:
    """Each resource with the visible topics and roadmaps it belongs to (2 queries)."""
    if not resources:
        return []
    topic_links = TopicResource.objects.filter(
        resource__in=resources, topic__is_published=True, topic__stage__roadmap__in=visible
    )
    topics_of: dict[int, list[Topic]] = {resource.pk: [] for resource in resources}
    for link in topic_links.select_related("topic__stage__roadmap").order_by(
        *(f"topic__{field}" for field in TOPIC_READING_ORDER)
    ):
        topics_of[link.resource_id].append(link.topic)
    roadmap_links = RoadmapResource.objects.filter(resource__in=resources, roadmap__in=visible)
    roadmaps_of: dict[int, list[Roadmap]] = {resource.pk: [] for resource in resources}
    for link in roadmap_links.select_related("roadmap").order_by("roadmap__position", "roadmap__title"):
        roadmaps_of[link.resource_id].append(link.roadmap)
    return [
        ResourceHit(resource=resource, topics=topics_of[resource.pk], roadmaps=roadmaps_of[resource.pk])
        for resource in resources
    ]
