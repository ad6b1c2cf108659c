"""Engagement and the newsletter became apps of their own without moving a row.

A database is migrated back to the last migrations before the split (``syndication``
0009, no ``engagement`` or ``newsletter``), given a row in every table the two apps own
through the models of that time, then migrated to today's migrations. Every row reads
back through the new models, the content types moved (same ids, new labels) and the
groups still grant what they granted (docs/architecture.md, "Apps and labels").
"""

import uuid

from django.apps import apps as current_apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from wagtail.models import ModelLogEntry

import pytest

from tests.factories import SyndicationPostFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: The last migration of syndication's history that still held the two apps' models.
BEFORE_SPLIT = ("syndication", "0009_delivery_uncertain")
MOVED = {
    "engagement": (
        "EngagementRollup",
        "FlushedBatch",
        "ShareToken",
        "DailySalt",
        "ChannelMetricSnapshot",
    ),
    "newsletter": ("Subscriber", "SubscriberRead", "Edition", "Delivery", "DeliveryPick"),
}
#: What the groups may do with the moved models, as granted by the old data migrations.
EXPECTED_GRANTS = {
    "Social managers": {
        "view_engagementrollup",
        "add_subscriber",
        "change_subscriber",
        "delete_subscriber",
        "view_subscriber",
        "add_edition",
        "change_edition",
        "delete_edition",
        "view_edition",
        "view_delivery",
    },
    "Editors": {"view_engagementrollup"},
    "Moderators": {"view_engagementrollup"},
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection)


def migrate_to_leaves():
    executor = MigrationExecutor(connection)
    return migrate(executor.loader.graph.leaf_nodes())


def rows(model):
    """Every row of ``model`` as plain values, in primary-key order."""
    return list(model.objects.order_by("pk").values())


def grants(label_of_model):
    """Per group: the codenames it holds on the moved models, under the label given."""
    held = {}
    for group in Group.objects.filter(name__in=EXPECTED_GRANTS):
        held[group.name] = {
            permission.codename
            for permission in group.permissions.select_related("content_type")
            if permission.content_type.model in label_of_model
            and permission.content_type.app_label == label_of_model[permission.content_type.model]
        }
    return held


def fill_the_old_tables(old, story, interest, post, user):
    """One row (or two) in every table of the moved models, through the old models."""
    now = timezone.now().replace(microsecond=0)
    today = now.date()
    get = lambda name: old.get_model("syndication", name)  # noqa: E731

    subscriber = get("Subscriber").objects.create(
        email="reader@example.com", status="active", confirmed_at=now
    )
    subscriber.interests.add(interest.pk)
    get("SubscriberRead").objects.create(
        subscriber=subscriber, story_id=story.pk, engaged=True, read_through=True, at=now
    )
    edition = get("Edition").objects.create(
        title="Week one", intro="Hello", k=3, status="sent", seed=42, total=1, created_by_id=user.pk
    )
    delivery = get("Delivery").objects.create(
        edition=edition, subscriber=subscriber, state="uncertain", message_id="<1@x>"
    )
    get("DeliveryPick").objects.create(
        delivery=delivery,
        slot=0,
        story_id=story.pk,
        score=0.8,
        probability=0.5,
        exploration=True,
        reason="Because you read Home",
        clicked_at=now,
    )
    get("EngagementRollup").objects.create(
        day=today,
        story_id=story.pk,
        event="engaged_read",
        source="newsletter",
        detail="",
        post_id=post.pk,
        share_id=0,
        count=7,
    )
    get("FlushedBatch").objects.create(batch_id="a" * 40, events=7, flushed_at=now)
    share = get("ShareToken").objects.create(
        token="t1", story_id=story.pk, network="mastodon", created_at=now
    )
    get("ShareToken").objects.create(
        token="t2", story_id=story.pk, network="email", parent=share, depth=1, created_at=now
    )
    get("DailySalt").objects.create(day=today, salt="s" * 64)
    get("ChannelMetricSnapshot").objects.create(
        post_id=post.pk, taken_at=now, reposts=2, replies=1, likes=5, quotes=0, clicks=None
    )
    # What Wagtail's admin logged about the subscriber, kept under its content type.
    subscriber_type = old.get_model("contenttypes", "ContentType").objects.get(
        app_label="syndication", model="subscriber"
    )
    old.get_model("wagtailcore", "ModelLogEntry").objects.create(
        content_type_id=subscriber_type.pk,
        label=subscriber.email,
        action="wagtail.create",
        data={},
        timestamp=now,
        uuid=uuid.uuid4(),
        user_id=user.pk,
        object_id=str(subscriber.pk),
    )
    return subscriber


