"""What the tests of sending an edition share: the stories and active subscribers it goes
to (fixtures, which each module binds by name: the subscribers' tests mean other
interests by the same name), an edition made, started and sent, and the picks stored for
each reader."""

import datetime
import re

from django.utils import timezone

import pytest

from syndication.newsletter import lifecycle, sending
from syndication.newsletter.models import DeliveryPick, Edition, Subscriber
from tests.factories import AudienceInterestFactory

Status = Edition.Status
CLICK = re.compile(r"/newsletter/c/([^/\"\s<>]+)/")


@pytest.fixture
def interests(db):
    return [AudienceInterestFactory(name=name) for name in ("Home", "Garden", "Money")]


@pytest.fixture
def stories(make_story, interests):
    made = []
    for number in range(9):
        made.append(
            make_story(
                title=f"Story <{number}> & friends",
                interests=[interests[number % 3]],
                first_published_at=timezone.now() - datetime.timedelta(days=number),
            )
        )
    return made


def subscriber(email_address, *followed, status=Subscriber.Status.ACTIVE):
    made = Subscriber.objects.create(email=email_address, status=status)
    made.interests.set(followed)
    return made


@pytest.fixture
def subscribers(interests):
    return [subscriber(f"reader{n}@example.com", interests[n % 3]) for n in range(6)]


def edition(**fields) -> Edition:
    fields.setdefault("title", "This week: small fixes, big relief")
    fields.setdefault("intro", "This week's stories.")
    fields.setdefault("k", 4)
    return Edition.objects.create(**fields)


def start(made: Edition) -> list[tuple[int, int]]:
    """Start an edition now and plan it, as ``send_due_editions`` does."""
    Edition.objects.filter(pk=made.pk).update(status=Status.SCHEDULED, send_at=timezone.now())
    assert lifecycle.start_due_editions() == [made.pk]
    return lifecycle.plan_edition(made.pk)


def send_all(made: Edition, **kwargs) -> list[sending.ChunkReport]:
    return [sending.send_chunk(made.pk, *r, **kwargs) for r in lifecycle.pending_ranges(made.pk)]


def picks_of(made: Edition) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    for row in DeliveryPick.objects.filter(delivery__edition=made).values_list(
        "delivery__subscriber_id", "slot", "story_id", "reason", "probability", "exploration"
    ):
        found.setdefault(row[0], []).append(row[1:])
    return found
