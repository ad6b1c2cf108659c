"""The subscriber emails' fixed words are product copy: the confirmation, the
preferences link and an edition's frame (reasons, footer) must not read as selling.
An edition's own words (title, intro) are checked as they are written, in
test_edition_voice.py; these are checked here, as rendered, every time the suite runs."""

from django.core import mail
from django.utils.html import strip_tags

import pytest

from stories import voice
from syndication.newsletter import subscriptions
from syndication.newsletter.models import Subscriber
from tests.newsletter import editions
from tests.newsletter.editions import edition, send_all, start, subscriber

interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

Status = Subscriber.Status


def assert_not_selling(message):
    html = message.alternatives[0][0]
    for part, text in (
        ("subject", message.subject),
        ("text", message.body),
        ("html", strip_tags(html)),
    ):
        report = voice.check(text)
        found = [(text[f.start : f.end], f.rule) for f in report.findings]
        assert not report.is_salesy, f"{part} reads as selling: {found}"
        assert found == [], f"{part} has sales speak: {found}"


@pytest.mark.parametrize("with_interests", [True, False])
def test_the_confirmation_email_does_not_sell(interests, with_interests):
    person = subscriber(
        "new@example.com", *(interests if with_interests else []), status=Status.PENDING
    )
    subscriptions.send_confirmation(person)
    [message] = mail.outbox
    assert "confirm" in message.subject.lower()
    assert_not_selling(message)


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.PAUSED, Status.UNSUBSCRIBED])
def test_the_preferences_link_email_does_not_sell(interests, status):
    person = subscriber("known@example.com", interests[0], status=status)
    subscriptions.send_preferences_link(person)
    [message] = mail.outbox
    assert "preferences" in message.subject.lower()
    assert_not_selling(message)


def test_an_edition_adds_no_selling_of_its_own(stories, subscribers):
    made = edition(title="This week: small fixes", intro="This week's stories.")
    start(made)
    send_all(made)
    assert mail.outbox
    for message in mail.outbox:
        assert_not_selling(message)


def test_the_check_would_catch_selling_words_in_an_email(interests):
    """The assertion above can fail: the same email with a soft pitch added does."""
    person = subscriber("new@example.com", status=Status.PENDING)
    subscriptions.send_confirmation(person)
    [message] = mail.outbox
    message.body += "\nBook your free consultation with our team today.\n"
    with pytest.raises(AssertionError, match="text reads as selling"):
        assert_not_selling(message)
