"""Signing up for the newsletter: the form, double opt-in, one answer whether an address
subscribes or not (the same page, the same queries, mail sent by a task afterwards),
the limits on how often mail goes out, and asking for a preferences link."""

import re
import time
from unittest import mock

from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from syndication.newsletter import subscriptions
from syndication.newsletter.forms import INTERESTS_REQUIRED
from syndication.newsletter.models import Subscriber
from tests.factories import SubscriberFactory
from tests.newsletter.subscribing import (
    ASK_FOR_LINK,
    SIGNUP,
    Status,
    ask_for_link,
    only_link,
    reload,
    sign_up,
)

pytestmark = pytest.mark.django_db


def test_sign_up_page_offers_each_interest_with_its_description(client, interests, tree):
    response = client.get(SIGNUP)

    assert response.status_code == 200
    html = response.content.decode()
    for index, interest in enumerate(sorted(interests, key=lambda i: i.name)):
        choice = f"id_interests_{index}"
        assert f'<label for="{choice}">{interest.name}</label>' in html
        assert f'aria-describedby="{choice}_description"' in html
        assert f'id="{choice}_description">{interest.description}</p>' in html
    assert '<label for="id_email">' in html
    assert 'action="/newsletter/preferences/"' in html  # ask for a preferences link


def test_the_site_footer_links_to_the_sign_up_page(client, tree):
    response = client.get("/")

    assert response.status_code == 200
    assert 'href="/newsletter/"' in response.content.decode()


def test_signing_up_waits_for_confirmation_and_emails_a_link(client, interests, tree):
    response = sign_up(client, "ann@example.com", interests[0])

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status) == ("ann@example.com", Status.PENDING)
    assert subscriber.confirmed_at is None
    assert list(subscriber.interests.all()) == [interests[0]]
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert "confirm" in message.subject.lower()
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = only_link(message, "confirm")
    assert link in html
    assert "Home" in message.body and "Home" in html  # what they will get


def test_double_opt_in_from_the_email_link(client, interests, tree):
    sign_up(client, "ann@example.com", *interests)
    link = only_link(mail.outbox[0], "confirm")

    shown = client.get(link)

    assert shown.status_code == 200
    assert "Confirm the subscription" in shown.content.decode()
    assert '<form method="post"' in shown.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Status.PENDING  # a link scanner's GET changes nothing

    confirmed = client.post(link)

    assert confirmed.status_code == 200
    assert "You are subscribed" in confirmed.content.decode()
    reload(subscriber)
    assert subscriber.status == Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert subscriber.receives_newsletters

    again = client.post(link)  # twice is harmless
    assert "Already confirmed" in again.content.decode()
    assert reload(subscriber).status == Status.ACTIVE


def test_an_invalid_address_is_a_clear_error_linked_to_its_field(client, interests, tree):
    response = sign_up(client, "ann at example", interests[0])

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a whole email address, like name@example.com." in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'<input[^>]*aria-describedby="id_email_error"[^>]*name="email"', html) or (
        re.search(r'<input[^>]*name="email"[^>]*aria-describedby="id_email_error"', html)
    )
    assert 'id="id_email_error"' in html
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_at_least_one_interest_is_needed(client, interests, tree):
    response = sign_up(client, "ann@example.com")

    html = response.content.decode()
    assert INTERESTS_REQUIRED in html
    assert 'id="id_interests_error"' in html
    assert 'aria-describedby="id_interests_helptext id_interests_error"' in html
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_an_address_already_subscribed_gets_its_preferences_not_a_second_row(
    client, interests, tree
):
    ann = SubscriberFactory(email="ann@example.com", interests=[interests[0]])

    response = sign_up(client, "Ann@Example.com", interests[1])

    assert "Check your inbox" in response.content.decode()
    assert Subscriber.objects.count() == 1
    assert list(reload(ann).interests.all()) == [interests[0]]  # typing an address changes nothing
    assert reload(ann).status == Status.ACTIVE
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert message.subject == "Your Storyloom newsletter preferences"
    assert client.get(only_link(message, "preferences")).status_code == 200


def test_the_answer_does_not_tell_whether_an_address_subscribes(client, interests, tree):
    SubscriberFactory(email="known@example.com")

    known = sign_up(client, "known@example.com", interests[0]).content.decode()
    new = sign_up(client, "new@example.com", interests[0]).content.decode()

    assert known.replace("known@example.com", "X") == new.replace("new@example.com", "X")
    assert Subscriber.objects.count() == 2


