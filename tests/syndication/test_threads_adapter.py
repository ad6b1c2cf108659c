"""The Threads adapter over real sockets, against the Threads test server."""

import dataclasses
import datetime
import time
from types import SimpleNamespace

import pytest

from syndication.channels.base import (
    AuthExpired,
    MediaNotReady,
    MediaUpload,
    NotSent,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.threads import CONTAINER_PREFIX, ThreadsAdapter
from syndication.testing.threads import ThreadsTestServer

LINK = "https://stories.example/fox/?utm_source=threads&utm_content=5"


@pytest.fixture
def server(settings):
    with ThreadsTestServer(slow_seconds=1.5) as running:
        settings.THREADS_GRAPH_URL = running.url
        settings.THREADS_APP_ID = running.app_id
        settings.THREADS_APP_SECRET = running.app_secret
        yield running


def make_account(server, username="brand"):
    """A profile on the test server with a long-lived token holding every permission."""
    user_id, token = server.create_user(username)
    return SimpleNamespace(
        network="threads",
        instance_url="",
        remote_id=user_id,
        handle=f"@{username}",
        max_characters=None,
        tokens={"access_token": token},
    )


@pytest.fixture
def account(server):
    return make_account(server)


@pytest.fixture
def adapter(account):
    return ThreadsAdapter(account, timeout=1)


def make_request(text=f"A new story {LINK}", **kwargs):
    defaults = {
        "post_id": 5,
        "text": text,
        "link": LINK,
        "idempotency_key": "9e0c0a43-6b7f-4b8e-a0ee-6f4d7f0b2c11",
        "marker": "utm_content=5",
    }
    defaults.update(kwargs)
    return PublishRequest(**defaults)


class Recorder:
    """What the engine would keep on the post (``remember``/``prepared``)."""

    def __init__(self):
        self.value = ""

    def __call__(self, value):
        self.value = value


def test_a_text_post_with_a_link_card_is_published_once_and_recorded(server, adapter):
    recorder = Recorder()
    posted = adapter.publish(make_request(remember=recorder))
    [post] = server.posts
    assert posted.id == post["id"]
    assert posted.url == post["permalink"]
    assert post["text"] == f"A new story {LINK}"
    assert post["link_attachment_url"] == LINK
    assert post["media_type"] == "TEXT"
    # The container was recorded before it was published, and it is this post's.
    assert recorder.value.startswith(f"{CONTAINER_PREFIX}{post['container_id']}:")
    assert server.hits["create_container"] == 1
    assert server.hits["threads_publish"] == 1


def test_a_picture_goes_as_an_image_container_fetched_from_the_site(server, adapter, settings):
    from django.core.files.storage import default_storage

    settings.WAGTAILADMIN_BASE_URL = "https://stories.example"
    picture = adapter.upload_media(
        MediaUpload(data=b"\xff\xd8\xff-a-jpeg", mime="image/jpeg", width=8, height=6, alt="A fox")
    )
    assert picture.id.startswith("https://stories.example/media/syndication/threads/")
    stored = picture.id.removeprefix("https://stories.example/media/")
    with default_storage.open(stored) as file:
        assert file.read() == b"\xff\xd8\xff-a-jpeg"
    adapter.publish(make_request(media=(picture,)))
    [post] = server.posts
    assert post["media_type"] == "IMAGE"
    assert post["image_url"] == picture.id
    assert post["alt_text"] == "A fox"
    # A picture post carries no link card (Threads refuses one on IMAGE).
    assert post["link_attachment_url"] == ""
    default_storage.delete(stored)


def test_a_picture_still_being_fetched_waits_then_the_same_container_is_published(
    server, adapter, settings
):
    settings.SYNDICATION_MEDIA_POLLS = 2
    server.image_processing_seconds = 3
    recorder = Recorder()
    picture = SimpleNamespace(id="https://stories.example/media/p.jpg", alt="")
    request = make_request(media=(picture,), remember=recorder)
    with pytest.raises(MediaNotReady):
        adapter.publish(request)
    assert server.posts == []
    assert server.hits["threads_publish"] == 0
    server.image_processing_seconds = 0
    posted = adapter.publish(dataclasses.replace(request, prepared=recorder.value))
    [post] = server.posts
    assert posted.id == post["id"]
    assert len(server.containers) == 1  # the recorded one, not a second


@pytest.mark.parametrize("fault", ["drop_after_create", "timeout_after_create", "500_after_create"])
def test_a_lost_publish_answer_is_unconfirmed_and_the_retry_never_publishes_twice(
    server, adapter, fault
):
    server.fail_next(fault)
    recorder = Recorder()
    request = make_request(remember=recorder)
    with pytest.raises(Unconfirmed):
        adapter.publish(request)
    [post] = server.posts  # it went out; only the answer was lost
    # The engine reads back first: the marker finds it.
    assert adapter.find_published(request).id == post["id"]
    # Publishing again with the recorded container finds it too, and publishes nothing.
    again = adapter.publish(dataclasses.replace(request, prepared=recorder.value))
    assert again.id == post["id"]
    assert server.count_with("utm_content=5") == 1
    assert len(server.containers) == 1


def test_a_recorded_container_published_but_not_yet_readable_is_not_published_again(
    server, adapter
):
    request = make_request(remember=Recorder())
    adapter.publish(request)
    # The read-back misses it (another marker): the container still says PUBLISHED.
    other = dataclasses.replace(request, marker="utm_content=999", prepared=request.remember.value)
    with pytest.raises(Unconfirmed, match="container was published"):
        adapter.publish(other)
    assert len(server.posts) == 1


def test_a_lost_container_answer_is_not_sent_and_a_new_container_is_made(server, adapter):
    server.fail_next("drop_after_create", route="create_container")
    recorder = Recorder()
    with pytest.raises(NotSent):
        adapter.publish(make_request(remember=recorder))
    assert recorder.value == ""
    assert server.posts == []
    adapter.publish(make_request(remember=recorder))
    assert len(server.containers) == 2  # the orphan is never published
    assert server.count_with("utm_content=5") == 1


def test_an_expired_container_is_replaced(server, adapter):
    recorder = Recorder()
    # Refused before publishing (the answer says so): nothing went out.
    server.error_next("threads_publish", 400, 100, "Param creation_id is not valid")
    with pytest.raises(Rejected):
        adapter.publish(make_request(remember=recorder))
    first = recorder.value
    server.clock = lambda: time.time() + 25 * 3600
    adapter.publish(make_request(remember=recorder, prepared=first))
    assert recorder.value != first
    assert server.count_with("utm_content=5") == 1


def test_a_container_made_for_words_since_edited_is_not_published(server, adapter):
    recorder = Recorder()
    # Refused at publishing (the post fails, its container is kept, never published).
    server.error_next("threads_publish", 400, 100, "Param creation_id is not valid")
    with pytest.raises(Rejected):
        adapter.publish(make_request(remember=recorder))
    first = recorder.value
    # A person edits the failed post and retries it: the new words go out.
    edited = make_request(text=f"Edited: a new story {LINK}", remember=recorder, prepared=first)
    adapter.publish(edited)
    [post] = server.posts
    assert post["text"] == f"Edited: a new story {LINK}"
    assert len(server.containers) == 2 and recorder.value != first
    # Unedited, the kept container itself is what goes out.
    server.error_next("threads_publish", 400, 100, "Param creation_id is not valid")
    again = make_request(post_id=7, marker="utm_content=7", remember=recorder)
    with pytest.raises(Rejected):
        adapter.publish(again)
    kept = recorder.value
    adapter.publish(dataclasses.replace(again, prepared=kept))
    assert len(server.containers) == 3
    assert server.posts[-1]["container_id"] == kept.split(":")[1]


def test_read_back_finds_the_post_by_its_marker_in_the_text_or_the_card(server, adapter):
    adapter.publish(
        make_request(
            text="No link in the words",
            post_id=12,
            marker="utm_content=12",
            link=LINK.replace("=5", "=12"),
        )
    )
    adapter.publish(make_request())
    sent = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    found = adapter.find_published(make_request(marker="utm_content=12", sent_at=sent))
    assert found is not None
    assert server.posts_with("utm_content=12")[0]["id"] == found.id
    assert adapter.find_published(make_request(marker="utm_content=1")) is None


@pytest.mark.parametrize(
    ("status", "code", "subcode", "expected"),
    [
        (400, 190, 463, AuthExpired),
        (403, 10, None, AuthExpired),
        (400, 4, None, RateLimited),
        (400, 17, None, RateLimited),
        (400, 613, None, RateLimited),
        (400, 9, 2207042, RateLimited),
        (400, 100, None, Rejected),
        (500, 1, None, NotSent),
        (503, 2, None, NotSent),
    ],
)
def test_graph_errors_on_the_container_map_to_the_engine_vocabulary(
    server, adapter, status, code, subcode, expected
):
    server.error_next("create_container", status, code, "Meta says no", subcode)
    with pytest.raises(expected) as raised:
        adapter.publish(make_request())
    assert "Meta says no" in raised.value.message
    assert f"code {code}" in raised.value.message
    assert type(raised.value) is expected


def test_a_server_error_on_publish_is_unconfirmed_and_the_publishing_limit_pauses(server, adapter):
    server.error_next("threads_publish", 500, 1, "An unknown error occurred")
    with pytest.raises(Unconfirmed):
        adapter.publish(make_request())
    server.error_next("threads_publish", 400, 9, "Too many posts", 2207042)
    with pytest.raises(RateLimited) as raised:
        adapter.publish(make_request())
    assert raised.value.retry_after == 3600


def test_a_revoked_token_says_reconnect(server, account):
    server.revoke(account.tokens["access_token"])
    with pytest.raises(AuthExpired, match="reconnect"):
        ThreadsAdapter(account, timeout=2).publish(make_request())


def test_text_counts_emoji_by_their_bytes_and_refuses_six_links():
    adapter = ThreadsAdapter(SimpleNamespace(max_characters=None, tokens={}))
    assert adapter.text_length("a🦊") == 5
    assert adapter.validate("x" * 498 + "🦊").errors  # 502
    assert adapter.validate("x" * 496 + "🦊").ok  # 500
    links = " ".join(f"https://e.example/{n}" for n in range(6))
    assert "at most 5 links" in adapter.validate(links).errors[0]


def test_metrics_are_likes_replies_reposts_quotes_and_nothing_else(server, adapter):
    first = adapter.publish(make_request())
    second = adapter.publish(make_request(post_id=6, marker="utm_content=6"))
    server.set_counts(first.id, likes=7, reposts=2, quotes=1, views=900)
    server.reply(first.id, "Lovely", as_user="reader")
    metrics = adapter.fetch_metrics([first.id, second.id, "999"])
    assert metrics[first.id].likes == 7
    assert metrics[first.id].replies == 1
    assert metrics[first.id].reposts == 2
    assert metrics[first.id].quotes == 1
    assert metrics[first.id].clicks is None
    assert metrics[second.id].likes == 0
    assert "999" not in metrics
    assert server.hits["insights"] == 3


def test_refresh_gives_another_sixty_days_once_the_token_is_a_day_old(server, account):
    adapter = ThreadsAdapter(account, timeout=2)
    with pytest.raises(AuthExpired, match="24 hours"):
        adapter.refresh(account.tokens)
    server.clock = lambda: time.time() + 2 * 86400
    new = adapter.refresh(account.tokens)
    assert new["access_token"] != account.tokens["access_token"]
    assert abs(new["expires_at"] - (time.time() + 60 * 86400)) < 60
    # The old token is spent; the new one works.
    account.tokens = new
    adapter.publish(make_request())
    assert len(server.posts) == 1


def test_an_answer_replies_to_the_item_and_is_found_again_by_its_words(server, adapter):
    root = adapter.publish(make_request())
    reply_id = server.reply(root.id, "How long is the walk?", as_user="walker")
    answer = make_request(text="About an hour.", marker="", link="", reply_ref={"id": reply_id})
    posted = adapter.publish(answer)
    mine = next(post for post in server.posts if post["id"] == posted.id)
    assert mine["replied_to_id"] == reply_id
    assert mine["root_id"] == root.id
    assert adapter.find_published(answer).id == posted.id


# --- The engine in-process: the container kept on the post ---------------------------------
@pytest.fixture
def threads_post(db, server, make_story, settings):
    from django.utils import timezone

    from syndication import states
    from syndication.models import Network, SyndicationPost
    from tests.factories import ChannelAccountFactory

    settings.SYNDICATION_HTTP_TIMEOUT = 1
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_INFLIGHT_MARGIN = 0
    user_id, token = server.create_user("brand")
    account = ChannelAccountFactory(
        network=Network.THREADS,
        instance_url="",
        remote_id=user_id,
        handle="@brand",
        tokens={"access_token": token},
    )
    now = timezone.now()
    return SyndicationPost.objects.create(
        story=make_story(),
        account=account,
        text="A story worth a read.\n\n{story_url}",
        scheduled_at=now,
        due_at=now,
        state=states.SCHEDULED,
    )


def run_due(now=None):
    from syndication import publishing

    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)), now)
    return [publishing.publish_post(post_id, claim) for post_id, claim in claimed]


