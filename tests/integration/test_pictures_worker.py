"""Pictures published once by a real worker that is killed (issue 21).

Beat and a worker on Redis, HTTP to the Mastodon test server in this process. The
worker is SIGKILLed between an upload and the create (the server holds its answer to
the upload's processing check), and, in the second test, after the create was sent and
before it heard back. Each time the next worker sends the recorded media ids: the
pictures are uploaded once and the post is published once with them.
"""

import io
import os
import signal
import uuid

from django.core.files.images import ImageFile
from django.utils import timezone

import pytest
from PIL import Image as PILImage

from syndication import states
from syndication.models import PostPicture, SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import ImageFactory
from tests.integration.conftest import celery_process, wait_for
from tests.integration.test_syndication_worker import engine_env, worker_args
from tests.integration.workloads import assert_exactly_once, mastodon_accounts, published

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def picture(colour: str, name: str):
    output = io.BytesIO()
    PILImage.new("RGB", (1800, 1200), colour).save(output, "JPEG", quality=90)
    return ImageFactory(file=ImageFile(io.BytesIO(output.getvalue()), name=name))


def post_with_pictures(server, make_story) -> SyndicationPost:
    [account] = mastodon_accounts(server, 1)
    now = timezone.now()
    post = SyndicationPost.objects.create(
        story=make_story(),
        account=account,
        text="Two pictures.\n\n{story_url}",
        scheduled_at=now,
        due_at=now,
        state=states.SCHEDULED,
    )
    for position, (colour, alt) in enumerate((("orange", "A cat"), ("brown", "A dog"))):
        PostPicture.objects.create(
            post=post, image=picture(colour, f"{colour}.jpg"), position=position, alt_text=alt
        )
    return post


def kill(worker) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


def test_a_worker_killed_between_upload_and_create_reuses_the_upload(
    redis_server, make_story, tmp_path
):
    # Every upload answers 202 (processing) and is ready at its first check.
    with MastodonTestServer(media_processing_polls=1) as server:
        post = post_with_pictures(server, make_story)
        env = engine_env(redis_server, f"pics-{uuid.uuid4().hex[:6]}")
        with celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=tmp_path / "b"):
            first_log = tmp_path / "worker-1.log"
            with celery_process(*worker_args(env), env=env, log=first_log) as worker:
                held = server.hold_next("media_item")
                wait_for(held.is_set, 120, "the first picture's processing check", first_log)
                kill(worker)
            server.release_holds()
            recorded = PostPicture.objects.get(post=post, position=0)
            assert recorded.uploaded_at is not None and recorded.remote_media_id
            assert SyndicationPost.objects.get(pk=post.pk).request_sent_at is None
            assert server.media_uploads == 1 and server.statuses == []
            second_log = tmp_path / "worker-2.log"
            with celery_process(*worker_args(env), env=env, log=second_log):
                wait_for(lambda: published(1), 120, "the post published", second_log)
        assert_exactly_once(server, [post])
        [status] = server.statuses
        attached = [media["id"] for media in status["media_attachments"]]
        assert attached[0] == recorded.remote_media_id
        assert [m["description"] for m in status["media_attachments"]] == ["A cat", "A dog"]
        # Two pictures, two uploads: the first was not sent again after the kill.
        assert server.media_uploads == 2
        assert "The worker stopped before sending" in "".join(
            post.attempts.values_list("message", flat=True)
        )


def test_a_worker_killed_after_sending_the_create_is_settled_by_reading_back(
    redis_server, make_story, tmp_path
):
    with MastodonTestServer() as server:
        post = post_with_pictures(server, make_story)
        env = engine_env(redis_server, f"picsent-{uuid.uuid4().hex[:6]}")
        with celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=tmp_path / "b"):
            first_log = tmp_path / "worker-1.log"
            with celery_process(*worker_args(env), env=env, log=first_log) as worker:
                held = server.hold_next_create()
                wait_for(held.is_set, 120, "the create to reach the server", first_log)
                kill(worker)
            server.release_holds()
            second_log = tmp_path / "worker-2.log"
            with celery_process(*worker_args(env), env=env, log=second_log):
                wait_for(lambda: published(1), 120, "the post settled", second_log)
        assert_exactly_once(server, [post])
        [status] = server.statuses
        assert len(status["media_attachments"]) == 2
        assert server.media_uploads == 2
        post.refresh_from_db()
        assert post.remote_id == status["id"]
