"""Pictures published once on Mastodon, over real HTTP to the test server (issue 21).

Uploads before the create, each recorded at once; a retry, a lost answer, a 202 still
processing and uploads the server has since deleted all end in one status with the
pictures, uploaded once (or, when the server lost them, once more).
"""

import dataclasses
import io
import os

from django.core.files.images import ImageFile
from django.utils import timezone

import pytest
from PIL import Image as PILImage

from syndication import publishing, states
from syndication.channels import fediverse
from syndication.models import PostAttempt, PostPicture, SyndicationPost
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import ChannelAccountFactory, ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_renditions():
    """Wagtail caches renditions by image id, and a rolled-back test's ids come again
    (SQLite): each test starts with none."""
    from django.core.cache import caches

    caches["renditions"].clear()


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_MAX_FAILURES = 4
    settings.SYNDICATION_MEDIA_POLLS = 4


def photo(width=2400, height=1600, colour=(200, 80, 40), name="photo.jpg", noise=False, **fields):
    output = io.BytesIO()
    if noise:
        picture = PILImage.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        picture = PILImage.new("RGB", (width, height), colour)
    picture.save(output, "JPEG", quality=90)
    return ImageFactory(file=ImageFile(io.BytesIO(output.getvalue()), name=name), **fields)


def account_on(server, username="brand"):
    remote_id, token = server.create_account(username)
    return ChannelAccountFactory(
        instance_url=server.url,
        remote_id=remote_id,
        handle=f"@{username}",
        tokens={"access_token": token},
    )


@pytest.fixture
def post_with(make_story):
    def make(account, images, alts=None):
        now = timezone.now()
        post = SyndicationPost.objects.create(
            story=make_story(),
            account=account,
            text="Look at this.\n\n{story_url}",
            scheduled_at=now,
            due_at=now,
            state=states.SCHEDULED,
        )
        for position, image in enumerate(images):
            PostPicture.objects.create(
                post=post,
                image=image,
                position=position,
                alt_text=(alts or [f"Picture {position + 1}"] * len(images))[position],
            )
        return post

    return make


def run(post):
    """Claim every due post and publish this one, as one dispatch and one task would."""
    claim, ids = publishing.claim_due_posts()
    assert post.pk in ids
    return publishing.publish_post(post.pk, claim)


def make_due(post):
    """Due now, and the account no longer paused by a 429."""
    SyndicationPost.objects.filter(pk=post.pk).update(due_at=timezone.now())
    type(post.account).objects.filter(pk=post.account_id).update(paused_until=None)


def test_two_pictures_go_out_with_their_descriptions_and_focus(post_with):
    with MastodonTestServer() as server:
        account = account_on(server)
        cat = photo(name="cat.jpg")
        cat.focal_point_x, cat.focal_point_y = 1800, 400
        cat.focal_point_width = cat.focal_point_height = 200
        cat.save()
        post = post_with(account, [cat, photo(800, 800)], ["A ginger cat", "A dog asleep"])
        assert run(post) == "published"
        [status] = server.statuses
        attachments = status["media_attachments"]
        assert [a["description"] for a in attachments] == ["A ginger cat", "A dog asleep"]
        assert attachments[0]["meta"]["original"]["width"] == 2000
        assert attachments[0]["meta"]["focus"] == {"x": 0.5, "y": 0.5}
        assert server.media_uploads == 2
        received = {m["id"]: m for m in server.media}
        first = PostPicture.objects.get(post=post, position=0)
        assert first.uploaded_at is not None
        assert first.remote_media_id == attachments[0]["id"]
        assert first.remote_ref["sent"]["bytes"] == received[first.remote_media_id]["bytes"]
        assert received[first.remote_media_id]["mime"] == "image/jpeg"
        assert first.remote_ref["sent"]["spec"] == "max-2000x2000|format-jpeg|jpegquality-85"


def test_a_retry_reuses_the_recorded_uploads(post_with):
    with MastodonTestServer() as server:
        account = account_on(server)
        post = post_with(account, [photo(), photo(900, 600)])
        server.fail_next("429")
        assert run(post) == "retry"
        assert server.media_uploads == 2 and server.statuses == []
        assert PostPicture.objects.filter(post=post, uploaded_at__isnull=False).count() == 2
        make_due(post)
        assert run(post) == "published"
        assert server.media_uploads == 2
        [status] = server.statuses
        assert len(status["media_attachments"]) == 2


