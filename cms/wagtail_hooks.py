"""Operations in Wagtail's admin: *Reports → Background task failures* and a dashboard count.

Seen by superusers and anyone with ``cms.view_taskfailure`` (Social managers are given
it): they are the people who notice when posts stop going out.
"""

from django.urls import reverse
from django.utils.html import format_html

from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from . import ops
from .admin_ui import ListOnlyViewSetMixin
from .models import QuarantinedMessage, TaskFailure

VIEW_PERMISSION = "cms.view_taskfailure"
VIEW_QUARANTINE_PERMISSION = "cms.view_quarantinedmessage"


def can_view_failures(user) -> bool:
    return user.is_active and user.has_perm(VIEW_PERMISSION)


def can_view_quarantine(user) -> bool:
    return user.is_active and user.has_perm(VIEW_QUARANTINE_PERMISSION)


class TaskFailureInspectView(InspectView):
    def get_traceback_display_value(self):
        return format_html("<pre>{}</pre>", self.object.traceback or "-")

    def get_message_display_value(self):
        message = self.object.message or "-"
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', message)


class RecordViewSet(ListOnlyViewSetMixin, ModelViewSet):
    """Listed and inspected, never edited: a record of what happened."""

    add_to_admin_menu = False
    list_per_page = 50
    inspect_view_enabled = True

    def get_urlpatterns(self):
        from django.urls import path

        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
        ]


class TaskFailureViewSet(RecordViewSet):
    model = TaskFailure
    name = "task_failures"
    url_prefix = "reports/task-failures"
    icon = "warning"
    menu_label = "Background task failures"
    list_display = [
        "task_name",
        Column("summary", label="Error"),
        "occurrences",
        Column("failed_at", label="Last failed"),
    ]
    list_filter = ["task_name"]
    inspect_view_class = TaskFailureInspectView
    inspect_view_fields = [
        "task_name",
        "exception_type",
        "message",
        "args",
        "occurrences",
        "first_failed_at",
        "failed_at",
        "task_id",
        "hostname",
        "traceback",
    ]


class QuarantineInspectView(InspectView):
    def get_payload_display_value(self):
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', self.object.payload)

    def get_error_display_value(self):
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', self.object.error)


class QuarantinedMessageViewSet(RecordViewSet):
    """Messages a consumer set aside (an engagement event the database refused, say)."""

    model = QuarantinedMessage
    name = "quarantined_messages"
    url_prefix = "reports/quarantined-messages"
    icon = "warning"
    menu_label = "Quarantined messages"
    list_display = [
        "consumer",
        "key",
        Column("summary", label="Error"),
        Column("quarantined_at", label="Quarantined"),
    ]
    list_filter = ["consumer"]
    inspect_view_class = QuarantineInspectView
    inspect_view_fields = ["consumer", "key", "error", "payload", "quarantined_at"]


task_failure_viewset = TaskFailureViewSet()
quarantine_viewset = QuarantinedMessageViewSet()


@hooks.register("register_admin_viewset")
def register_task_failure_viewset():
    return task_failure_viewset


@hooks.register("register_admin_viewset")
def register_quarantine_viewset():
    return quarantine_viewset


class TaskFailuresMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_failures(request.user)


@hooks.register("register_reports_menu_item")
def task_failures_menu_item():
    return TaskFailuresMenuItem(
        "Background task failures",
        reverse(task_failure_viewset.get_url_name("index")),
        icon_name="warning",
        order=700,
    )


class QuarantineMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_quarantine(request.user)


@hooks.register("register_reports_menu_item")
def quarantine_menu_item():
    return QuarantineMenuItem(
        "Quarantined messages",
        reverse(quarantine_viewset.get_url_name("index")),
        icon_name="warning",
        order=710,
    )


class TaskFailuresPanel(Component):
    """ "Background tasks failed N times in the last 24 hours", shown only when they did."""

    name = "cms_task_failures"
    template_name = "cms/admin/task_failures_panel.html"
    # Ahead of the post queue's panel (230): a failing worker explains an empty queue.
    order = 225
    shown = 5

    def __init__(self, failures):
        self.failures = failures

    def get_context_data(self, parent_context):
        return {
            "kinds": len(self.failures),
            "total": sum(failure.occurrences for failure in self.failures),
            "failures": [
                {
                    "task": failure.task_name,
                    "summary": failure.summary,
                    "occurrences": failure.occurrences,
                    "at": failure.failed_at,
                    "url": reverse(task_failure_viewset.get_url_name("inspect"), args=[failure.pk]),
                }
                for failure in self.failures[: self.shown]
            ],
            "report_url": reverse(task_failure_viewset.get_url_name("index")),
        }


@hooks.register("construct_homepage_panels")
def add_task_failures_panel(request, panels):
    if not can_view_failures(request.user):
        return
    failures = list(ops.recent_failures(hours=24)[:50])
    if failures:
        panels.append(TaskFailuresPanel(failures))
