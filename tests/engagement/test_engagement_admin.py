"""Engagement in the admin: the report, reader journeys, a story's page, the dashboard panel."""

import csv
import datetime
import io
import re

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from syndication import states
from syndication.engagement.models import ChannelMetricSnapshot, EngagementRollup
from syndication.engagement.permissions import VIEW_PERMISSION
from tests.factories import AudienceInterestFactory, ChannelAccountFactory, SyndicationPostFactory
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db

REPORT = "/admin/reports/engagement/"
JOURNEYS = "/admin/reports/reader-journeys/"
VIEWER_GROUPS = ("Social managers", "Editors", "Moderators")


def story_page(page_id):
    return f"/admin/engagement/story/{page_id}/"


@pytest.fixture(autouse=True)
def viewers(db):
    """Who may look at engagement: what the data migration grants these three groups."""
    permission = Permission.objects.get(
        content_type__app_label="engagement", codename="view_engagementrollup"
    )
    for group in Group.objects.filter(name__in=VIEWER_GROUPS):
        group.permissions.add(permission)
    assert VIEW_PERMISSION == "engagement.view_engagementrollup"


@pytest.fixture
def moderator(django_user_model):
    return make_user(django_user_model, "moe", "Moderators")


@pytest.fixture
def outsider(django_user_model):
    """Can open the admin, has no engagement permission."""
    user = django_user_model.objects.create_user(username="out", password="pw")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return user


def today():
    return timezone.localdate()


def rollup(story, event, count, *, days_ago=0, source="direct", detail=""):
    return EngagementRollup.objects.create(
        day=today() - datetime.timedelta(days=days_ago),
        story=story,
        event=event,
        source=source,
        detail=detail,
        count=count,
    )


def engaged(story, views, engaged_reads, *, source="direct", days_ago=0, follows=0, shares=0):
    rollup(story, "view", views, source=source, days_ago=days_ago)
    rollup(story, "engaged_read", engaged_reads, source=source, days_ago=days_ago)
    rollup(story, "read_through", engaged_reads // 2, source=source, days_ago=days_ago)
    if follows:
        rollup(story, "link_follow", follows, detail=f"continues:{story.pk}", days_ago=days_ago)
    if shares:
        rollup(story, "share", shares, detail="mastodon", days_ago=days_ago)


def csv_rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def titles_in_order(html, titles):
    positions = {title: html.find(title) for title in titles}
    assert all(position >= 0 for position in positions.values()), positions
    return sorted(titles, key=positions.get)


# --- Who may look ----------------------------------------------------------------------
@pytest.mark.parametrize("url", [REPORT, JOURNEYS, "story"])
def test_anonymous_people_are_sent_to_log_in(client, make_story, url):
    url = story_page(make_story().pk) if url == "story" else url
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [REPORT, JOURNEYS, "story"])
def test_people_without_the_view_permission_are_turned_away(client, outsider, make_story, url):
    url = story_page(make_story().pk) if url == "story" else url
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert '"url": "/admin/reports/engagement/"' not in client.get("/admin/").content.decode()


def test_social_managers_editors_and_moderators_can_look(
    client, social_manager, editor, moderator, make_story
):
    story = make_story()
    for user in (social_manager, editor, moderator):
        client.force_login(user)
        for url in (REPORT, JOURNEYS, story_page(story.pk)):
            assert client.get(url).status_code == 200, (user, url)
        # The sidebar's menu is JSON for its script.
        assert '"url": "/admin/reports/engagement/"' in client.get("/admin/").content.decode()


