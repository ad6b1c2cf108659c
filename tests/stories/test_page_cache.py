"""The page cache: what is stored, who gets it, and what purges it (local-memory cache).

Requests go through the same WSGI layer gunicorn serves (``stories.page_cache``) via
``PageCacheClient``; tests/integration/test_page_cache_redis.py runs every
invalidation event against a real Redis.
"""

import re

from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from wagtail.contrib.frontend_cache.backends.base import BaseBackend
from wagtail.models import PageViewRestriction

import pytest

from stories import page_cache, reading
from stories.models import StoryLink, StorySeries
from tests.factories import AudienceInterestFactory, ImageFactory, link

pytestmark = pytest.mark.django_db


class PageCacheClient(Client):
    """Django's test client, with requests served as gunicorn serves them: through
    ``stories.page_cache.with_page_cache`` in front of Django.

    Django runs in the test client's handler (which keeps the test's database
    connection open, as ``Client`` does); a stored page is answered without it.
    """

    def __init__(self, **defaults):
        super().__init__(**defaults)
        django_handler = self.handler

        def django_app(environ, start_response):
            response = django_handler(environ)
            cookies = response.cookies.values()
            headers = [*response.items()]
            headers += [("Set-Cookie", cookie.output(header="").strip()) for cookie in cookies]
            start_response(f"{response.status_code} {response.reason_phrase}", headers)
            # The test handler has closed the response already (request_finished): a
            # second close would close the test's database connection.
            return [b"".join(response)]

        self.wsgi_app = page_cache.with_page_cache(django_app)
        self.handler = self._serve

    def _serve(self, environ):
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        result = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        response = HttpResponse(body, status=int(captured["status"].split(" ", 1)[0]))
        for name, value in captured["headers"]:
            if name.lower() == "set-cookie":
                response.cookies.load(value)
            else:
                response.headers[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response


@pytest.fixture
def reader():
    return PageCacheClient(HTTP_HOST="localhost")


def body(response) -> str:
    return response.content.decode()


def hit(response) -> bool:
    return response.get("X-Cache") == page_cache.HIT


def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the purges), as a real commit would."""
    return django_capture_on_commit_callbacks(execute=True)


# --- Serving ---------------------------------------------------------------------------


def test_a_page_is_stored_once_and_then_served_without_django(reader, make_story):
    story = make_story(title="The kettle that sang")
    first = reader.get(story.url)
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    with CaptureQueriesContext(connection) as queries:
        again = reader.get(story.url)
    assert hit(again) and len(queries) == 0
    assert again.content == first.content
    for header in ("Content-Security-Policy", "X-Frame-Options", "ETag", "Last-Modified"):
        assert again[header] == first[header], header
    assert again["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60"
    assert again["ETag"].startswith('"') and int(again["Content-Length"]) == len(again.content)


def test_browsers_revalidate_with_etag_or_date(reader, make_story):
    story = make_story()
    etag = reader.get(story.url)["ETag"]
    not_modified = reader.get(story.url, HTTP_IF_NONE_MATCH=f'W/"old", {etag}')
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag and "public" in not_modified["Cache-Control"]
    assert reader.get(story.url, HTTP_IF_NONE_MATCH='"old"').status_code == 200
    later = http_date(2_000_000_000)
    assert reader.get(story.url, HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    assert reader.get(story.url, HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200


def test_head_answers_headers_only(reader, make_story):
    story = make_story()
    first = reader.head(story.url)  # Django answers; only a GET is stored
    assert first["X-Cache"] == "pass" and "private" not in first.get("Cache-Control", "")
    full = reader.get(story.url)
    assert full["X-Cache"] == "miss"
    head = reader.head(story.url)
    assert hit(head) and head.content == b""
    assert head["Content-Length"] == str(len(full.content))


def test_tracking_parameters_share_the_page_and_unknown_ones_skip_the_cache(reader, make_story):
    story = make_story()
    reader.get(story.url)
    tracked = reader.get(story.url + "?utm_source=mastodon&utm_medium=social&sh=abc123&nl=9")
    assert hit(tracked)
    unknown = reader.get(story.url + "?mode=preview")
    assert unknown.status_code == 200 and "X-Cache" not in unknown


def test_pages_of_a_listing_are_stored_apart(reader, make_story):
    for n in range(14):
        make_story(title=f"Story number {n}")
    first, second = reader.get("/stories/"), reader.get("/stories/?page=2")
    assert first.content != second.content
    assert hit(reader.get("/stories/?page=2&utm_campaign=x"))
    assert "Page 2 of 2" in body(reader.get("/stories/?page=2"))


def test_signed_in_readers_get_their_own_page(reader, make_story, admin_user):
    story = make_story()
    reader.get(story.url)
    reader.force_login(admin_user)
    response = reader.get(story.url)
    assert "X-Cache" not in response and "wagtail-userbar" in body(response)
    assert response["Cache-Control"] == "private, no-store"


def test_a_restricted_page_is_never_stored(reader, make_story):
    story = make_story()
    PageViewRestriction.objects.create(page=story, restriction_type="password", password="x")
    for _ in range(2):
        response = reader.get(story.url)
        assert "password" in body(response) and not hit(response)
        assert "private" in response["Cache-Control"]


def test_privacy_added_after_a_page_was_stored_applies_at_once(
    reader, make_story, django_capture_on_commit_callbacks
):
    story = make_story()
    reader.get(story.url)
    with committed(django_capture_on_commit_callbacks):
        PageViewRestriction.objects.create(page=story, restriction_type="login")
    response = reader.get(story.url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_plain_http_is_left_to_djangos_redirect(reader, make_story, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    story = make_story()
    assert reader.get(story.url).status_code == 301
    secure = {"HTTP_X_FORWARDED_PROTO": "https"}
    assert reader.get(story.url, **secure)["X-Cache"] == "miss"
    assert hit(reader.get(story.url, **secure))
    assert reader.get(story.url).status_code == 301


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([("Set-Cookie", "csrftoken=abc; Path=/")], "sets a cookie"),
        ([("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private")], "private"),
        ([("Vary", "Cookie, Accept-Language")], "varies"),
    ],
)
def test_what_is_never_shared(headers, reason):
    environ = {"REQUEST_METHOD": "GET"}
    assert page_cache.wsgi._refusal(environ, "200 OK", headers, b"<html>") == reason
    assert page_cache.wsgi._refusal(environ, "200 OK", [("Vary", "Cookie")], b"<html>") == ""
    form = b'<input type="hidden" name="csrfmiddlewaretoken" value="x">'
    assert page_cache.wsgi._refusal(environ, "200 OK", [], form) == "holds a CSRF token"
    assert page_cache.wsgi._refusal(environ, "404 Not Found", [], b"") == "status"


def test_a_page_rendered_while_something_was_purged_is_not_stored(reader, make_story, monkeypatch):
    story = make_story()
    real = reading.story_context

    def purged_meanwhile(page, request):
        page_cache.purge_tags(["page:0"])  # any change anywhere, committed mid-render
        return real(page, request)

    monkeypatch.setattr(reading, "story_context", purged_meanwhile)
    assert reader.get(story.url)["X-Cache"] == "miss"
    monkeypatch.setattr(reading, "story_context", real)
    assert reader.get(story.url)["X-Cache"] == "miss"  # not stored the first time
    assert hit(reader.get(story.url))


def test_a_cache_that_fails_does_not_take_the_site_down(reader, make_story, monkeypatch):
    story = make_story()

    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(page_cache.store._store(), "get_many", broken)
    response = reader.get(story.url)
    assert response.status_code == 200 and "X-Cache" not in response


def test_the_forced_miss_header_works_only_where_a_benchmark_turns_it_on(
    reader, make_story, settings
):
    story = make_story()
    reader.get(story.url)
    assert hit(reader.get(story.url, HTTP_X_BENCH_MISS="1"))
    settings.PAGE_CACHE_FORCE_MISS_HEADER = "HTTP_X_BENCH_MISS"
    assert reader.get(story.url, HTTP_X_BENCH_MISS="1")["X-Cache"] == "miss"


def test_the_cache_can_be_turned_off(reader, make_story, settings):
    settings.PAGE_CACHE_ENABLED = False
    story = make_story()
    reader.get(story.url)
    assert "X-Cache" not in reader.get(story.url)


# --- What a page shows ------------------------------------------------------------------


def test_a_story_is_tagged_with_everything_it_shows(reader, make_story, story_index, home):
    pets = AudienceInterestFactory(name="Pets")
    series = StorySeries.objects.create(name="Winter")
    picture = ImageFactory()
    target, inline = make_story(), make_story()
    story = make_story(interests=[pets], series=series, series_part=1, hero_image=picture)
    link(story, target, "continues")
    story.body = [("story_link", {"story": inline, "note": ""})]
    story.save()
    response = reader.get(story.url)
    assert inline.url in body(response)
    tags = response.wsgi_request.META[page_cache.ENVIRON_TAGS]
    expected = {
        "all",
        f"page:{story.pk}",
        f"page:{target.pk}",
        f"page:{inline.pk}",
        f"page:{home.pk}",
        f"page:{story_index.pk}",
        f"interest:{pets.pk}",
        f"interest-stories:{pets.pk}",
        f"series:{series.pk}",
        f"image:{picture.pk}",
        f"conversation:{story.pk}",
    }
    assert expected <= tags


def test_listings_are_tagged_with_what_they_draw_from(reader, make_story, story_index):
    pets = AudienceInterestFactory(name="Pets")
    story = make_story(interests=[pets])
    home_tags = reader.get("/").wsgi_request.META[page_cache.ENVIRON_TAGS]
    assert {"stories", "interests", f"interest-stories:{pets.pk}", f"page:{story.pk}"} <= home_tags
    hub = reader.get("/stories/interest/pets/").wsgi_request.META[page_cache.ENVIRON_TAGS]
    assert {f"index:{story_index.pk}", f"interest-stories:{pets.pk}", f"page:{story.pk}"} <= hub
    index = reader.get("/stories/").wsgi_request.META[page_cache.ENVIRON_TAGS]
    assert {f"index:{story_index.pk}", "interests", f"page:{story.pk}"} <= index


# --- Invalidation ------------------------------------------------------------------------


def test_republishing_a_story_purges_the_pages_showing_it_and_no_others(
    reader, make_story, django_capture_on_commit_callbacks
):
    story, other = make_story(), make_story(title="The old title")
    unrelated = make_story(interests=[AudienceInterestFactory(name="Money")])
    link(story, other, "continues")
    for page in (story, other, unrelated):
        reader.get(page.url)
    reader.get("/")
    with committed(django_capture_on_commit_callbacks):
        other.title = "A better title"
        other.save_revision().publish()
    html = body(reader.get(story.url))
    assert "A better title" in html and "The old title" not in html
    assert "A better title" in body(reader.get("/"))  # its card on the home page
    assert hit(reader.get(unrelated.url))


def test_changed_links_purge_the_linking_story_only(
    reader, make_story, django_capture_on_commit_callbacks
):
    story, old, new = (
        make_story(title=title, interests=[AudienceInterestFactory(name=title)])
        for title in ("The story", "Old pick", "New pick")
    )
    link(story, old, "related")
    for page in (story, old, new):
        reader.get(page.url)
    with committed(django_capture_on_commit_callbacks):
        story.story_links.set([StoryLink(target=new, kind="related")])
        story.save_revision().publish()
    html = body(reader.get(story.url))
    more = re.search(r'<section aria-labelledby="more-heading".*?</section>', html, re.S).group(0)
    assert new.url in more and old.url not in more
    assert hit(reader.get(old.url)) and hit(reader.get(new.url))


def test_interest_edits_purge_the_pages_naming_it(
    reader, make_story, django_capture_on_commit_callbacks
):
    pets, money = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Money")
    pet_story, money_story = make_story(interests=[pets]), make_story(interests=[money])
    reader.get(pet_story.url), reader.get(money_story.url)
    with committed(django_capture_on_commit_callbacks):
        pets.name = "Animals at home"
        pets.save()
    assert "Animals at home" in body(reader.get(pet_story.url))
    assert hit(reader.get(money_story.url))


def test_a_new_conversation_link_purges_its_story_only(reader, make_story):
    story, other = make_story(), make_story()
    reader.get(story.url), reader.get(other.url)
    page_cache.purge_conversation(story.pk)
    assert reader.get(story.url)["X-Cache"] == "miss"
    assert hit(reader.get(other.url))


def test_purges_wait_for_the_commit(reader, make_story, django_capture_on_commit_callbacks):
    story, other = make_story(), make_story(title="Before")
    link(story, other, "related")
    reader.get(story.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        other.title = "After"
        other.save_revision().publish()
        assert hit(reader.get(story.url))  # not committed: readers keep the stored page
    for callback in callbacks:
        callback()
    assert "After" in body(reader.get(story.url))


def test_a_live_story_written_outside_publishing_purges_its_pages(
    reader, make_story, django_capture_on_commit_callbacks
):
    """A script or an import saving a live story's row, without a revision."""
    story = make_story(title="Written by hand")
    unrelated = make_story(interests=[AudienceInterestFactory(name="Money")])
    for url in (story.url, unrelated.url, "/", "/stories/"):
        reader.get(url)
    with committed(django_capture_on_commit_callbacks):
        story.title = "Written by a script"
        story.save()
    for url in (story.url, "/", "/stories/"):
        html = body(reader.get(url))
        assert "Written by a script" in html and "Written by hand" not in html, url
    assert hit(reader.get(unrelated.url))


