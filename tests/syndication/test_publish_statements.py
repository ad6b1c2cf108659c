"""The publishing engine's hot statements (``syndication.statements``) keep every rule the
ORM statements they replace kept: a task gets its post only under its own claim and only
once, whatever happened to the claim meanwhile; rows are read and written exactly as the
ORM reads and writes them. Run on PostgreSQL in CI and on SQLite by default; each case
also runs the path used where the database has no ``UPDATE … RETURNING``.
"""

import datetime
import uuid

from django.db import connection
from django.utils import timezone

import pytest

from syndication import publishing, statements, states
from syndication.models import PostAttempt, PostPicture, SyndicationPost
from tests.integration.workloads import mastodon_accounts, schedule_posts

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["returning", "two statements"])
def path(request, monkeypatch):
    """Both ways ``publishing.take`` works: one UPDATE … RETURNING, or start and a read."""
    if request.param == "two statements":
        monkeypatch.setattr(statements, "returns_rows", lambda model: False)
    elif not statements.returns_rows(SyndicationPost):  # pragma: no cover - SQLite < 3.35
        pytest.skip("this database has no UPDATE … RETURNING")
    return request.param


@pytest.fixture
def claimed(mastodon_server, make_story):
    """Two posts (two stories, one account) claimed by dispatch: [(post, claim)]."""
    [account] = mastodon_accounts(mastodon_server, 1)
    posts = schedule_posts([account], [make_story(), make_story()])
    messages = []
    publishing.dispatch_due_posts(lambda post_id, claim: messages.append((post_id, claim)))
    assert sorted(post_id for post_id, _ in messages) == sorted(post.pk for post in posts)
    return [(SyndicationPost.objects.get(pk=post_id), claim) for post_id, claim in messages]


def row(post) -> SyndicationPost:
    return SyndicationPost.objects.get(pk=post.pk)


