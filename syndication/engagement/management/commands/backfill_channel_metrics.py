import datetime
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from cms.progress import progress
from syndication import states
from syndication.engagement import collect
from syndication.models import ChannelAccount, SyndicationPost


def day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Collect channel metrics now for the posts published in a date range (beat only "
        "collects the last 30 days): one snapshot per post its network reports on, with "
        "a progress bar. Rate-limited accounts are paused and skipped, as in the beat task."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=day, required=True, help="First day (YYYY-MM-DD).")
        parser.add_argument("--until", type=day, help="Last day, included (default: today).")
        parser.add_argument("--account", type=int, help="Only this channel account (its id).")

    def handle(self, *args, since, until=None, account=None, **options):
        now = timezone.now()
        until = until or timezone.localdate(now)
        if until < since:
            raise CommandError("--until is before --since.")
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        end = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
        posts = (
            SyndicationPost.objects.filter(
                state=states.PUBLISHED, published_at__gte=start, published_at__lte=min(end, now)
            )
            .exclude(remote_id="")
            .filter(account__status=ChannelAccount.Status.ACTIVE)
            .filter(Q(account__paused_until__isnull=True) | Q(account__paused_until__lte=now))
            .select_related("account")
            .order_by("account_id", "published_at", "pk")
        )
        if account is not None:
            posts = posts.filter(account_id=account)
        by_account = defaultdict(list)
        for post in posts:
            by_account[post.account_id].append(post)
        total = sum(len(found) for found in by_account.values())
        summary = {"snapshots": 0, "skipped": 0, "paused": [], "failed": []}
        with progress(total=total, label="Posts", stream=self.stderr) as bar:
            for found in by_account.values():
                owner = found[0].account
                for start_at in range(0, len(found), collect.BATCH):
                    batch = found[start_at : start_at + collect.BATCH]
                    stored, outcome = collect.collect_account(owner, batch, now=timezone.now())
                    summary["snapshots"] += stored
                    bar.advance(len(batch))
                    if outcome != "ok":
                        # Paused (rate limited) or failing: the rest of this account waits
                        # for the next run, like the beat task.
                        rest = len(found) - start_at - len(batch)
                        summary["skipped"] += rest
                        summary[outcome].append(str(owner))
                        bar.advance(rest)
                        break
        self.stdout.write(
            f"{summary['snapshots']:,} snapshots for {total:,} posts on "
            f"{len(by_account):,} accounts, published {since} to {until}."
        )
        if summary["skipped"] or summary["paused"] or summary["failed"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Not read: {summary['skipped']:,} posts. Rate limited (paused): "
                    f"{', '.join(summary['paused']) or 'none'}. Failed (see the log): "
                    f"{', '.join(summary['failed']) or 'none'}."
                )
            )
