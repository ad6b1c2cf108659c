"""Pictures through the X, LinkedIn and Bluesky adapters, against recorded shapes of
their APIs' answers (issue 21). Mastodon and Bluesky also run against real servers:
test_publish_pictures.py and atproto/test_pictures.py."""

import json
from types import SimpleNamespace

import pytest
import responses

from syndication.channels.base import (
    Attachment,
    MediaGone,
    MediaUpload,
    NotSent,
    PublishRequest,
    Rejected,
)
from syndication.channels.bluesky import BlueskyAdapter
from syndication.channels.linkedin import LinkedInAdapter
from syndication.channels.x import XAdapter

X_API = "https://api.x.com/2"
REST = "https://api.linkedin.com/rest"
UPLOAD_URL = "https://www.linkedin.com/dms-uploads/sp/v2/D4E10AQ/uploaded-image/0?ca=vector"
IMAGE_URN = "urn:li:image:D4E10AQFjeM5C0sNpkg"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture(autouse=True)
def network_settings(settings):
    settings.X_CONSUMER_KEY = "consumer-key"
    settings.X_CONSUMER_SECRET = "consumer-secret"
    settings.LINKEDIN_API_VERSION = "202601"
    return settings


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def upload(alt="A ginger cat on a wall"):
    return MediaUpload(data=JPEG, mime="image/jpeg", width=2000, height=1333, alt=alt)


def request(**kwargs):
    defaults = {
        "post_id": 7,
        "text": "Meet the cat https://stories.example/cat/?utm_content=7",
        "link": "https://stories.example/cat/?utm_content=7",
        "idempotency_key": "0b7e8f0c-2d1e-4c3b-9a8f-7e6d5c4b3a21",
        "marker": "utm_content=7",
        "link_title": "The cat who stayed",
    }
    return PublishRequest(**{**defaults, **kwargs})


def header(sent, name) -> str:
    """A request header as text (OAuth1Session signs with bytes headers)."""
    value = sent.headers[name]
    return value.decode("ascii") if isinstance(value, bytes) else value


def x_adapter():
    account = SimpleNamespace(
        network="x",
        instance_url="",
        remote_id="1577409848318033920",
        handle="storyloom",
        max_characters=None,
        tokens={"oauth_token": "1-user", "oauth_token_secret": "secret"},
    )
    return XAdapter(account)


def linkedin_adapter():
    account = SimpleNamespace(
        network="linkedin",
        instance_url="",
        remote_id="urn:li:organization:2414183",
        handle="Storyloom",
        max_characters=None,
        tokens={"access_token": "AQX-access"},
    )
    return LinkedInAdapter(account)


# --- X -------------------------------------------------------------------------------------
def test_x_uploads_the_picture_then_its_alt_text(api):
    api.post(
        f"{X_API}/media/upload",
        json={
            "data": {
                "id": "1880028106020515840",
                "media_key": "3_1880028106020515840",
                "size": len(JPEG),
                "expires_after_secs": 86400,
                "image": {"image_type": "image/jpeg", "w": 2000, "h": 1333},
            }
        },
    )
    api.post(
        f"{X_API}/media/metadata",
        json={"data": {"id": "1880028106020515840", "associated_metadata": {}}},
    )
    attachment = x_adapter().upload_media(upload())
    assert attachment.id == "1880028106020515840"
    sent = api.calls[0].request
    assert header(sent, "Content-Type").startswith("multipart/form-data")
    assert b'name="media_category"' in sent.body and b"tweet_image" in sent.body
    assert JPEG in sent.body
    assert header(sent, "Authorization").startswith("OAuth ")
    metadata = json.loads(api.calls[1].request.body)
    assert metadata == {
        "id": "1880028106020515840",
        "metadata": {"alt_text": {"text": "A ginger cat on a wall"}},
    }


def test_x_posts_name_the_media_ids(api):
    api.post(f"{X_API}/tweets", json={"data": {"id": "1445880548472328192", "text": "…"}})
    media = (Attachment(id="1880028106020515840"), Attachment(id="1880028106020515841"))
    x_adapter().publish(request(media=media))
    body = json.loads(api.calls[0].request.body)
    assert body["media"] == {"media_ids": ["1880028106020515840", "1880028106020515841"]}


