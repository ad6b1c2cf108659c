"""Pictures on Bluesky against the AT Protocol reference network (issue 21).

The real PDS stores each blob (``com.atproto.sync.getBlob`` gives back the bytes sent),
the record refers to it with its alt text and aspect ratio, a link post's card carries
the story's hero image as its thumbnail, and a lost answer to the create still makes
one record with pictures uploaded once.
"""

import io
import time

from django.core.files.images import ImageFile
from django.utils import timezone

import pytest
import requests
from PIL import Image as PILImage

from syndication import connect, states
from syndication.channels.bluesky import record_key
from syndication.models import ChannelAccount, PostPicture, SyndicationPost
from tests.factories import ImageFactory

from .proxy import LossyProxy
from .test_devenv import reload, run_due, stored_posts, xrpc

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 10
    settings.SYNDICATION_RECONCILE_AFTER = 0
    settings.SYNDICATION_RETRY_BASE = 1
    settings.SYNDICATION_RETRY_CAP = 2


@pytest.fixture(autouse=True)
def fresh_renditions():
    """Wagtail caches renditions by image id, and a rolled-back test's ids come again
    (SQLite): each test starts with none."""
    from django.core.cache import caches

    caches["renditions"].clear()


@pytest.fixture
def alice(atproto):
    return connect.bluesky_connect("alice.test", atproto.accounts["alice"]["appPassword"])


UPLOAD = "/xrpc/com.atproto.repo.uploadBlob"


def photo(width, height, colour, name):
    output = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(output, "JPEG", quality=92)
    return ImageFactory(file=ImageFile(io.BytesIO(output.getvalue()), name=name))


def blob_bytes(network, did, cid) -> bytes:
    answer = requests.get(
        f"{network.pds}/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": cid}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.content


def the_record(network, post) -> dict:
    did = network.accounts["alice"]["did"]
    rkey = record_key(str(post.idempotency_key))
    return xrpc(
        network.pds,
        "com.atproto.repo.getRecord",
        repo=did,
        collection="app.bsky.feed.post",
        rkey=rkey,
    )["value"]


@pytest.fixture
def post_for(make_story):
    def make(account, pictures=(), **story):
        now = timezone.now()
        story.setdefault("title", "The cat who stayed")
        story.setdefault("intro", "A story about staying put.")
        post = SyndicationPost.objects.create(
            story=make_story(**story),
            account=account,
            text="Meet the neighbours.\n\n{story_url}",
            scheduled_at=now,
            due_at=now,
            state=states.SCHEDULED,
        )
        for position, (image, alt) in enumerate(pictures):
            PostPicture.objects.create(post=post, image=image, position=position, alt_text=alt)
        return post

    return make


def test_the_pds_stores_the_blobs_and_the_record_refers_to_them(atproto, alice, post_for):
    cat, dog = photo(2400, 1600, "orange", "cat.jpg"), photo(900, 1200, "brown", "dog.jpg")
    post = post_for(alice, [(cat, "A ginger cat on a wall"), (dog, "A dog asleep")])
    assert run_due() == ["published"]
    post = reload(post)
    did = atproto.accounts["alice"]["did"]
    record = the_record(atproto, post)
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == ["A ginger cat on a wall", "A dog asleep"]
    assert [image["aspectRatio"] for image in embed["images"]] == [
        {"width": 2000, "height": 1333},
        {"width": 900, "height": 1200},
    ]
    # The link stays a facet of the text; a record has one embed, and it is the pictures.
    assert any(
        feature["$type"] == "app.bsky.richtext.facet#link"
        for facet in record["facets"]
        for feature in facet["features"]
    )
    for image, picture in zip(
        embed["images"], PostPicture.objects.filter(post=post).order_by("position"), strict=True
    ):
        cid = image["image"]["ref"]["$link"]
        assert picture.remote_media_id == cid
        stored = blob_bytes(atproto, did, cid)
        assert len(stored) == image["image"]["size"] == picture.remote_ref["sent"]["bytes"]
        assert len(stored) <= 1_000_000
        assert image["image"]["mimeType"] == "image/jpeg"
        assert PILImage.open(io.BytesIO(stored)).size == (
            image["aspectRatio"]["width"],
            image["aspectRatio"]["height"],
        )
    # What readers see: the AppView's view of the post, pictures with their alt text.
    atproto.process_all()
    (view,) = xrpc(atproto.appview, "app.bsky.feed.getPosts", uris=[post.remote_id])["posts"]
    assert view["embed"]["$type"] == "app.bsky.embed.images#view"
    assert [image["alt"] for image in view["embed"]["images"]] == [
        "A ginger cat on a wall",
        "A dog asleep",
    ]