def test_a_story_added_live_by_a_script_is_listed_at_once(
    reader, make_story, story_index, django_capture_on_commit_callbacks
):
    make_story(title="Already here")
    for url in ("/", "/stories/"):
        assert hit(reader.get(url)) is False
        assert hit(reader.get(url))
    with committed(django_capture_on_commit_callbacks):
        make_story(title="Imported this morning")
    for url in ("/", "/stories/"):
        assert "Imported this morning" in body(reader.get(url)), url


def test_another_live_page_written_outside_publishing_purges_everything(
    reader, make_story, home, django_capture_on_commit_callbacks
):
    story = make_story()
    reader.get(story.url)
    assert hit(reader.get(story.url))
    with committed(django_capture_on_commit_callbacks):
        home.title = "Home, renamed by a script"
        home.save()
    assert reader.get(story.url)["X-Cache"] == "miss"


def test_publishing_purges_once_with_what_changed(
    reader, make_story, monkeypatch, django_capture_on_commit_callbacks
):
    """Wagtail writes the row while publishing: that write is not a second, wider purge."""
    story = make_story()
    purges = []
    monkeypatch.setattr(page_cache, "purge", lambda tags, urls=(), **kw: purges.append(tags))
    with committed(django_capture_on_commit_callbacks):
        story.title = "Published again"
        story.save_revision().publish()
    assert purges == [{f"page:{story.pk}", "sitemap"}]


