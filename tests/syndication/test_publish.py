"""The publishing engine, step by step, over real HTTP to the Mastodon test server.

The Celery tasks are thin wrappers; here the engine's functions run in-process so each
state change can be checked. tests/integration/ runs the same engine in real worker
processes on Redis.
"""

import datetime

from django.utils import timezone

import pytest

from syndication import publishing, states, tokens
from syndication.channels.base import AuthExpired
from syndication.models import ChannelAccount, Network, PostAttempt, SyndicationPost
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_MAX_FAILURES = 4


@pytest.fixture
def account(mastodon_server):
    remote_id, token = mastodon_server.create_account("brand")
    account = ChannelAccountFactory(
        instance_url=mastodon_server.url,
        remote_id=remote_id,
        handle="@brand",
        tokens={"access_token": token},
    )
    account.access_token = token
    return account


@pytest.fixture
def schedule(make_story, account):
    def schedule(story=None, *, when=None, text="A story worth a read.\n\n{story_url}", **kw):
        when = when or timezone.now()
        return SyndicationPost.objects.create(
            story=story or make_story(),
            account=kw.pop("account", account),
            text=text,
            scheduled_at=when,
            due_at=when,
            state=states.SCHEDULED,
            **kw,
        )

    return schedule


def run_due(now=None) -> list[str]:
    """One beat tick with the worker in-process: dispatch, then run each claimed post."""
    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)), now)
    return [publishing.publish_post(post_id, claim) for post_id, claim in claimed]


def reload(post) -> SyndicationPost:
    return SyndicationPost.objects.get(pk=post.pk)


def test_a_due_post_is_published_once_with_its_remote_id_and_tagged_link(schedule, mastodon_server):
    post = schedule()
    assert run_due() == ["published"]
    post = reload(post)
    assert post.state == states.PUBLISHED
    [status] = mastodon_server.statuses
    assert post.remote_id == status["id"] and post.remote_url == status["url"]
    assert f"utm_content={post.pk}" in status["text"]
    assert "utm_source=mastodon" in status["text"] and "utm_medium=social" in status["text"]
    assert f"utm_campaign={post.story.slug}" in status["text"]
    assert [a.outcome for a in post.attempts.all()][-1] == PostAttempt.Outcome.PUBLISHED
    # The next tick finds nothing to do.
    assert run_due() == []
    assert len(mastodon_server.statuses) == 1


