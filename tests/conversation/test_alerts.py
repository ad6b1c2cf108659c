"""A story whose conversation turns negative raises one alert and one email: the burst
rule, one open alert per story, acknowledged complaints not firing again, and the whole
path from replies on the Mastodon test server through a collection."""

import datetime

from django.core import mail
from django.utils import timezone

import pytest

from syndication import states
from syndication.conversation import alerts, collect, tasks
from syndication.conversation.models import (
    CollectionState,
    ConversationAlert,
    ConversationItem,
    ItemKind,
    Tone,
)
from tests.factories import SyndicationPostFactory
from tests.syndication.conftest import make_user

from .test_collect import connect, published, status_on

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 6, 9, 0, tzinfo=datetime.UTC)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("minutes", "found"),
    [
        ([0, 10, 59], (0, 59)),  # three within the hour
        ([0, 10, 61], None),  # the third is a minute too late
        ([0, 61, 70, 80], (61, 80)),  # the burst comes later
        ([0, 10, 20, 30, 95], (0, 30)),  # the run grows while it stays in the window
        ([0, 10], None),  # too few
        ([], None),
    ],
)
def test_a_burst_is_enough_complaints_within_the_window(minutes, found):
    result = alerts.burst([at(m) for m in minutes], 3, datetime.timedelta(minutes=60))
    assert result == (None if found is None else (at(found[0]), at(found[1])))


@pytest.fixture
def post(make_story):
    return SyndicationPostFactory(
        story=make_story(title="The new app"), state=states.PUBLISHED, remote_id="1"
    )


def complaint(post, number, minutes, **fields):
    return ConversationItem.objects.create(
        post=post,
        network="mastodon",
        remote_id=f"social.example/{number}",
        kind=fields.pop("kind", ItemKind.REPLY),
        text="It crashes",
        tone=fields.pop("tone", Tone.COMPLAINT),
        created_at=at(minutes),
        **fields,
    )


def test_three_complaints_within_an_hour_raise_one_alert(post, settings):
    settings.CONVERSATION_ALERT_COMPLAINTS = 3
    settings.CONVERSATION_ALERT_WINDOW_MINUTES = 60
    complaint(post, 1, 0)
    complaint(post, 2, 20)
    complaint(post, 3, 30, tone=Tone.QUESTION)  # not a complaint
    complaint(post, 4, 35, deleted=True)  # deleted on its network: not counted
    assert alerts.check_story(post.story_id, now=at(40)) is None
    complaint(post, 5, 50, kind=ItemKind.QUOTE)
    alert = alerts.check_story(post.story_id, now=at(55))
    assert alert is not None
    assert (alert.complaints, alert.window_start, alert.window_end) == (3, at(0), at(50))
    # Checking again raises nothing new; a further complaint grows the open alert.
    assert alerts.check_story(post.story_id, now=at(56)) is None
    complaint(post, 6, 70)
    assert alerts.check_story(post.story_id, now=at(71)) is None
    alert.refresh_from_db()
    assert (alert.complaints, alert.window_end) == (4, at(70))
    assert ConversationAlert.objects.count() == 1


def test_acknowledged_complaints_do_not_fire_again_but_a_new_burst_does(
    post, settings, social_manager
):
    settings.CONVERSATION_ALERT_COMPLAINTS = 2
    complaint(post, 1, 0)
    complaint(post, 2, 5)
    alert = alerts.check_story(post.story_id, now=at(10))
    assert alerts.acknowledge(alert, social_manager)
    assert not alerts.acknowledge(alert, social_manager)  # once
    complaint(post, 3, 20)
    assert alerts.check_story(post.story_id, now=at(21)) is None  # one new complaint
    complaint(post, 4, 25)
    second = alerts.check_story(post.story_id, now=at(26))
    assert second is not None and second.pk != alert.pk
    assert (second.window_start, second.window_end, second.complaints) == (at(20), at(25), 2)


