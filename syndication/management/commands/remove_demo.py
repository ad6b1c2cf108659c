import logging

from django.core.management.base import BaseCommand

from syndication.demo.remove import remove


class Command(BaseCommand):
    help = (
        "Remove exactly the demo data load_demo made (stories, pictures, users, the demo "
        "channel and its posts, readers' history, subscribers, the edition), leaving an "
        "empty working site. Stop `make run` first, so the demo network does not keep "
        "its state."
    )

    def handle(self, *args, **options):
        # Wagtail logs two lines per page taken away; the summary says what went.
        wagtail_log = logging.getLogger("wagtail")
        level = wagtail_log.level
        if options["verbosity"] < 2:
            wagtail_log.setLevel(logging.WARNING)
        try:
            counts = remove()
        finally:
            wagtail_log.setLevel(level)
        gone = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Demo data removed: {gone or 'there was none'}."))
        self.stdout.write(
            "Create your own login with `manage.py createsuperuser`; "
            "`manage.py load_demo` brings the demo back."
        )