def test_a_waiting_address_is_sent_the_confirmation_again(client, interests, tree):
    ann = SubscriberFactory(email="ann@example.com", status=Status.PENDING, interests=interests)

    sign_up(client, "ANN@example.com", interests[1])

    assert Subscriber.objects.count() == 1
    assert reload(ann).status == Status.PENDING
    assert list(ann.interests.all()) == [interests[1]]  # the latest choice is what they confirm
    [message] = mail.outbox
    assert "confirm" in message.subject.lower()
    client.post(only_link(message, "confirm"))
    assert reload(ann).status == Status.ACTIVE


def test_someone_who_left_and_signs_up_again_confirms_again(client, interests, tree):
    ann = SubscriberFactory(email="ann@example.com", status=Status.UNSUBSCRIBED)

    sign_up(client, "ann@example.com", interests[0])

    assert Subscriber.objects.count() == 1
    assert reload(ann).status == Status.PENDING  # consent is asked again
    link = only_link(mail.outbox[0], "confirm")
    client.post(link)
    assert reload(ann).status == Status.ACTIVE


def test_at_most_one_email_per_address_every_five_minutes(client, interests, tree):
    sign_up(client, "ann@example.com", interests[0])
    sign_up(client, "Ann@Example.com", interests[0])
    ask_for_link(client, "ann@example.com")

    assert len(mail.outbox) == 1
    assert Subscriber.objects.count() == 1

    later = time.time() + 5 * 60 + 1
    with mock.patch("time.time", return_value=later):
        sign_up(client, "ann@example.com", interests[0])
    assert len(mail.outbox) == 2


