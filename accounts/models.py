"""Learners and what they record about the curriculum.

``Progress`` and ``Note`` point at topics with ``on_delete=PROTECT``: nothing a
learner recorded is ever deleted by a content change. The importer keeps a
protected topic (and says so) instead of deleting it, and the admin refuses to
delete it.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

NOTE_MAX_LENGTH = 10_000


class User(AbstractUser):
    """The project's user model, swappable from the first migration."""

    display_name = models.CharField(
        _("display name"), max_length=80, blank=True, help_text=_("Shown instead of your username.")
    )
    bio = models.TextField(_("bio"), max_length=1000, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    is_profile_public = models.BooleanField(
        _("public profile"),
        default=False,
        help_text=_("Show your display name, avatar, bio and progress on a public page. Notes are never shown."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Case-insensitive, and only for users that have an address
            # (createsuperuser allows an empty one).
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_ci_unique"),
        ]

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def get_public_url(self) -> str:
        return reverse("accounts:public_profile", kwargs={"username": self.username})


class Status(models.TextChoices):
    DONE = "done", _("Done")
    IN_PROGRESS = "in_progress", _("In progress")
    SKIPPED = "skipped", _("Skipped")


# The value a learner can post to go back to "no record".
NOT_STARTED = "not_started"


class Progress(models.Model):
    """A learner's status on one topic; no row means "not started"."""

    # No index of its own on user: the unique (user, topic) and progress_user_recent lead with it,
    # and every tick-off would maintain a third copy for nothing.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="progress",
        db_index=False,
    )
    topic = models.ForeignKey(
        "roadmap.Topic", verbose_name=_("topic"), on_delete=models.PROTECT, related_name="progress"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last changed"))

    class Meta:
        verbose_name = _("progress record")
        verbose_name_plural = _("progress")
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="progress_one_per_user_topic"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="progress_status_valid"),
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="progress_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} · {self.topic}: {self.get_status_display()}"


class ProgressEvent(models.Model):
    """One acknowledged status change, for the dashboard's recent activity."""

    # Indexed by progressevent_user_recent, which leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress_events", db_index=False
    )
    topic = models.ForeignKey("roadmap.Topic", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=[*Status.choices, (NOT_STARTED, _("Not started"))])
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("progress change")
        verbose_name_plural = _("progress changes")
        indexes = [models.Index(fields=["user", "-created_at"], name="progressevent_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} · {self.topic}: {self.get_status_display()}"


class Note(models.Model):
    """A learner's private note on a topic (plain text)."""

    # Indexed by the unique (user, topic) and note_user_recent, which lead with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes", db_index=False)
    topic = models.ForeignKey("roadmap.Topic", verbose_name=_("topic"), on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="note_one_per_user_topic"),
            models.CheckConstraint(condition=~Q(text=""), name="note_text_not_empty"),
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="note_user_recent")]

    def __str__(self) -> str:
        # Never the text: admin pages (delete confirmations) may print this.
        return f"Note by {self.user} on {self.topic}"
