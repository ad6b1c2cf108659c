"""The conversation's admin URLs (a thread, sorting, moderating, alerts; answering);
``wagtail_hooks`` adds them under ``/admin/conversation/``. The inbox listing itself is a
viewset (``viewsets.py``)."""

from django.urls import path

from .views.answer import AnswerView
from .views.thread import (
    AcknowledgeView,
    ForgetView,
    ItemStateView,
    ModerateView,
    StoryShowView,
    ThreadView,
)

urlpatterns = [
    path("items/<int:pk>/", ThreadView.as_view(), name="conversation_thread"),
    path("items/<int:pk>/state/", ItemStateView.as_view(), name="conversation_state"),
    path("items/<int:pk>/answer/", AnswerView.as_view(), name="conversation_answer"),
    path("items/<int:pk>/moderate/", ModerateView.as_view(), name="conversation_moderate"),
    path("items/<int:pk>/forget/", ForgetView.as_view(), name="conversation_forget"),
    path("stories/<int:story_id>/show/", StoryShowView.as_view(), name="conversation_story_show"),
    path(
        "alerts/<int:pk>/acknowledge/",
        AcknowledgeView.as_view(),
        name="conversation_acknowledge",
    ),
]