def test_existing_data_moves_to_the_new_apps(make_story, django_user_model):
    story = make_story(title="A story")
    interest = story.interests.first()
    post = SyndicationPostFactory(story=story)
    manager = django_user_model.objects.create_user(username="sam", password="pw")
    manager.groups.add(Group.objects.get(name="Social managers"))
    editor = django_user_model.objects.create_user(username="eve", password="pw")
    editor.groups.add(Group.objects.get(name="Editors"))

    try:
        executor = migrate([BEFORE_SPLIT, ("engagement", None), ("newsletter", None)])
        old = executor.loader.project_state([BEFORE_SPLIT]).apps
        moved_models = {name.lower(): label for label, names in MOVED.items() for name in names}

        # The database as the migrations before the split left it.
        old_types = {
            content_type.model: content_type.pk
            for content_type in ContentType.objects.filter(
                app_label="syndication", model__in=moved_models
            )
        }
        assert set(old_types) == set(moved_models)
        assert not ContentType.objects.filter(app_label__in=MOVED).exists()
        assert grants(dict.fromkeys(moved_models, "syndication")) == EXPECTED_GRANTS

        subscriber = fill_the_old_tables(old, story, interest, post, manager)
        before = {
            name: rows(old.get_model("syndication", name))
            for names in MOVED.values()
            for name in names
        }
        interests_before = list(
            old.get_model("syndication", "Subscriber")
            .interests.through.objects.order_by("pk")
            .values_list("subscriber_id", "audienceinterest_id")
        )
        assert all(before.values())

        migrate_to_leaves()
    finally:
        migrate_to_leaves()  # whatever happened, the next tests get today's schema

    # Every row reads back through the new apps' models, unchanged.
    for label, names in MOVED.items():
        for name in names:
            model = current_apps.get_model(label, name)
            assert model._meta.db_table == f"syndication_{name.lower()}"
            after = rows(model)
            assert len(after) == len(before[name]), name
            for row, old_row in zip(after, before[name], strict=True):
                # Every column the old table had reads back unchanged; columns later
                # migrations added (an edition's voice override) hold their defaults.
                assert {key: row[key] for key in old_row} == old_row, name
                for field in set(row) - set(old_row):
                    default = model._meta.get_field(field).get_default()
                    assert row[field] == default, (name, field)
    Subscriber = current_apps.get_model("newsletter", "Subscriber")
    assert (
        list(
            Subscriber.interests.through.objects.order_by("pk").values_list(
                "subscriber_id", "audienceinterest_id"
            )
        )
        == interests_before
    )
    reader = Subscriber.objects.get(pk=subscriber.pk)
    assert list(reader.interests.all()) == [interest]
    assert reader.deliveries.get().picks.get().story_id == story.pk
    assert reader.reads.get().story_id == story.pk

    # The content types moved (same rows, new labels): nothing is left under the old one.
    assert not ContentType.objects.filter(app_label="syndication", model__in=moved_models)
    for name, label in moved_models.items():
        model = current_apps.get_model(label, name)
        content_type = ContentType.objects.get_for_model(model)
        assert (content_type.app_label, content_type.pk) == (label, old_types[name])

    # Wagtail's log entries about a subscriber follow it.
    entry = ModelLogEntry.objects.get(object_id=str(subscriber.pk))
    assert entry.content_type == ContentType.objects.get_for_model(Subscriber)

    # The groups grant what they granted, now under the new labels.
    assert grants(moved_models) == EXPECTED_GRANTS
    manager = django_user_model.objects.get(username="sam")
    for permission in (
        "newsletter.view_subscriber",
        "newsletter.change_subscriber",
        "newsletter.change_edition",
        "newsletter.view_delivery",
        "engagement.view_engagementrollup",
    ):
        assert manager.has_perm(permission), permission
    editor = django_user_model.objects.get(username="eve")
    assert editor.has_perm("engagement.view_engagementrollup")
    assert not editor.has_perm("newsletter.view_subscriber")

    # And the new apps write where the old ones did.
    Delivery = current_apps.get_model("newsletter", "Delivery")
    Edition = current_apps.get_model("newsletter", "Edition")
    edition = Edition.objects.create(title="Week two", send_at=timezone.now())
    Delivery.objects.create(edition=edition, subscriber=reader)
    assert Delivery.objects.filter(subscriber=reader).count() == 2
