"""Connect a channel account from the command line, for servers and scripted setups."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syndication.connect import ConnectError, bluesky_connect, mastodon_connect_with_token


class Command(BaseCommand):
    help = (
        "Connect a channel account with a token made on the network, without a browser. "
        "One sub-command per network: `connect_channel mastodon --instance mastodon.social "
        "--token-file token.txt`."
    )
    # call_command(..., stdin=...) lets tests feed `--token-file -`.
    stealth_options = ("stdin",)

    #: Sub-commands: network → one line of help. Each has ``add_<network>_arguments``
    #: and ``connect_<network>`` methods below.
    networks = {
        "mastodon": "Connect a Mastodon account with an access token from the server's "
        "Preferences → Development (scopes read:statuses write:statuses write:media profile).",
        "bluesky": "Connect a Bluesky account with an app password (Settings → Privacy and "
        "security → App passwords).",
    }

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(
            dest="network", required=True, metavar="NETWORK", title="networks"
        )
        for network, help_text in self.networks.items():
            subparser = subparsers.add_parser(network, help=help_text, description=help_text)
            getattr(self, f"add_{network}_arguments")(subparser)

    def handle(self, *args, network, **options):
        try:
            account = getattr(self, f"connect_{network}")(**options)
        except ConnectError as exc:
            raise CommandError(f"Not connected: {exc}") from exc
        where = f" on {account.instance_host}" if account.instance_url else ""
        self.stdout.write(
            self.style.SUCCESS(f"Connected {account.handle}{where} (account id {account.pk})")
        )

    # --- Mastodon --------------------------------------------------------------------
    def add_mastodon_arguments(self, parser):
        parser.add_argument("--instance", required=True, help="The server, e.g. mastodon.social.")
        parser.add_argument(
            "--token-file",
            required=True,
            help="File holding the access token, or - to read it from standard input. "
            "A file rather than an argument keeps the token out of shell history.",
        )

    def connect_mastodon(self, *, instance, token_file, **options):
        token = self.read_secret(token_file, options.get("stdin"))
        return mastodon_connect_with_token(instance, token)

    # --- Bluesky ---------------------------------------------------------------------
    def add_bluesky_arguments(self, parser):
        parser.add_argument("--handle", required=True, help="e.g. brand.bsky.social")
        parser.add_argument(
            "--app-password-file",
            required=True,
            help="File holding the app password, or - to read it from standard input.",
        )
        parser.add_argument(
            "--service",
            default="",
            help="The account's PDS; by default it is found from the handle.",
        )

    def connect_bluesky(self, *, handle, app_password_file, service, **options):
        password = self.read_secret(app_password_file, options.get("stdin"))
        return bluesky_connect(handle, password, service)

    # --- Shared ----------------------------------------------------------------------
    def read_secret(self, path: str, stdin=None) -> str:
        """The token in ``path`` (``-``: standard input), stripped. Never printed."""
        try:
            text = (stdin or sys.stdin).read() if path == "-" else Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read the token file {path}: {exc.strerror}.") from exc
        token = text.strip()
        if not token:
            raise CommandError(f"The token file {path} is empty.")
        return token
