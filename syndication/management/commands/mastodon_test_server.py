"""Run the Mastodon test server in the foreground, to try connecting and posting locally."""

import time

from django.core.management.base import BaseCommand

from syndication.testing.mastodon_server import PROFILES, MastodonTestServer


class Command(BaseCommand):
    help = (
        "Serve a small in-memory Mastodon on 127.0.0.1 for trying Storyloom's connect flow "
        "and publishing without a real instance (development only; nothing is kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument("--username", default="storyloom")
        parser.add_argument(
            "--profile",
            choices=sorted(PROFILES),
            default="mastodon-4",
            help="Which Mastodon-API server to behave as (GoToSocial, Takahē, …).",
        )

    def handle(self, *args, port, username, profile, **options):
        server = MastodonTestServer(port=port, usernames=(username,), profile=PROFILES[profile])
        with server:
            self.stdout.write(
                f"Mastodon test server ({profile}) on {server.url} (account @{username}). "
                "In the admin: "
                f"Syndication → Channel accounts → Connect → Mastodon, server {server.url}. "
                "Posts it receives are listed at "
                f"{server.url}/@{username}. Ctrl-C stops it."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                self.stdout.write("Stopped.")
