"""Plain helpers that create curriculum rows with sensible defaults."""

from itertools import count

from roadmap.models import Resource, ResourceKind, Roadmap, Stage, Topic, TopicResource

_sequence = count(1)
# Positions are small integers (PositiveSmallIntegerField, at most 32767 on
# PostgreSQL): a counter of their own, used only when a test gives none.
_positions = count(1)


def make_roadmap(**fields) -> Roadmap:
    n = next(_sequence)
    fields.setdefault("title", f"Roadmap {n}")
    fields.setdefault("slug", f"roadmap-{n}")
    return Roadmap.objects.create(**fields)


def make_stage(roadmap: Roadmap | None = None, **fields) -> Stage:
    n = next(_sequence)
    fields.setdefault("title", f"Stage {n}")
    fields.setdefault("slug", f"stage-{n}")
    if "position" not in fields:
        fields["position"] = next(_positions)
    return Stage.objects.create(roadmap=roadmap or make_roadmap(), **fields)


def make_topic(stage: Stage | None = None, **fields) -> Topic:
    n = next(_sequence)
    fields.setdefault("title", f"Topic {n}")
    fields.setdefault("slug", f"topic-{n}")
    if "position" not in fields:
        fields["position"] = next(_positions)
    return Topic.objects.create(stage=stage or make_stage(), **fields)


def resource_fields(n: int) -> dict:
    return {
        "title": f"Resource {n}",
        "slug": f"resource-{n}",
        "url": f"https://example.com/{n}/",
        "kind": ResourceKind.DOCS,
    }


def make_resource(**fields) -> Resource:
    return Resource.objects.create(**{**resource_fields(next(_sequence)), **fields})


def make_curriculum(*, stages: int, topics: int, resources: int = 0, **roadmap_fields) -> Roadmap:
    """A roadmap of ``stages`` x ``topics``, each topic with ``resources`` resources (one insert per table)."""
    roadmap = make_roadmap(**roadmap_fields)
    stage_rows = Stage.objects.bulk_create(
        Stage(roadmap=roadmap, position=s, slug=f"s{s}", title=f"Stage {s}") for s in range(1, stages + 1)
    )
    topic_rows = Topic.objects.bulk_create(
        Topic(stage=stage, position=t, slug=f"t{t}", title=f"Topic {s}.{t}")
        for s, stage in enumerate(stage_rows, start=1)
        for t in range(1, topics + 1)
    )
    if resources:
        resource_rows = Resource.objects.bulk_create(
            Resource(**resource_fields(next(_sequence))) for _ in range(len(topic_rows) * resources)
        )
        TopicResource.objects.bulk_create(
            TopicResource(topic=topic, resource=resource_rows[i * resources + r], position=r + 1)
            for i, topic in enumerate(topic_rows)
            for r in range(resources)
        )
    return roadmap


def make_user(**fields):
    from django.contrib.auth import get_user_model

    n = next(_sequence)
    fields.setdefault("username", f"learner{n}")
    fields.setdefault("email", f"learner{n}@example.com")
    fields.setdefault("password", "correct-horse-battery-staple")
    return get_user_model().objects.create_user(**fields)
