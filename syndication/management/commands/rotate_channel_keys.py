"""Re-encrypt every stored channel secret with the first of SYNDICATION_TOKEN_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from syndication import crypto
from syndication.models import ChannelAccount, MastodonApp


class Command(BaseCommand):
    help = (
        "Re-encrypt channel tokens and app secrets with the newest key. Put the new key "
        "first in SYNDICATION_TOKEN_KEYS, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        counts = {}
        try:
            with transaction.atomic():
                for model, field in (
                    (ChannelAccount, "encrypted_tokens"),
                    (MastodonApp, "encrypted_client_secret"),
                ):
                    rows = model.objects.select_for_update().exclude(**{field: ""})
                    for row in rows:
                        setattr(row, field, crypto.rotate(getattr(row, field)))
                        row.save(update_fields=[field])
                    counts[model._meta.verbose_name_plural] = len(rows)
        except crypto.InvalidToken as exc:
            raise CommandError(
                "A stored secret could not be decrypted with any key in "
                "SYNDICATION_TOKEN_KEYS; nothing was changed. Put the old key back."
            ) from exc
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {summary} with the newest key."))