def test_take_starts_the_post_and_reads_it_with_its_account(path, claimed):
    (post, claim), (other, _) = claimed
    now = timezone.now()
    taken = publishing.take(post.pk, claim, now)
    assert taken.pk == post.pk
    assert taken.started_at == now == row(post).started_at
    assert str(taken.claim) == claim and taken.state == states.PUBLISHING
    # Read as the ORM reads it: the same values, in the same Python types.
    expected = row(post)
    for field in SyndicationPost._meta.concrete_fields:
        assert getattr(taken, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(taken.claim, uuid.UUID) and isinstance(taken.reply_to_ref, dict)
    assert taken.account.pk == post.account_id
    assert taken.account.tokens == post.account.tokens
    assert (taken.has_pictures, taken.has_related) == (False, False)
    assert row(other).started_at is None  # only that post


def test_take_says_whether_there_are_pictures_and_related_stories(path, claimed, make_story):
    (post, claim), (other, other_claim) = claimed
    PostPicture.objects.create(post=post, position=0, alt_text="A washer")
    other.related_stories.add(make_story())
    taken = publishing.take(post.pk, claim)
    assert (taken.has_pictures, taken.has_related) == (True, False)
    taken = publishing.take(other.pk, other_claim)
    assert (taken.has_pictures, taken.has_related) == (False, True)


def test_only_the_first_copy_of_a_task_gets_the_post(path, claimed):
    [(post, claim), _] = claimed
    first = timezone.now()
    assert publishing.take(post.pk, claim, first) is not None
    assert publishing.take(post.pk, claim, first + datetime.timedelta(seconds=5)) is None
    assert row(post).started_at == first


def test_a_task_whose_claim_was_lost_gets_nothing_and_changes_nothing(path, claimed):
    [(post, claim), _] = claimed
    # Swept and claimed again meanwhile: a new claim, not started.
    new_claim = uuid.uuid4()
    SyndicationPost.objects.filter(pk=post.pk).update(claim=new_claim)
    assert publishing.take(post.pk, claim) is None
    assert row(post).started_at is None and row(post).claim == new_claim
    # The holder of the new claim still gets it.
    assert publishing.take(post.pk, str(new_claim)) is not None


def test_a_task_finds_nothing_in_a_post_settled_or_gone(path, claimed, mastodon_server):
    (post, claim), (other, other_claim) = claimed
    assert post.move(states.SCHEDULED, claim=claim, due_at=timezone.now())
    assert publishing.take(post.pk, claim) is None
    assert row(post).started_at is None
    SyndicationPost.objects.filter(pk=other.pk).delete()
    assert publishing.take(other.pk, other_claim) is None
    assert publishing.publish_post(other.pk, other_claim) == "stale"
    assert mastodon_server.create_calls == 0


def test_a_lost_claim_after_the_start_stops_the_send(path, claimed, mastodon_server):
    """Started, then swept under a new claim before the create: the conditional UPDATE
    that marks the post sent finds nothing, and nothing is sent."""
    [(post, claim), _] = claimed
    taken = publishing.take(post.pk, claim)
    SyndicationPost.objects.filter(pk=post.pk).update(claim=uuid.uuid4())
    with pytest.raises(publishing.Stale):
        publishing._publish(taken, claim)
    assert row(post).send_count == 0 and row(post).request_sent_at is None
    assert mastodon_server.create_calls == 0


def test_update_matches_every_condition_and_counts_what_it_changed(claimed):
    [(post, claim), _] = claimed
    at = timezone.now()

    def update(**where):
        return statements.update(
            SyndicationPost,
            post.pk,
            where=where,
            values={"request_sent_at": at, "last_error": "é ' %s"},
            increment=("send_count",),
        )

    assert update(state=states.SCHEDULED) == 0
    assert update(state=(states.SCHEDULED, states.UNCONFIRMED)) == 0
    assert update(state=states.PUBLISHING, claim=uuid.uuid4()) == 0
    assert update(state=states.PUBLISHING, claim=claim, started_at=statements.IS_NULL) == 1
    assert update(state={states.PUBLISHING, states.SCHEDULED}, claim=uuid.UUID(claim)) == 1
    stored = row(post)
    assert (stored.send_count, stored.request_sent_at, stored.last_error) == (2, at, "é ' %s")


def test_insert_writes_the_row_the_orm_would_and_sets_its_key(claimed):
    [(post, claim), _] = claimed
    attempt = post.log(PostAttempt.Outcome.SENT, "x" * 2500, status=202, sent=True, claim=claim)
    assert attempt.pk is not None
    stored = PostAttempt.objects.get(pk=attempt.pk)
    assert (stored.post_id, stored.outcome, stored.http_status, stored.request_sent) == (
        post.pk,
        "sent",
        202,
        True,
    )
    assert stored.message == "x" * 2000 and str(stored.claim) == claim
    assert stored.at == attempt.at


def test_values_reads_a_version_that_changes_when_the_row_does(claimed):
    [(post, _), _] = claimed
    from wagtail.models import Page

    names = ("live", "live_revision_id", "url_path", "last_published_at")
    before = statements.values(Page, post.story_id, names)
    assert before == statements.values(Page, post.story_id, names)
    Page.objects.filter(pk=post.story_id).update(last_published_at=timezone.now())
    assert statements.values(Page, post.story_id, names) != before
    assert statements.values(Page, 10**9, names) is None


def test_statements_are_written_once_per_shape(claimed):
    [(post, claim), _] = claimed
    statements._sql.clear()
    for _ in range(3):
        post.move(states.SCHEDULED, claim=uuid.uuid4())
    shapes = [key for key in statements._sql if key[2] == "update"]
    assert len(shapes) == 1
    assert connection.vendor in shapes[0]


def test_an_expression_as_a_value_goes_through_the_orm_with_the_same_conditions(claimed):
    from django.db.models import F

    [(post, claim), _] = claimed
    values = {"failure_count": F("failure_count") + 2}
    lost = {"state": states.PUBLISHING, "claim": uuid.uuid4()}
    assert statements.update(SyndicationPost, post.pk, where=lost, values=values) == 0
    held = {"state": (states.PUBLISHING,), "claim": claim, "started_at": statements.IS_NULL}
    assert statements.update(
        SyndicationPost, post.pk, where=held, values=values, increment=("send_count",)
    )
    assert (row(post).failure_count, row(post).send_count) == (2, 1)