def test_one_connection_cannot_turn_the_forms_into_a_mail_cannon(client, interests, tree, settings):
    """Past the per-address limit both forms answer 429 with Retry-After, say so on the
    page, and send nothing; another connection is not affected."""
    settings.NEWSLETTER_REQUESTS_PER_ADDRESS = (3, 3600)
    answers = [sign_up(client, f"victim{n}@example.com", interests[0]) for n in range(2)] + [
        ask_for_link(client, "victim9@example.com")
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(mail.outbox) == 2  # two sign-ups; nobody subscribes to ask a link for

    refused = [sign_up(client, "victim3@example.com", interests[0]), ask_for_link(client, "x@y.z")]
    assert [a.status_code for a in refused] == [429, 429]
    assert all(1 <= int(a["Retry-After"]) <= 3600 for a in refused)
    assert "Too many requests came from your connection" in refused[0].content.decode()
    assert len(mail.outbox) == 2
    assert not Subscriber.objects.filter(email="victim3@example.com").exists()

    other = Client(REMOTE_ADDR="203.0.113.50")
    assert sign_up(other, "friend@example.com", interests[0]).status_code == 200
    assert len(mail.outbox) == 3


def test_sign_ups_never_confirmed_are_forgotten_once_their_link_expires(
    client, interests, tree, settings
):
    from syndication.newsletter.tasks import forget_unconfirmed

    sign_up(client, "late@example.com", interests[0])
    sign_up(client, "fresh@example.com", interests[0])
    returning = SubscriberFactory(email="back@example.com", status=Subscriber.Status.ACTIVE)
    returning.confirmed_at = timezone.now()
    returning.status = Subscriber.Status.PENDING  # asked to come back, not yet confirmed
    returning.save()
    old = timezone.now() - timezone.timedelta(days=settings.NEWSLETTER_CONFIRM_MAX_AGE_DAYS + 1)
    Subscriber.objects.filter(email__in=["late@example.com", "back@example.com"]).update(
        status_changed_at=old
    )
    assert forget_unconfirmed.delay().get() == 1
    left = set(Subscriber.objects.values_list("email", flat=True))
    assert left == {"fresh@example.com", "back@example.com"}


def test_a_sign_up_racing_another_for_the_same_address_makes_one_row(interests, tree):
    SubscriberFactory(email="ann@example.com", interests=[interests[0]])
    committed = subscriptions.find_subscriber("ann@example.com")
    # The first look misses the row a concurrent request has just committed; the
    # insert then hits the unique constraint, and the second look finds the row.
    with mock.patch.object(subscriptions, "find_subscriber", side_effect=[None, committed]):
        signup = subscriptions.subscribe("ANN@example.com", [interests[1]])

    assert Subscriber.objects.count() == 1
    assert signup.outcome == subscriptions.Outcome.PREFERENCES_SENT
    assert signup.subscriber.email == "ann@example.com"


def posted_without_its_task(client, path, data):
    """Post a form and return (its answer, the SQL it ran, mail sent during it, the
    callbacks it left for after the commit)."""
    with (
        TestCase.captureOnCommitCallbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        answer = client.post(path, data)
    during = list(mail.outbox)
    return answer, [query["sql"] for query in queries], during, callbacks


def same_shape(sql: list[str], address: str) -> list[str]:
    return [statement.replace(address, "ADDRESS") for statement in sql]


@pytest.mark.parametrize(
    ("path", "field", "status"),
    [
        (SIGNUP, "email", Status.ACTIVE),
        (SIGNUP, "email", Status.PENDING),
        (SIGNUP, "email", Status.UNSUBSCRIBED),
        (ASK_FOR_LINK, "link-email", Status.ACTIVE),
        (ASK_FOR_LINK, "link-email", Status.PENDING),
    ],
)
def test_the_forms_do_the_same_work_for_a_subscriber_and_a_stranger(
    client, interests, tree, path, field, status
):
    """Timing must not tell who subscribes (the review measured 54 ms against 6): the
    request runs the same queries and sends nothing; a task sends afterwards."""
    SubscriberFactory(email="known@example.com", status=status)
    data = {"interests": [interests[0].pk]} if path == SIGNUP else {}

    # A first request warms what every request shares (the site, the interests).
    posted_without_its_task(client, path, {**data, field: "warm@example.com"})
    mail.outbox.clear()
    answers = {}
    for address in ("known@example.com", "stranger@example.com"):
        answer, sql, during, callbacks = posted_without_its_task(
            client, path, {**data, field: address}
        )
        assert during == []  # no email inside the request
        assert len(callbacks) == 1  # one task, once the request commits
        answers[address] = (answer.content.decode().replace(address, "X"), same_shape(sql, address))
        mail.outbox.clear()

    (known_page, known_sql), (stranger_page, stranger_sql) = answers.values()
    assert known_page == stranger_page
    assert known_sql == stranger_sql
    assert all("newsletter_subscriber" not in statement for statement in known_sql)

    # The task does the rest: the subscriber's email arrives through it.
    ask = sign_up if path == SIGNUP else ask_for_link
    cache.clear()  # the five-minute limit: the test's posts above counted
    mail.outbox.clear()
    ask(client, "known@example.com", *([interests[0]] if path == SIGNUP else []))
    [message] = mail.outbox
    assert message.to == ["known@example.com"]


def test_a_mail_server_failure_is_tried_again_by_the_task(client, interests, tree):
    real_send = mail.EmailMultiAlternatives.send
    attempts = []

    def fail_once(message, *args, **kwargs):
        attempts.append(message.to)
        if len(attempts) == 1:
            raise ConnectionRefusedError("refused")
        return real_send(message, *args, **kwargs)

    with mock.patch.object(
        mail.EmailMultiAlternatives, "send", autospec=True, side_effect=fail_once
    ):
        answered = sign_up(client, "ann@example.com", interests[0])

    assert "Check your inbox" in answered.content.decode()  # the page cannot know
    assert attempts == [["ann@example.com"]] * 2
    # The failed attempt did not use up the five minutes.
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]


def test_a_task_that_gives_up_keeps_no_address(client, interests, tree):
    from cms.models import TaskFailure
    from syndication.newsletter.tasks import answer_request

    def as_a_worker_runs_it(key):  # a failure is recorded, not raised into the test
        return answer_request.apply(args=[key], throw=False)

    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=ConnectionRefusedError("550 no such user <ann@example.com>"),
        ),
        mock.patch.object(answer_request, "delay", as_a_worker_runs_it),
    ):
        sign_up(client, "ann@example.com", interests[0])

    assert mail.outbox == []
    [failure] = TaskFailure.objects.all()
    assert failure.task_name == "syndication.newsletter.tasks.answer_request"
    assert failure.exception_type.endswith("MailNotSent")
    for text in (failure.args, failure.message, failure.traceback):
        assert "ann@example.com" not in text


def test_asking_for_a_preferences_link(client, interests, tree):
    SubscriberFactory(email="ann@example.com", status=Status.PAUSED)
    SubscriberFactory(email="bo@example.com", status=Status.PENDING)

    response = ask_for_link(client, "ann@example.com")
    ask_for_link(client, "bo@example.com")
    unknown = ask_for_link(client, "nobody@example.com")

    assert "If <strong>ann@example.com</strong> gets our newsletter" in response.content.decode()
    assert "If <strong>nobody@example.com</strong> gets our newsletter" in (
        unknown.content.decode()
    )
    ann_mail, bo_mail = mail.outbox  # nothing to the unknown address
    assert ann_mail.to == ["ann@example.com"]
    assert client.get(only_link(ann_mail, "preferences")).status_code == 200
    assert bo_mail.to == ["bo@example.com"]
    assert "/newsletter/confirm/" in bo_mail.body  # still waiting: the confirmation again


def test_asking_for_a_link_with_a_bad_address_is_a_clear_error(client, tree):
    response = ask_for_link(client, "nope")

    assert "Enter a whole email address" in response.content.decode()
    assert mail.outbox == []
