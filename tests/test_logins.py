"""Sign-in throttling: wrong passwords lock one username from one address for a while."""

import datetime

from django.core.management import call_command

import pytest
from axes.models import AccessAttempt, AccessLog

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user(
        username="editor", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user(
        username="other", password=PASSWORD, is_staff=True, is_superuser=True
    )


def sign_in(client, username, password, address="203.0.113.7"):
    """Post the admin's sign-in form as a browser behind our proxy would (the proxy
    appends the address it saw to X-Forwarded-For); True when it signed in."""
    client.logout()
    response = client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        HTTP_X_FORWARDED_FOR=f"198.51.100.99, {address}",
    )
    signed_in = response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in or response.status_code in (200, 429), response.status_code
    return signed_in


def test_thirty_wrong_passwords_lock_the_account_from_that_address(client, editor, other):
    for _ in range(30):
        assert not sign_in(client, "editor", "wrong")
    response = client.post(
        LOGIN,
        {"username": "editor", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session

    # Someone else at the same address, and the same person elsewhere, still sign in.
    assert sign_in(client, "other", PASSWORD)
    assert sign_in(client, "editor", PASSWORD, address="192.0.2.44")
    # A forged left-hand X-Forwarded-For entry is not the address that counts.
    assert not sign_in(client, "editor", PASSWORD)


def test_the_lock_starts_at_the_fifth_failure(client, editor):
    for _ in range(4):
        assert not sign_in(client, "editor", "wrong")
    assert sign_in(client, "editor", PASSWORD)  # and a success clears the count
    for _ in range(5):
        assert not sign_in(client, "editor", "wrong")
    assert not sign_in(client, "editor", PASSWORD)


def test_the_lock_ends_after_the_cool_off(client, editor, settings):
    for _ in range(5):
        sign_in(client, "editor", "wrong")
    assert not sign_in(client, "editor", PASSWORD)
    assert datetime.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    long_ago = datetime.timedelta(minutes=16)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - long_ago
        )
    assert sign_in(client, "editor", PASSWORD)


def test_axes_reset_unlocks_at_once(client, editor):
    for _ in range(5):
        sign_in(client, "editor", "wrong")
    assert not sign_in(client, "editor", PASSWORD)
    call_command("axes_reset_username", "editor")
    assert sign_in(client, "editor", PASSWORD)


def test_signing_in_stores_no_address_once_it_succeeds(client, editor):
    sign_in(client, "editor", "wrong")
    assert AccessAttempt.objects.count() == 1
    assert sign_in(client, "editor", PASSWORD)
    assert AccessAttempt.objects.count() == 0
    assert AccessLog.objects.count() == 0  # no history of who signed in from where