# --- The report ------------------------------------------------------------------------
def test_the_report_lists_stories_by_quality_for_the_last_28_days(
    client, social_manager, make_story
):
    deep = make_story(title="A story people finished")
    skimmed = make_story(title="A story people skimmed")
    old = make_story(title="A story from last season")
    engaged(deep, 800, 480, follows=120, shares=40)
    engaged(skimmed, 3000, 150)
    engaged(old, 5000, 4000, days_ago=40)
    client.force_login(social_manager)

    response = client.get(REPORT)

    html = response.content.decode()
    assert response.status_code == 200
    assert titles_in_order(html, [skimmed.title, deep.title]) == [deep.title, skimmed.title]
    assert old.title not in html
    assert "per story" in html
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg" class="engagement-chart engagement-chart--bars"'
        in html
    )
    assert '<title id="engagement-top-title">Quality score: the top 2 by story</title>' in html
    assert 'role="img"' in html and "Engaged reads per day" in html
    assert f'href="{story_page(deep.pk)}"' in html


def test_the_period_filter_and_sorting(client, social_manager, make_story):
    recent = make_story(title="Read this week")
    older = make_story(title="Read last month")
    engaged(recent, 100, 50)
    engaged(older, 900, 100, days_ago=40)
    client.force_login(social_manager)
    start = (today() - datetime.timedelta(days=60)).isoformat()

    html = client.get(
        REPORT, {"period_from": start, "period_to": today().isoformat(), "ordering": "views"}
    ).content.decode()
    assert titles_in_order(html, [older.title, recent.title]) == [recent.title, older.title]
    assert "Views: the lowest 2 by story" in html
    html = client.get(
        REPORT, {"period_from": start, "period_to": today().isoformat(), "ordering": "-views"}
    ).content.decode()
    assert titles_in_order(html, [older.title, recent.title]) == [older.title, recent.title]
    assert "Views: the top 2 by story" in html


@pytest.mark.parametrize(
    "period",
    [
        {"period_from": 10, "period_to": 0},
        {"period_from": 10},  # one end only: the other is today
        {"period_to": 0},  # one end only: the 28 days before it
    ],
)
def test_a_chosen_period_counts_whole_days(client, social_manager, make_story, period):
    """The date filter hands over datetimes; the report and its daily chart count days."""
    engaged(make_story(), 100, 30, days_ago=2)
    client.force_login(social_manager)
    params = {
        name: (today() - datetime.timedelta(days=days_ago)).isoformat()
        for name, days_ago in period.items()
    }

    response = client.get(REPORT, params)

    assert response.status_code == 200
    assert "Engaged reads: 30 in all, at most 30 on one day." in response.content.decode()


def test_filters_by_interest_purpose_and_channel(client, social_manager, make_story):
    pets = AudienceInterestFactory(name="Pets")
    cat = make_story(title="The cat who stayed", interests=[pets], purpose="smile")
    boiler = make_story(title="The boiler that sang", purpose="solve")
    engaged(cat, 100, 40, source="mastodon")
    engaged(boiler, 100, 40, source="search")
    client.force_login(social_manager)

    def shown(**params):
        html = client.get(REPORT, params).content.decode()
        return {title for title in (cat.title, boiler.title) if title in html}

    assert shown() == {cat.title, boiler.title}
    assert shown(interest=pets.pk) == {cat.title}
    assert shown(purpose="solve") == {boiler.title}
    assert shown(channel="mastodon") == {cat.title}
    assert shown(channel="search") == {boiler.title}
    assert shown(channel="other") == set()


def test_grouping_per_interest_channel_and_purpose(client, social_manager, make_story):
    pets, home = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Home")
    cat = make_story(interests=[pets, home], purpose="smile")
    boiler = make_story(interests=[home], purpose="solve")
    engaged(cat, 100, 40, source="mastodon")
    engaged(boiler, 50, 10, source="blog.example")
    client.force_login(social_manager)

    def export(group):
        response = client.get(REPORT, {"group": group, "export": "csv"})
        assert response.status_code == 200
        return {row[group.title()]: row for row in csv_rows(response)}

    by_interest = export("interest")
    assert set(by_interest) == {"Pets", "Home"}
    assert (by_interest["Pets"]["Views"], by_interest["Home"]["Views"]) == ("100", "150")
    by_channel = export("channel")
    assert set(by_channel) == {"Mastodon", "blog.example"}
    assert by_channel["Mastodon"]["Engaged reads"] == "40"
    by_purpose = export("purpose")
    assert set(by_purpose) == {"Brings a smile", "Solves a problem"}

    html = client.get(REPORT, {"group": "channel"}).content.decode()
    assert "per channel" in html
    assert "channel=other" in html  # another site's row drills down to "Other sites"