def test_future_posts_drafts_and_paused_accounts_are_not_claimed(schedule, account):
    later = schedule(when=timezone.now() + datetime.timedelta(hours=1))
    draft = schedule()
    SyndicationPost.objects.filter(pk=draft.pk).update(state=states.DRAFT)
    assert run_due() == []
    ChannelAccount.objects.filter(pk=account.pk).update(
        paused_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    due = schedule()
    assert run_due() == []
    assert reload(due).state == states.SCHEDULED
    assert reload(later).state == states.SCHEDULED


def test_a_task_without_the_current_claim_does_nothing(schedule, mastodon_server):
    schedule()
    claimed = []
    publishing.dispatch_due_posts(lambda pk, claim: claimed.append((pk, claim)))
    [(post_id, claim)] = claimed
    assert publishing.publish_post(post_id, "00000000-0000-0000-0000-000000000000") == "stale"
    assert mastodon_server.create_calls == 0
    assert publishing.publish_post(post_id, claim) == "published"
    # A redelivered copy of the same task is harmless.
    assert publishing.publish_post(post_id, claim) == "stale"
    assert mastodon_server.create_calls == 1


def test_two_dispatchers_never_claim_the_same_post(schedule):
    posts = [schedule() for _ in range(5)]
    first_claim, first = publishing.claim_due_posts()
    second_claim, second = publishing.claim_due_posts()
    assert sorted(first) == sorted(p.pk for p in posts)
    assert second == []
    assert first_claim != second_claim


def test_rate_limited_post_waits_for_retry_after_and_pauses_the_account(
    schedule, mastodon_server, account
):
    post = schedule()
    mastodon_server.fail_next("429")
    assert run_due() == ["retry"]
    post = reload(post)
    assert post.state == states.SCHEDULED
    assert post.due_at >= timezone.now() + datetime.timedelta(seconds=0.5)
    assert ChannelAccount.objects.get(pk=account.pk).paused_until > timezone.now()
    assert "rate limit" in post.last_error
    assert mastodon_server.statuses == []
    later = timezone.now() + datetime.timedelta(seconds=30)
    assert run_due(later) == ["published"]
    assert len(mastodon_server.statuses) == 1


@pytest.mark.parametrize("fault", ["drop_after_create", "timeout_after_create", "500_after_create"])
def test_a_lost_answer_is_unconfirmed_then_settled_without_a_second_post(
    schedule, mastodon_server, fault
):
    post = schedule()
    mastodon_server.fail_next(fault)
    assert run_due() == ["unconfirmed"]
    post = reload(post)
    assert post.state == states.UNCONFIRMED
    assert post.last_error
    assert len(mastodon_server.statuses) == 1  # it did go out
    # The reconcile pass finds it by its marker instead of posting again.
    assert run_due(timezone.now() + datetime.timedelta(seconds=1)) == ["published"]
    post = reload(post)
    assert post.state == states.PUBLISHED
    assert post.remote_id == mastodon_server.statuses[0]["id"]
    assert len(mastodon_server.statuses) == 1
    outcomes = [a.outcome for a in post.attempts.all()]
    assert PostAttempt.Outcome.UNCONFIRMED in outcomes
    assert outcomes[-1] == PostAttempt.Outcome.CONFIRMED


def test_an_unconfirmed_post_that_never_arrived_is_sent_again_once(schedule, mastodon_server):
    post = schedule()
    mastodon_server.fail_next("500")  # nothing created, but we cannot know that
    assert run_due() == ["unconfirmed"]
    assert mastodon_server.statuses == []
    assert run_due(timezone.now() + datetime.timedelta(seconds=1)) == ["published"]
    assert len(mastodon_server.statuses) == 1
    assert reload(post).send_count == 2


def test_a_refused_post_fails_with_the_networks_reason(schedule, mastodon_server):
    post = schedule(text="x" * 600 + " {story_url}")
    assert run_due() == ["failed"]
    post = reload(post)
    assert post.state == states.FAILED
    assert "character limit" in post.last_error.lower()
    assert mastodon_server.statuses == []


def test_connection_refused_retries_with_backoff_then_gives_up(schedule, account, settings):
    ChannelAccount.objects.filter(pk=account.pk).update(instance_url="http://127.0.0.1:9")
    post = schedule()
    results = []
    when = timezone.now()
    for _ in range(settings.SYNDICATION_MAX_FAILURES):
        results += run_due(when)
        when += datetime.timedelta(minutes=10)
    assert results == ["retry"] * (settings.SYNDICATION_MAX_FAILURES - 1) + ["failed"]
    post = reload(post)
    assert post.state == states.FAILED
    assert "Gave up after" in post.last_error


def test_retry_delays_grow_with_jitter_and_respect_retry_after(settings):
    settings.SYNDICATION_RETRY_BASE = 10
    settings.SYNDICATION_RETRY_CAP = 300

    class Fixed:
        def __init__(self, value):
            self.value = value

        def random(self):
            return self.value

    assert publishing.retry_delay(1, rng=Fixed(0.0)) == 5
    assert publishing.retry_delay(1, rng=Fixed(1.0)) == 10
    assert publishing.retry_delay(3, rng=Fixed(1.0)) == 40
    assert publishing.retry_delay(20, rng=Fixed(1.0)) == 300
    assert publishing.retry_delay(1, retry_after=120, rng=Fixed(0.0)) == 120


def test_a_revoked_token_marks_the_account_and_its_posts_wait(schedule, account, mastodon_server):
    post = schedule()
    mastodon_server.revoke(account.access_token)
    assert run_due() == ["waiting"]
    account.refresh_from_db()
    assert account.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert "reconnect" in account.status_reason.lower()
    post = reload(post)
    assert post.state == states.SCHEDULED and "reconnect" in post.last_error.lower()
    assert run_due() == []  # waits, does not fail
    assert SyndicationPost.objects.waiting_for_account().filter(pk=post.pk).exists()
    # Reconnected with a new token: the post goes out.
    _, token = mastodon_server.create_account("brand-again")
    fresh = ChannelAccount.objects.get(pk=account.pk)
    fresh.set_tokens({"access_token": token})
    fresh.status = ChannelAccount.Status.ACTIVE
    fresh.save()
    assert run_due() == ["published"]


def test_the_sweeper_returns_posts_whose_worker_died(schedule, settings):
    settings.SYNDICATION_STUCK_AFTER = 60
    unsent, sent = schedule(), schedule()
    claim, ids = publishing.claim_due_posts()
    assert sorted(ids) == sorted([unsent.pk, sent.pk])
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    # Both tasks started long ago, and their worker died.
    SyndicationPost.objects.filter(pk__in=ids).update(claimed_at=long_ago, started_at=long_ago)
    SyndicationPost.objects.filter(pk=sent.pk).update(request_sent_at=long_ago, send_count=1)
    assert publishing.sweep_stuck_posts() == 2
    assert reload(unsent).state == states.SCHEDULED
    assert reload(sent).state == states.UNCONFIRMED
    # The dead worker's task, redelivered, cannot touch them any more.
    assert publishing.publish_post(unsent.pk, claim) == "stale"


def test_a_fresh_publishing_post_is_not_swept(schedule, settings):
    settings.SYNDICATION_STUCK_AFTER = 60
    post = schedule()
    publishing.claim_due_posts()
    assert publishing.sweep_stuck_posts() == 0
    assert reload(post).state == states.PUBLISHING


def test_posts_overdue_beyond_the_window_are_missed_not_sent(schedule, mastodon_server, settings):
    settings.SYNDICATION_MISSED_AFTER = 60
    old = schedule(when=timezone.now() - datetime.timedelta(hours=2))
    recent = schedule(when=timezone.now() - datetime.timedelta(minutes=30))
    assert run_due() == ["published"]
    assert reload(old).state == states.MISSED
    assert "reschedule or cancel" in reload(old).last_error
    assert reload(recent).state == states.PUBLISHED
    assert len(mastodon_server.statuses) == 1


def test_a_chapter_threads_under_the_previous_chapters_post(schedule, make_story, mastodon_server):
    from stories.models import StorySeries

    series = StorySeries.objects.create(name="Fixing the house")
    one = make_story(series=series, series_part=1)
    two = make_story(series=series, series_part=2)
    first = schedule(one, when=timezone.now() + datetime.timedelta(minutes=5))
    second = schedule(two, in_reply_to=first, thread_with_previous=True)
    # Chapter 2 is due first but waits for chapter 1's post.
    assert run_due() == ["waiting"]
    assert mastodon_server.statuses == []
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert sorted(run_due(later)) == ["published", "waiting"]
    assert run_due(later + datetime.timedelta(minutes=2)) == ["published"]
    first, second = reload(first), reload(second)
    reply = next(s for s in mastodon_server.statuses if s["id"] == second.remote_id)
    assert reply["in_reply_to_id"] == first.remote_id


def test_publishing_refreshes_the_story_page_with_the_conversation_link(
    schedule, client, django_capture_on_commit_callbacks
):
    post = schedule()
    story_url = post.story.url
    assert client.get(story_url).status_code == 200  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        run_due()
    post = reload(post)
    page = client.get(story_url).content.decode()
    assert post.remote_url in page


@pytest.mark.parametrize(
    "answered", ["javascript:alert(document.cookie)//", "data:text/html,<script>x</script>"]
)
def test_a_post_address_that_is_not_http_is_not_stored(
    schedule, mastodon_server, monkeypatch, answered
):
    """The network's answer names the post's address; only http(s) ones become links."""
    entity = mastodon_server._status_entity
    monkeypatch.setattr(
        mastodon_server, "_status_entity", lambda record: {**entity(record), "url": answered}
    )
    post = schedule()
    assert run_due() == ["published"]
    post = reload(post)
    assert post.state == states.PUBLISHED
    assert post.remote_id == mastodon_server.statuses[0]["id"]  # published all the same
    assert post.remote_url == ""


class RefreshingAdapter:
    """Stands in for a network's token endpoint to exercise the lock-and-merge rules."""

    refreshes_tokens = True

    def __init__(self, answer):
        self.answer = answer
        self.calls = 0

    def refresh(self, current):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_token_close_to_expiry_is_refreshed_once_and_keeps_its_refresh_token(account):
    soon = timezone.now() + datetime.timedelta(seconds=30)
    ChannelAccount.objects.filter(pk=account.pk).update(token_expires_at=soon)
    account.refresh_from_db()
    account.set_tokens({"access_token": "old", "refresh_token": "keep-me"})
    account.save()
    later = (timezone.now() + datetime.timedelta(hours=2)).timestamp()
    adapter = RefreshingAdapter({"access_token": "new", "refresh_token": "", "expires_at": later})
    assert tokens.ensure_fresh(account, adapter) is True
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.tokens["access_token"] == "new"
    assert stored.tokens["refresh_token"] == "keep-me"
    assert stored.token_expires_at > timezone.now() + datetime.timedelta(hours=1)
    # Fresh now: nothing more to do.
    assert tokens.ensure_fresh(stored, adapter) is False
    assert adapter.calls == 1


def test_a_refused_refresh_marks_the_account_for_reconnecting(account):
    ChannelAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now())
    account.refresh_from_db()
    adapter = RefreshingAdapter(AuthExpired("LinkedIn refused the refresh token; reconnect."))
    with pytest.raises(AuthExpired):
        tokens.ensure_fresh(account, adapter)
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.status == ChannelAccount.Status.NEEDS_RECONNECT
    assert "refused" in stored.status_reason


