"""The signed links in a subscriber's mail: a link tampered with, expired or of another
kind changes nothing; the preferences page (interests, pausing, leaving); leaving in
one click (RFC 8058), the List-Unsubscribe headers and links across a key rotation."""

import re

from django.test import Client

import pytest

from syndication.newsletter import subscriptions
from syndication.newsletter.forms import INTERESTS_REQUIRED
from syndication.newsletter.models import Subscriber
from tests.factories import SubscriberFactory
from tests.newsletter.subscribing import (
    DAY,
    Status,
    confirm_path,
    made_at,
    path_of,
    preferences_path,
    reload,
    tampered,
    unsubscribe_path,
)

pytestmark = pytest.mark.django_db


# --- Bad links -------------------------------------------------------------------------
def test_a_tampered_confirmation_link_changes_nothing(client, tree):
    ann = SubscriberFactory(status=Status.PENDING)
    link = f"/newsletter/confirm/{tampered(subscriptions.confirm_token(ann))}/"

    shown = client.get(link)
    posted = client.post(link)

    for response in (shown, posted):
        assert response.status_code == 400
        html = response.content.decode()
        assert "This link does not work" in html
        assert "may be missing or changed" in html
        assert 'href="/newsletter/"' in html  # a way to sign up again
    assert reload(ann).status == Status.PENDING


def test_an_expired_confirmation_link_changes_nothing(client, tree, settings):
    settings.NEWSLETTER_CONFIRM_MAX_AGE_DAYS = 3
    ann = SubscriberFactory(status=Status.PENDING)
    old = made_at(3 * DAY + 60, subscriptions.confirm_token, ann)
    fresh = made_at(3 * DAY - 60, subscriptions.confirm_token, ann)

    response = client.post(f"/newsletter/confirm/{old}/")

    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    assert reload(ann).status == Status.PENDING
    client.post(f"/newsletter/confirm/{fresh}/")  # just inside the limit still works
    assert reload(ann).status == Status.ACTIVE


def test_a_link_of_one_kind_does_not_work_as_another(client, tree):
    ann = SubscriberFactory(status=Status.PENDING)
    confirm = subscriptions.confirm_token(ann)
    preferences = subscriptions.preferences_token(ann)
    unsubscribe = subscriptions.unsubscribe_token(ann)

    assert client.post(f"/newsletter/confirm/{preferences}/").status_code == 400
    assert client.post(f"/newsletter/confirm/{unsubscribe}/").status_code == 400
    assert client.post(unsubscribe_path(ann, confirm)).status_code == 400
    assert client.post(unsubscribe_path(ann, preferences)).status_code == 400
    assert client.get(preferences_path(ann, unsubscribe)).status_code == 400
    assert reload(ann).status == Status.PENDING


def test_links_stop_working_when_the_address_changes_or_is_deleted(client, tree):
    ann = SubscriberFactory(email="ann@example.com")
    token = subscriptions.unsubscribe_token(ann)
    ann.email = "ann@example.org"  # corrected by a social manager
    ann.save()

    response = client.post(unsubscribe_path(ann, token))

    assert response.status_code == 404
    assert reload(ann).status == Status.ACTIVE
    bo = SubscriberFactory()
    token = subscriptions.preferences_token(bo)
    bo.delete()
    assert client.get(preferences_path(bo, token)).status_code == 404


def test_a_confirmation_link_does_not_bring_back_someone_who_left(client, tree):
    ann = SubscriberFactory(status=Status.UNSUBSCRIBED)

    response = client.post(confirm_path(ann))

    assert "left the newsletter" in response.content.decode()
    assert reload(ann).status == Status.UNSUBSCRIBED


# --- Preferences -----------------------------------------------------------------------
def test_changing_interests(client, interests, tree):
    home, garden = interests
    ann = SubscriberFactory(interests=[home])
    page = preferences_path(ann)

    shown = client.get(page).content.decode()
    assert re.search(rf'value="{home.pk}" id="id_interests_\d" checked', shown)
    assert not re.search(rf'value="{garden.pk}" id="id_interests_\d" checked', shown)

    response = client.post(page, {"action": "interests", "interests": [garden.pk]})

    assert response.status_code == 302
    assert response["Location"] == f"{page}?done=interests"
    assert list(ann.interests.all()) == [garden]
    assert "Your interests are saved." in client.get(response["Location"]).content.decode()


def test_interests_cannot_be_emptied(client, interests, tree):
    ann = SubscriberFactory(interests=[interests[0]])

    response = client.post(preferences_path(ann), {"action": "interests"})

    assert response.status_code == 200
    assert INTERESTS_REQUIRED in response.content.decode()
    assert list(ann.interests.all()) == [interests[0]]


def test_pausing_and_resuming(client, tree):
    ann = SubscriberFactory()
    page = preferences_path(ann)
    before = ann.status_changed_at

    paused = client.post(page, {"action": "pause"})

    assert paused.status_code == 302
    assert reload(ann).status == Status.PAUSED
    assert ann.status_changed_at > before
    assert not ann.receives_newsletters
    assert "Resume the newsletter" in client.get(page).content.decode()

    client.post(page, {"action": "resume"})
    assert reload(ann).status == Status.ACTIVE


