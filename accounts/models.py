from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The project's user model, swappable from the first migration.

    Learner fields (display name, bio, avatar, ...) arrive with the accounts
    issue; having the custom model from day one avoids the painful mid-project
    switch Django's docs warn about.
    """

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
