"""The conversation's admin URLs (the inbox, a thread, answering, moderating, alerts);
``wagtail_hooks`` adds them under ``/admin/conversation/``."""

from django.urls import path

urlpatterns: list = []
