"""``manage.py load_demo``: a complete demo site, idempotent, and large sites for benchmarks."""

from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

import pytest

from stories import reading
from stories.demo import content
from stories.linking import find_link_problems
from stories.models import AudienceInterest, StoryLink, StoryPage
from stories.page_cache import purge_all

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12


def test_demo_content_is_well_formed():
    figures = content._check()
    assert figures["stories"] >= 40
    assert figures["interests"] >= 6


def test_load_demo_builds_a_complete_site_once(tree, client):
    call_command("load_demo", verbosity=0)
    counts = (StoryPage.objects.live().count(), AudienceInterest.objects.count())
    assert counts[0] >= 40 and counts[1] >= 6
    links = StoryLink.objects.count()
    assert StoryLink.objects.filter(kind="continues").count() >= 10

    call_command("load_demo", verbosity=0)  # idempotent
    assert (StoryPage.objects.live().count(), AudienceInterest.objects.count()) == counts
    assert StoryLink.objects.count() == links

    # A sign-in comes with its request (django-axes counts failures per address).
    request = RequestFactory().post("/admin/login/")
    for username in ("admin", "editor", "socialmanager"):
        assert authenticate(request, username=username, password="changeme") is not None
    editor = authenticate(request, username="editor", password="changeme")
    assert editor.has_perm("wagtailadmin.access_admin") and not editor.is_superuser

    # Seed 003's pet insurer is there, with a picture per animal (test_demo_insurer.py).
    assert StoryPage.objects.live().filter(slug="when-the-thunder-comes").exists()
    assert (
        AudienceInterest.objects.filter(
            slug__in=["cat-owners", "dog-owners", "budgie-owners"]
        ).count()
        == 3
    )

    # Every story has a hero picture, and no continues chain loops.
    assert not StoryPage.objects.filter(hero_image__isnull=True).exists()
    edges = dict(StoryLink.objects.filter(kind="continues").values_list("page_id", "target_id"))
    for page_id, target_id in edges.items():
        others = {k: v for k, v in edges.items() if k != page_id}
        assert find_link_problems(page_id, [(target_id, "continues")], lambda o=others: o) == []

    client.defaults["HTTP_HOST"] = "localhost"
    for story in StoryPage.objects.live():
        assert client.get(story.url).status_code == 200, story.url


def test_load_demo_rejects_a_bad_size(tree):
    with pytest.raises(CommandError, match="between 1 and 200000"):
        call_command("load_demo", stories=0, verbosity=0)


def test_query_counts_hold_on_a_10000_story_site(tree, client):
    call_command("load_demo", stories=10_000, interests=100, verbosity=0)
    assert StoryPage.objects.live().count() == 10_000
    # A hundred interests, every one with stories; the home shows the liveliest few.
    assert AudienceInterest.objects.count() == 100
    assert not AudienceInterest.objects.filter(stories=None).exists()
    home = client.get("/", HTTP_HOST="localhost").content.decode()
    assert home.count('<section aria-labelledby="interest-') == reading.SECTIONS_ON_HOME
    client.defaults["HTTP_HOST"] = "localhost"

    linked = StoryPage.objects.filter(story_links__kind="continues").order_by("pk").first()
    generated = StoryPage.objects.order_by("-pk").first()
    urls = [
        linked.url,
        generated.url,
        "/",
        "/stories/",
        "/stories/?page=800",
        "/stories/interest/pets/",
        "/stories/interest/pets/?page=50",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
        purge_all()  # as after a publish: the test client renders afresh either way
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert len(queries) <= MAX_QUERIES, (url, [q["sql"][:120] for q in queries])
