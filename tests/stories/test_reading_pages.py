import datetime
import json
import re
from xml.etree import ElementTree

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from stories import reading
from stories.models import StoryLink, StorySeries
from stories.page_cache import (
    STORIES,
    conversation_tag,
    interest_stories_tag,
    purge_all,
    purge_tags,
)
from stories.render_cache import bump_story_version
from tests.factories import AudienceInterestFactory, ImageFactory, link
from tests.stories.test_page_cache import PageCacheClient

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12


@pytest.fixture
def client():
    """Requests served as gunicorn serves them: through the page cache (stories.page_cache)."""
    return PageCacheClient(HTTP_HOST="localhost")


def days_ago(n):
    return timezone.now() - datetime.timedelta(days=n)


def section(html, heading_id):
    """The HTML of the <section> labelled by ``heading_id``."""
    match = re.search(
        rf'<section aria-labelledby="{heading_id}".*?</section>', html, flags=re.DOTALL
    )
    return match.group(0) if match else ""


def test_continue_the_story_follows_the_continues_link(client, make_story):
    story, next_one = make_story(), make_story(title="The second night")
    link(story, next_one, "continues")
    html = client.get(story.url).content.decode()
    block = section(html, "continue-heading")
    assert "Continue the story" in block
    assert next_one.url in block and "The second night" in block


def test_continue_the_story_falls_back_to_the_next_in_series(client, make_story):
    series = StorySeries.objects.create(name="Winter at home")
    part_one = make_story(series=series, series_part=1)
    part_two = make_story(series=series, series_part=2, title="Part two of winter")
    make_story(series=series, series_part=3)
    block = section(client.get(part_one.url).content.decode(), "continue-heading")
    assert part_two.url in block
    assert "Next in the series" in block
    # The last part has nowhere to go.
    last = section(client.get(part_two.url).content.decode(), "continue-heading")
    assert "Part two" not in last


def test_background_and_more_on_interest(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story = make_story(interests=[pets])
    background = make_story(title="Why cats hide", interests=[pets])
    curated = make_story(title="Curated pick", interests=[AudienceInterestFactory(name="Travel")])
    newer = make_story(title="Newest about pets", interests=[pets], first_published_at=days_ago(1))
    older = make_story(title="Older about pets", interests=[pets], first_published_at=days_ago(9))
    unrelated = make_story(title="About money", interests=[AudienceInterestFactory(name="Money")])
    link(story, background, "background")
    link(story, curated, "related")

    html = client.get(story.url).content.decode()
    assert background.url in section(html, "background-heading")
    more = section(html, "more-heading")
    assert "More on pets" in more
    # Curated first, then topped up by shared interest, newest first.
    positions = [more.find(p.url) for p in (curated, newer, older)]
    assert -1 not in positions and positions == sorted(positions)
    # Never the story itself, never a duplicate of what is already shown, nothing unrelated.
    assert story.url not in more
    assert background.url not in more
    assert unrelated.url not in more
    assert more.count(newer.url) == 1


def test_more_on_interests_puts_stories_sharing_more_interests_first(client, make_story):
    pets, cats = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Cats")
    story = make_story(interests=[pets, cats])
    newest = make_story(title="Only about pets", interests=[pets], first_published_at=days_ago(1))
    both = make_story(title="Pets and cats", interests=[pets, cats], first_published_at=days_ago(5))
    hidden = make_story(title="Not live", interests=[pets, cats], live=False)

    more = section(client.get(story.url).content.decode(), "more-heading")

    assert -1 < more.find(both.url) < more.find(newest.url)
    assert hidden.title not in more


def test_breadcrumbs_and_interest_chips_link_to_hubs(client, make_story, story_index):
    pets = AudienceInterestFactory(name="Pets")
    story = make_story(interests=[pets])
    html = client.get(story.url).content.decode()
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', html, re.DOTALL).group(0)
    assert story_index.url in crumbs
    assert 'href="/stories/interest/pets/"' in html
    hub = client.get("/stories/interest/pets/")
    assert hub.status_code == 200
    assert story.title in hub.content.decode()


def test_share_metadata(client, make_story):
    story = make_story(
        title="The boiler that sang",
        intro="A noisy boiler, a patient plumber.",
        hero_image=ImageFactory(),
    )
    html = client.get(story.url).content.decode()
    canonical = "http://localhost/stories/the-boiler-that-sang/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert '<meta property="og:title" content="The boiler that sang">' in html
    assert '<meta property="og:description" content="A noisy boiler, a patient plumber.">' in html
    og_image = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert og_image.startswith("http://localhost/") and "1200x630" in og_image.replace(".", "x")
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    json_ld = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL).group(1)
    )
    assert json_ld["@type"] == "Article"
    assert json_ld["headline"] == "The boiler that sang"
    assert json_ld["url"] == canonical
    assert json_ld["image"] == [og_image]