def test_the_engine_keeps_the_container_and_settles_a_lost_answer_on_it(server, threads_post):
    import datetime as dt

    from django.utils import timezone

    from syndication import states
    from syndication.models import SyndicationPost

    server.fail_next("drop_after_create")
    assert run_due() == ["unconfirmed"]
    post = SyndicationPost.objects.get(pk=threads_post.pk)
    [container] = server.containers
    assert post.remote_id.startswith(f"{CONTAINER_PREFIX}{container['id']}:")
    # The next look finds it by its marker: confirmed, the post's own id replaces the
    # container's, nothing published again.
    later = timezone.now() + dt.timedelta(seconds=5)
    assert run_due(later) == ["published"]
    post = SyndicationPost.objects.get(pk=threads_post.pk)
    [published] = server.posts
    assert post.state == states.PUBLISHED
    assert post.remote_id == published["id"] and post.remote_url == published["permalink"]
    assert f"utm_content={post.pk}" in published["text"]
    assert "utm_source=threads" in published["text"]
    assert server.hits["threads_publish"] == 1
    assert len(server.containers) == 1


def test_the_engine_publishes_a_recorded_container_the_read_back_misses(server, threads_post):
    import datetime as dt

    from django.utils import timezone

    from syndication import states
    from syndication.models import SyndicationPost

    # The container is made and kept; publishing fails before anything went out.
    server.fail_next("drop_before_create")
    assert run_due() == ["unconfirmed"]
    recorded = SyndicationPost.objects.get(pk=threads_post.pk).remote_id
    assert recorded.startswith(CONTAINER_PREFIX)
    assert server.posts == []
    # Long enough ago that the first request cannot still be on its way in.
    long_ago = timezone.now() - dt.timedelta(seconds=5)
    SyndicationPost.objects.filter(pk=threads_post.pk).update(request_sent_at=long_ago)
    later = timezone.now() + dt.timedelta(seconds=5)
    assert run_due(later) == ["published"]
    [published] = server.posts
    # The same container went out: not a second one.
    assert recorded.startswith(f"{CONTAINER_PREFIX}{published['container_id']}:")
    assert len(server.containers) == 1
    assert SyndicationPost.objects.get(pk=threads_post.pk).state == states.PUBLISHED


