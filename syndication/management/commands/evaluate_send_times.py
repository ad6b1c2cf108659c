"""How the suggested send times did against an account's own habit, offline.

``manage.py evaluate_send_times`` splits the demo brand account's history by time
(``--account`` names another): the estimator is fitted on the posts before the last
``--test-days`` days and scored on the posts after, as engaged reads per post (and
engaged reads and replies per post) in the suggested hours against the account's most
frequent hours. ``--synthetic`` scores the demo's simulated audience instead
(``syndication.demo.send_history``), over ``--days`` of history and ``--seeds`` runs,
without the database. Prints a table, then one JSON object as the last line.
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from syndication import sendtimes
from syndication.demo import send_history
from syndication.models import ChannelAccount


class Command(BaseCommand):
    help = (
        "Fit send times on an account's earlier posts and score them on its later ones "
        "against its own habit. Prints a table and, last, one line of JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="The account's id (default: the demo's).")
        parser.add_argument(
            "--test-days", type=int, default=21, help="Days at the end scored (default 21)."
        )
        parser.add_argument(
            "--synthetic", action="store_true", help="The simulated audience, not the database."
        )
        parser.add_argument("--days", type=int, default=180, help="Synthetic history's days.")
        parser.add_argument("--seeds", type=int, default=1, help="Synthetic runs, added up.")

    def handle(self, *args, account=None, test_days, synthetic, days, seeds, **options):
        if test_days < 1 or days < 2 or seeds < 1:
            raise CommandError("--test-days, --days and --seeds must be positive.")
        zone = sendtimes.site_zone()
        today = timezone.localdate()
        split_at = datetime.datetime.combine(
            today - datetime.timedelta(days=test_days), datetime.time(0), tzinfo=zone
        )
        if synthetic:
            if test_days >= days:
                raise CommandError("--test-days must be fewer than --days.")
            runs = [
                sendtimes.evaluate(
                    send_history.outcomes(send_history.plan(today, zone, days=days, seed=17 + n)),
                    zone,
                    split_at,
                )
                for n in range(seeds)
            ]
            report = combine(runs)
            report["source"] = f"synthetic: {seeds} × {days} days of the demo's audience"
        else:
            found = self.account(account)
            outcomes = sendtimes.outcomes_for([found.pk])[found.pk]
            report = sendtimes.evaluate(outcomes, zone, split_at)
            report["source"] = f"account {found.pk} ({found})"
        report["test_days"] = test_days
        self.print_table(report)
        self.stdout.write(json.dumps(report, sort_keys=True))

    def account(self, pk):
        if pk is not None:
            found = ChannelAccount.objects.filter(pk=pk).first()
            if found is None:
                raise CommandError(f"No account has the id {pk}.")
            return found
        from syndication.demo.living import demo_account

        found = demo_account()
        if found is None:
            raise CommandError("No demo account: run `manage.py load_demo`, or give --account.")
        return found

    def print_table(self, report):
        self.stdout.write(
            f"{report['source']}: fitted on {report['fit_posts']} posts, scored on "
            f"{report['test_posts']} posts of the last {report['test_days']} days"
        )
        self.stdout.write(f"{'':10} {'posts':>6} {'reads/post':>11} {'+replies/post':>14}  hours")
        for name in ("suggested", "habit", "all"):
            row = report[name]
            hours = ", ".join(row.get("hours", [])) or "—"
            self.stdout.write(
                f"{name:10} {row['posts']:>6} {_shown(row['engaged_reads_per_post']):>11} "
                f"{_shown(row['engagement_per_post']):>14}  {hours}"
            )
        self.stdout.write(
            "suggested ÷ habit: engaged reads per post "
            f"{_shown(report['engaged_reads_per_post_ratio'])}×, with replies "
            f"{_shown(report['engagement_per_post_ratio'])}×"
        )


def _shown(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def combine(runs: list[dict]) -> dict:
    """Several synthetic runs' groups added up post by post (their hours differ)."""
    report = {
        "runs": len(runs),
        "fit_posts": sum(run["fit_posts"] for run in runs),
        "test_posts": sum(run["test_posts"] for run in runs),
    }
    for name in ("suggested", "habit", "all"):
        posts = sum(run[name]["posts"] for run in runs)
        reads = sum(run[name]["engaged_reads"] for run in runs)
        engagement = sum(run[name]["engagement"] for run in runs)
        report[name] = {
            "posts": posts,
            "engaged_reads": reads,
            "engagement": engagement,
            "engaged_reads_per_post": round(reads / posts, 3) if posts else None,
            "engagement_per_post": round(engagement / posts, 3) if posts else None,
        }
        if len(runs) == 1:
            report[name]["hours"] = runs[0][name].get("hours", [])
    for measure in ("engaged_reads_per_post", "engagement_per_post"):
        mine, theirs = report["suggested"][measure], report["habit"][measure]
        report[f"{measure}_ratio"] = round(mine / theirs, 3) if mine and theirs else None
    return report
