"""Shared factories (factory_boy + wagtail-factories)."""

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

import factory
import wagtail_factories
from factory.django import DjangoModelFactory

from stories.models import AudienceInterest, HomePage, StoryIndexPage, StoryLink, StoryPage
from syndication import states
from syndication.models import ChannelAccount, Network, SyndicationPost
from syndication.newsletter.models import Subscriber


class AudienceInterestFactory(DjangoModelFactory):
    class Meta:
        model = AudienceInterest
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Interest {n}")
    slug = factory.LazyAttribute(lambda obj: slugify(obj.name))
    description = factory.LazyAttribute(lambda obj: f"Stories about {obj.name.lower()}.")


class ImageFactory(wagtail_factories.ImageFactory):
    title = factory.Sequence(lambda n: f"Picture {n}")
    file = factory.django.ImageField(width=1600, height=900, color="teal")


class StoryPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StoryPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"A story worth reading {n}")
    intro = "How one household found its way through a small problem."
    purpose = "solve"
    body = factory.LazyFunction(
        lambda: [
            ("heading", "What happened"),
            ("paragraph", "<p>It began on a wet Tuesday, with a drip in the hallway.</p>"),
            ("quote", {"quote": "We fixed it together.", "attribution": "Sam"}),
        ]
    )
    first_published_at = factory.LazyFunction(timezone.now)
    last_published_at = factory.LazyAttribute(lambda obj: obj.first_published_at)

    @factory.post_generation
    def interests(self, create, extracted, **kwargs):
        if create and extracted:
            self.interests.set(extracted)
            self.save()


class ChannelAccountFactory(DjangoModelFactory):
    """A connected Mastodon account by default; ``tokens={...}`` stores (encrypted) tokens."""

    class Meta:
        model = ChannelAccount
        skip_postgeneration_save = True

    network = Network.MASTODON
    instance_url = "https://social.example"
    remote_id = factory.Sequence(str)
    handle = "@storyloom"
    max_characters = 500

    @factory.post_generation
    def tokens(self, create, extracted, **kwargs):
        if extracted:
            self.set_tokens(extracted)
            if create:
                self.save()


class BlueskyAccountFactory(ChannelAccountFactory):
    network = Network.BLUESKY
    instance_url = "https://bsky.social"
    remote_id = factory.Sequence(lambda n: f"did:plc:storyloom{n}")
    handle = "storyloom.bsky.social"
    max_characters = None


class SyndicationPostFactory(DjangoModelFactory):
    """A post scheduled for now unless told otherwise."""

    class Meta:
        model = SyndicationPost

    story = factory.SubFactory(StoryPageFactory)
    account = factory.SubFactory(ChannelAccountFactory)
    text = "A story worth a read. {story_url}"
    scheduled_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda post: post.scheduled_at)
    state = states.SCHEDULED


def site_tree():
    """The home page and story index, created if a flushed database lacks them."""
    home = HomePage.objects.first()
    if home is None:
        Locale.objects.get_or_create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="Stories worth passing on", slug="home"))
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={"hostname": "localhost", "root_page": home, "site_name": "Storyloom"},
        )
    index = StoryIndexPage.objects.first()
    if index is None:
        index = home.add_child(instance=StoryIndexPage(title="Stories", slug="stories"))
    return home, index


def link(page, target, kind="related"):
    """Add a story link the way publishing does (stored rows, page re-saved)."""
    page.story_links.add(StoryLink(target=target, kind=kind))
    page.save()
    return page


class SubscriberFactory(DjangoModelFactory):
    """A confirmed subscriber by default; ``status=`` for another state (only active and
    paused subscribers have confirmed), ``interests=[...]`` for their interests."""

    class Meta:
        model = Subscriber
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    status = Subscriber.Status.ACTIVE
    confirmed_at = factory.LazyAttribute(
        lambda obj: (
            timezone.now()
            if obj.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED)
            else None
        )
    )

    @factory.post_generation
    def interests(self, create, extracted, **kwargs):
        if create and extracted:
            self.interests.set(extracted)
