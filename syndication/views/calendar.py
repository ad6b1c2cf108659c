"""The posting calendar: a week or a month of scheduled and published posts, per
account, in the admin's time zone; scheduled posts move by dragging or with their Move
control (``RescheduleView``), through ``posts.move_scheduled``."""

import datetime
import re

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.generic import TemplateView, View

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.admin_ui import IdChoiceField, local_time

from .. import posts, states
from ..models import ChannelAccount, SyndicationPost
from .base import refuse
from .queue import reactions_label, story_label, with_reactions

CALENDAR_INDEX = "syndication_calendar:index"
#: What the calendar shows: everything but drafts (not planned yet) and cancelled posts.
SHOWN = [state for state in states.LABELS if state not in (states.DRAFT, states.CANCELLED)]
#: Dates people may page to: Python's own range, less a year either end for the grid.
EARLIEST, LATEST = datetime.date(2, 1, 1), datetime.date(9998, 12, 31)
#: The largest id a database column holds (64-bit).
MAX_ID = 2**63 - 1


def can_view(user) -> bool:
    return user.has_perm("syndication.view_syndicationpost")


class CalendarForm(forms.Form):
    """What the calendar shows: ``?view=week|month&date=2026-12-07&account=3``."""

    view = forms.ChoiceField(choices=[("week", "Week"), ("month", "Month")], required=False)
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    account = IdChoiceField(
        queryset=ChannelAccount.objects.all(), required=False, empty_label="All accounts"
    )

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationError("Choose a date between the years 2 and 9998.")
        return day


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def visible_days(view: str, day: datetime.date) -> list[datetime.date]:
    """The days on the page: Monday to Sunday, or whole weeks covering the month."""
    if view == "week":
        first, count = week_start(day), 7
    else:
        month_first = day.replace(day=1)
        next_month = (month_first + datetime.timedelta(days=32)).replace(day=1)
        first = week_start(month_first)
        last = week_start(next_month - datetime.timedelta(days=1)) + datetime.timedelta(days=6)
        count = (last - first).days + 1
    return [first + datetime.timedelta(days=n) for n in range(count)]


