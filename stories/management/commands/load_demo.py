import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stories.demo.loader import DEMO_PASSWORD, DEMO_USERS, load


class Command(BaseCommand):
    help = (
        "Build the demo site: interests, users, 40+ linked stories with pictures. "
        "Safe to run again; --stories N tops the site up to N stories for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stories",
            type=int,
            default=None,
            help="Total number of stories wanted (extra ones are generated variations).",
        )

    def handle(self, *args, stories=None, **options):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("load_demo creates users with a known password; not in production.")
        if stories is not None and not 1 <= stories <= 200_000:
            raise CommandError("--stories must be between 1 and 200000.")
        started = time.monotonic()
        verbose = options["verbosity"] > 1

        def progress(message):
            if verbose:
                self.stdout.write(f"  {message}")
            elif message.endswith("generated stories"):
                self.stdout.write(f"\r  {message}", ending="")
                self.stdout.flush()

        # Wagtail logs three lines per page saved; the summary below says what happened.
        wagtail_log = logging.getLogger("wagtail")
        level = wagtail_log.level
        if not verbose:
            wagtail_log.setLevel(logging.WARNING)
        try:
            counts = load(stories=stories, progress=progress)
        finally:
            wagtail_log.setLevel(level)
        if stories:
            self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo site ready in {time.monotonic() - started:.1f}s: "
                f"{counts['stories']} stories, "
                f"{counts['interests']} interests, {counts['links']} story links."
            )
        )
        logins = ", ".join(name for name, _, _ in DEMO_USERS)
        self.stdout.write(f"Logins ({logins}) all use the password '{DEMO_PASSWORD}'.")
