"""Exactly once, for real: 2,000 subscribers, beat and a worker on Redis, a real SMTP server.

The SMTP server (aiosmtpd) runs in this process and keeps every message it accepts; the
worker and beat are child processes reaching it over sockets. The worker is SIGKILLed
(its whole process group) mid-send: once at a random moment, once while the server sits
on its reply to the final dot of a message — the message is accepted, its worker dead
before it heard so — and once more at random. Then it runs to the end.

Every subscriber then holds exactly one email, carrying their own picks, and is recorded
sent — except the message a kill caught between its commit and the record of its final
dot: at most one per kill (the worker is one process), recorded *uncertain*, with one
email or none. Nobody is recorded sent without their email, nobody has two.
"""

import os
import random
import re
import signal
import time
import uuid

from django.utils import timezone

import pytest

from syndication.newsletter import clicks
from syndication.newsletter.models import Delivery, DeliveryPick, Edition
from tests.integration.conftest import celery_process, database_url_for_child, wait_for
from tests.integration.workloads import build_audience, leftover_queues_removed, sent_count
from tests.newsletter.editions import CLICK
from tests.newsletter.smtp_recorder import SMTPRecorder

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SUBSCRIBERS = 2_000
TITLE_LINK = re.compile(r'<a href="[^"]*/newsletter/c/([^/"]+)/"[^>]*>([^<]+)</a></h2>')


def newsletter_env(redis_url: str, tag: str, smtp_port: int) -> dict[str, str]:
    """Child-process settings: a fast clock, small chunks and queues of this test's own."""
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DATABASE_URL": database_url_for_child(),
        "CELERY_DEFAULT_QUEUE": f"{tag}-default",
        "NEWSLETTER_QUEUE": f"{tag}-newsletters",
        "SYNDICATION_QUEUE": f"{tag}-publishing",
        "ENGAGEMENT_QUEUE": f"{tag}-ingestion",
        "NEWSLETTER_EMAIL_BACKEND": "syndication.newsletter.smtp.CommittedSMTPBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "NEWSLETTER_CHUNK_SIZE": "200",
        "NEWSLETTER_DISPATCH_EVERY_SECONDS": "1",
        "NEWSLETTER_SWEEP_EVERY_SECONDS": "1",
        "NEWSLETTER_TASK_TIME_LIMIT_SECONDS": "20",
        "NEWSLETTER_STUCK_AFTER_SECONDS": "25",
        "NEWSLETTER_SMTP_TIMEOUT_SECONDS": "10",
        "PUBLISH_SCHEDULED_EVERY_SECONDS": "3600",
        "ENGAGEMENT_FLUSH_EVERY_SECONDS": "3600",
    }


def worker_args(env):
    return [
        "worker",
        "-P",
        "solo",
        "-Q",
        f"{env['CELERY_DEFAULT_QUEUE']},{env['NEWSLETTER_QUEUE']}",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]


def test_a_worker_killed_mid_send_still_delivers_each_subscriber_exactly_one_email(
    redis_server, make_story, tmp_path
):
    rng = random.Random(20261124)  # noqa: S311 (when to kill, not a secret)
    stories, subscribers = build_audience(make_story, SUBSCRIBERS)
    titles = {story.pk: story.title for story in stories}
    edition = Edition.objects.create(
        title="Your stories this week",
        intro="This week's stories.",
        window_days=30,
        k=5,
        status=Edition.Status.SCHEDULED,
        send_at=timezone.now(),
    )
    tag = f"nl-{uuid.uuid4().hex[:6]}"
    with SMTPRecorder() as server, leftover_queues_removed(redis_server, tag):
        env = newsletter_env(redis_server, tag, server.port)
        kills = []
        with celery_process(
            "beat", "-s", str(tmp_path / "beat"), env=env, log=tmp_path / "beat.log"
        ):
            for round_number in range(4):
                log = tmp_path / f"worker-{round_number}.log"
                with celery_process(*worker_args(env), env=env, log=log) as worker:
                    if round_number == 3:
                        wait_for(
                            lambda: (
                                Edition.objects.get(pk=edition.pk).status == Edition.Status.SENT
                            ),
                            300,
                            "the edition to be sent",
                            log,
                        )
                        break
                    if round_number == 1:
                        held = server.hold_next()
                        wait_for(held.is_set, 120, "a message's final dot to reach the server", log)
                        kills.append(("held", server.held_message))
                    else:
                        before = len(server.messages)
                        wait_for(
                            lambda before=before: len(server.messages) > before + 150,
                            120,
                            "the worker to send a few emails",
                            log,
                        )
                        time.sleep(rng.uniform(0.05, 0.8))
                        kills.append(("random", None))
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
                    server.release()
                    assert sent_count() < SUBSCRIBERS, "the kill came too late to test anything"

        assert len(kills) == 3
        time.sleep(0.5)  # the last replies reach the recorder
        received = server.by_recipient()

    # Nobody outside the audience got anything, and nobody got two.
    emails = {s.email for s in subscribers}
    assert set(received) <= emails
    doubles = {to: len(found) for to, found in received.items() if len(found) != 1}
    assert doubles == {}
    edition.refresh_from_db()
    assert edition.total == SUBSCRIBERS
    assert Delivery.objects.filter(edition=edition).count() == SUBSCRIBERS

    # Each one is sent with their email, or uncertain with at most one: never sent without.
    states = dict(
        Delivery.objects.filter(edition=edition).values_list("subscriber__email", "state")
    )
    sent = {to for to, state in states.items() if state == Delivery.State.SENT}
    uncertain = {to for to, state in states.items() if state == Delivery.State.UNCERTAIN}
    assert sent | uncertain == emails, {to: st for to, st in states.items() if to not in sent}
    assert {to for to in sent if to not in received} == set()
    # At most the message in flight at each kill: one worker process, three kills.
    assert len(uncertain) <= len(kills)
    assert sent_count() == SUBSCRIBERS - len(uncertain)

    # The message whose reply the server held while its worker was killed was committed
    # before its final dot: the server has it once, and it was not sent again.
    [held] = [message for kind, message in kills if kind == "held"]
    held_delivery = Delivery.objects.get(message_id=held["Message-ID"])
    assert held_delivery.state in (Delivery.State.SENT, Delivery.State.UNCERTAIN)
    assert len(received[held_delivery.subscriber.email]) == 1

    # Each email carries its reader's own picks: the delivery, slots and stories stored.
    deliveries = {
        d.pk: d for d in Delivery.objects.filter(edition=edition).select_related("subscriber")
    }
    stored: dict[int, dict[int, int]] = {}
    for delivery_id, slot, story_id in DeliveryPick.objects.filter(
        delivery__edition=edition
    ).values_list("delivery_id", "slot", "story_id"):
        stored.setdefault(delivery_id, {})[slot] = story_id
    for address, [message] in received.items():  # uncertain ones too, where they arrived
        assert message["Subject"] == edition.title
        assert message["List-Unsubscribe"].startswith("<http")
        assert "/newsletter/unsubscribe/" in message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(("html",)).get_content()
        links = TITLE_LINK.findall(html)
        assert links, address
        shown = {}
        for token, title in links:
            click = clicks.read_token(token)
            delivery = deliveries[click.delivery_id]
            assert delivery.subscriber.email == address
            assert message["Message-ID"] == delivery.message_id
            shown[click.slot] = title
        assert shown == {slot: titles[story] for slot, story in stored[click.delivery_id].items()}
        text = message.get_body(("plain",)).get_content()
        assert set(CLICK.findall(text)) == {token for token, _ in links}
