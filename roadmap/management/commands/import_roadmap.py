"""Import (or re-import) a roadmap written in the seed documents' markdown format.

    python manage.py import_roadmap fixtures/sources/django-roadmap.md --slug django-roadmap --title "Django Roadmap"

Idempotent: stages and topics are matched by slug and updated in place, so a
second run changes nothing and says so. See ``roadmap.importer`` for the format.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from roadmap.importer import RoadmapSyntaxError, parse_roadmap
from roadmap.services import ImportFailed, roadmap_import


class Command(BaseCommand):
    help = "Create or update a roadmap from a markdown file (numbered '### N. **Stage**' headings with topic bullets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Markdown file to import (UTF-8).")
        parser.add_argument("--slug", required=True, help="Slug of the roadmap to create or update.")
        parser.add_argument("--title", help="Roadmap title (required when the roadmap does not exist yet).")
        parser.add_argument(
            "--description", help="Roadmap description (default: the document's opening and closing lines)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would change, and change nothing.")

    def handle(
        self, *args, file: Path, slug: str, title: str | None, description: str | None, dry_run: bool, **options
    ):
        if slugify(slug) != slug or not slug:
            raise CommandError(f"--slug {slug!r} is not a valid slug (lowercase letters, digits and hyphens).")
        if title is not None and not title.strip():
            raise CommandError("--title must not be empty.")
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except IsADirectoryError:
            raise CommandError(f"{file}: is a directory, not a file.") from None
        except UnicodeDecodeError as error:
            line = text_line_of(file.read_bytes(), error.start)
            raise CommandError(f"{file}, line {line}: not valid UTF-8 text.") from None
        except OSError as error:
            raise CommandError(f"{file}: cannot read it ({error.strerror}).") from None
        try:
            document = parse_roadmap(text)
            report = roadmap_import(
                document=document, slug=slug, title=title and title.strip(), description=description, dry_run=dry_run
            )
        except RoadmapSyntaxError as error:
            raise CommandError(f"{file}, {error}") from None
        except ImportFailed as error:
            raise CommandError(f"{file}: {error}") from None

        # What could not be removed is a warning worth seeing even with --verbosity 0.
        for item in report.kept:
            self.stderr.write(self.style.WARNING(f"kept {item}"))
        if options["verbosity"] < 1:
            return
        prefix = "[dry run] would have " if dry_run else ""
        for verb, items in (("created", report.created), ("updated", report.updated), ("deleted", report.deleted)):
            for item in items:
                self.stdout.write(f"{prefix}{verb} {item}")
        stages = plural(len(document.stages), "stage")
        topics = plural(sum(len(stage.topics) for stage in document.stages), "topic")
        if not report.changed and not report.kept:
            self.stdout.write(self.style.SUCCESS(f"No changes: {slug!r} is up to date ({stages}, {topics})."))
            return
        summary = (
            f"{slug!r}: {stages}, {topics}; {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.deleted)} deleted, {len(report.kept)} kept"
        )
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run, nothing saved. {summary}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {summary}."))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def text_line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