def test_x_refusing_expired_media_ids_means_upload_again(api):
    api.post(
        f"{X_API}/tweets",
        status=400,
        json={
            "errors": [{"message": "Your media IDs are invalid."}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    with pytest.raises(MediaGone):
        x_adapter().publish(request(media=(Attachment(id="1880028106020515840"),)))


def test_x_upload_without_an_id_is_not_sent(api):
    api.post(f"{X_API}/media/upload", json={"errors": [{"message": "oops"}]})
    with pytest.raises(NotSent, match="without a media id"):
        x_adapter().upload_media(upload(alt=""))


# --- LinkedIn --------------------------------------------------------------------------------
def test_linkedin_initializes_the_upload_then_puts_the_bytes(api):
    api.post(
        f"{REST}/images?action=initializeUpload",
        json={
            "value": {
                "uploadUrlExpiresAt": 1_650_567_510_704,
                "uploadUrl": UPLOAD_URL,
                "image": IMAGE_URN,
            }
        },
    )
    api.put(UPLOAD_URL, status=201)
    attachment = linkedin_adapter().upload_media(upload())
    assert attachment.id == IMAGE_URN
    first = api.calls[0].request
    assert json.loads(first.body) == {
        "initializeUploadRequest": {"owner": "urn:li:organization:2414183"}
    }
    assert first.headers["LinkedIn-Version"] == "202601"
    put = api.calls[1].request
    assert put.body == JPEG
    assert put.headers["Authorization"] == "Bearer AQX-access"


def test_linkedin_post_with_a_picture_carries_it_instead_of_the_article():
    media = (Attachment(id=IMAGE_URN, alt="A ginger cat"),)
    body = linkedin_adapter().post_body(request(media=media))
    assert body["content"] == {"media": {"id": IMAGE_URN, "altText": "A ginger cat"}}
    assert "stories.example/cat" in body["commentary"]
    assert linkedin_adapter().post_body(request())["content"]["article"]["title"] == (
        "The cat who stayed"
    )


def test_linkedin_takes_one_picture():
    assert not linkedin_adapter().validate("Hello", media=[1, 2]).ok


def test_linkedin_refusing_an_unknown_image_means_upload_again(api):
    api.post(
        f"{REST}/posts",
        status=400,
        json={
            "message": f"Image {IMAGE_URN} does not exist",
            "status": 400,
        },
    )
    with pytest.raises(MediaGone):
        linkedin_adapter().publish(request(media=(Attachment(id=IMAGE_URN),)))


def test_linkedin_an_upload_address_that_is_not_https_is_refused(api):
    api.post(
        f"{REST}/images?action=initializeUpload",
        json={"value": {"uploadUrl": "http://169.254.169.254/", "image": IMAGE_URN}},
    )
    with pytest.raises(NotSent):
        linkedin_adapter().upload_media(upload())


# --- Bluesky (shapes; the real PDS is in atproto/test_pictures.py) ----------------------------
def bluesky_adapter():
    account = SimpleNamespace(
        network="bluesky",
        instance_url="https://pds.example",
        remote_id="did:plc:abc",
        handle="alice.example",
        max_characters=None,
        tokens={"access_jwt": "jwt", "did": "did:plc:abc"},
    )
    return BlueskyAdapter(account)


BLOB = {
    "$type": "blob",
    "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},
    "mimeType": "image/jpeg",
    "size": len(JPEG),
}


def test_bluesky_records_carry_images_with_alt_and_aspect_ratio_and_no_card():
    cat = Attachment(
        id=BLOB["ref"]["$link"],
        alt="A ginger cat",
        width=2000,
        height=1333,
        ref={"blob": BLOB},
    )
    record = bluesky_adapter().build_record(request(media=(cat,)))
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": "A ginger cat", "image": BLOB, "aspectRatio": {"width": 2000, "height": 1333}}
        ],
    }


def test_bluesky_link_card_gets_the_thumbnail_blob():
    thumb = Attachment(id=BLOB["ref"]["$link"], ref={"blob": BLOB})
    record = bluesky_adapter().build_record(request(card_thumb=thumb))
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert record["embed"]["external"]["thumb"] == BLOB


def test_bluesky_a_missing_blob_means_upload_again(api):
    api.post(
        "https://pds.example/xrpc/com.atproto.repo.createRecord",
        status=400,
        json={"error": "BlobNotFound", "message": f"Could not find blob: {BLOB['ref']['$link']}"},
    )
    cat = Attachment(id=BLOB["ref"]["$link"], alt="A cat", ref={"blob": BLOB})
    with pytest.raises(MediaGone):
        bluesky_adapter().publish(request(media=(cat,)))


def test_bluesky_uploads_the_bytes_as_a_blob(api):
    api.post("https://pds.example/xrpc/com.atproto.repo.uploadBlob", json={"blob": BLOB})
    attachment = bluesky_adapter().upload_media(upload())
    assert attachment.ref == {"blob": BLOB, "aspectRatio": {"width": 2000, "height": 1333}}
    sent = api.calls[0].request
    assert sent.body == JPEG and sent.headers["Content-Type"] == "image/jpeg"


def test_an_adapter_without_pictures_refuses_clearly():
    from syndication.channels.base import ChannelAdapter

    class Plain(ChannelAdapter):
        label = "Plain"

    with pytest.raises(Rejected, match="cannot send pictures to Plain"):
        Plain(None).upload_media(upload())
