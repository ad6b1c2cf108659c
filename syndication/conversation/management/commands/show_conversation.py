"""Moderate from the command line what a person does on a story's conversation screen."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from stories.models import StoryPage
from syndication.conversation import publicity
from syndication.conversation.models import ConversationItem, ItemKind, Tone


class Command(BaseCommand):
    help = (
        'Turn "What people said" on for a story and approve its replies of the given '
        "tones, as the given user (who needs the moderation permission). The demo "
        "shows the kind words and the question under its storm story this way."
    )

    def add_arguments(self, parser):
        parser.add_argument("story", help="The story's slug.")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument(
            "--tone", action="append", choices=Tone.values, default=[], help="Repeatable."
        )

    def handle(self, *args, story, username, tone, **options):
        page = StoryPage.objects.filter(slug=story).first()
        user = get_user_model().objects.filter(username=username).first()
        if page is None or user is None:
            raise CommandError(f"No story {story!r} or no user {username!r}.")
        publicity.show_on_page(page, True, user)
        replies = ConversationItem.objects.filter(
            post__story=page, kind=ItemKind.REPLY, tone__in=tone, deleted=False
        )
        approved = 0
        for item in replies:
            try:
                publicity.approve(item, user, story=page)
                approved += 1
            except publicity.Refused as refused:
                self.stderr.write(f"Not shown: {item.author_handle}: {refused}")
        if options["verbosity"] >= 1:
            self.stdout.write(f"{page.title}: showing {approved} replies.")
