"""The period and narrowing filters both engagement reports read (the last 28 days unless set)."""

import datetime

from django.utils import timezone
from django.utils.functional import cached_property

from .. import reports


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


class EngagementFiltersMixin:
    """Reads the period and narrowing filters from the filter form, with defaults."""

    @cached_property
    def choices(self) -> dict:
        cleaned = {}
        if self.filters is not None and self.filters.is_valid():
            cleaned = self.filters.form.cleaned_data
        period = cleaned.get("period")
        start, end = reports.default_period()
        if period is not None:
            # django-filter hands over aware datetimes (00:00 and 23:59:59.999999 of the
            # chosen days); the report counts whole days, and one open end must still
            # compare with the default date at the other.
            period = slice(_as_date(period.start), _as_date(period.stop))
            if period.start and period.stop:
                start, end = period.start, period.stop
            elif period.start:
                start = period.start
            elif period.stop:
                end = period.stop
                start = end - datetime.timedelta(days=reports.DEFAULT_DAYS - 1)
        start, end = min(start, end), max(start, end)
        return {
            "start": start,
            "end": end,
            "interest": cleaned.get("interest"),
            "purpose": cleaned.get("purpose") or "",
            "channel": cleaned.get("channel") or "",
            "group_by": cleaned.get("group") or "story",
        }

    def filter_queryset(self, queryset):
        return queryset  # Already narrowed where the counting happens.

    def period_text(self) -> str:
        start, end = self.choices["start"], self.choices["end"]
        return f"{start:%-d %b %Y} – {end:%-d %b %Y}"
