"""The admin's Subscribers screen: who may see it, the listing's filters, search and CSV
export, editing, inviting, and a subscriber's data downloaded or deleted for them."""

import csv
import io
import json
import re

from django.contrib.auth.models import Group
from django.core import mail

import pytest

from syndication.newsletter.models import Delivery, Subscriber, SubscriberRead
from tests.factories import SubscriberFactory
from tests.newsletter.subscribing import ADMIN, Status, only_link, reload
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(interests):
    home, garden = interests
    return {
        "ann": SubscriberFactory(email="ann@example.com", interests=[home]),
        "bo": SubscriberFactory(email="bo@example.com", interests=[garden]),
        "cy": SubscriberFactory(email="cy@example.com", status=Status.PAUSED, interests=[home]),
        "di": SubscriberFactory(email="di@example.com", status=Status.PENDING),
    }


def listed(response) -> set[str]:
    assert response.status_code == 200
    html = response.content.decode()
    return set(re.findall(r"[a-z]+@example\.com", html))


def denied(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.parametrize("suffix", ["", "edit/{pk}/", "inspect/{pk}/", "data/{pk}/", "new/"])
def test_anonymous_people_are_sent_to_the_login(client, people, suffix):
    url = ADMIN + suffix.format(pk=people["ann"].pk)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_social_managers_may_manage_subscribers_and_editors_may_not():
    social = Group.objects.get(name="Social managers")
    codenames = set(
        social.permissions.filter(content_type__model="subscriber").values_list(
            "codename", flat=True
        )
    )
    assert codenames == {
        "add_subscriber",
        "change_subscriber",
        "delete_subscriber",
        "view_subscriber",
    }
    for name in ("Editors", "Moderators"):
        group = Group.objects.get(name=name)
        assert not group.permissions.filter(content_type__model="subscriber").exists()


def test_the_listing_filters_by_status_and_interest_and_searches(
    client, social_manager, people, interests
):
    client.force_login(social_manager)
    home, garden = interests

    everyone = listed(client.get(ADMIN))
    assert everyone == {"ann@example.com", "bo@example.com", "cy@example.com", "di@example.com"}
    assert listed(client.get(ADMIN, {"status": "active"})) == {
        "ann@example.com",
        "bo@example.com",
    }
    assert listed(client.get(ADMIN, {"status": ["paused", "pending"]})) == {
        "cy@example.com",
        "di@example.com",
    }
    assert listed(client.get(ADMIN, {"interest": home.pk})) == {
        "ann@example.com",
        "cy@example.com",
    }
    assert listed(client.get(ADMIN, {"interest": home.pk, "status": "active"})) == {
        "ann@example.com"
    }
    assert listed(client.get(ADMIN, {"q": "bo@"})) == {"bo@example.com"}


def test_the_listing_shows_interests_and_dates(client, social_manager, people):
    client.force_login(social_manager)

    html = client.get(ADMIN).content.decode()

    assert "Signed up" in html and "Confirmed" in html
    assert "Waiting for confirmation" in html and "Paused" in html
    assert "Home" in html and "Garden" in html
    assert "Not yet" in html  # di has not confirmed


def test_the_listing_exports_as_csv(client, social_manager, people):
    client.force_login(social_manager)

    response = client.get(ADMIN, {"export": "csv", "status": "active"})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Email", "Status", "Interests", "Signed up", "Confirmed"]
    assert sorted(row[:3] for row in rows[1:]) == [
        ["ann@example.com", "Subscribed", "Home"],
        ["bo@example.com", "Subscribed", "Garden"],
    ]


def test_editors_cannot_see_or_change_subscribers(client, editor, people):
    client.force_login(editor)
    ann = people["ann"]

    assert denied(client.get(ADMIN))
    assert denied(client.get(f"{ADMIN}edit/{ann.pk}/"))
    assert denied(client.get(f"{ADMIN}data/{ann.pk}/"))
    client.post(f"{ADMIN}edit/{ann.pk}/", {"status": "unsubscribed"})
    assert reload(ann).status == Status.ACTIVE


def test_a_social_manager_changes_interests_and_pauses(client, social_manager, people, interests):
    client.force_login(social_manager)
    ann = people["ann"]
    home, garden = interests

    response = client.post(
        f"{ADMIN}edit/{ann.pk}/", {"status": "paused", "interests": [home.pk, garden.pk]}
    )

    assert response.status_code == 302
    reload(ann)
    assert ann.status == Status.PAUSED
    assert set(ann.interests.all()) == {home, garden}


def test_nobody_confirms_on_someone_elses_behalf(client, social_manager, people):
    client.force_login(social_manager)
    di = people["di"]  # waiting for confirmation

    form = client.get(f"{ADMIN}edit/{di.pk}/").content.decode()
    response = client.post(f"{ADMIN}edit/{di.pk}/", {"status": "active"})

    assert 'value="active"' not in form
    assert response.status_code == 200  # the form again, with its error
    assert reload(di).status == Status.PENDING
    assert di.confirmed_at is None


def test_adding_someone_invites_them(client, social_manager, people, interests):
    client.force_login(social_manager)

    response = client.post(
        f"{ADMIN}new/", {"email": "eve@example.com", "interests": [interests[0].pk]}
    )

    assert response.status_code == 302
    eve = Subscriber.objects.get(email="eve@example.com")
    assert eve.status == Status.PENDING
    [message] = mail.outbox
    assert message.to == ["eve@example.com"]
    client.logout()
    client.post(only_link(message, "confirm"))
    assert reload(eve).status == Status.ACTIVE


def test_adding_an_address_that_subscribes_already_is_refused(client, social_manager, people):
    client.force_login(social_manager)

    response = client.post(f"{ADMIN}new/", {"email": "ANN@example.com"})

    assert response.status_code == 200
    assert "This address is already subscribed." in response.content.decode()
    assert Subscriber.objects.filter(email__iexact="ann@example.com").count() == 1
    assert mail.outbox == []


def test_a_social_manager_downloads_a_subscribers_data(client, social_manager, history):
    ann, bo = history
    client.force_login(social_manager)

    response = client.get(f"{ADMIN}data/{ann.pk}/")

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["email"] == "ann@example.com"
    assert "bo@example.com" not in response.content.decode()


def test_a_social_manager_deletes_a_subscriber_with_their_history(client, social_manager, history):
    ann, bo = history
    client.force_login(social_manager)

    response = client.post(f"{ADMIN}delete/{ann.pk}/")

    assert response.status_code == 302
    assert list(Subscriber.objects.all()) == [bo]
    assert not SubscriberRead.objects.filter(subscriber_id=ann.pk).exists()
    assert not Delivery.objects.filter(subscriber_id=ann.pk).exists()


def test_social_managers_find_subscribers_under_newsletter(client, social_manager):
    client.force_login(social_manager)

    html = client.get("/admin/").content.decode()

    # The sidebar's menu, as Wagtail hands it to its script: Subscribers in Newsletter.
    menu = re.search(r'"name": "newsletter", "label": "Newsletter".*?\]\]', html, re.S)
    assert menu, "no Newsletter menu"
    assert '"label": "Subscribers", "icon_name": "group"' in menu.group()
    assert f'"url": "{ADMIN}"' in menu.group()


def test_editors_see_no_subscribers_in_the_menu(client, django_user_model, tree):
    someone = make_user(django_user_model, "ed", "Editors")
    client.force_login(someone)

    html = client.get("/admin/").content.decode()

    assert ADMIN not in html
