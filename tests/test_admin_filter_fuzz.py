"""Admin listings filtered by hostile ids: text, NUL, a number past any integer column
(SQLite's OverflowError), negative — an invalid choice, never a 500. Runs on both
databases (SQLite raises where PostgreSQL finds nothing)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

import pytest

pytestmark = pytest.mark.django_db

LISTINGS = {
    "syndication_posts:index": ("story", "account"),
    "conversation_inbox:index": ("story", "post", "interest"),
    "syndication_engagement_report": ("interest",),
    "newsletter_subscribers:index": ("interest",),
    "stories:index": ("interests",),
    "stories_voice_report": ("interests",),
}
HOSTILE = ["99999999999999999999", "-99999999999999999999", "abc", "1\x00", "1e9", " "]


@pytest.fixture
def admin(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("name", "field"), [(name, field) for name, fields in LISTINGS.items() for field in fields]
)
def test_a_hostile_id_in_a_filter_is_no_500(admin, name, field):
    for value in HOSTILE:
        response = admin.get(reverse(name), {field: value}, HTTP_HOST="localhost")
        assert response.status_code < 500, (field, value)
