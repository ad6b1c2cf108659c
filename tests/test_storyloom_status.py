"""``manage.py storyloom_status``: queue depths, the oldest due post, flushes, metrics, sends."""

import datetime
import io
import json
import uuid

from django.core.management import call_command
from django.utils import timezone

import pytest
from kombu import Connection

from cms import status
from cms.models import TaskFailure
from syndication import states
from syndication.engagement.models import ChannelMetricSnapshot, FlushedBatch
from syndication.engagement.tasks import flush_events
from syndication.newsletter.models import Delivery, Edition, Subscriber
from tests.conftest import require_service
from tests.factories import SyndicationPostFactory
from tests.integration.conftest import redis_is_up, redis_url

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("storyloom_status", *args, stdout=out)
    return out.getvalue()


def put(url: str, transport_options: dict, queue: str, how_many: int):
    """Publish ``how_many`` messages to ``queue`` through the broker, as Celery would."""
    with Connection(url, transport_options=transport_options) as conn:
        waiting = conn.SimpleQueue(queue)
        for number in range(how_many):
            waiting.put({"n": number})
        waiting.close()


@pytest.fixture(scope="module")
def control_folder(tmp_path_factory):
    # One per module: kombu remembers declared exchanges per process, not per folder.
    return tmp_path_factory.mktemp("control")


@pytest.fixture
def file_broker(settings, tmp_path, control_folder):
    folder = tmp_path / "broker"
    folder.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        # kombu's default is ./control: exchanges would land in the working directory.
        "control_folder": str(control_folder),
    }
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS


@pytest.fixture
def busy_site(make_story):
    """A post overdue by ten minutes, one not due yet, a flushed batch, a snapshot, a send."""
    now = timezone.now()
    story = make_story(title="Cold at the top")
    overdue = SyndicationPostFactory(story=story, due_at=now - datetime.timedelta(minutes=10))
    SyndicationPostFactory(story=story, due_at=now - datetime.timedelta(minutes=2))
    SyndicationPostFactory(story=story, due_at=now + datetime.timedelta(hours=1))
    published = SyndicationPostFactory(
        story=story, state=states.PUBLISHED, published_at=now, remote_id="1"
    )
    FlushedBatch.objects.create(
        batch_id="a" * 40, events=120, flushed_at=now - datetime.timedelta(seconds=30)
    )
    ChannelMetricSnapshot.objects.create(post=published, likes=3)
    edition = Edition.objects.create(
        title="Stories for the weekend",
        status=Edition.Status.SENDING,
        total=3,
        started_at=now,
    )
    for number, state in enumerate(("sent", "sent", "pending")):
        subscriber = Subscriber.objects.create(
            email=f"reader{number}@example.org", status=Subscriber.Status.ACTIVE
        )
        Delivery.objects.create(edition=edition, subscriber=subscriber, state=state)
    TaskFailure.objects.create(
        task_name="syndication.tasks.publish_post",
        exception_type="ValueError",
        message="no such post",
        occurrences=2,
    )
    return {"overdue": overdue, "edition": edition}


def test_json_says_what_is_waiting_and_when_things_last_happened(busy_site, file_broker):
    put("filesystem://", file_broker, "ingestion", 3)
    put("filesystem://", file_broker, "publishing", 1)
    flush_events.apply()  # beat's flush task ran just now (nothing to flush here)

    report = json.loads(run("--json"))

    assert report["queues"]["waiting"] == {
        "celery": 0,
        "publishing": 1,
        "newsletters": 0,
        "ingestion": 3,
    }
    publishing = report["publishing"]
    assert publishing["due"] == 2
    assert publishing["oldest_due"]["id"] == busy_site["overdue"].pk
    assert 590 <= publishing["oldest_due"]["seconds_ago"] <= 620
    assert publishing["oldest_due"]["story"] == "Cold at the top"
    engagement = report["engagement"]
    assert engagement["last_batch"]["events"] == 120
    assert 25 <= engagement["last_batch"]["seconds_ago"] <= 60
    assert engagement["last_flush_run"]["state"] == "SUCCESS"
    assert engagement["last_flush_run"]["seconds_ago"] <= 5
    assert engagement["last_snapshot"]["seconds_ago"] <= 5
    assert engagement["last_metrics_run"] is None
    (sending,) = report["newsletter"]["sending"]
    assert sending["title"] == "Stories for the weekend"
    assert (sending["sent"], sending["failed"], sending["total"]) == (2, 0, 3)
    assert report["task_failures"]["last_24h"] == 1
    assert report["task_failures"]["occurrences"] == 2


def test_the_text_report_reads_like_a_status_page(busy_site, file_broker):
    put("filesystem://", file_broker, "ingestion", 2)
    text = run()
    assert "ingestion                2 waiting" in text
    assert f"#{busy_site['overdue'].pk} “Cold at the top”" in text
    assert "due, not yet claimed     2" in text
    assert "last batch counted" in text and "120 events" in text
    assert "“Stories for the weekend”: 2/3 sent" in text
    assert "syndication.tasks.publish_post: ValueError: no such post" in text


def test_an_unreachable_broker_is_reported_and_the_rest_still_is(settings, make_story):
    settings.CELERY_BROKER_URL = "redis://:hunter2@127.0.0.1:9/0"  # port 9: nobody there
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    make_story()
    report = json.loads(run("--json"))
    assert report["queues"]["broker"] == "redis://***@127.0.0.1:9/0"
    assert "refused" in report["queues"]["error"].lower()
    assert report["publishing"]["due"] == 0
    assert "hunter2" not in run()


def test_queue_depths_on_redis(settings):
    url = redis_url()
    require_service(redis_is_up(url), f"Redis at {url}")
    tag = uuid.uuid4().hex[:8]
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.CELERY_TASK_DEFAULT_QUEUE = f"{tag}-default"
    settings.CELERY_TASK_ROUTES = {}
    settings.SYNDICATION_QUEUE = f"{tag}-publishing"
    settings.ENGAGEMENT_QUEUE = f"{tag}-ingestion"
    settings.NEWSLETTER_QUEUE = f"{tag}-newsletters"
    try:
        put(url, {}, f"{tag}-ingestion", 4)
        queues = status.queues()
        assert queues["waiting"] == {
            f"{tag}-default": 0,
            f"{tag}-publishing": 0,
            f"{tag}-ingestion": 4,
            f"{tag}-newsletters": 0,
        }
        assert isinstance(queues["unacknowledged"], int)
    finally:
        import redis

        redis.Redis.from_url(url).delete(f"{tag}-ingestion", f"_kombu.binding.{tag}-ingestion")


def test_the_queues_are_the_ones_settings_route_to(settings):
    assert status.queue_names()[:2] == [settings.CELERY_TASK_DEFAULT_QUEUE, "publishing"]
    assert set(status.queue_names()) == {"celery", "publishing", "ingestion", "newsletters"}