def step(view: str, day: datetime.date, direction: int) -> datetime.date:
    """The same place a week or a month earlier (-1) or later (1)."""
    if view == "week":
        return day + datetime.timedelta(weeks=direction)
    month = day.year * 12 + day.month - 1 + direction
    return datetime.date(month // 12, month % 12 + 1, 1)


def shown_at(post) -> datetime.datetime:
    """When the calendar puts a post: when it went out if it did, else when it is due."""
    if post.state == states.PUBLISHED and post.published_at:
        return post.published_at
    return post.scheduled_at


class CalendarView(WagtailAdminTemplateMixin, TemplateView):
    page_title = "Calendar"
    header_icon = "date"
    template_name = "syndication/admin/calendar.html"

    def dispatch(self, request, *args, **kwargs):
        if not can_view(request.user):
            return refuse(request, "You cannot see the post queue.")
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": "Calendar"}]

    def get(self, request, *args, **kwargs):
        form = CalendarForm(request.GET)
        valid = form.is_valid()
        data = form.cleaned_data if valid else {}
        self.view = data.get("view") or "week"
        self.day = data.get("date") or timezone.localdate()
        self.account = data.get("account")
        context = self.get_context_data(form=form, **kwargs)
        return self.render_to_response(context, status=200 if valid else 400)

    def link(self, **changes) -> str:
        query = {"view": self.view, "date": self.day.isoformat()}
        if self.account is not None:
            query["account"] = self.account.pk
        query.update(changes)
        return f"{reverse(CALENDAR_INDEX)}?{urlencode(query)}"

    def posts_between(self, start, end):
        """The range's posts with their accounts, stories and latest reactions: one query."""
        query = (
            SyndicationPost.objects.filter(state__in=SHOWN)
            .filter(
                Q(scheduled_at__gte=start, scheduled_at__lt=end)
                | Q(published_at__gte=start, published_at__lt=end)
            )
            .select_related("story", "account")
            .order_by("scheduled_at", "pk")
        )
        if self.account is not None:
            query = query.filter(account=self.account)
        return with_reactions(query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        zone = timezone.get_current_timezone()
        days = visible_days(self.view, self.day)
        start = datetime.datetime.combine(days[0], datetime.time(), tzinfo=zone)
        end = datetime.datetime.combine(
            days[-1] + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
        )
        can_move = posts.can_schedule(self.request.user)
        cells = {day: {"posts": [], "hours": {hour: [] for hour in range(24)}} for day in days}
        for post in self.posts_between(start, end):
            local = timezone.localtime(shown_at(post))
            cell = cells.get(local.date())
            if cell is None:  # scheduled in range, published outside it (or the reverse)
                continue
            card = {
                "post": post,
                "local": local,
                "title": story_label(post),
                "reactions": reactions_label(post) if post.state == states.PUBLISHED else "",
                "movable": can_move and post.state == states.SCHEDULED,
                "marked": post.state in states.NEEDS_ATTENTION,
            }
            cell["posts"].append(card)
            cell["hours"][local.hour].append(card)
        today = timezone.localdate()
        shown = [
            {
                "date": day,
                "today": day == today,
                "outside": self.view == "month" and day.month != self.day.month,
                **cells[day],
            }
            for day in days
        ]
        context.update(
            view=self.view,
            day=self.day,
            account=self.account,
            accounts=ChannelAccount.objects.order_by("network", "handle"),
            can_move=can_move,
            zone=timezone.get_current_timezone_name(),
            days=shown,
            weeks=[shown[n : n + 7] for n in range(0, len(shown), 7)],
            hours=[
                {"hour": hour, "cells": [{**day, "posts": day["hours"][hour]} for day in shown]}
                for hour in range(24)
            ],
            title=self.title(days),
            previous_url=self.link(date=step(self.view, self.day, -1).isoformat()),
            next_url=self.link(date=step(self.view, self.day, 1).isoformat()),
            today_url=self.link(date=today.isoformat()),
            week_url=self.link(view="week"),
            month_url=self.link(view="month"),
            here=self.link(),
        )
        return context

    def title(self, days) -> str:
        if self.view == "month":
            return self.day.strftime("%B %Y")
        first, last = days[0], days[-1]
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"


class LocalDateTimeField(forms.DateTimeField):
    """A date and time exactly as a ``datetime-local`` input sends it (``2026-12-08T09:30``):
    Python's ISO reader alone lets a trailing NUL or an offset through."""

    SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not self.SHAPE.fullmatch(value.strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class RescheduleForm(forms.Form):
    #: A post is moved within a few years, not to the end of the calendar (where the
    #: year 9999 in a zone behind UTC is no instant Python can hold).
    AHEAD = datetime.timedelta(days=5 * 366)

    when = LocalDateTimeField(
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Choose the new time.",
            "invalid": "Give the new time as a date and time, like 2026-12-08T09:30.",
        },
    )

    def clean_when(self):
        when = self.cleaned_data["when"]
        try:
            too_far = when.astimezone(datetime.UTC) > timezone.now() + self.AHEAD
        except OverflowError:
            too_far = True
        if too_far:
            raise ValidationError("Choose a time within the next five years.")
        return when


class RescheduleView(View):
    """Move a scheduled post to another time: POST ``when`` (local, ``2026-12-08T09:30``).

    Answers JSON to the calendar's script (``Accept: application/json``): 200 with the
    new time, 400 for a time that is not one or is past, 403, 404, 409 for a post that
    is no longer scheduled. Without the script, the Move form comes back to the calendar
    with a message.
    """

    http_method_names = ["post"]

    def post(self, request, pk):
        if not posts.can_schedule(request.user):
            return self.answer(request, 403, "Only social managers can change scheduled posts.")
        if pk > MAX_ID:  # SQLite cannot even look for it
            raise Http404("No such post.")
        post = get_object_or_404(SyndicationPost.objects.select_related("account", "story"), pk=pk)
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            return self.answer(request, 400, " ".join(form.errors["when"]))
        if post.state != states.SCHEDULED:
            label = post.state_label.lower()
            return self.answer(
                request, 409, f"This post is {label}; only a scheduled post can be moved."
            )
        try:
            moved = posts.move_scheduled(post, request.user, form.cleaned_data["when"])
        except PermissionDenied as error:
            return self.answer(request, 403, str(error))
        except ValidationError as error:
            return self.answer(request, 400, " ".join(error.messages))
        if not moved:
            current = SyndicationPost.objects.get(pk=post.pk).state_label.lower()
            return self.answer(request, 409, f"The post changed meanwhile; it is now {current}.")
        local = timezone.localtime(post.scheduled_at)
        return self.answer(
            request,
            200,
            f"Moved to {local_time(post.scheduled_at)}: {post}.",
            date=local.date().isoformat(),
            hour=local.hour,
            time=local.strftime("%H:%M"),
            value=local.strftime("%Y-%m-%dT%H:%M"),
            scheduled_at=post.scheduled_at.isoformat(),
        )

    def answer(self, request, status, message, **data):
        if "application/json" in request.headers.get("Accept", ""):
            key = "message" if status == 200 else "error"
            return JsonResponse({key: message, **data}, status=status)
        if status == 403:
            return refuse(request, message)
        if status == 200:
            messages.success(request, message)
        else:
            messages.error(request, message)
        return redirect(self.next_url(request))

    @staticmethod
    def next_url(request):
        candidate = request.POST.get("next", "")
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}
        ):
            return candidate
        return reverse(CALENDAR_INDEX)
