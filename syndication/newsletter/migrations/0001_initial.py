"""The newsletter's models, moved from the ``syndication`` label to their own app.

The tables stay where they are (``db_table``, the subscribers' interests table too):
only Django's idea of which app owns them changes (``SeparateDatabaseAndState``,
nothing in the database), then their content types follow, so permissions granted under
``syndication`` keep granting the same access under ``newsletter``. ``syndication.0010``
drops them from the old app's state.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import syndication.newsletter.models
from django.conf import settings
from django.db import migrations, models

from cms.migration_helpers import move_content_types

MODELS = ("delivery", "deliverypick", "edition", "subscriber", "subscriberread")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('syndication', '0009_delivery_uncertain'),
        ('stories', '0005_audience_variants'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Edition',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200)),
                        ('intro', models.TextField(blank=True)),
                        ('window_days', models.PositiveSmallIntegerField(default=30, help_text='Candidate stories: those first published in the last N days.')),
                        ('k', models.PositiveSmallIntegerField(default=12, help_text='How many stories each reader gets.', verbose_name='stories per reader')),
                        ('send_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='draft', max_length=16)),
                        ('seed', models.PositiveIntegerField(default=syndication.newsletter.models.new_seed, editable=False)),
                        ('total', models.PositiveIntegerField(default=0, editable=False)),
                        ('error', models.TextField(blank=True, editable=False)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('started_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'syndication_edition',
                        'ordering': ['-send_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Subscriber',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('email', models.EmailField(max_length=254)),
                        ('status', models.CharField(choices=[('pending', 'Waiting for confirmation'), ('active', 'Subscribed'), ('paused', 'Paused'), ('unsubscribed', 'Unsubscribed')], db_index=True, default='pending', max_length=16)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                        ('status_changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('interests', models.ManyToManyField(blank=True, related_name='subscribers', to='stories.audienceinterest')),
                    ],
                    options={
                        'db_table': 'syndication_subscriber',
                        'ordering': ['pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('pending', 'Waiting'), ('sending', 'Being sent'), ('sent', 'Sent'), ('uncertain', 'Uncertain'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=16)),
                        ('message_id', models.CharField(blank=True, max_length=200)),
                        ('attempted_at', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('edition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='newsletter.edition')),
                        ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='newsletter.subscriber')),
                    ],
                    options={
                        'verbose_name_plural': 'deliveries',
                        'db_table': 'syndication_delivery',
                        'ordering': ['pk'],
                    },
                ),
                migrations.CreateModel(
                    name='SubscriberRead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('engaged', models.BooleanField(default=False)),
                        ('read_through', models.BooleanField(default=False)),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('story', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscriber_reads', to='stories.storypage')),
                        ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reads', to='newsletter.subscriber')),
                    ],
                    options={
                        'db_table': 'syndication_subscriberread',
                    },
                ),
                migrations.CreateModel(
                    name='DeliveryPick',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slot', models.PositiveSmallIntegerField()),
                        ('score', models.FloatField()),
                        ('probability', models.FloatField()),
                        ('exploration', models.BooleanField(default=False)),
                        ('reason', models.CharField(max_length=200)),
                        ('policy_version', models.CharField(default='1', max_length=20)),
                        ('clicked_at', models.DateTimeField(blank=True, null=True)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='picks', to='newsletter.delivery')),
                        ('story', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='newsletter_picks', to='stories.storypage')),
                    ],
                    options={
                        'db_table': 'syndication_deliverypick',
                        'ordering': ['delivery', 'slot'],
                        'constraints': [models.UniqueConstraint(fields=('delivery', 'slot'), name='one_pick_per_slot')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='subscriber',
                    constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('email'), name='unique_subscriber_email_ci', violation_error_message='This address is already subscribed.'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['edition', 'state'], name='delivery_edition_state'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('edition', 'subscriber'), name='one_delivery_per_subscriber'),
                ),
                migrations.AddConstraint(
                    model_name='subscriberread',
                    constraint=models.UniqueConstraint(fields=('subscriber', 'story'), name='one_read_per_story'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types(MODELS, "syndication", "newsletter"),
            move_content_types(MODELS, "newsletter", "syndication"),
        ),
    ]
