"""Engagement's models, moved from the ``syndication`` label to their own app.

The tables stay where they are (``db_table``): only Django's idea of which app owns
them changes (``SeparateDatabaseAndState``, nothing in the database), then their content
types follow, so permissions granted under ``syndication`` keep granting the same access
under ``engagement``. ``syndication.0010`` drops them from the old app's state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from cms.migration_helpers import move_content_types

MODELS = ("channelmetricsnapshot", "dailysalt", "engagementrollup", "flushedbatch", "sharetoken")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('syndication', '0009_delivery_uncertain'),
        ('stories', '0005_audience_variants'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DailySalt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField(unique=True)),
                        ('salt', models.CharField(max_length=64)),
                    ],
                    options={
                        'db_table': 'syndication_dailysalt',
                    },
                ),
                migrations.CreateModel(
                    name='FlushedBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('batch_id', models.CharField(max_length=64, unique=True)),
                        ('events', models.PositiveIntegerField()),
                        ('flushed_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'syndication_flushedbatch',
                    },
                ),
                migrations.CreateModel(
                    name='ShareToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token', models.CharField(max_length=32, unique=True)),
                        ('network', models.CharField(max_length=20)),
                        ('depth', models.PositiveSmallIntegerField(default=0)),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reshares', to='engagement.sharetoken')),
                        ('story', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='stories.storypage')),
                    ],
                    options={
                        'db_table': 'syndication_sharetoken',
                    },
                ),
                migrations.CreateModel(
                    name='ChannelMetricSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('taken_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('reposts', models.PositiveIntegerField(default=0)),
                        ('replies', models.PositiveIntegerField(default=0)),
                        ('likes', models.PositiveIntegerField(default=0)),
                        ('quotes', models.PositiveIntegerField(default=0)),
                        ('clicks', models.PositiveIntegerField(blank=True, null=True)),
                        ('post', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='metric_snapshots', to='syndication.syndicationpost')),
                    ],
                    options={
                        'db_table': 'syndication_channelmetricsnapshot',
                        'ordering': ['post', '-taken_at'],
                        'indexes': [models.Index(fields=['post', '-taken_at'], name='snapshot_post_time')],
                    },
                ),
                migrations.CreateModel(
                    name='EngagementRollup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('event', models.CharField(max_length=20)),
                        ('source', models.CharField(default='direct', max_length=64)),
                        ('detail', models.CharField(blank=True, default='', max_length=64)),
                        ('post_id', models.PositiveIntegerField(default=0)),
                        ('share_id', models.PositiveIntegerField(default=0)),
                        ('count', models.PositiveIntegerField(default=0)),
                        ('story', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='engagement_rollups', to='stories.storypage')),
                    ],
                    options={
                        'db_table': 'syndication_engagementrollup',
                        'indexes': [models.Index(fields=['story', 'day'], name='rollup_story_day'), models.Index(fields=['day', 'event'], name='rollup_day_event')],
                        'constraints': [models.UniqueConstraint(fields=('day', 'story', 'event', 'source', 'detail', 'post_id', 'share_id'), name='one_rollup_per_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types(MODELS, "syndication", "engagement"),
            move_content_types(MODELS, "engagement", "syndication"),
        ),
    ]