def test_json_ld_cannot_break_out_of_its_script(client, make_story):
    story = make_story(title="</script><script>alert(1)</script>")
    html = client.get(story.url).content.decode()
    payload = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert "<" not in payload.group(1)
    assert json.loads(payload.group(1))["headline"].startswith("</script>")


def test_home_has_latest_and_a_section_per_interest(client, make_story, home):
    pets, travel = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Travel")
    for n in range(5):
        make_story(title=f"Pet story {n}", interests=[pets], first_published_at=days_ago(n))
    make_story(title="A trip to Porto", interests=[travel])
    html = client.get("/").content.decode()
    assert "Latest stories" in html
    pets_section = section(html, "interest-pets")
    assert pets_section.count('class="card"') == 3  # the newest three
    assert "Pet story 0" in pets_section and "Pet story 4" not in pets_section
    assert "A trip to Porto" in section(html, "interest-travel")


def test_home_finds_older_stories_of_interests_quiet_of_late(client, make_story, monkeypatch):
    monkeypatch.setattr(reading, "RECENT_POOL", 3)
    pets, travel = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Travel")
    make_story(title="An old trip", interests=[travel], first_published_at=days_ago(30))
    for n in range(3):
        make_story(title=f"Pet story {n}", interests=[pets], first_published_at=days_ago(n))

    html = client.get("/").content.decode()

    assert "An old trip" in section(html, "interest-travel")
    assert section(html, "interest-pets").count('class="card"') == 3


def test_home_shows_sections_for_the_liveliest_interests_only(client, make_story, monkeypatch):
    monkeypatch.setattr(reading, "SECTIONS_ON_HOME", 2)
    interests = [AudienceInterestFactory(name=f"Topic {n}") for n in range(4)]
    for n, interest in enumerate(interests):  # Topic 0 has the newest story
        make_story(title=f"Story {n}", interests=[interest], first_published_at=days_ago(n))

    html = client.get("/").content.decode()

    assert section(html, "interest-topic-0") and section(html, "interest-topic-1")
    assert not section(html, "interest-topic-2") and not section(html, "interest-topic-3")
    for interest in interests:  # every interest keeps its chip
        assert f'href="/stories/interest/{interest.slug}/"' in html


def test_story_index_is_paginated(client, make_story):
    for n in range(14):
        make_story(title=f"Story number {n}", first_published_at=days_ago(n))
    first = client.get("/stories/").content.decode()
    second = client.get("/stories/?page=2").content.decode()
    assert "Story number 0" in first and "Story number 13" not in first
    assert "Story number 13" in second and "Page 2 of 2" in second


@pytest.mark.parametrize(
    "url",
    [
        "/stories/interest/no-such-interest/",
        "/stories/?page=99999",
        "/stories/?page=0",
        "/stories/?page=abc",
        "/stories/?page=99999999999999999999999999",
        "/stories/interest/pets/?page=-1",
        "/stories/no-such-story/",
        "/feeds/interest/no-such-interest/rss/",
    ],
)
def test_bad_addresses_are_404_not_500(client, make_story, url):
    make_story(interests=[AudienceInterestFactory(name="Pets")])
    response = client.get(url)
    assert response.status_code == 404
    if not url.startswith("/feeds/"):
        assert "We could not find that page" in response.content.decode()


