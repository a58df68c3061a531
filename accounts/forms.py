"""Account forms: sign up, profile and account deletion.

Log in, log out, password change and password reset use Django's own forms;
only their templates live in this project (``templates/registration/``).
"""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.avatars import AVATAR_MAX_BYTES, AVATAR_SIZE, avatar_process
from accounts.models import NOT_STARTED, NOTE_MAX_LENGTH, Status, User

AVATAR_ACCEPT = "image/png,image/jpeg,image/webp,image/gif"


class SignupForm(UserCreationForm):
    """Username, email and password twice; the username check is already case-insensitive."""

    error_messages = {
        **UserCreationForm.error_messages,
        "duplicate_email": _("An account with this email address already exists."),
    }

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.required = True
        email.help_text = _("Only used to reset your password. Never shown to anyone.")
        email.widget.attrs["autocomplete"] = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean_email(self) -> str:
        # The database enforces this too (``Lower(email)`` constraint); checking
        # here turns it into an error next to the field instead of a crash.
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(self.error_messages["duplicate_email"], code="duplicate_email")
        return email


class ProfileForm(forms.ModelForm):
    """What a learner can change about themselves; the avatar is re-encoded by ``avatar_process``.

    A replaced or cleared avatar file is deleted from storage once the new
    profile is committed, so a rolled-back save never loses the old picture.
    """

    # A plain FileField, not ImageField: every message about a bad upload comes
    # from ``avatar_process``, which also decodes and re-encodes the image.
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=format_lazy(
            _("PNG, JPEG, WebP or GIF, at most {mb} MB. It is scaled down to fit {side} by {side} pixels."),
            mb=AVATAR_MAX_BYTES // (1024 * 1024),
            side=AVATAR_SIZE,
        ),
        widget=forms.ClearableFileInput(attrs={"accept": AVATAR_ACCEPT}),
    )

    class Meta:
        model = User
        fields = ("display_name", "bio", "avatar", "is_profile_public")
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Remembered before validation assigns the new value to the instance.
        self._previous_avatar = self.instance.avatar.name if self.instance.avatar else ""

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if isinstance(avatar, UploadedFile):
            return avatar_process(avatar)
        return avatar  # unchanged (the current file), False (cleared) or None (never had one)

    def save(self, commit: bool = True) -> User:
        if not commit:
            raise ValueError("ProfileForm.save() must commit: it also removes the replaced avatar file.")
        with transaction.atomic():
            user = super().save()
            previous = self._previous_avatar
            if previous and previous != user.avatar.name:
                storage = user.avatar.storage
                transaction.on_commit(lambda: storage.delete(previous))
        self._previous_avatar = user.avatar.name
        return user


class AccountDeleteForm(forms.Form):
    """Asks for the password again before the account and everything in it are deleted."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "password_incorrect": _("Your password was entered incorrectly. Please enter it again."),
    }

    def __init__(self, *args, user: User, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return password


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        choices=[*Status.choices, (NOT_STARTED, _("Not started"))],
        error_messages={
            "invalid_choice": _("Unknown status “%(value)s”: choose done, in_progress, skipped or not_started."),
            "required": _("Choose a status: done, in_progress, skipped or not_started."),
        },
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Your private note"),
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Only you can see this note. Plain text, up to 10,000 characters. Leave it empty to delete it."),
    )
