"""The reader's side of engagement as the server renders it: the tracker's include,
where it must not appear, the share buttons, the feelings widget and the link markers.
What the script then does in a browser is tests/browser/test_engagement_flow.py.
"""

import gzip
import re
from pathlib import Path

from django.conf import settings
from django.test import override_settings

import pytest
from bs4 import BeautifulSoup

from stories.models import StorySeries
from stories.reading_stats import WORDS_PER_MINUTE
from syndication.engagement.models import FEELINGS, SHARE_NETWORKS
from tests.factories import AudienceInterestFactory, link

pytestmark = pytest.mark.django_db

SCRIPT = Path(settings.BASE_DIR) / "static" / "engagement" / "js" / "engage.js"
#: The issue's "under 3 KB": what a reader downloads once the comments and indentation
#: are gone, compressed the way whitenoise serves it (CompressedManifestStaticFilesStorage
#: stores .gz and .br copies). Names are not shortened, so the uncompressed text has
#: its own, looser ceiling to keep it from growing unnoticed.
SCRIPT_BUDGET_GZIP = 3 * 1024
SCRIPT_BUDGET_STRIPPED = 6 * 1024


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def soup(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def engage(html):
    return html.select_one("[data-engage]")


def tracker_scripts(html):
    return [s for s in html.find_all("script", src=True) if s["src"].endswith("/engage.js")]


def stripped_script() -> bytes:
    text = SCRIPT.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()).encode()


def test_a_story_page_carries_the_tracker_and_what_it_needs(client, make_story):
    story = make_story(title="The kettle & the cat")
    html = soup(client.get(story.url))
    section = engage(html)
    assert section is not None
    assert section["data-story"] == str(story.pk)
    assert section["data-reading-seconds"] == str(round(story.word_count * 60 / WORDS_PER_MINUTE))
    assert int(section["data-reading-seconds"]) > 0
    assert section["data-collect"] == "/e/"
    assert section["data-share-url"] == "/e/share/"
    assert section["data-title"] == "The kettle & the cat"
    # Production keeps the 15 s floor of an engaged read: no override is rendered.
    assert not section.has_attr("data-engage-min-seconds")
    # Hidden until the script has checked the reader may be counted.
    assert section.has_attr("hidden")
    [script] = tracker_scripts(html)
    assert script["src"] == "/static/engagement/js/engage.js"
    assert script.has_attr("defer")


def test_the_engaged_time_floor_is_only_lowered_by_the_test_setting(client, make_story):
    story = make_story()
    with override_settings(ENGAGEMENT_TEST_MIN_SECONDS=1):
        section = engage(soup(client.get(story.url)))
    assert section["data-engage-min-seconds"] == "1"


def test_every_script_on_a_story_page_is_a_first_party_file(client, make_story):
    html = soup(client.get(make_story().url))
    for script in html.find_all("script"):
        if script.has_attr("src"):
            assert script["src"].startswith("/static/"), script
        else:  # the only inline one is data, which the CSP does not run
            assert script["type"] == "application/ld+json", script
    assert not html.select("[onclick], [onload], [onsubmit]")


def test_previews_carry_no_tracker(make_story):
    story = make_story()
    preview = story.make_preview_request()
    if hasattr(preview, "render"):
        preview.render()
    html = soup(preview)
    assert html.select_one("h1").get_text() == story.title  # the story itself is there
    assert engage(html) is None
    assert tracker_scripts(html) == []


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"])
def test_a_do_not_track_reader_gets_the_same_cached_page(client, make_story, header):
    """One copy of the page for everyone: the script and the collector honour DNT/GPC."""
    story = make_story()
    quiet = soup(client.get(story.url, **{header: "1"}))
    assert engage(quiet) is not None
    assert engage(soup(client.get(story.url))) is not None


def test_share_buttons_and_the_feelings_widget(client, make_story):
    section = engage(soup(client.get(make_story().url)))
    shares = {b["data-share"]: b.get("data-intent", "") for b in section.select("[data-share]")}
    assert tuple(shares) == SHARE_NETWORKS
    assert shares["mastodon"] == "https://{h}/share?text={t}%20{u}"
    assert shares["bluesky"] == "https://bsky.app/intent/compose?text={t}%20{u}"
    assert shares["linkedin"] == "https://www.linkedin.com/sharing/share-offsite/?url={u}"
    assert shares["x"] == "https://x.com/intent/post?text={t}&url={u}"
    assert shares["email"] == "mailto:?subject={t}&body={u}"
    assert shares["copy"] == ""
    # Mastodon asks for the reader's own server.
    form = section.select_one("form[data-mastodon]")
    assert form["id"] == section.select_one("[data-share=mastodon]")["aria-controls"]
    assert form.select_one("input[name=server]") is not None
    assert section.find(string="How did this story make you feel?")
    feelings = section.select("[data-feeling]")
    assert tuple(b["data-feeling"] for b in feelings) == FEELINGS
    assert [b.get_text() for b in feelings] == ["Helpful", "Moved", "Made me smile", "Not for me"]
    assert all(b["type"] == "button" for b in [*feelings, *section.select("[data-share]")])
    assert section.select_one("[role=status][data-feeling-status]")["data-thanks"]


def follow_links(html):
    return {
        (a["data-follow-kind"], int(a["data-follow-to"]), a["href"])
        for a in html.select("a[data-follow-kind]")
    }


def test_links_to_other_stories_are_marked_for_link_follow(client, make_story):
    pets = AudienceInterestFactory(name="Pets")
    story = make_story(interests=[pets])
    next_one, why, also = (make_story(interests=[pets]) for _ in range(3))
    link(story, next_one, "continues")
    link(story, why, "background")
    html = soup(client.get(story.url))
    assert follow_links(html) == {
        ("continues", next_one.pk, next_one.url),
        ("background", why.pk, why.url),
        ("more", also.pk, also.url),
    }
    # Cards elsewhere (the home page) are not story-to-story links.
    home = soup(client.get("/"))
    assert home.select(f'a[href="{also.url}"]')
    assert home.select("a[data-follow-kind]") == []


def test_the_next_part_of_a_series_is_a_series_link(client, make_story):
    series = StorySeries.objects.create(name="Winter at home")
    one = make_story(series=series, series_part=1)
    two = make_story(series=series, series_part=2)
    assert ("series", two.pk, two.url) in follow_links(soup(client.get(one.url)))


def test_the_script_stays_within_its_size_budget():
    stripped = stripped_script()
    # The stripping left working code, not an empty file.
    assert b"keepalive" in stripped and b"read_through" in stripped
    assert len(stripped) < SCRIPT_BUDGET_STRIPPED, len(stripped)
    assert len(gzip.compress(stripped, compresslevel=9)) < SCRIPT_BUDGET_GZIP
