"""The Facebook adapter against the Graph test server, over real sockets."""

import dataclasses
import datetime
from types import SimpleNamespace

import pytest

from syndication.channels import adapter_class
from syndication.channels.base import (
    AuthExpired,
    MediaGone,
    MediaUpload,
    NotSent,
    PostMetrics,
    PublishRequest,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from syndication.channels.facebook import FacebookAdapter
from syndication.testing.facebook import PEOPLE_COUNTS, FacebookTestServer

LINK = "https://stories.example/fox/?utm_source=facebook&utm_content=5"
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 2000


@pytest.fixture
def graph(settings):
    with FacebookTestServer(slow_seconds=1.5) as server:
        settings.FACEBOOK_GRAPH_URL = server.url
        settings.FACEBOOK_DIALOG_URL = server.url
        settings.FACEBOOK_APP_ID = server.app_id
        settings.FACEBOOK_APP_SECRET = server.app_secret
        settings.FACEBOOK_API_VERSION = "v25.0"
        yield server


def page_account(server, page_id=None, token=None):
    page_id = page_id or server.page_ids[0]
    return SimpleNamespace(
        network="facebook",
        instance_url="",
        remote_id=page_id,
        handle="Storyloom Stories",
        max_characters=None,
        tokens={"access_token": token or server.page_token(page_id)},
    )


@pytest.fixture
def adapter(graph):
    return FacebookAdapter(page_account(graph), timeout=1.0)


def make_request(post_id=5, text=None, **kwargs):
    link = LINK.replace("utm_content=5", f"utm_content={post_id}")
    defaults = {
        "post_id": post_id,
        "text": f"The fox who stayed {link}" if text is None else text,
        "link": link,
        "idempotency_key": f"key-{post_id}",
        "marker": f"utm_content={post_id}",
    }
    defaults.update(kwargs)
    return PublishRequest(**defaults)


def test_the_registry_names_this_adapter():
    assert adapter_class("facebook") is FacebookAdapter


def test_a_link_post_goes_to_the_pages_feed_with_its_link(graph, adapter):
    remote = adapter.publish(make_request())

    [post] = graph.posts
    assert post["page_id"] == graph.page_ids[0]
    assert post["message"] == f"The fox who stayed {LINK}"
    assert post["link"] == LINK
    assert remote.id == post["id"]
    page, number = post["id"].split("_")
    assert remote.url == f"https://www.facebook.com/{page}/posts/{number}"
    assert set(graph.versions_seen) == {"v25.0"}


def test_a_message_without_the_story_link_gets_it_so_it_can_be_found_again(graph, adapter):
    adapter.publish(make_request(text="No link in here"))

    [post] = graph.posts
    assert post["message"] == f"No link in here\n\n{LINK}"
    assert graph.count_with("utm_content=5") == 1


def test_a_photo_post_uploads_unpublished_then_attaches_it(graph, adapter):
    upload = MediaUpload(data=JPEG, mime="image/jpeg", width=800, height=600, alt="A red fox")
    attachment = adapter.upload_media(upload)
    assert graph.posts == []
    [photo] = graph.photos
    assert photo["id"] == attachment.id
    assert (photo["published"], photo["alt_text"], photo["size"]) == (False, "A red fox", len(JPEG))

    remote = adapter.publish(make_request(media=(attachment,)))

    [post] = graph.posts
    assert post["photos"] == [attachment.id]
    assert post["link"] == ""  # the picture shows instead of a link card
    assert "utm_content=5" in post["message"]
    assert remote.id == post["id"]


def test_pictures_facebook_forgot_are_uploaded_again(graph, adapter):
    upload = MediaUpload(data=JPEG, mime="image/jpeg", width=800, height=600)
    attachment = adapter.upload_media(upload)
    assert graph.expire_photos() == 1

    with pytest.raises(MediaGone):
        adapter.publish(make_request(media=(attachment,)))
    assert graph.posts == []


def test_an_upload_that_is_not_a_picture_is_refused(graph, adapter):
    with pytest.raises(Rejected, match="324"):
        adapter.upload_media(MediaUpload(data=b"text", mime="image/jpeg", width=1, height=1))


@pytest.mark.parametrize("fault", ["drop_after_create", "timeout_after_create", "500_after_create"])
def test_a_lost_answer_is_unconfirmed_and_read_back_finds_the_one_post(graph, adapter, fault):
    graph.fail_next(fault)
    sent_at = datetime.datetime.now(datetime.UTC)
    request = make_request(sent_at=sent_at)

    with pytest.raises(Unconfirmed):
        adapter.publish(request)
    assert graph.count_with("utm_content=5") == 1

    found = adapter.find_published(request)
    [post] = graph.posts
    assert found is not None and found.id == post["id"]
    # Another post's marker is not this one's.
    assert adapter.find_published(make_request(post_id=50, sent_at=sent_at)) is None
    assert graph.count_with("utm_content=5") == 1


def test_read_back_pages_through_to_the_time_it_was_sent(graph, adapter):
    graph.require_appsecret_proof = True  # the next page's address keeps the proof
    sent_at = datetime.datetime.now(datetime.UTC)
    adapter.publish(make_request(post_id=7))
    for number in range(1000, 1150):
        adapter.publish(make_request(post_id=number))

    found = adapter.find_published(make_request(post_id=7, sent_at=sent_at))

    assert found is not None
    assert found.id == graph.posts_with("utm_content=7")[0]["id"]
    assert graph.hits["read_feed"] == 2  # 100 a page: the second page has it


def test_read_back_without_a_sent_time_reads_one_page(graph, adapter):
    adapter.publish(make_request(post_id=7))
    for number in range(1000, 1100):
        adapter.publish(make_request(post_id=number))

    assert adapter.find_published(make_request(post_id=7)) is None
    assert graph.hits["read_feed"] == 1


def test_a_resend_refused_as_a_duplicate_is_our_earlier_post(graph, adapter):
    first = adapter.publish(make_request())

    again = adapter.publish(make_request())

    assert again == first
    assert graph.count_with("utm_content=5") == 1


def test_a_duplicate_we_cannot_find_is_refused_for_good(graph, adapter):
    graph.fail_next("duplicate")
    with pytest.raises(Rejected, match="duplicate"):
        adapter.publish(make_request())
    assert graph.posts == []


@pytest.mark.parametrize(
    ("fault", "expected", "code"),
    [
        ("throttle_4", RateLimited, 4),
        ("throttle_17", RateLimited, 17),
        ("throttle_32", RateLimited, 32),
        ("throttle_613", RateLimited, 613),
        ("token_expired", AuthExpired, 190),
        ("token_invalid", AuthExpired, 190),
        ("password_changed", AuthExpired, 190),
        ("permission", AuthExpired, 200),
        ("500", Unconfirmed, 1),
        ("503", Unconfirmed, 2),
    ],
)
def test_graph_errors_on_a_create_map_to_what_they_mean(graph, adapter, fault, expected, code):
    graph.fail_next(fault)
    with pytest.raises(expected) as raised:
        adapter.publish(make_request())
    assert type(raised.value) is expected
    assert raised.value.graph_code == code
    assert f"code {code}" in raised.value.message
    assert graph.posts == []


def test_token_errors_carry_their_subcode(graph, adapter):
    graph.fail_next("password_changed")
    with pytest.raises(AuthExpired) as raised:
        adapter.publish(make_request())
    assert raised.value.graph_subcode == 460
    assert "reconnect the Page" in raised.value.message


@pytest.mark.parametrize("fault", ["timeout_before_create", "drop_before_create"])
def test_a_create_that_got_no_answer_is_unconfirmed(graph, adapter, fault):
    graph.fail_next(fault)
    with pytest.raises(Unconfirmed):
        adapter.publish(make_request())
    assert graph.posts == []


def test_a_transient_error_while_reading_is_only_not_sent(graph, adapter):
    graph.fail_next("500", route="read_feed")
    with pytest.raises(NotSent) as raised:
        adapter.find_published(make_request(sent_at=datetime.datetime.now(datetime.UTC)))
    assert type(raised.value) is NotSent


def test_a_page_throttle_waits_as_long_as_facebook_says(graph, adapter):
    graph.throttle_minutes = 3
    graph.fail_next("throttle_32")
    with pytest.raises(RateLimited) as raised:
        adapter.publish(make_request())
    assert raised.value.retry_after == 180


def test_an_expired_page_token_is_auth_expired(graph):
    token = graph.page_token(graph.page_ids[0])
    graph.expire(token)
    adapter = FacebookAdapter(page_account(graph, token=token), timeout=1.0)
    with pytest.raises(AuthExpired, match="subcode 463"):
        adapter.publish(make_request())


def test_a_token_without_the_posting_permission_is_refused(graph):
    token = graph.page_token(graph.page_ids[0], scopes=("pages_show_list",))
    adapter = FacebookAdapter(page_account(graph, token=token), timeout=1.0)
    with pytest.raises(AuthExpired, match="pages_manage_posts"):
        adapter.publish(make_request())


def test_appsecret_proof_goes_with_every_call(settings, graph):
    graph.require_appsecret_proof = True
    adapter = FacebookAdapter(page_account(graph), timeout=1.0)
    request = make_request(sent_at=datetime.datetime.now(datetime.UTC))
    adapter.publish(request)
    assert adapter.find_published(request) is not None
    settings.FACEBOOK_APP_SECRET = "not-the-secret"
    with pytest.raises(Rejected, match="appsecret_proof"):
        FacebookAdapter(page_account(graph), timeout=1.0).publish(make_request(post_id=6))


def test_metrics_are_reactions_comments_and_shares_of_each_post(graph, adapter):
    shared = adapter.publish(make_request(post_id=1))
    quiet = adapter.publish(make_request(post_id=2))
    graph.set_engagement(shared.id, reactions={"LIKE": 4, "LOVE": 2, "WOW": 1}, shares=3)
    first = graph.comment(shared.id, "Lovely story")
    graph.comment(first, "Agreed")
    graph.comment(shared.id, "Thanks!")

    metrics = adapter.fetch_metrics([shared.id, quiet.id, f"{graph.page_ids[0]}_999"])

    assert set(metrics) == {shared.id, quiet.id}  # a deleted post is left out
    assert (metrics[shared.id].likes, metrics[shared.id].reposts) == (7, 3)
    assert metrics[shared.id].replies == 3  # every comment, the reply to one included
    assert metrics[shared.id].clicks is None
    assert (metrics[quiet.id].likes, metrics[quiet.id].replies, metrics[quiet.id].reposts) == (
        0,
        0,
        0,
    )
    assert {f.name for f in dataclasses.fields(PostMetrics)} == {
        "reposts",
        "replies",
        "likes",
        "quotes",
        "clicks",
    }


def test_no_field_the_adapter_asks_for_is_a_count_of_people(graph, adapter):
    request = make_request(sent_at=datetime.datetime.now(datetime.UTC))
    remote = adapter.publish(request)
    adapter.find_published(request)
    adapter.fetch_metrics([remote.id])

    asked = [fields for _route, fields in graph.requested_fields]
    assert len(asked) == 3
    assert not any(PEOPLE_COUNTS.search(fields) for fields in asked)
    assert graph.refused_fields == []


def test_validate_counts_characters_and_needs_a_message(adapter):
    assert adapter.validate("a" * 63206).ok
    assert not adapter.validate("a" * 63207).ok
    assert adapter.validate("").errors == ["Write something: a Facebook Page post needs a message."]


# --- answering a comment (the conversation inbox) ----------------------------------------
def answer_request(graph, comment_id, text="Ten minutes, with the heating off.", **ref):
    ref = {"id": comment_id, **ref}
    return PublishRequest(
        post_id=9, text=text, link="", idempotency_key="k-9", marker="", reply_ref=ref
    )


@pytest.fixture
def commented(graph, adapter):
    remote = adapter.publish(make_request())
    top = graph.comment(remote.id, "How long does it take?", name="Dan Example")
    return remote.id, top


def test_an_answer_is_a_reply_by_the_page_under_the_comment(graph, adapter, commented):
    post_id, top = commented
    request = answer_request(graph, top, object=post_id)

    remote = adapter.publish(request)

    answer = graph._comments[remote.id]
    assert answer["parent_id"] == top and answer["post_id"] == post_id
    assert answer["from"] == {"name": "Storyloom Stories", "id": graph.page_ids[0]}
    assert answer["message"] == "Ten minutes, with the heating off."
    assert remote.url == f"https://www.facebook.com/{post_id}?comment_id={remote.id}"
    assert len(graph.posts) == 1  # an answer is not a Page post


def test_an_answer_to_a_reply_goes_under_its_threads_top_comment(graph, adapter, commented):
    post_id, top = commented
    reply = graph.comment(top, "Same question", name="Eve Example")

    remote = adapter.publish(answer_request(graph, reply, object=post_id, thread=top))

    assert graph._comments[remote.id]["parent_id"] == top


def test_a_lost_answer_is_found_again_by_reading_the_replies(graph, adapter, commented):
    post_id, top = commented
    request = answer_request(graph, top, object=post_id)
    assert adapter.find_published(request) is None
    graph.fail_next("drop_after_create", route="reply")

    with pytest.raises(Unconfirmed):
        adapter.publish(request)

    found = adapter.find_published(request)
    [answer] = [c for c in graph._comments.values() if c["parent_id"] == top]
    assert found is not None and found.id == answer["id"]
    # Someone else saying the same is not our answer.
    graph.comment(top, "Other words", name="Fay Example")
    assert adapter.find_published(answer_request(graph, top, "Other words")) is None


def test_an_answer_without_a_comment_id_is_refused(adapter):
    with pytest.raises(Rejected, match="comment's id"):
        adapter.publish(
            PublishRequest(
                post_id=9, text="Hi", link="", idempotency_key="k", reply_ref={"id": "x"}
            )
        )