def test_csv_export_has_every_metric_with_applause_last(client, social_manager, make_story):
    story = make_story(title="A story with posts")
    engaged(story, 200, 100, follows=10, shares=5)
    rollup(story, "view", 20, source="share")
    rollup(story, "feeling", 3, detail="helpful")
    rollup(story, "feeling", 1, detail="moved")
    post = SyndicationPostFactory(
        story=story,
        account=ChannelAccountFactory(),
        state=states.PUBLISHED,
        remote_id="9",
        published_at=timezone.now() - datetime.timedelta(days=2),
    )
    ChannelMetricSnapshot.objects.create(post=post, reposts=4, replies=6, likes=10, quotes=1)
    client.force_login(social_manager)

    response = client.get(REPORT, {"export": "csv"})

    assert response["Content-Type"] == "text/csv"
    assert "engagement-per-story-" in response["Content-Disposition"]
    [row] = csv_rows(response)
    assert list(row)[0] == "Story" and list(row)[-1] == "Applause"
    assert row["Story"] == story.title
    assert row["Views"] == "220"
    assert row["Share-driven arrivals"] == "20"
    assert row["Engaged-read rate"] == str(round(100 / 220, 4))
    assert row["Link-through rate"] == "0.1"
    assert row["Amplification"] == str(5 + 4 + 1 + 20)
    assert row["Conversation rate"] == "6.0"
    assert row["Applause"] == "10.0"
    assert row["Felt helpful"] == "0.75"
    assert float(row["Quality score"]) > 0


