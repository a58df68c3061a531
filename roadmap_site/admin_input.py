"""Two places where Django's admin turns a crafted POST into a 500, closed for every ModelAdmin of the site.

- ``response_action`` filters ``pk__in`` with the posted ``_selected_action``
  values unchecked: "abc" for an integer key raises ValueError. Here the
  values are checked first; invalid ones get a message and no action.
- ``AutocompleteSelect`` redraws a refused form by looking the posted value up
  as a primary key, unchecked: the form's own error ("Select a valid
  choice") never shows because the lookup raises first. Here values that
  cannot be a key are left out of that lookup.

Both are found by tests/security/test_crawler.py.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.utils.translation import gettext_lazy as _


def _is_value_of(field: Field, value: object) -> bool:
    try:
        field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return "\x00" not in str(value)


class _ValidValuesOnly:
    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        return super().optgroups(name, [v for v in value if _is_value_of(target, v)], attr)


class SafeAutocompleteSelect(_ValidValuesOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidValuesOnly, AutocompleteSelectMultiple):
    pass


class SafeInputAdminMixin:
    """For ModelAdmin and InlineModelAdmin classes (autocomplete); actions only apply to ModelAdmin."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(_is_value_of(self.model._meta.pk, value) for value in selected):
            self.message_user(request, _("The selected items are not valid; nothing was done."), messages.ERROR)
            return None  # the changelist redirects back to itself, as after any failed action
        return super().response_action(request, queryset)


class ModelAdmin(SafeInputAdminMixin, admin.ModelAdmin):
    pass


class TabularInline(SafeInputAdminMixin, admin.TabularInline):
    pass
