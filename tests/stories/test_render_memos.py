"""What reading pages keep per process, and that every change still shows on the next render.

A render that misses the page cache reuses the process's copies: routing to a story, its
text, its own part and "More on…", and story cards, each while the tags of what it
shows keep their versions (stories.page_cache.parts); the home page and listings for the
content version, the site and routing for the structure version (stories.render_cache).
Each change a page can show moves them on (stories.signals), so the next render works
out again what it shows. The test client here renders every request (no page cache in
front of it): each ``client.get`` is an uncached render.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.models import PageViewRestriction, Site

import pytest

from stories import reading, render_cache
from stories.models import StorySeries
from stories.models.pages import ROUTED_STORIES
from stories.reading import LISTINGS, STORY_CONTEXTS
from stories.templatetags.card_tags import STORY_TEXTS
from syndication.conversation import publicity
from syndication.conversation.models import StoryConversation
from tests.factories import AudienceInterestFactory, ImageFactory

pytestmark = pytest.mark.django_db


def html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def published(story, **changes):
    """Publish ``story`` with ``changes`` through a revision, as the editor does."""
    for name, value in changes.items():
        setattr(story, name, value)
    story.save_revision().publish()
    return story


def render_twice(client, url) -> str:
    """Render ``url``, then again from the process's copies: no query the second time."""
    first = html(client, url)
    with CaptureQueriesContext(connection) as queries:
        again = html(client, url)
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]
    assert again == first
    return first