def test_leaving_from_the_preferences(client, interests, tree):
    ann = SubscriberFactory(interests=[interests[0]])
    page = preferences_path(ann)

    client.post(page, {"action": "leave"})

    assert reload(ann).status == Status.UNSUBSCRIBED
    shown = client.get(f"{page}?done=leave").content.decode()
    assert "You have left the newsletter" in shown
    assert "Sign up again" in shown
    refused = client.post(page, {"action": "interests", "interests": [interests[1].pk]})
    assert refused.status_code == 409
    assert list(ann.interests.all()) == [interests[0]]
    client.post(page, {"action": "resume"})  # only signing up again brings them back
    assert reload(ann).status == Status.UNSUBSCRIBED
    assert client.post(page, {"action": "rejoin"}).status_code == 400


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_a_subscription_waiting_for_confirmation_is_not_paused_or_resumed(client, tree, action):
    ann = SubscriberFactory(status=Status.PENDING)

    # "Resume" would make it active: only the confirmation link may do that.
    response = client.post(preferences_path(ann), {"action": action})

    assert response.status_code == 409
    assert "not possible" in response.content.decode()
    assert reload(ann).status == Status.PENDING


def test_bad_preferences_links_change_nothing(client, interests, tree):
    ann = SubscriberFactory(interests=[interests[0]])
    expired = made_at(31 * DAY, subscriptions.preferences_token, ann)
    changed = tampered(subscriptions.preferences_token(ann))

    assert client.get(preferences_path(ann, expired)).status_code == 410
    assert client.post(preferences_path(ann, expired), {"action": "pause"}).status_code == 410
    assert client.post(preferences_path(ann, changed), {"action": "leave"}).status_code == 400
    assert client.get(f"{preferences_path(ann, changed)}data/").status_code == 400
    assert client.post(f"{preferences_path(ann, expired)}delete/").status_code == 410
    assert reload(ann).status == Status.ACTIVE
    assert Subscriber.objects.filter(pk=ann.pk).exists()
    recent = made_at(29 * DAY, subscriptions.preferences_token, ann)
    assert client.get(preferences_path(ann, recent)).status_code == 200


def test_pages_behind_links_are_not_cached_or_indexed(client, tree):
    ann = SubscriberFactory()

    response = client.get(preferences_path(ann))

    assert "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


# --- Leaving in one click --------------------------------------------------------------
@pytest.fixture
def mail_provider():
    """What a mail provider's RFC 8058 POST looks like: no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True, HTTP_HOST="localhost")


def test_one_click_unsubscribe_needs_no_cookie_or_csrf_token(mail_provider, tree):
    ann = SubscriberFactory()

    response = mail_provider.post(
        unsubscribe_path(ann),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You've left" in response.content.decode()
    assert reload(ann).status == Status.UNSUBSCRIBED
    changed_at = ann.status_changed_at

    again = mail_provider.post(
        unsubscribe_path(ann),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert again.status_code == 200  # idempotent
    assert reload(ann).status_changed_at == changed_at


def test_other_newsletter_forms_still_need_a_csrf_token(mail_provider, tree):
    ann = SubscriberFactory()

    response = mail_provider.post(preferences_path(ann), {"action": "leave"})

    assert response.status_code == 403
    assert reload(ann).status == Status.ACTIVE


def test_opening_the_unsubscribe_link_only_asks(client, tree):
    ann = SubscriberFactory()

    response = client.get(unsubscribe_path(ann))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Leave the newsletter?" in html
    assert '<button type="submit"' in html
    assert reload(ann).status == Status.ACTIVE


def test_the_unsubscribe_button_works_and_offers_the_data(client, tree):
    ann = SubscriberFactory()

    response = client.post(unsubscribe_path(ann), {"List-Unsubscribe": "One-Click"})

    assert reload(ann).status == Status.UNSUBSCRIBED
    links = re.findall(
        r'href="(http://localhost/newsletter/preferences/[^"]+)"', response.content.decode()
    )
    assert links and client.get(path_of(links[0])).status_code == 200


def test_unsubscribe_links_never_expire_but_must_be_signed(client, tree):
    ann = SubscriberFactory()
    bo = SubscriberFactory()
    years_old = made_at(3 * 365 * DAY, subscriptions.unsubscribe_token, ann)

    client.post(unsubscribe_path(ann, years_old))
    refused = client.post(unsubscribe_path(bo, tampered(subscriptions.unsubscribe_token(bo))))

    assert reload(ann).status == Status.UNSUBSCRIBED
    assert refused.status_code == 400
    assert reload(bo).status == Status.ACTIVE


def test_links_survive_a_secret_key_rotation_with_the_old_key_as_fallback(settings, client, tree):
    ann = SubscriberFactory()
    bo = SubscriberFactory()
    ann_token = subscriptions.unsubscribe_token(ann)
    bo_token = subscriptions.unsubscribe_token(bo)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation"

    settings.SECRET_KEY_FALLBACKS = []
    assert client.post(unsubscribe_path(bo, bo_token)).status_code == 400
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert client.post(unsubscribe_path(ann, ann_token)).status_code == 200

    assert reload(ann).status == Status.UNSUBSCRIBED
    assert reload(bo).status == Status.ACTIVE


def test_list_unsubscribe_headers(settings, client, tree):
    settings.WAGTAILADMIN_BASE_URL = "https://stories.example.org/"
    ann = SubscriberFactory()

    headers = subscriptions.list_unsubscribe_headers(ann)

    token = subscriptions.unsubscribe_token(ann)
    assert headers == {
        "List-Unsubscribe": f"<https://stories.example.org/newsletter/unsubscribe/{token}/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    url = headers["List-Unsubscribe"][1:-1]
    assert url == subscriptions.unsubscribe_url(ann)
    client.post(path_of(url), "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert reload(ann).status == Status.UNSUBSCRIBED


def test_links_use_the_default_site_without_an_admin_base_url(settings, client, tree):
    settings.WAGTAILADMIN_BASE_URL = ""
    ann = SubscriberFactory()

    url = subscriptions.preferences_url(ann)

    assert url.startswith("http://localhost/newsletter/preferences/")
    assert client.get(path_of(url)).status_code == 200
