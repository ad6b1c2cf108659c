"""Conversation collection for real: beat and a worker process on Redis, HTTP to the
Mastodon test server (in this process), the test database shared with the children.

A worker killed in the middle of a collection (the thread read, the likes' answer held)
loses nothing and duplicates nothing: the next worker, once the claim's lease has
passed, collects every item exactly once, and what changed on the network meanwhile too.
"""

import datetime
import os
import signal
import uuid

from django.utils import timezone

import pytest
import requests

from syndication import states
from syndication.conversation.models import CollectionState, ConversationItem
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import ChannelAccountFactory, SyndicationPostFactory
from tests.integration.conftest import celery_process, database_url_for_child, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LIKES = 170  # three pages of favourited_by


def env_for(redis_url: str, tag: str) -> dict[str, str]:
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DATABASE_URL": database_url_for_child(),
        "CELERY_DEFAULT_QUEUE": f"{tag}-default",
        "SYNDICATION_QUEUE": f"{tag}-publishing",
        "ENGAGEMENT_QUEUE": f"{tag}-default",
        "CONVERSATION_COLLECT_EVERY_SECONDS": "1",
        "CONVERSATION_LEASE_SECONDS": "10",
        "SYNDICATION_TASK_TIME_LIMIT_SECONDS": "8",
        "SYNDICATION_STUCK_AFTER_SECONDS": "10",
        "SYNDICATION_HTTP_TIMEOUT_SECONDS": "2",
        # Nothing else of beat's schedule gets in the way.
        "SYNDICATION_DISPATCH_EVERY_SECONDS": "3600",
        "SYNDICATION_SWEEP_EVERY_SECONDS": "3600",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "3600",
    }


def worker_args(env):
    return ["worker", "-P", "solo", "-Q", env["CELERY_DEFAULT_QUEUE"], "--without-gossip"]


def test_a_worker_killed_mid_collection_loses_and_duplicates_nothing(
    redis_server, make_story, tmp_path
):
    with MastodonTestServer() as server:
        remote_id, token = server.create_account("brand")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@brand",
            tokens={"access_token": token},
        )
        response = requests.post(
            f"{server.url}/api/v1/statuses",
            data={"status": "A story worth a read."},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        status_id = response.json()["id"]
        post = SyndicationPostFactory(
            story=make_story(),
            account=account,
            state=states.PUBLISHED,
            remote_id=status_id,
            published_at=timezone.now() - datetime.timedelta(minutes=10),
        )
        first = server.reply(status_id, "Lovely", as_user="alice")
        server.reply(first, "Agreed", as_user="bob")
        server.reblog(status_id, "carol")
        for n in range(LIKES):
            server.favourite(status_id, f"fan{n}")
        env = env_for(redis_server, f"conv-{uuid.uuid4().hex[:6]}")
        held = server.hold_next("favourited_by")

        with celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=tmp_path / "b"):
            log = tmp_path / "worker-1.log"
            with celery_process(*worker_args(env), env=env, log=log) as worker:
                wait_for(held.is_set, 60, "the worker to ask for the likes", log)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            # Killed between reading and committing: nothing stored, the cursor unmoved.
            assert not ConversationItem.objects.exists()
            state = CollectionState.objects.get(post=post)
            assert state.cursor == {} and state.claim is not None
            server.release_holds()
            # Meanwhile on the network: a new reply, and the first one edited.
            late = server.reply(status_id, "Late to the party", as_user="dave")
            server.edit(first, "Lovely, and true")

            log = tmp_path / "worker-2.log"
            with celery_process(*worker_args(env), env=env, log=log):
                wait_for(
                    lambda: CollectionState.objects.filter(
                        post=post, last_collected_at__isnull=False
                    ).exists(),
                    90,
                    "the post to be collected after the lease",
                    log,
                )

        items = ConversationItem.objects.filter(post=post)
        assert items.filter(kind="like").count() == LIKES
        assert items.filter(kind="boost").count() == 1
        assert items.filter(kind="reply").count() == 3
        assert items.count() == LIKES + 4
        keys = list(items.values_list("remote_id", flat=True))
        assert len(keys) == len(set(keys))
        assert items.get(remote_id=f"{server.domain}/{first}").text == "Lovely, and true"
        assert items.filter(remote_id=f"{server.domain}/{late}").exists()
        state = CollectionState.objects.get(post=post)
        assert state.cursor == {"replies": 2, "reblogs": 1, "favourites": LIKES, "quotes": 0}
        assert state.claim is None and state.failures == 0
