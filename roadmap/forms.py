"""Curriculum forms: the site search."""

from django import forms
from django.utils.translation import gettext_lazy as _

SEARCH_MAX_LENGTH = 200


class SearchForm(forms.Form):
    """The ``?q=`` of ``/search/``; an empty query is valid and simply searches nothing.

    Ids are ``search-q`` (and ``search-q_error``) so the page's own box never
    clashes with the one in the header.
    """

    q = forms.CharField(
        label=_("Search topics and resources"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        strip=True,
        widget=forms.SearchInput(attrs={"class": "form-control", "enterkeyhint": "search"}),
        error_messages={
            "max_length": _("Keep your search to %(limit_value)d characters or fewer (this one has %(show_value)d).")
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "search-%s")
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        super().full_clean()
        # Django already sets aria-invalid and aria-describedby; Bootstrap needs its class too.
        if "q" in self.errors:
            self.fields["q"].widget.attrs["class"] += " is-invalid"
