"""Admin pieces more than one app uses: list-only viewsets, times in the site's zone and
buttons on a story's menus.

Here, in ``cms``, because every app already builds on ``cms`` (progress, rate limits,
operations) and ``cms`` itself uses the list-only settings for its own records: a helper
in ``syndication`` would make ``cms`` depend on it.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import DataError
from django.urls import reverse
from django.utils import dateformat, timezone

from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets.button import Button

import django_filters

from stories.models import StoryPage

#: Views a list-only viewset never offers: nobody types these records in.
NO_FORMS = {
    "add_url_name": None,
    "edit_url_name": None,
    "delete_url_name": None,
    "copy_url_name": None,
    "history_url_name": None,
    "usage_url_name": None,
}


class ListOnlyViewSetMixin:
    """A ``ModelViewSet`` whose records are listed (and acted on), never edited in a form.

    No add, edit, delete, copy, history or usage links, and nothing in the reference
    index. ``add_button_url_name`` names the page the listing's "Add" button opens
    instead of a form (connecting an account, picking a story); None hides the button.
    """

    copy_view_enabled = False
    add_to_reference_index = False
    add_button_url_name = None

    def get_common_view_kwargs(self, **kwargs):
        return {
            **super().get_common_view_kwargs(**kwargs),
            **NO_FORMS,
            "add_url_name": self.add_button_url_name,
        }


def local_time(value, empty=""):
    """``value`` in the site's time zone, with the zone's name so nobody has to guess."""
    if value is None:
        return empty
    return dateformat.format(timezone.localtime(value), "j M Y, H:i T")


class LocalTimeColumn(Column):
    """A date and time in the site's time zone, spelled out (not "3 hours ago")."""

    def __init__(self, name, empty="", **kwargs):
        super().__init__(name, **kwargs)
        self.empty = empty

    def get_value(self, instance):
        return local_time(super().get_value(instance), self.empty)


def story_buttons(page, user, *, permitted, label, url_name, icon_name, title, priority):
    """One button to ``url_name`` (which takes the page's id) on a story, for people
    ``permitted(user)`` lets through; none on other pages.

    For the ``register_page_header_buttons`` and ``register_page_listing_more_buttons``
    hooks, so ``stories`` never names the apps that add to its menus. ``title`` is the
    tooltip, with ``{title}`` standing for the story's title.
    """
    if page.specific_class is not StoryPage or not permitted(user):
        return []
    return [
        Button(
            label,
            url=reverse(url_name, args=[page.pk]),
            icon_name=icon_name,
            attrs={"title": title.format(title=page.get_admin_display_title())},
            priority=priority,
        )
    ]


class IdChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` whose sent value may be any text: a number too large for the
    database's integer (SQLite raises ``OverflowError``, which Django lets through) is an
    invalid choice like any other, not a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (OverflowError, DataError):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """A listing filter by id (``?story=12``) that refuses any text, a huge number
    included, as an invalid choice (``IdChoiceField``)."""

    field_class = IdChoiceField


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """``IdChoiceField`` for several ids (checkbox filters)."""

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except (OverflowError, DataError):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": "?"},
            ) from None


class IdsChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = IdsChoiceField