@pytest.mark.django_db
def test_tokens_ending_within_hours_are_refreshed_ahead_of_time(monkeypatch):
    from syndication.channels import linkedin

    account = ChannelAccount(
        network=Network.LINKEDIN,
        remote_id="urn:li:person:abc",
        handle="Brand",
        token_expires_at=timezone.now() + datetime.timedelta(hours=2),
    )
    account.set_tokens({"access_token": "old", "refresh_token": "r1"})
    account.save()
    far = ChannelAccount.objects.create(
        network=Network.LINKEDIN,
        remote_id="urn:li:person:far",
        handle="Far",
        token_expires_at=timezone.now() + datetime.timedelta(days=2),
    )
    seen = []
    later = (timezone.now() + datetime.timedelta(hours=3)).timestamp()

    def refresh(self, current):
        seen.append(self.account.pk)
        return {"access_token": "new", "refresh_token": "r2", "expires_at": later}

    monkeypatch.setattr(linkedin.LinkedInAdapter, "refresh", refresh)
    assert tokens.refresh_expiring() == {"refreshed": 1, "needs_reconnect": 0, "errors": 0}
    assert seen == [account.pk]
    assert ChannelAccount.objects.get(pk=account.pk).tokens["refresh_token"] == "r2"
    assert far.pk not in seen


def test_the_engine_sees_a_story_retitled_or_unpublished_since_its_last_post(
    schedule, make_story, mastodon_server
):
    """The story's facts are kept per worker between posts (publishing.story_facts):
    a new live revision, or the story taken offline, shows at the next post."""
    story = make_story(title="The first title")
    schedule(story)
    assert run_due() == ["published"]
    assert publishing.story_facts(story.pk).title == "The first title"
    story.title = "A better title"
    story.save_revision().publish()
    schedule(story, text="{story_url}")
    assert run_due() == ["published"]
    assert publishing.story_facts(story.pk).title == "A better title"
    story.unpublish()
    post = schedule(story)
    assert run_due() == ["failed"]
    assert "not live" in reload(post).last_error
    assert len(mastodon_server.statuses) == 2