@pytest.mark.parametrize("limit", ["abc", "0", "-3", "101", "1e3", ""])
def test_malformed_feed_parameters_are_a_clear_400(client, make_story, limit):
    make_story()
    response = client.get("/feeds/stories/rss/", {"limit": limit})
    assert response.status_code == 400
    assert "limit must be a whole number from 1 to 100" in response.content.decode()


def test_rss_and_atom_feeds(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    make_story(title="A dog called Biscuit", interests=[pets])
    make_story(title="Budgeting with a teenager", interests=[AudienceInterestFactory(name="Money")])

    rss = ElementTree.fromstring(client.get("/feeds/stories/rss/").content)
    titles = [item.findtext("title") for item in rss.iter("item")]
    assert set(titles) == {"A dog called Biscuit", "Budgeting with a teenager"}
    assert rss.find("channel/item/link").text.startswith("http://localhost/stories/")

    atom = ElementTree.fromstring(client.get("/feeds/interest/pets/atom/").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.findtext("a:title", namespaces=ns) for e in atom.findall("a:entry", ns)] == [
        "A dog called Biscuit"
    ]
    limited = ElementTree.fromstring(client.get("/feeds/stories/rss/?limit=1").content)
    assert len(list(limited.iter("item"))) == 1


def test_feeds_send_the_plain_text_intro_escaped_as_html(client, make_story):
    make_story(intro="<script>x</script><b> & more")
    escaped = "&lt;script&gt;x&lt;/script&gt;&lt;b&gt; &amp; more"

    rss = ElementTree.fromstring(client.get("/feeds/stories/rss/").content)
    assert rss.findtext("channel/item/description") == escaped

    atom = ElementTree.fromstring(client.get("/feeds/stories/atom/").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    summary = atom.find("a:entry/a:summary", ns)
    assert summary.get("type") == "html"
    assert summary.text == escaped


def test_sitemap_lists_stories(client, make_story):
    story = make_story()
    body = client.get("/sitemap.xml").content.decode()
    assert f"http://localhost{story.url}" in body


def sitemap_entries(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    tree = ElementTree.fromstring(response.content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    return {
        url.findtext("s:loc", namespaces=ns): url.findtext("s:lastmod", namespaces=ns)
        for url in tree.findall("s:url", ns)
    }


def test_sitemap_gives_what_wagtail_gives_and_is_cached_until_a_story_changes(
    client, make_story, home, django_capture_on_commit_callbacks
):
    from wagtail.contrib.sitemaps import Sitemap

    from stories.models import StoryPage

    first, second = make_story(), make_story()
    request = client.get("/").wsgi_request
    wagtail = {
        url["location"]: url["lastmod"] and url["lastmod"].date().isoformat()
        for page in Sitemap(request).items()
        for url in page.get_sitemap_urls(request)
    }
    assert sitemap_entries(client) == wagtail  # the same addresses and dates as Wagtail's
    assert len(wagtail) == 4  # the home, the index and the two stories

    # Stored: answered before Django, with no query, until a story changes.
    assert count_queries(client, "/sitemap.xml", cached=True) == 0
    with django_capture_on_commit_callbacks(execute=True):
        second.unpublish()
    entries = sitemap_entries(client)
    assert f"http://localhost{first.url}" in entries
    assert f"http://localhost{StoryPage.objects.get(pk=second.pk).url}" not in entries
    third = make_story()
    with django_capture_on_commit_callbacks(execute=True):
        third.save_revision().publish()
    assert f"http://localhost{third.url}" in sitemap_entries(client)


def test_api_exposes_interests_and_links(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story, other = make_story(interests=[pets]), make_story()
    link(story, other, "continues")
    response = client.get(f"/api/v2/pages/{story.pk}/")
    data = response.json()
    assert data["interests"] == ["pets"]
    assert data["story_links"][0]["target_id"] == other.pk
    assert data["story_links"][0]["kind"] == "continues"
    assert data["reading_time"] == story.reading_time


def test_public_pages_send_a_content_security_policy(client, make_story):
    response = client.get(make_story().url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def count_queries(client, url, *, cached=False):
    client.get(url)  # warm: renditions, site root paths, rendered page
    if not cached:
        purge_all()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def rich_story(make_story, interests, targets, series=None, part=None):
    story = make_story(
        interests=interests, hero_image=ImageFactory(), series=series, series_part=part
    )
    kinds = ["background", "related"]
    for n, target in enumerate(targets):
        story.story_links.add(StoryLink(target=target, kind=kinds[n % 2]))
    story.save()
    return story


def test_query_counts_stay_constant_however_much_a_page_shows(client, make_story):
    interests = [AudienceInterestFactory(name=f"Interest {n}") for n in range(8)]
    image = ImageFactory()
    pool = [make_story(interests=interests[n % 8 : n % 8 + 2], hero_image=image) for n in range(30)]
    series = StorySeries.objects.create(name="A long road")

    small = rich_story(make_story, interests[:1], pool[:1], series, 1)
    large = rich_story(make_story, interests, pool[1:13], series, 2)
    make_story(series=series, series_part=3)

    small_count = count_queries(client, small.url)
    large_count = count_queries(client, large.url)
    # More links, interests and related stories never cost more queries.
    assert large_count <= small_count
    assert large_count <= MAX_QUERIES
    for url in ["/", "/stories/", "/stories/interest/interest-1/", "/stories/?page=2"]:
        assert count_queries(client, url) <= MAX_QUERIES, url
    # A stored page is answered before Django: no routing, no privacy check, no query.
    assert count_queries(client, large.url, cached=True) == 0


# What an uncached render costs, exactly: a regression fails here. After a change to
# everything (``after_change``: ``purge_all``) the process reloads its copies of the site,
# the story index and whether any page has a view restriction, and works the page out
# again. A page purged while nothing it keeps changed (``warm``: the conversation under a
# story, the listings' tags alone) is rendered from the process's copies: routing, the
# story's parts and text (stories.page_cache.parts), the listings (for the content
# version, stories.render_cache). After a story sharing its interests was published
# (``interest_published``) a story page looks up only the candidates for "More on…"
# (their cards are kept: stories.reading.CARDS). A hub worked out again after any story
# was published (``story_published``: the content version moved) looks up its interest,
# counts and lists its stories' ids, and takes the cards from the kept ones. Renditions
# come from the process's renditions cache once Wagtail has handed them out (no query).
QUERIES = {
    "story": {"warm": 0, "interest_published": 1, "after_change": 10},
    "home": {"warm": 0, "after_change": 8},
    "hub": {"warm": 0, "story_published": 3, "after_change": 8},
}


def purged_queries(client, url, tags, *, published=False):
    """Queries of a render of ``url`` after its ``tags`` are purged (no other change), or
    after a story elsewhere was published as well (``published``)."""
    client.get(url)
    if published:
        bump_story_version()
    purge_tags(tags)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response["X-Cache"] != "hit"
    return len(queries)


def test_uncached_reading_pages_cost_exactly_their_queries(client, make_story):
    interests = [AudienceInterestFactory(name=f"Interest {n}") for n in range(3)]
    image = ImageFactory()
    pool = [make_story(interests=interests[n % 3 :], hero_image=image) for n in range(12)]
    story = rich_story(make_story, interests, pool[:4])
    story.save_revision().publish()  # a live revision, as every published story has
    hub = "/stories/interest/interest-1/"

    found = {
        "story": {
            "warm": purged_queries(client, story.url, {conversation_tag(story.pk)}),
            "interest_published": purged_queries(
                client, story.url, {interest_stories_tag(i.pk) for i in interests}
            ),
            "after_change": count_queries(client, story.url),
        },
        "home": {
            "warm": purged_queries(client, "/", {STORIES}),
            "after_change": count_queries(client, "/"),
        },
        "hub": {
            "warm": purged_queries(client, hub, {interest_stories_tag(interests[1].pk)}),
            "story_published": purged_queries(
                client, hub, {interest_stories_tag(interests[1].pk)}, published=True
            ),
            "after_change": count_queries(client, hub),
        },
    }
    assert found == QUERIES


def test_a_cached_page_changes_as_soon_as_a_story_it_shows_is_published(
    client, make_story, django_capture_on_commit_callbacks
):
    story, other = make_story(), make_story(title="The old title")
    link(story, other, "continues")
    assert "The old title" in client.get(story.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # purges run on commit
        other.title = "A better title"
        other.save_revision().publish()
    html = client.get(story.url).content.decode()
    assert "A better title" in html and "The old title" not in html


def test_cards_kept_per_process_change_with_what_they_show(
    client, make_story, django_capture_on_commit_callbacks
):
    from django.template.loader import render_to_string

    from stories.templatetags import card_tags

    image = ImageFactory()
    story = make_story(title="The old title", hero_image=image)
    assert "The old title" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "A better title"
        story.save_revision().publish()
    html = client.get("/").content.decode()
    assert "A better title" in html and "The old title" not in html

    # A picture's new focal point is a new card (its rendition changes), and a kept card
    # is exactly what the template renders.
    request = client.get("/").wsgi_request
    before = card_tags.card_key(story, request, False, "", "")
    image.focal_point_x, image.focal_point_y = 10, 10
    image.focal_point_width = image.focal_point_height = 5
    assert card_tags.card_key(story, request, False, "", "") != before
    kept = card_tags._cards[next(reversed(card_tags._cards))]
    assert kept in html
    assert kept in render_to_string(card_tags.CARD_TEMPLATE, {"story": kept_story(story)}, request)


def kept_story(story):
    from stories.models import StoryPage

    return StoryPage.objects.select_related("hero_image").get(pk=story.pk)


def test_unpublished_stories_leave_cached_pages(
    client, make_story, django_capture_on_commit_callbacks
):
    story, other = make_story(), make_story(title="Soon gone")
    link(story, other, "related")
    assert "Soon gone" in client.get(story.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        other.unpublish()
    assert "Soon gone" not in client.get(story.url).content.decode()
    assert client.get(other.url).status_code == 404


def test_signed_in_editors_never_get_the_anonymous_copy(client, make_story, admin_user):
    story = make_story()
    client.get(story.url)
    client.force_login(admin_user)
    html = client.get(story.url).content.decode()
    assert "wagtail-userbar" in html


def test_a_moved_story_is_found_at_its_new_address_at_once(
    client, make_story, home, django_capture_on_commit_callbacks
):
    from stories.models import StoryIndexPage

    story = make_story(title="Moving day")
    old_url = story.url
    assert client.get(old_url).status_code == 200
    other_index = home.add_child(instance=StoryIndexPage(title="Archive", slug="archive"))
    with django_capture_on_commit_callbacks(execute=True):
        story.move(other_index, pos="last-child")
    story.refresh_from_db()
    moved = client.get(old_url)  # Wagtail's redirects app leaves a permanent redirect
    assert (moved.status_code, moved["Location"]) == (301, story.url)
    assert client.get(story.url).status_code == 200


def test_privacy_added_after_a_page_was_cached_still_applies(
    client, make_story, django_capture_on_commit_callbacks
):
    from wagtail.models import PageViewRestriction

    story = make_story(title="Members only")
    assert client.get(story.url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(page=story, restriction_type="login")
    response = client.get(story.url)
    assert response.status_code == 302
    assert "/login" in response["Location"]