def test_a_lost_answer_on_the_create_is_read_back_and_published_once(post_with):
    with MastodonTestServer() as server:
        account = account_on(server)
        post = post_with(account, [photo()])
        server.fail_next("drop_after_create")
        assert run(post) == "unconfirmed"
        assert len(server.statuses) == 1
        make_due(post)
        assert run(post) == "published"
        post.refresh_from_db()
        [status] = server.statuses
        assert post.remote_id == status["id"]
        assert len(status["media_attachments"]) == 1
        assert server.media_uploads == 1
        assert post.attempts.last().outcome == PostAttempt.Outcome.CONFIRMED


def test_a_lost_answer_on_a_server_without_idempotency_is_found_not_resent(post_with, settings):
    settings.SYNDICATION_INFLIGHT_MARGIN = 0
    with MastodonTestServer(profile=profiles.TAKAHE) as server:
        account = account_on(server)
        post = post_with(account, [photo()])
        server.fail_next("500_after_create")
        assert run(post) == "unconfirmed"
        make_due(post)
        assert run(post) == "published"
        assert len(server.statuses) == 1 and server.media_uploads == 1
        assert server.duplicates() == {}


def test_processing_is_polled_until_ready(post_with):
    with MastodonTestServer(media_processing_polls=3) as server:
        account = account_on(server)
        post = post_with(account, [photo()])
        assert run(post) == "published"
        assert server.hits["media_item"] == 3
        [status] = server.statuses
        assert status["media_attachments"][0]["url"]


def test_still_processing_waits_with_a_reason_and_keeps_the_upload(post_with, settings):
    settings.SYNDICATION_MEDIA_POLLS = 2
    with MastodonTestServer(media_processing_polls=4) as server:
        account = account_on(server)
        post = post_with(account, [photo()])
        assert run(post) == "retry"
        post.refresh_from_db()
        assert "still processing picture 1" in post.last_error
        picture = PostPicture.objects.get(post=post)
        assert picture.remote_ref["ready"] is False
        assert server.statuses == []
        make_due(post)
        assert run(post) == "published"
        assert server.media_uploads == 1
        assert PostPicture.objects.get(post=post).remote_ref["ready"] is True


def test_uploads_the_server_deleted_are_uploaded_again(post_with):
    with MastodonTestServer() as server:
        account = account_on(server)
        post = post_with(account, [photo(), photo(600, 900)])
        server.fail_next("429")
        assert run(post) == "retry"
        old = set(PostPicture.objects.filter(post=post).values_list("remote_media_id", flat=True))
        assert server.expire_media() == 2
        make_due(post)
        assert run(post) == "published"
        assert server.media_uploads == 4
        [status] = server.statuses
        new = {a["id"] for a in status["media_attachments"]}
        assert len(new) == 2 and not new & old
        assert post.attempts.filter(message__contains="uploading them again").exists()