# --- The conversation: replies join the inbox -----------------------------------------------
def test_replies_at_any_depth_join_the_inbox_once_without_our_own_answers(
    server, threads_post, settings
):
    from syndication.conversation.models import ConversationItem
    from tests.conversation.test_collect import run

    settings.SYNDICATION_HTTP_TIMEOUT = 2
    assert run_due() == ["published"]
    threads_post.refresh_from_db()
    root = threads_post.remote_id
    first = server.reply(root, "Lovely story!", as_user="alice")
    second = server.reply(root, "Is part two coming?", as_user="bob")
    nested = server.reply(first, "Agreed <b>& more</b>", as_user="carol")
    # Our own answer under alice's reply is not the public's conversation.
    adapter = ThreadsAdapter(threads_post.account, timeout=2)
    ours = adapter.publish(
        make_request(text="Thank you!", marker="", link="", reply_ref={"id": first})
    )

    outcome = run(threads_post)

    assert (outcome["outcome"], outcome["added"]) == ("collected", 3)
    replies = {row.remote_id: row for row in ConversationItem.objects.filter(post=threads_post)}
    assert set(replies) == {first, second, nested}
    assert ours.id not in replies
    assert (replies[first].parent_remote_id, replies[nested].parent_remote_id) == ("", first)
    alice = replies[first]
    assert (alice.network, alice.kind, alice.text) == ("threads", "reply", "Lovely story!")
    assert (alice.author_handle, alice.author_url) == ("@alice", "https://www.threads.com/@alice")
    assert alice.url.startswith("https://www.threads.com/@alice/post/")
    assert alice.remote_ref == {"id": first}
    assert alice.created_at is not None
    assert "<b>" not in replies[nested].html  # sanitised, never the raw text as HTML
    assert server.hits["conversation"] == 1

    again = run(threads_post)
    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert ConversationItem.objects.count() == 3


