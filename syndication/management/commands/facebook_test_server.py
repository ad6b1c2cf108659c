"""Run the Facebook Graph test server in the foreground, to try connecting a Page locally."""

import time

from django.core.management.base import BaseCommand

from syndication.testing.facebook import FacebookTestServer


class Command(BaseCommand):
    help = (
        "Serve a small in-memory Facebook Graph API (and its Login dialog) on 127.0.0.1 for "
        "trying Storyloom's Facebook Page connect flow and publishing without Meta "
        "(development only; nothing is kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8011)
        parser.add_argument("--app-id", default="880011223344556")
        parser.add_argument("--app-secret", default="storyloom-dev-secret")
        parser.add_argument(
            "--page", action="append", dest="pages", help="A Page the person manages (repeat)."
        )

    def handle(self, *args, port, app_id, app_secret, pages, **options):
        pages = tuple(pages or ("Storyloom Stories", "Storyloom Recipes"))
        server = FacebookTestServer(port=port, app_id=app_id, app_secret=app_secret, pages=pages)
        with server:
            self.stdout.write(
                f"Facebook Graph test server on {server.url}, Pages: {', '.join(pages)}.\n"
                "Start Storyloom with:\n"
                f"  FACEBOOK_APP_ID={app_id} FACEBOOK_APP_SECRET={app_secret} "
                f"FACEBOOK_GRAPH_URL={server.url} FACEBOOK_DIALOG_URL={server.url}\n"
                "then Syndication → Channel accounts → Connect → Facebook Page. Ctrl-C stops it."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                self.stdout.write("Stopped.")
