"""The newsletter's shared fixtures: syndication's, the SMTP recorder, and the interests
and history of the subscribers' tests (the tests of sending an edition mean other
interests by that name, and bind those of ``tests.newsletter.editions`` in each module)."""

from django.utils import timezone

import pytest

from syndication.newsletter.models import Delivery, DeliveryPick, Edition, SubscriberRead
from tests.factories import AudienceInterestFactory, SubscriberFactory
from tests.newsletter.smtp_recorder import HOST, SMTPRecorder

# The fixtures syndication's tests use (the admin's people, the Mastodon test server, the
# collector's stream), shared with this app's tests: pytest finds them by name here.
from tests.syndication.conftest import (  # noqa: F401
    client,
    editor,
    fresh_collector,
    make_user,
    mastodon_server,
    social_manager,
    stream,
)


@pytest.fixture
def smtp_server(settings):
    with SMTPRecorder() as server:
        settings.NEWSLETTER_EMAIL_BACKEND = "syndication.newsletter.smtp.CommittedSMTPBackend"
        settings.EMAIL_HOST = HOST
        settings.EMAIL_PORT = server.port
        settings.NEWSLETTER_SMTP_TIMEOUT = 5
        yield server


@pytest.fixture
def home_interest(db):
    return AudienceInterestFactory(name="Home", description="Fixing and keeping a home.")


@pytest.fixture
def garden_interest(db):
    return AudienceInterestFactory(name="Garden", description="Growing things, badly.")


@pytest.fixture
def interests(home_interest, garden_interest):
    return [home_interest, garden_interest]


@pytest.fixture
def history(make_story, interests):
    """Ann's and Bo's reads and deliveries, so each one's export can be checked."""
    ann = SubscriberFactory(email="ann@example.com", interests=[interests[0]])
    bo = SubscriberFactory(email="bo@example.com", interests=[interests[1]])
    read = make_story(title="The drip in the hallway")
    picked = make_story(title="A shed of one's own")
    bos = make_story(title="Bo's secret story")
    SubscriberRead.objects.create(subscriber=ann, story=read, engaged=True)
    SubscriberRead.objects.create(subscriber=bo, story=bos)
    edition = Edition.objects.create(title="Spring")
    for subscriber, story in ((ann, picked), (bo, bos)):
        delivery = Delivery.objects.create(
            edition=edition, subscriber=subscriber, state="sent", sent_at=timezone.now()
        )
        DeliveryPick.objects.create(
            delivery=delivery, slot=0, story=story, score=1, probability=0.5, reason="Home"
        )
    return ann, bo