def test_a_story_and_the_listings_render_again_from_the_process_copies(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    target = published(make_story(title="Where the cat went", interests=[pets]))
    story = published(
        make_story(title="The kettle that sang", interests=[pets]),
        body=[("story_link", {"story": target, "note": "Read on"})],
    )
    page = render_twice(client, story.url)
    assert "Where the cat went" in page and "The kettle that sang" in page
    assert "The kettle that sang" in render_twice(client, "/")
    assert "The kettle that sang" in render_twice(client, "/stories/interest/pets/")
    assert "The kettle that sang" in render_twice(client, "/stories/")


def test_publishing_a_new_text_shows_on_the_next_render(client, make_story):
    story = published(make_story(), body=[("paragraph", "<p>The first telling.</p>")])
    assert "The first telling." in render_twice(client, story.url)
    published(story, body=[("paragraph", "<p>The second telling.</p>")])
    page = html(client, story.url)
    assert "The second telling." in page and "The first telling." not in page


def test_a_linked_story_republished_shows_in_the_text_and_the_cards(client, make_story):
    target = published(make_story(title="The old title"))
    story = published(make_story(), body=[("story_link", {"story": target, "note": ""})])
    assert "The old title" in render_twice(client, story.url)
    published(target, title="A better title")
    page = html(client, story.url)
    assert "A better title" in page and "The old title" not in page


def test_renaming_an_interest_shows_on_story_home_and_hub(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story = published(make_story(interests=[pets]))
    for url in (story.url, "/", "/stories/interest/pets/"):
        assert "Pets" in render_twice(client, url)
    pets.name = "Animals at home"
    pets.save()
    for url in (story.url, "/", "/stories/interest/pets/"):
        page = html(client, url)
        assert "Animals at home" in page and ">Pets<" not in page, url


def test_a_pictures_new_title_shows_as_the_heroes_alt_text(client, make_story):
    picture = ImageFactory(title="A teal square")
    story = published(make_story(hero_image=picture))
    assert 'alt="A teal square"' in render_twice(client, story.url)
    picture.title = "The boiler, glowing"
    picture.save()
    page = html(client, story.url)
    assert 'alt="The boiler, glowing"' in page and "A teal square" not in page


def test_renaming_a_series_shows_on_its_stories(client, make_story):
    series = StorySeries.objects.create(name="Winter")
    story = published(make_story(series=series, series_part=1))
    assert "Winter, part 1" in render_twice(client, story.url)
    series.name = "A long winter"
    series.save()
    assert "A long winter, part 1" in html(client, story.url)


def test_a_new_story_added_live_shows_on_the_home_page(client, make_story):
    make_story(title="The first story")
    assert "The first story" in render_twice(client, "/")
    make_story(title="The second story")  # added live, as a script or an import does
    assert "The second story" in html(client, "/")


def test_a_saved_draft_leaves_the_live_story_and_its_preview_shows_the_draft(client, make_story):
    story = published(make_story(title="The live title"))
    render_twice(client, story.url)
    story.title = "The draft title"
    story.save_revision()  # a draft: the live page stays as it was
    page = html(client, story.url)
    assert "The live title" in page and "The draft title" not in page
    preview = story.get_latest_revision_as_object().make_preview_request()
    assert "The draft title" in preview.content.decode()


def test_each_host_gets_its_own_addresses(client, make_story, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]  # besides testserver
    story = published(make_story(hero_image=ImageFactory()))
    first = render_twice(client, story.url)
    other = client.get(story.url, HTTP_HOST="127.0.0.1").content.decode()
    assert '<meta property="og:image" content="http://testserver/' in first
    assert '<meta property="og:image" content="http://127.0.0.1/' in other


def test_publishing_a_story_keeps_the_site_and_routing_copies(client, make_story):
    story = published(make_story(title="One story"))
    render_twice(client, story.url)
    structure = render_cache.structure_version()
    other = published(make_story(title="Another story"))
    assert render_cache.structure_version() == structure
    with CaptureQueriesContext(connection) as queries:
        assert "One story" in html(client, story.url)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    # The story and what it shows are worked out again; the site, its root page, the
    # index and the restrictions are not looked up.
    assert "wagtailcore_site" not in sql and "pageviewrestriction" not in sql
    assert "Another story" in html(client, other.url)


def test_a_story_published_in_other_interests_leaves_a_story_page_kept(client, make_story):
    pets, money = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Money")
    story = published(make_story(title="The kettle that sang", interests=[pets]))
    render_twice(client, story.url)
    published(make_story(title="Paying less for power", interests=[money]))
    with CaptureQueriesContext(connection) as queries:
        assert "The kettle that sang" in html(client, story.url)
    # Routing, the text, the links, "More on…": all kept (the other story is in no
    # interest of this one).
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]
    assert "Paying less for power" in html(client, "/")


def test_a_story_published_in_its_interests_shows_in_more_on(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story = published(make_story(title="The kettle that sang", interests=[pets]))
    assert "Where the cat went" not in render_twice(client, story.url)
    other = published(make_story(title="Where the cat went", interests=[pets]))
    with CaptureQueriesContext(connection) as queries:
        page = html(client, story.url)
    assert "Where the cat went" in page
    # Only "More on…" is worked out again: its candidates, then the new story's card.
    assert len(queries) == 2, [q["sql"] for q in queries.captured_queries]
    other.unpublish()
    assert "Where the cat went" not in html(client, story.url)


def test_a_story_added_live_in_its_interests_shows_in_more_on(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story = published(make_story(title="The kettle that sang", interests=[pets]))
    render_twice(client, story.url)
    make_story(title="Where the cat went", interests=[pets])  # a script or an import
    assert "Where the cat went" in html(client, story.url)


@pytest.mark.parametrize("url", ["/stories/interest/pets/", "/stories/"])
def test_a_listing_after_a_publish_loads_only_the_new_card(client, make_story, monkeypatch, url):
    pets = AudienceInterestFactory(name="Pets")
    for n in range(5):
        published(make_story(title=f"Kept card {n}", interests=[pets]))
    render_twice(client, url)
    published(make_story(title="Where the cat went", interests=[pets]))
    loaded = []

    def story_cards(queryset, **options):
        loaded.append(real(queryset, **options))
        return loaded[-1]

    real = reading.story_cards
    monkeypatch.setattr(reading, "story_cards", story_cards)
    page = html(client, url)
    assert "Where the cat went" in page and "Kept card 0" in page
    # The listing is worked out again (the content version moved), its cards are not.
    assert [card.title for cards in loaded for card in cards] == ["Where the cat went"]


def test_a_picture_changed_on_a_card_shows_on_the_story_that_shows_it(client, make_story):
    picture = ImageFactory(title="A grey cat")
    pets = AudienceInterestFactory(name="Pets")
    published(make_story(title="Where the cat went", interests=[pets], hero_image=picture))
    story = published(make_story(title="The kettle that sang", interests=[pets]))
    assert "A grey cat" in render_twice(client, story.url)
    picture.title = "A ginger cat"
    picture.save()
    page = html(client, story.url)
    assert "A ginger cat" in page and "A grey cat" not in page


def test_renaming_the_index_or_the_site_shows_on_the_next_render(client, make_story, story_index):
    story = published(make_story(title="One story"))
    assert "Stories" in render_twice(client, story.url)  # the breadcrumb: the index's title
    structure = render_cache.structure_version()
    story_index.title = "Every story we tell"
    story_index.save_revision().publish()
    assert render_cache.structure_version() != structure
    assert "Every story we tell" in html(client, story.url)

    site = Site.objects.get(is_default_site=True)
    site.site_name = "The renamed site"
    site.save()
    assert "The renamed site" in html(client, story.url)


def test_a_view_restriction_added_to_a_story_applies_at_once(
    client, make_story, django_capture_on_commit_callbacks
):
    story = published(make_story(title="Behind the login"))
    render_twice(client, story.url)
    structure = render_cache.structure_version()
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(page=story, restriction_type="login")
    assert render_cache.structure_version() != structure
    response = client.get(story.url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_story_changes_move_the_content_version_only(make_story):
    story = published(make_story())
    for change in (
        lambda: published(story, title="Renamed"),
        lambda: story.unpublish(),
        lambda: AudienceInterestFactory(name="Gardening"),
        lambda: ImageFactory(),
        lambda: StorySeries.objects.create(name="A series"),
    ):
        content, structure = render_cache.content_version(), render_cache.structure_version()
        change()
        assert render_cache.content_version() != content
        assert render_cache.structure_version() == structure


# --- The stores themselves -------------------------------------------------------------


def test_a_request_reads_the_version_once_and_sees_its_own_changes():
    before = render_cache.content_version()
    with render_cache.request_version():
        assert render_cache.content_version() == before
        render_cache.cache.set(render_cache.VERSION_KEY, "moved by another process")
        assert render_cache.content_version() == before  # read once, at the start
        render_cache.bump_content_version()
        mine = render_cache.content_version()
        assert mine not in (before, "moved by another process")
    assert render_cache.content_version() == mine


def test_both_versions_and_the_part_clock_are_read_in_one_round_trip(monkeypatch):
    reads = []
    get_many = render_cache.cache.get_many
    monkeypatch.setattr(
        render_cache.cache, "get_many", lambda keys: reads.append(keys) or get_many(keys)
    )
    render_cache.bump_content_version()
    with render_cache.request_version():
        render_cache.content_version(), render_cache.structure_version()
        render_cache.per_version("a", lambda: 1), render_cache.per_structure("b", lambda: 2)
        render_cache.part_clock()
    keys = [render_cache.VERSION_KEY, render_cache.STRUCTURE_KEY, render_cache.PART_CLOCK_KEY]
    assert reads == [keys]


def test_a_copy_kept_for_the_structure_outlives_a_story_change_only():
    loads = []
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert render_cache.per_structure("site", load) == 1
    render_cache.bump_content_version(structure=False)
    assert render_cache.per_structure("site", load) == 1
    assert render_cache.per_version("routed", load) == 2
    render_cache.bump_content_version()
    assert render_cache.per_structure("site", load) == 3


def test_the_store_is_bounded_and_forgets_everything_when_the_version_moves():
    store = render_cache.VersionedLRU(2)
    loads = []

    def load(value):
        def loader():
            loads.append(value)
            return value

        return loader

    assert store.get_or_load("a", load("a")) == "a"
    assert store.get_or_load("b", load("b")) == "b"
    assert store.get_or_load("a", load("not again")) == "a"
    store.get_or_load("c", load("c"))  # "b" is the least recently used
    assert store.get_or_load("a", load("not again")) == "a"
    assert store.get_or_load("b", load("b again")) == "b again"
    render_cache.bump_content_version()
    assert store.get_or_load("a", load("a, new version")) == "a, new version"
    assert loads == ["a", "b", "c", "b again", "a, new version"]


def test_the_reading_pages_stores_are_bounded():
    # A few megabytes to a few dozen per process at most (a story's text, its context
    # with a handful of cards, a listing's page of cards).
    for store, most in [(ROUTED_STORIES, 500), (STORY_CONTEXTS, 500), (STORY_TEXTS, 300)]:
        assert 0 < store.size <= most
    assert 0 < LISTINGS.size <= 300


def test_a_list_kept_for_its_version_is_read_again_when_it_moves_or_grows_old(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(render_cache.time, "monotonic", lambda: now[0])
    kept = render_cache.KeptForVersion(60)
    assert kept.get("v1", lambda: "first") == "first"
    assert kept.get("v1", lambda: "not read") == "first"
    assert kept.get("v2", lambda: "second") == "second"
    now[0] += 61
    assert kept.get("v2", lambda: "read again") == "read again"


def test_turning_what_people_said_on_shows_at_once(make_story):
    story = make_story()
    assert story.pk not in publicity.shown_story_ids()  # now kept in this process
    StoryConversation.objects.create(story=story, show_on_page=True)
    assert story.pk in publicity.shown_story_ids()