def test_complaints_older_than_a_day_raise_nothing(post, settings):
    settings.CONVERSATION_ALERT_COMPLAINTS = 2
    complaint(post, 1, 0)
    complaint(post, 2, 5)
    assert alerts.check_story(post.story_id, now=at(60 * 25)) is None


def test_the_email_goes_once_to_the_people_who_may_acknowledge(
    post, django_user_model, social_manager, editor
):
    social_manager.email = "sam@example.com"
    social_manager.save()
    editor.email = "eddie@example.com"
    editor.save()
    second = make_user(django_user_model, "sasha", "Social managers")
    second.email = "sasha@example.com"
    second.save()
    gone = make_user(django_user_model, "left", "Social managers")
    gone.email, gone.is_active = "left@example.com", False
    gone.save()
    alert = ConversationAlert.objects.create(
        story=post.story, window_start=at(0), window_end=at(30), complaints=3
    )
    assert alerts.email(alert.pk) == "sent"
    assert alerts.email(alert.pk) == "already sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["sam@example.com", "sasha@example.com"]
    assert "The new app" in message.subject
    assert "3 complaints" in message.body
    assert f"?story={post.story_id}&tone=complaint" in message.body


def test_a_failed_send_gives_the_email_back_for_a_retry(post, social_manager, monkeypatch):
    social_manager.email = "sam@example.com"
    social_manager.save()
    alert = ConversationAlert.objects.create(
        story=post.story, window_start=at(0), window_end=at(30), complaints=3
    )

    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(OSError):
        alerts.email(alert.pk)
    alert.refresh_from_db()
    assert alert.emailed_at is None
    monkeypatch.undo()
    assert alerts.email(alert.pk) == "sent"
    assert len(mail.outbox) == 1


def test_complaints_collected_from_the_server_raise_an_alert_and_email(
    mastodon_server, make_story, social_manager, settings, monkeypatch
):
    """Replies on the Mastodon test server → a collection run by the task → tone → alert."""
    settings.CONVERSATION_ALERT_COMPLAINTS = 3
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    social_manager.email = "sam@example.com"
    social_manager.save()
    account, token = connect(mastodon_server)
    post = published(account, status_on(mastodon_server, token), story=make_story())
    for text in (
        "The app crashes every time I open it",
        "Still waiting for my refund, three weeks now",
        "Why is nobody answering my emails?",
    ):
        mastodon_server.reply(post.remote_id, text)
    queued = []
    monkeypatch.setattr(tasks.email_alert, "delay", queued.append)
    # The task as a worker runs it, with the claim beat gave it.
    now = timezone.now()
    collect.ensure_states(now)
    CollectionState.objects.filter(post=post).update(next_due_at=now)
    claimed = dict(collect.claim_due(now))
    result = tasks.collect_conversation.run(post.pk, str(claimed[post.pk]))
    assert result["added"] == 3
    assert list(ConversationItem.objects.values_list("tone", flat=True)) == ["complaint"] * 3
    alert = ConversationAlert.objects.get()
    assert (alert.story_id, alert.complaints) == (post.story_id, 3)
    assert queued == [alert.pk]
    # The email task sends it once, however often it runs.
    assert tasks.email_alert.run(alert.pk) == "sent"
    assert tasks.email_alert.run(alert.pk) == "already sent"
    assert [message.to for message in mail.outbox] == [["sam@example.com"]]


def test_a_run_without_new_complaints_costs_no_query(post, django_assert_num_queries):
    complaint(post, 1, 0)
    complaint(post, 2, 5)
    complaint(post, 3, 10)
    quiet = {"post": post.pk, "added": 50, "updated": 3, "complaints": 0}
    with django_assert_num_queries(0):
        assert alerts.check_after_collection(quiet) is None
    assert not ConversationAlert.objects.exists()
    loud = {**quiet, "complaints": 3}
    assert alerts.check_after_collection(loud, now=at(11)) is not None
