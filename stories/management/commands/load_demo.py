import logging
import re
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cms.progress import progress as progress_bar
from stories.demo.loader import DEMO_PASSWORD, DEMO_USERS, load

#: The loader reports "story 3/46: …" and "1500/10000 generated stories".
COUNTED = re.compile(r"(?:story )?(\d+)/(\d+)")
#: ``host:port`` as ``make run`` serves the site: a name or IPv4 address, and a port.
ADDRESS = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})")
#: What the first migration gives the default site, before anyone set its address.
FIRST_ADDRESS = ("localhost", 80)


def point_default_site(address: str) -> bool:
    """Give the default site the address the site is served at (``make run``'s
    ``HOST:PORT``), so full links — a post's link back to its story, an edition's links —
    open the running site, not ``http://localhost/``. Only a site still at the first
    migration's address is changed: one its owner has set is left alone. Returns whether
    it changed."""
    from wagtail.models import Site

    found = ADDRESS.fullmatch(address)
    if found is None or not 1 <= int(found[2]) <= 65535:
        raise CommandError(
            f"--site-address must be host:port (e.g. 127.0.0.1:8000), not {address!r}."
        )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None or (site.hostname, site.port) != FIRST_ADDRESS:
        return False
    site.hostname, site.port = found[1], int(found[2])
    site.save(update_fields=["hostname", "port"])
    return True


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
        parser.add_argument(
            "--interests",
            type=int,
            default=None,
            help="Total number of interests wanted (extra ones are generated topics, "
            "shared out among the generated stories).",
        )

        parser.add_argument(
            "--stories-only",
            action="store_true",
            help="Only the stories, users and interests: no demo network, posts, readers' "
            "history, subscribers or edition (benchmarks).",
        )
        parser.add_argument(
            "--site-address",
            default=None,
            help="host:port the site is served at (make run passes its own); the default "
            "site takes it while it still has the first migration's localhost:80.",
        )

    def handle(
        self, *args, stories=None, interests=None, stories_only=False, site_address=None, **options
    ):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("load_demo creates users with a known password; not in production.")
        if stories is not None and not 1 <= stories <= 200_000:
            raise CommandError("--stories must be between 1 and 200000.")
        if interests is not None and not 1 <= interests <= 10_000:
            raise CommandError("--interests must be between 1 and 10000.")
        started = time.monotonic()
        verbose = options["verbosity"] > 1
        if site_address is not None and point_default_site(site_address):
            self.stdout.write(f"The default site's address is now {site_address}.")

        bars = {}

        def finish(bar):
            # Stories made by an earlier run are not reported; they are there all the same.
            bar.update(bar.total)
            bar.close()

        def progress(message):
            if verbose:
                self.stdout.write(f"  {message}")
                return
            found = COUNTED.match(message)
            if options["verbosity"] < 1 or not found:
                return
            # A bar with rate and ETA per phase, on stderr (cms/progress.py).
            label = "Generated stories" if message.endswith("generated stories") else "Demo stories"
            if label not in bars:
                for bar in bars.values():
                    finish(bar)
                bars[label] = progress_bar(
                    total=int(found[2]), label=label, stream=self.stderr, initial=int(found[1])
                )
            bars[label].update(int(found[1]))

        # Wagtail logs three lines per page saved; the summary below says what happened.
        wagtail_log = logging.getLogger("wagtail")
        level = wagtail_log.level
        if not verbose:
            wagtail_log.setLevel(logging.WARNING)
        try:
            counts = load(stories=stories, progress=progress, interests=interests)
            for bar in bars.values():
                finish(bar)
            bars = {}
            if not stories_only:
                # The channel, readers and newsletter are syndication's: its command,
                # called by name (stories never imports syndication).
                call_command("load_living_demo", stdout=self.stdout, verbosity=options["verbosity"])
        except BaseException:
            for bar in bars.values():
                bar.close(failed=True)
            raise
        finally:
            wagtail_log.setLevel(level)
        for bar in bars.values():
            finish(bar)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo site ready in {time.monotonic() - started:.1f}s: "
                f"{counts['stories']} stories, "
                f"{counts['interests']} interests, {counts['links']} story links."
            )
        )
        logins = ", ".join(name for name, _, _ in DEMO_USERS)
        self.stdout.write(f"Logins ({logins}) all use the password '{DEMO_PASSWORD}'.")