def test_the_server_refuses_unknown_media_ids():
    import requests

    with MastodonTestServer() as server:
        _, token = server.create_account("brand")
        response = requests.post(
            f"{server.url}/api/v1/statuses",
            data={"status": "Hello", "media_ids[]": ["110000000000000999"]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert response.status_code == 422
        assert "not found" in response.json()["error"]
        assert server.statuses == []


def test_a_picture_deleted_after_scheduling_makes_the_post_wait(post_with):
    with MastodonTestServer() as server:
        account = account_on(server)
        image = photo()
        post = post_with(account, [photo(), image])
        image.delete()
        assert PostPicture.objects.get(post=post, position=1).image is None
        assert run(post) == "waiting"
        post.refresh_from_db()
        assert post.state == states.SCHEDULED and post.due_at is None
        assert post.last_error == (
            "a picture was deleted after scheduling; choose another or remove it"
        )
        # Nothing half-published: not even the pictures that are still there.
        assert server.statuses == [] and server.media_uploads == 0


def test_a_file_the_server_refuses_as_too_large_fails_with_a_clear_reason(post_with):
    small = dataclasses.replace(
        profiles.MASTODON_4, media={**profiles.MASTODON_4.media, "image_size_limit": 20_000}
    )
    with MastodonTestServer(profile=small) as server:
        # Detected before the server lowered its limit: Storyloom fits to what it knows.
        account = account_on(server)
        account.remember_server(fediverse.profile_for("mastodon", "4.3.0", {}))
        post = post_with(account, [photo(noise=True)])
        assert run(post) == "failed"
        post.refresh_from_db()
        assert post.last_error.startswith("Mastodon on 127.0.0.1")
        assert "refused picture 1 as too large (HTTP 413" in post.last_error
        assert "2000 × 1333 JPEG" in post.last_error
        assert server.statuses == []


def test_limits_are_detected_from_the_instance_document():
    from syndication.channels.mastodon import instance_info

    expected = {
        "mastodon-4": (16_777_216, 33_177_600, 4),
        "mastodon-3": (10_485_760, 16_777_216, 4),
        "gotosocial": (41_943_040, 16_777_216, 6),
        "akkoma": (16_000_000, 0, 0),
        "takahe": (10_485_760, 4_000_000, 4),
        "unknown": (0, 0, 4),
    }
    for name, (size, matrix, count) in expected.items():
        with MastodonTestServer(profile=profiles.PROFILES[name]) as server:
            profile = instance_info(server.url).profile
            found = (
                profile.media_size_limit,
                profile.media_matrix_limit,
                profile.max_media_attachments,
            )
            assert found == (size, matrix, count), name


def test_the_link_card_is_the_audiences_picture_else_the_hero(make_story):
    from syndication import uploads
    from syndication.models import Network
    from tests.factories import AudienceInterestFactory

    cats = AudienceInterestFactory(name="Cat owners", slug="cat-owners")
    hero, cat = photo(name="hero.jpg"), photo(name="cat.jpg")
    story = make_story(hero_image=hero, interests=[cats])
    variant = {
        "interest": cats.pk,
        "content": {
            "caption": "",
            "text": "<p>A cat in the airing cupboard.</p>",
            "image": {"image": cat.pk, "alt_text": "A ginger cat", "decorative": False},
        },
    }
    story.body = [
        {
            "type": "audience",
            "id": "a1",
            "value": {
                "default": {"caption": "", "text": "<p>Kiwi the budgie.</p>"},
                "variants": [{"type": "item", "id": "v1", "value": variant}],
            },
        }
    ]
    story.save()
    cat_people = ChannelAccountFactory(network=Network.BLUESKY, audience_interest=cats)
    everyone = ChannelAccountFactory(network=Network.BLUESKY, remote_id="did:plc:everyone")
    now = timezone.now()
    made = {}
    for name, account in (("cats", cat_people), ("all", everyone)):
        post = SyndicationPost.objects.create(
            story=story, account=account, text="{story_url}", scheduled_at=now
        )
        made[name] = uploads._card(post)
    assert (made["cats"].image_id, made["cats"].source) == (cat.pk, PostPicture.Source.AUDIENCE)
    assert (made["all"].image_id, made["all"].source) == (hero.pk, PostPicture.Source.HERO)
    assert made["cats"].role == PostPicture.Role.CARD


@pytest.mark.parametrize(
    ("family", "size_limit"),
    [
        ("gotosocial", 41_943_040),
        ("akkoma", 16_000_000),
        ("pleroma", 16_000_000),
        ("takahe", 10_485_760),
        ("sharkey", 0),  # says nothing: conservative limits apply
    ],
)
def test_every_family_gets_its_picture_once(post_with, family, size_limit):
    with MastodonTestServer(profile=profiles.PROFILES[family]) as server:
        account = account_on(server)
        post = post_with(account, [photo(2000, 2000)], ["A square of orange"])
        assert run(post) == "published"
        [status] = server.statuses
        [attached] = status["media_attachments"]
        assert attached["description"] == "A square of orange"
        assert attached["meta"]["original"]["width"] == 2000
        # The server's limits were learned before fitting (Akkoma's from upload_limit).
        account.refresh_from_db()
        assert account.server_profile["media_size_limit"] == size_limit
