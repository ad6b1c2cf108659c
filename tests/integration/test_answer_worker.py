"""Answers to replies, exactly once, for real: beat and a worker process on Redis, HTTP to
a Mastodon test server that does not honour Idempotency-Key (Takahē's profile).

An answer carries no ``utm_content`` marker: after a lost answer the engine finds it by
what it replies to and what it says. On this server only that read-back stands between a
lost answer and a second one.
"""

import datetime
import os
import signal
import uuid

from django.utils import timezone

import pytest
import requests

from syndication import states
from syndication.conversation import answers
from syndication.conversation.models import ConversationItem
from syndication.models import SyndicationPost
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import FaultPlan, MastodonTestServer
from tests.factories import ChannelAccountFactory, SyndicationPostFactory
from tests.integration.conftest import celery_process, wait_for
from tests.integration.test_syndication_worker import engine_env, worker_args
from tests.syndication.conftest import make_user

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REPLIES = 20


def answers_by(server, username: str) -> dict[str, list[str]]:
    """{status id replied to: [ids of @username's statuses replying to it]}."""
    found: dict[str, list[str]] = {}
    for status in server.statuses:
        if status["account"]["username"] == username and status["in_reply_to_id"]:
            found.setdefault(status["in_reply_to_id"], []).append(status["id"])
    return found


def test_answers_go_out_once_through_faults_and_a_killed_worker(
    redis_server, make_story, tmp_path, django_user_model
):
    manager = make_user(django_user_model, "sam", "Social managers")
    with MastodonTestServer(profile=profiles.TAKAHE) as server:
        remote_id, token = server.create_account("brand")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@brand",
            tokens={"access_token": token},
        )
        ours = requests.post(
            f"{server.url}/api/v1/statuses",
            data={"status": "A story worth a read."},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()["id"]
        post = SyndicationPostFactory(
            story=make_story(),
            account=account,
            state=states.PUBLISHED,
            remote_id=ours,
            published_at=timezone.now() - datetime.timedelta(hours=1),
        )
        made = {}
        for number in range(REPLIES):
            reply = server.reply(ours, f"Question number {number}?", as_user=f"reader{number}")
            item = ConversationItem.objects.create(
                post=post,
                network="mastodon",
                remote_id=f"{server.domain}/{reply}",
                kind="reply",
                author_handle=f"@reader{number}",
                remote_ref={"id": reply},
            )
            text = f"@reader{number} Thanks for asking; answer number {number}."
            made[reply] = answers.answer(item, text, user=manager).post.pk

        server.slow_seconds = 6.0  # late creates land after the 2 s timeout, before 2 + 5 s
        server.faults = FaultPlan(
            rate=0.4,
            kinds=(
                "create_after_timeout",
                "timeout_after_create",
                "drop_after_create",
                "500_after_create",
                "500",
                "drop_before_create",
            ),
            seed=20,
        )
        env = {
            **engine_env(redis_server, f"answers-{uuid.uuid4().hex[:6]}"),
            "SYNDICATION_INFLIGHT_MARGIN_SECONDS": "5",
        }
        beat_log = tmp_path / "beat.log"
        open_states = (states.UNCONFIRMED, states.SCHEDULED, states.PUBLISHING)
        with celery_process("beat", "-s", str(tmp_path / "beat"), env=env, log=beat_log):
            # Killed while the server holds the answer to an answer it has just made.
            worker_log = tmp_path / "worker-0.log"
            with celery_process(*worker_args(env), env=env, log=worker_log) as worker:
                held = server.hold_next_create()
                wait_for(held.is_set, 120, "an answer to reach the server", worker_log)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                server.release_holds()
            worker_log = tmp_path / "worker-1.log"
            with celery_process(*worker_args(env), env=env, log=worker_log):
                wait_for(
                    lambda: (
                        not SyndicationPost.objects.filter(
                            pk__in=made.values(), state__in=open_states, due_at__isnull=False
                        ).exists()
                    ),
                    300,
                    "every answer settled",
                    worker_log,
                )

        assert sum(server.fault_counts.values()) >= 4, server.fault_counts
        sent = answers_by(server, "brand")
        # Never twice.
        assert all(len(ids) == 1 for ids in sent.values()), sent
        for reply, pk in made.items():
            answer = SyndicationPost.objects.get(pk=pk)
            if answer.state == states.PUBLISHED:
                assert sent[reply] == [answer.remote_id]
            else:
                # Not confirmed: waits for a person with its reason, never resent blindly.
                assert answer.state in (states.UNCONFIRMED, states.FAILED), answer.state
                assert answer.last_error
        assert (
            SyndicationPost.objects.filter(pk__in=made.values(), state=states.PUBLISHED).count()
            >= 18
        )