def test_a_link_post_gets_the_hero_as_its_card_thumbnail(atproto, alice, post_for):
    hero = photo(1600, 900, "teal", "hero.jpg")
    post = post_for(alice, hero_image=hero)
    assert run_due() == ["published"]
    post = reload(post)
    external = the_record(atproto, post)["embed"]["external"]
    assert external["title"] == "The cat who stayed"
    card = PostPicture.objects.get(post=post, role=PostPicture.Role.CARD)
    assert (card.image_id, card.source) == (hero.pk, PostPicture.Source.HERO)
    assert external["thumb"]["ref"]["$link"] == card.remote_media_id
    stored = blob_bytes(atproto, atproto.accounts["alice"]["did"], card.remote_media_id)
    assert PILImage.open(io.BytesIO(stored)).size == (1600, 900)
    atproto.process_all()
    (view,) = xrpc(atproto.appview, "app.bsky.feed.getPosts", uris=[post.remote_id])["posts"]
    assert view["embed"]["$type"] == "app.bsky.embed.external#view"
    assert view["embed"]["external"]["thumb"]


def test_a_lost_answer_on_create_makes_one_record_and_uploads_once(atproto, alice, post_for):
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))
    cat = photo(1200, 800, "orange", "cat.jpg")
    with LossyProxy(atproto.pds) as proxy:
        ChannelAccount.objects.filter(pk=alice.pk).update(instance_url=proxy.url)
        proxy.drop_creates = True
        alice.refresh_from_db()
        post = post_for(alice, [(cat, "A ginger cat")])
        assert run_due() == ["published"]
        assert proxy.dropped == 1
        # Looked at again, as a worker finding it unconfirmed would: read back at its
        # record key, found; nothing uploaded or written again.
        SyndicationPost.objects.filter(pk=post.pk).update(
            state=states.UNCONFIRMED, due_at=timezone.now()
        )
        assert run_due() == ["published"]
        uploads = [path for _m, path, _s, _h in proxy.forwarded if path == UPLOAD]
    assert len(uploads) == 1
    posts = stored_posts(atproto, did)
    assert len(posts) == before + 1
    post = reload(post)
    [mine] = [record for record in posts if record["uri"] == post.remote_id]
    assert mine["value"]["embed"]["images"][0]["alt"] == "A ginger cat"


def test_a_resend_reuses_the_recorded_blob(atproto, alice, post_for, settings):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    settings.SYNDICATION_INFLIGHT_MARGIN = 0
    did = atproto.accounts["alice"]["did"]
    before = len(stored_posts(atproto, did))
    cat = photo(1200, 800, "orange", "cat.jpg")
    with LossyProxy(atproto.pds) as proxy:
        ChannelAccount.objects.filter(pk=alice.pk).update(instance_url=proxy.url)
        proxy.fail_creates = 1
        alice.refresh_from_db()
        post = post_for(alice, [(cat, "A ginger cat")])
        assert run_due() == ["unconfirmed"]
        recorded = PostPicture.objects.get(post=post)
        assert recorded.uploaded_at is not None
        # Once the first create cannot still be on its way, the read-back misses it
        # and the post is sent again, with the blob uploaded the first time.
        time.sleep(1.2)
        SyndicationPost.objects.filter(pk=post.pk).update(due_at=timezone.now())
        assert run_due() == ["published"]
        uploads = [path for _m, path, _s, _h in proxy.forwarded if path == UPLOAD]
    assert len(uploads) == 1
    assert len(stored_posts(atproto, did)) == before + 1
    record = the_record(atproto, reload(post))
    assert record["embed"]["images"][0]["image"]["ref"]["$link"] == recorded.remote_media_id
