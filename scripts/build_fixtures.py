#!/usr/bin/env python
"""Rebuild fixtures/roadmaps.json from the seed documents and the checked documentation links.

    python scripts/build_fixtures.py

Imports fixtures/sources/*.md with the project's own importer into a throw-away
SQLite database, attaches the documentation links of fixtures/sources/topic-links.tsv
to their topics, and dumps the curriculum with natural keys. The fixture is
what ships; run this only when the sources change, and review the diff.
"""

import csv
import io
import os
import re
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCES = BASE_DIR / "fixtures" / "sources"
ROADMAPS = [
    # (file, slug, title): the titles come from the documents' own opening/closing lines.
    ("django-roadmap.md", "django-roadmap", "Django Roadmap: From the Basics to Advanced Concepts"),
    ("mastering-django.md", "mastering-django", "Mastering Django"),
]


def main() -> None:
    sys.path.insert(0, str(BASE_DIR))
    workdir = tempfile.mkdtemp(prefix="build-fixtures-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/build.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roadmap_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from roadmap.importer import make_slug
    from roadmap.models import Resource, ResourceKind, Topic

    call_command("migrate", verbosity=0)
    for filename, slug, title in ROADMAPS:
        call_command("import_roadmap", SOURCES / filename, slug=slug, title=title, verbosity=0)

    with (SOURCES / "topic-links.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        # The importer numbers positions 1, 2, 3... so they are the documents' stage and topic numbers.
        topic = Topic.objects.get(
            stage__roadmap__slug=row["roadmap"], stage__position=int(row["stage"]), position=int(row["topic"])
        )
        if topic.title != row["topic_title"]:
            raise SystemExit(
                f"topic-links.tsv: {row['roadmap']} {row['stage']}.{row['topic']} is {topic.title!r}, "
                f"not {row['topic_title']!r}"
            )
        resource = Resource.objects.filter(url=row["url"]).first()
        if resource is None:
            slug = make_slug(row["link_title"])
            if Resource.objects.filter(slug=slug).exists():
                raise SystemExit(f"topic-links.tsv: two link titles make the slug {slug!r}; make them distinct.")
            resource = Resource.objects.create(
                slug=slug, title=row["link_title"], url=row["url"], kind=ResourceKind.DOCS
            )
        # Rows are listed most relevant first: that order becomes the link position.
        topic.resources.add(resource, through_defaults={"position": topic.resources.count() + 1})

    dumped = io.StringIO()
    call_command(
        "dumpdata",
        "roadmap",
        exclude=["roadmap.contentversion"],  # the database's own, changed by every load
        natural_foreign=True,
        natural_primary=True,
        indent=2,
        stdout=dumped,
    )
    # content_updated_at is bookkeeping of this build, not content (it is the
    # last Topic field): loading the fixture keeps the database's own value.
    text = re.sub(r',\n    "content_updated_at": (?:null|"[^"]*")', "", dumped.getvalue())
    (BASE_DIR / "fixtures" / "roadmaps.json").write_text(text, encoding="utf-8")
    print(f"Wrote fixtures/roadmaps.json: {Topic.objects.count()} topics, {Resource.objects.count()} resources.")


if __name__ == "__main__":
    main()
