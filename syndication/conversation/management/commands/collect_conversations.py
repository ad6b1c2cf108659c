"""Collect conversations now, in this process: what beat and a worker do, at once."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from syndication.conversation import alerts, collect, publicity
from syndication.conversation.models import CollectionState


class Command(BaseCommand):
    help = (
        "Collect the conversation (replies, quotes, boosts, likes) of the given published "
        "posts, or of every post whose collection is due, now and in this process; then "
        "raise tone alerts and send their emails as the worker would. The demo uses it "
        "after its posts go out."
    )

    def add_arguments(self, parser):
        parser.add_argument("posts", nargs="*", type=int, help="Post ids (default: all due).")

    def handle(self, *args, posts=(), **options):
        now = timezone.now()
        collect.ensure_states(now)
        if posts:
            # Due now, whatever their schedule said.
            CollectionState.objects.filter(post_id__in=posts).update(
                next_due_at=now, backoff_until=None
            )
        claimed = collect.claim_due(now)
        done = 0
        for post_id, claim in claimed:
            if posts and post_id not in posts:
                # Not asked for: back to its schedule for beat to take.
                CollectionState.objects.filter(post_id=post_id, claim=claim).update(
                    claim=None, claimed_at=None
                )
                continue
            result = collect.collect_post(post_id, claim, now=now)
            publicity.after_collection(result)
            alert = alerts.check_after_collection(result)
            if alert is not None:
                alerts.email(alert.pk)
            done += 1
        if options["verbosity"] >= 1:
            self.stdout.write(f"Collected the conversation of {done} posts.")