def test_purge_all_empties_the_cache(reader, make_story):
    story = make_story()
    reader.get(story.url)
    page_cache.purge_all()
    assert reader.get(story.url)["X-Cache"] == "miss"


# --- Feeds -------------------------------------------------------------------------------


def feed_titles(response) -> list[str]:
    return re.findall(r"<item><title>(.*?)</title>", body(response))


def test_feeds_are_stored_and_served_without_django(reader, make_story):
    make_story(title="The kettle that sang")
    first = reader.get("/feeds/stories/rss/")
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    assert first["Content-Type"].startswith("application/rss+xml")
    with CaptureQueriesContext(connection) as queries:
        again = reader.get("/feeds/stories/rss/?utm_source=reader")
    assert hit(again) and len(queries) == 0
    assert again.content == first.content and again["Content-Type"] == first["Content-Type"]
    assert feed_titles(again) == ["The kettle that sang"]
    # A feed reader's conditional request costs nothing.
    assert reader.get("/feeds/stories/rss/", HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304
    atom = reader.get("/feeds/stories/atom/")
    assert atom["X-Cache"] == "miss" and "application/atom+xml" in atom["Content-Type"]
    assert hit(reader.get("/feeds/stories/atom/"))


def test_a_feeds_limit_is_part_of_the_key_and_bad_ones_are_never_stored(reader, make_story):
    for n in range(3):
        make_story(title=f"Story {n}")
    assert len(feed_titles(reader.get("/feeds/stories/rss/?limit=1"))) == 1
    full = reader.get("/feeds/stories/rss/")
    assert full["X-Cache"] == "miss" and len(feed_titles(full)) == 3
    assert hit(reader.get("/feeds/stories/rss/?limit=1"))
    for _ in range(2):
        bad = reader.get("/feeds/stories/rss/?limit=abc")
        assert bad.status_code == 400 and "X-Cache" not in bad
    unknown = reader.get("/feeds/stories/rss/?page=2")  # feeds have no pages
    assert unknown.status_code == 200 and "X-Cache" not in unknown


def test_feeds_are_tagged_with_their_listing_and_the_stories_they_list(reader, make_story):
    pets, money = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Money")
    dog = make_story(title="A dog called Biscuit", interests=[pets, money])
    budget = make_story(title="Budgeting with a teenager", interests=[money])
    everything = reader.get("/feeds/stories/rss/").wsgi_request.META[page_cache.ENVIRON_TAGS]
    assert everything == {
        "all",
        "stories",
        f"page:{dog.pk}",
        f"page:{budget.pk}",
        f"interest:{pets.pk}",
        f"interest:{money.pk}",
    }
    of_pets = reader.get("/feeds/interest/pets/atom/").wsgi_request.META[page_cache.ENVIRON_TAGS]
    assert of_pets == {
        "all",
        f"interest-stories:{pets.pk}",
        f"page:{dog.pk}",
        f"interest:{pets.pk}",
        f"interest:{money.pk}",
    }


def test_publishing_unpublishing_and_editing_a_listed_story_purge_the_feeds_showing_it(
    reader, make_story, django_capture_on_commit_callbacks
):
    pets, money = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Money")
    dog = make_story(title="A dog called Biscuit", interests=[pets])
    make_story(title="Budgeting with a teenager", interests=[money])
    feeds = ["/feeds/stories/rss/", "/feeds/interest/pets/rss/", "/feeds/interest/money/atom/"]
    for url in feeds:
        reader.get(url)

    # Publishing a new Pets story: the feeds it joins change, the Money feed does not.
    cat = make_story(title="The cat who paid rent", interests=[pets], live=False)
    for url in feeds:
        assert hit(reader.get(url)), url  # a draft changes nothing
    with committed(django_capture_on_commit_callbacks):
        cat.save_revision().publish()
    for url in feeds[:2]:
        response = reader.get(url)
        assert response["X-Cache"] == "miss" and "The cat who paid rent" in body(response), url
    assert hit(reader.get(feeds[2]))

    # Editing a listed story: the feeds listing it change.
    with committed(django_capture_on_commit_callbacks):
        dog.title = "A dog called Crumpet"
        dog.save_revision().publish()
    for url in feeds[:2]:
        assert "A dog called Crumpet" in body(reader.get(url)), url
    assert hit(reader.get(feeds[2]))

    # Unpublishing: it leaves them.
    cat.refresh_from_db()  # live since its revision was published
    with committed(django_capture_on_commit_callbacks):
        cat.unpublish()
    for url in feeds[:2]:
        assert "The cat who paid rent" not in body(reader.get(url)), url
    assert hit(reader.get(feeds[2]))


def test_editing_a_story_the_feed_does_not_list_leaves_it_stored(
    reader, make_story, django_capture_on_commit_callbacks
):
    old = make_story(title="An old one")
    make_story(title="A new one")
    assert feed_titles(reader.get("/feeds/stories/rss/?limit=1")) == ["A new one"]
    with committed(django_capture_on_commit_callbacks):
        old.title = "An old one, retitled"
        old.save_revision().publish()
    assert hit(reader.get("/feeds/stories/rss/?limit=1"))
    assert "An old one, retitled" in body(reader.get("/feeds/stories/rss/"))


def test_renaming_an_interest_purges_the_feeds_naming_it(
    reader, make_story, django_capture_on_commit_callbacks
):
    pets = AudienceInterestFactory(name="Pets")
    make_story(interests=[pets])
    reader.get("/feeds/stories/rss/")
    with committed(django_capture_on_commit_callbacks):
        pets.name = "Animals at home"
        pets.save()
    assert "<category>Animals at home</category>" in body(reader.get("/feeds/stories/rss/"))


def test_signed_in_readers_feeds_are_not_stored(reader, make_story, admin_user):
    make_story()
    reader.force_login(admin_user)
    for _ in range(2):
        assert "X-Cache" not in reader.get("/feeds/stories/rss/")


# --- The CDN -----------------------------------------------------------------------------


class RecordingBackend(BaseBackend):
    """A frontend-cache backend that writes down what it was asked to purge."""

    purged: list[str] = []

    def purge(self, url):
        self.purged.append(url)


def test_a_configured_cdn_is_purged_with_the_same_pages(
    settings, make_story, django_capture_on_commit_callbacks
):
    settings.WAGTAILFRONTENDCACHE = {
        "default": {"BACKEND": f"{__name__}.RecordingBackend"},
    }
    RecordingBackend.purged = []
    pets = AudienceInterestFactory(name="Pets")
    story, linking = make_story(interests=[pets]), make_story()
    link(linking, story, "continues")
    with committed(django_capture_on_commit_callbacks):
        story.title = "Retitled"
        story.save_revision().publish()
    purged = set(RecordingBackend.purged)
    expected = {
        f"http://localhost{story.url}",
        f"http://localhost{linking.url}",
        "http://localhost/",
        "http://localhost/stories/",
        "http://localhost/stories/interest/pets/",
        "http://localhost/feeds/stories/rss/",
        "http://localhost/feeds/interest/pets/atom/",
    }
    assert expected <= purged