def test_the_report_takes_the_same_number_of_queries_for_3_or_30_stories(
    client, social_manager, make_story, django_assert_max_num_queries
):
    account = ChannelAccountFactory()
    client.force_login(social_manager)

    def add_stories(count):
        for _ in range(count):
            story = make_story()
            engaged(story, 100, 30, follows=3, shares=2, source="mastodon")
            post = SyndicationPostFactory(
                story=story,
                account=account,
                state=states.PUBLISHED,
                remote_id=str(story.pk),
                published_at=timezone.now() - datetime.timedelta(days=1),
            )
            ChannelMetricSnapshot.objects.create(post=post, replies=1)

    add_stories(3)
    client.get(REPORT)  # warm up what is cached once per process
    baselines = {}
    for params in ({}, {"group": "interest"}, {"group": "channel"}, {"export": "csv"}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(REPORT, params).status_code == 200
        baselines[tuple(params.items())] = len(queries)

    add_stories(27)
    for params, baseline in baselines.items():
        with django_assert_max_num_queries(baseline):
            response = client.get(REPORT, dict(params))
            if response.streaming:
                assert len(csv_rows(response)) == 30
    with django_assert_max_num_queries(baselines[()]):
        html = client.get(REPORT).content.decode()
    assert html.count('href="/admin/engagement/story/') == 30


# --- Reader journeys -------------------------------------------------------------------
def test_reader_journeys_lists_the_most_followed_story_paths(client, editor, make_story):
    kitchen = make_story(title="The small kitchen")
    boiler = make_story(title="The boiler that sang")
    cat = make_story(title="The cat who stayed")
    rollup(kitchen, "link_follow", 30, detail=f"continues:{boiler.pk}")
    rollup(kitchen, "link_follow", 12, detail=f"continues:{boiler.pk}", days_ago=1)
    rollup(cat, "link_follow", 7, detail=f"related:{kitchen.pk}")
    rollup(boiler, "link_follow", 90, detail=f"related:{cat.pk}", days_ago=60)
    client.force_login(editor)

    html = client.get(JOURNEYS).content.decode()
    assert html.index("The small kitchen") < html.index("The cat who stayed")
    assert "Continue the story" in html and ">42<" in re.sub(r"\s+", "", html)

    rows = csv_rows(client.get(JOURNEYS, {"export": "csv"}))
    assert [(r["From story"], r["To story"], r["Link"], r["Follows"]) for r in rows] == [
        ("The small kitchen", "The boiler that sang", "Continue the story", "42"),
        ("The cat who stayed", "The small kitchen", "Related", "7"),
    ]


# --- The dashboard ---------------------------------------------------------------------
def test_the_dashboard_panel_orders_by_quality_not_views(
    client, social_manager, outsider, make_story
):
    popular = make_story(title="Seen by many, finished by few")
    loved = make_story(title="Read to the end and passed on")
    tiny = make_story(title="Three readers loved it")
    engaged(popular, 5000, 250)
    engaged(loved, 1500, 900, follows=300, shares=120)
    rollup(tiny, "view", 3)
    rollup(tiny, "engaged_read", 3)
    rollup(tiny, "read_through", 3)
    engaged(make_story(title="Last month's hit"), 9000, 8000, days_ago=20)
    client.force_login(social_manager)

    html = client.get("/admin/").content.decode()
    panel = re.search(
        r'id="syndication-engaged-stories-section".*?</section>', html, re.DOTALL
    ).group(0)
    assert "Stories people engaged with this week" in panel
    assert titles_in_order(panel, [popular.title, loved.title, tiny.title]) == [
        loved.title,
        tiny.title,
        popular.title,
    ]
    assert "Last month's hit" not in panel

    client.force_login(outsider)
    assert "Stories people engaged with this week" not in client.get("/admin/").content.decode()


def test_the_dashboard_panel_takes_a_constant_number_of_queries(
    rf, social_manager, make_story, django_assert_max_num_queries
):
    from syndication.engagement.components import EngagedStoriesPanel

    request = rf.get("/admin/")
    request.user = social_manager
    for _ in range(3):
        engaged(make_story(), 100, 30)
    with CaptureQueriesContext(connection) as queries:
        EngagedStoriesPanel().render_html({"request": request})
    for _ in range(20):
        engaged(make_story(), 100, 30)
    with django_assert_max_num_queries(len(queries)):
        html = EngagedStoriesPanel().render_html({"request": request})
    assert html.count("/admin/engagement/story/") == EngagedStoriesPanel.shown


# --- A story's engagement, from the editor ---------------------------------------------
def test_the_story_editor_links_to_its_engagement(client, editor, outsider, make_story):
    story = make_story(title="The small kitchen")
    client.force_login(editor)
    html = client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert f'href="{story_page(story.pk)}"' in html

    index = story.get_parent()
    assert story_page(index.pk) not in client.get(f"/admin/pages/{index.pk}/edit/").content.decode()


def test_a_storys_engagement_page_shows_its_numbers_trend_and_next_stories(
    client, moderator, make_story, django_assert_max_num_queries
):
    story = make_story(title="The small kitchen")
    after = make_story(title="The boiler that sang")
    engaged(story, 120, 60, source="mastodon", follows=0)
    engaged(story, 30, 3, source="search", days_ago=3)
    rollup(story, "link_follow", 15, detail=f"continues:{after.pk}")
    rollup(story, "feeling", 4, detail="moved")
    engaged(story, 999, 999, days_ago=40)
    client.force_login(moderator)

    with django_assert_max_num_queries(40):
        response = client.get(story_page(story.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Engagement: The small kitchen" in html
    assert "<dt>Views</dt><dd>150</dd>" in html
    assert "<dt>Engaged reads</dt><dd>63 (42% of views)</dd>" in html
    assert '<title id="story-trend-title">Views and engaged reads of' in html
    assert "Views: 150 in all" in html  # the chart's description carries the numbers
    assert "Mastodon" in html and "Search engines" in html
    assert "The boiler that sang" in html and "Continue the story" in html
    assert "Moved" in html
    assert client.get(story_page(999_999)).status_code == 404
