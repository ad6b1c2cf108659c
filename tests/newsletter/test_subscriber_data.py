"""A person's data: a subscriber downloads what is kept about them or deletes it, and once
deleted (by themselves or by a social manager) their address is nowhere in the database."""

import json
from types import SimpleNamespace

from django.core.cache import cache

from wagtail.models import ModelLogEntry

import pytest

from syndication.newsletter import subscriptions
from syndication.newsletter.models import (
    Delivery,
    DeliveryPick,
    Edition,
    Subscriber,
    SubscriberRead,
)
from tests.newsletter.subscribing import ADMIN, preferences_path, sign_up

pytestmark = pytest.mark.django_db


def test_downloading_my_data(client, history):
    ann, bo = history

    response = client.get(f"{preferences_path(ann)}data/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    data = json.loads(response.content)
    assert data["email"] == "ann@example.com"
    assert data["status"] == "active"
    assert data["confirmed_at"] is not None
    assert [interest["name"] for interest in data["interests"]] == ["Home"]
    [read] = data["reads"]
    assert read["story"]["title"] == "The drip in the hallway"
    assert read["engaged"] is True
    [delivery] = data["deliveries"]
    assert delivery["edition"] == "Spring"
    assert [pick["story"]["title"] for pick in delivery["stories"]] == ["A shed of one's own"]
    body = response.content.decode()
    assert "bo@example.com" not in body
    assert "Bo's secret story" not in body
    assert "Garden" not in body


def test_deleting_my_data(client, history):
    ann, bo = history
    token = subscriptions.preferences_token(ann)
    page = f"{preferences_path(ann, token)}delete/"

    asked = client.get(page)
    assert "Delete my data" in asked.content.decode()
    assert Subscriber.objects.filter(pk=ann.pk).exists()  # a GET only asks

    response = client.post(page)

    assert response.status_code == 200
    assert "Your data is deleted" in response.content.decode()
    assert not Subscriber.objects.filter(email="ann@example.com").exists()
    assert not SubscriberRead.objects.filter(subscriber_id=ann.pk).exists()
    assert not Delivery.objects.filter(subscriber_id=ann.pk).exists()
    assert not DeliveryPick.objects.filter(delivery__subscriber_id=ann.pk).exists()
    assert DeliveryPick.objects.filter(delivery__subscriber=bo).count() == 1
    assert SubscriberRead.objects.filter(subscriber=bo).count() == 1
    assert client.get(preferences_path(ann, token)).status_code == 404


def rows_mentioning(text: str) -> dict[str, int]:
    """Every table's rows with ``text`` in a text column (char, text, email, JSON), any
    case: a generic scan of the whole database, not a list of places we thought of."""
    from django.apps import apps
    from django.db.models import CharField, JSONField, Q, TextField
    from django.db.models.functions import Cast

    found = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        texts = [f for f in meta.concrete_fields if isinstance(f, CharField | TextField)]
        documents = [f for f in meta.concrete_fields if isinstance(f, JSONField)]
        if not texts and not documents:
            continue
        annotations = {f"_as_text_{f.attname}": Cast(f.attname, TextField()) for f in documents}
        query = Q()
        for name in [f.attname for f in texts] + list(annotations):
            query |= Q(**{f"{name}__icontains": text})
        count = model._base_manager.annotate(**annotations).filter(query).count()
        if count:
            found[meta.db_table] = count
    return found


@pytest.mark.parametrize("deleted_by", ["the reader", "a social manager"])
def test_deleting_a_subscriber_leaves_their_address_nowhere(
    client, social_manager, interests, make_story, deleted_by
):
    from smtplib import SMTPRecipientsRefused

    from cms import ops

    address = "Ann.Erase@Example.com"
    # Everything that writes about a subscriber: the admin's invitation and edit (log
    # entries), a sign-up through the form (its task), reads, a delivery with picks, a
    # background failure quoting the address, the sign-up throttle.
    client.force_login(social_manager)
    invited = client.post(f"{ADMIN}new/", {"email": address, "interests": [interests[0].pk]})
    assert invited.status_code == 302
    ann = Subscriber.objects.get()
    edited = client.post(
        f"{ADMIN}edit/{ann.pk}/", {"interests": [interests[1].pk], "status": ann.status}
    )
    assert edited.status_code == 302
    subscriptions.confirm(ann)
    cache.clear()
    sign_up(client, address, interests[0])
    story = make_story(title="The drip in the hallway")
    SubscriberRead.objects.create(subscriber=ann, story=story, engaged=True)
    delivery = Delivery.objects.create(
        edition=Edition.objects.create(title="Spring"),
        subscriber=ann,
        state="failed",
        error=f"Refused by the mail server: 550 <{address}> no such user",
    )
    DeliveryPick.objects.create(
        delivery=delivery, slot=0, story=story, score=1, probability=0.5, reason="Home"
    )
    refused = SMTPRecipientsRefused({address.lower(): (550, b"no such user")})
    task = SimpleNamespace(name="a task", request=SimpleNamespace(is_eager=True, hostname=""))
    ops.record_failure(sender=task, exception=refused, args=[address], kwargs={})
    assert {"wagtailcore_modellogentry", "cms_taskfailure"} <= set(rows_mentioning(address))

    if deleted_by == "the reader":
        client.logout()
        token = subscriptions.preferences_token(ann)
        assert client.post(f"{preferences_path(ann, token)}delete/").status_code == 200
    else:
        assert client.post(f"{ADMIN}delete/{ann.pk}/").status_code == 302

    assert not Subscriber.objects.exists()
    assert rows_mentioning(address) == {}
    assert rows_mentioning("ann.erase") == {}
    assert cache.get(subscriptions._throttle_key(address)) is None
    # What was done stays on record, without the person.
    entries = ModelLogEntry.objects.filter(object_id=str(ann.pk))
    assert {entry.label for entry in entries} == {"Deleted subscriber"}
    assert {"wagtail.create", "wagtail.edit"} <= {entry.action for entry in entries}