def test_an_answer_from_the_inbox_goes_out_as_a_threads_reply_once(
    server, threads_post, social_manager
):
    import datetime as dt

    from django.utils import timezone

    from syndication import states
    from syndication.conversation import answers
    from syndication.conversation.models import ConversationItem
    from tests.conversation.test_collect import run

    assert run_due() == ["published"]
    threads_post.refresh_from_db()
    asked = server.reply(threads_post.remote_id, "How long is the walk?", as_user="walker")
    run(threads_post)
    item = ConversationItem.objects.get(remote_id=asked)
    assert answers.refusal(item) == ""

    server.fail_next("drop_after_create")  # the answer's publish answer is lost
    answer = answers.answer(item, "About an hour, with a stop for tea.", user=social_manager)
    later = timezone.now() + dt.timedelta(seconds=5)
    assert run_due(later) == ["unconfirmed"]
    assert run_due(later + dt.timedelta(seconds=5)) == ["published"]

    [reply] = [post for post in server.posts if post["replied_to_id"] == asked]
    assert reply["text"] == "About an hour, with a stop for tea."
    assert reply["root_id"] == threads_post.remote_id
    answer.post.refresh_from_db()
    assert answer.post.state == states.PUBLISHED and answer.post.remote_id == reply["id"]


def test_readers_arriving_from_threads_are_their_own_channel_in_the_report(
    client, social_manager, make_story
):
    from tests.engagement.test_engagement_admin import REPORT, csv_rows, engaged

    story = make_story()
    engaged(story, 100, 40, source="threads")
    client.force_login(social_manager)
    response = client.get(REPORT, {"group": "channel", "export": "csv"})
    by_channel = {row["Channel"]: row for row in csv_rows(response)}
    assert set(by_channel) == {"Threads"}
    assert by_channel["Threads"]["Engaged reads"] == "40"
    assert client.get(REPORT, {"channel": "threads"}).status_code == 200


def test_the_daily_publishing_limit_pauses_the_account_and_is_readable(server, adapter, account):
    import requests

    server.quota_total = 2
    for number in (1, 2):
        adapter.publish(make_request(post_id=number, marker=f"utm_content={number}"))
    with pytest.raises(RateLimited, match="subcode 2207042") as raised:
        adapter.publish(make_request(post_id=3, marker="utm_content=3"))
    assert raised.value.retry_after == 3600
    assert len(server.posts) == 2
    limit = requests.get(
        f"{server.url}/v1.0/{account.remote_id}/threads_publishing_limit",
        params={"fields": "quota_usage,config"},
        headers={"Authorization": f"Bearer {account.tokens['access_token']}"},
        timeout=5,
    ).json()
    assert limit == {
        "data": [{"quota_usage": 2, "config": {"quota_total": 2, "quota_duration": 86400}}]
    }
    # A day later the window has moved on.
    server.clock = lambda: time.time() + 86401
    adapter.publish(make_request(post_id=3, marker="utm_content=3"))
    assert len(server.posts) == 3
