"""The living demo on top of ``load_demo``'s stories (``load_demo`` runs it)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syndication.demo import living


class Command(BaseCommand):
    help = (
        "Connect the demo brand on the demo network, publish its posts, bring in the "
        "audience's conversation, count 60 days of simulated readers, sign up subscribers "
        "and send an edition; each part once. `load_demo` runs it after the stories."
    )

    def handle(self, *args, **options):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("The living demo uses a local test server; not in production.")

        def note(message):
            if options["verbosity"] >= 1:
                self.stdout.write(f"  {message}")

        alive = living.ensure(progress=note)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Living demo: {alive['posts']} posts on the demo network ({alive['network']}), "
                f"{alive['subscribers']} subscribers, edition {alive['edition']}; "
                f"{alive['events']} reader events counted this run."
            )
