"""The conversation in the engagement report and on a story's engagement page: the
figures of a conversation built by hand (``tests/conversation/conversation_data``), "—"
where there is nothing to measure, for everyone who may look, in constant queries."""

import datetime
import html as html_lib
import re

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from syndication.conversation import collect
from syndication.engagement.models import EngagementRollup
from tests.conversation import conversation_data as data
from tests.engagement.test_engagement_admin import csv_rows, story_page
from tests.factories import ChannelAccountFactory
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db

REPORT = "/admin/reports/engagement/"
KITCHEN = "The small kitchen"
HEADINGS = ("Replies &amp; quotes", "People replying", "Answered", "Time to answer")
HEADINGS_TEXT = (
    "Replies & quotes",
    "Replies & quotes / post",
    "People replying",
    "Answered",
    "Time to answer",
)


@pytest.fixture(autouse=True)
def viewers(db):
    """What the data migration grants: engagement to these three groups."""
    permission = Permission.objects.get(
        content_type__app_label="engagement", codename="view_engagementrollup"
    )
    for group in Group.objects.filter(name__in=("Social managers", "Editors", "Moderators")):
        group.permissions.add(permission)


@pytest.fixture(autouse=True)
def collected(monkeypatch):
    monkeypatch.setattr(collect, "NETWORKS", data.COLLECTED)


@pytest.fixture
def people(django_user_model, social_manager, editor):
    return [social_manager, editor, make_user(django_user_model, "moe", "Moderators")]


def cells(html, label):
    """The text of each cell of the table row whose first cell holds ``label``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        found = [
            html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        if found and found[0] == label:
            return found
    raise AssertionError(f"No row for {label!r}")


def headings(html):
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    return [
        html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]


def by_heading(html, label):
    return dict(zip(headings(html), cells(html, label), strict=False))


def test_the_report_shows_the_conversation_of_each_story_to_everyone_who_may_look(
    client, people, make_story
):
    conversation = data.build(make_story)
    quiet = make_story(title="A story nobody posted")
    EngagementRollup.objects.create(
        day=timezone.localdate(), story=quiet, event="view", source="direct", count=5
    )
    for user in people:
        client.force_login(user)
        response = client.get(REPORT)
        assert response.status_code == 200, user
        html = response.content.decode()

        kitchen = by_heading(html, conversation.kitchen.title)
        assert kitchen["Replies & quotes"] == "5"
        assert kitchen["Replies & quotes / post"] == "2.50"
        assert kitchen["People replying"] == "4"
        assert kitchen["Answered"] == "60% (3 of 5)"
        assert kitchen["Time to answer"] == "2 h (n = 3)"
        boiler = by_heading(html, conversation.boiler.title)
        assert (boiler["Replies & quotes"], boiler["People replying"]) == ("2", "2")
        assert (boiler["Answered"], boiler["Time to answer"]) == ("0% (0 of 2)", "—")
        # Nothing posted, nothing to measure: not zero.
        nobody = by_heading(html, quiet.title)
        assert [nobody[name] for name in HEADINGS_TEXT] == ["—"] * 5
        assert "the networks&#x27; own count" in html or "the networks' own count" in html


def test_the_report_without_any_conversation_shows_dashes(client, people, make_story):
    story = make_story(title="Read but never posted")
    EngagementRollup.objects.create(
        day=timezone.localdate(), story=story, event="view", source="direct", count=5
    )
    for user in people:
        client.force_login(user)
        html = client.get(REPORT).content.decode()
        row = by_heading(html, story.title)
        assert [row[name] for name in HEADINGS_TEXT] == ["—"] * 5
        for heading in HEADINGS:
            assert heading in html


def test_the_report_per_interest_and_channel(client, social_manager, make_story):
    conversation = data.build(make_story)
    client.force_login(social_manager)

    home = by_heading(client.get(REPORT, {"group": "interest"}).content.decode(), "Home")
    # @ann replied to both stories: one person.
    assert (home["Replies & quotes"], home["People replying"]) == ("7", "5")
    assert home["Answered"] == "43% (3 of 7)"

    per_channel = client.get(REPORT, {"group": "channel"}).content.decode()
    mastodon = by_heading(per_channel, "Mastodon")
    assert (mastodon["Replies & quotes"], mastodon["Replies & quotes / post"]) == ("6", "3.00")
    assert mastodon["Time to answer"] == "1 h 15 min (n = 2)"
    assert by_heading(per_channel, "Bluesky")["Answered"] == "100% (1 of 1)"
    assert by_heading(per_channel, "LinkedIn")["Replies & quotes"] == "—"  # not read back

    # Narrowed to readers who came from search engines: no post is theirs.
    EngagementRollup.objects.create(
        day=timezone.localdate(), story=conversation.kitchen, event="view", source="search", count=3
    )
    searched = by_heading(client.get(REPORT, {"channel": "search"}).content.decode(), KITCHEN)
    assert searched["Views"] == "3"
    assert [searched[name] for name in HEADINGS_TEXT] == ["—"] * 5


def test_the_csv_has_the_conversation_after_the_networks_reply_count(
    client, social_manager, make_story
):
    conversation = data.build(make_story)
    client.force_login(social_manager)

    rows = {row["Story"]: row for row in csv_rows(client.get(REPORT, {"export": "csv"}))}

    kitchen = rows[conversation.kitchen.title]
    names = list(kitchen)
    assert names[-1] == "Applause"  # still last
    at = names.index("Conversation rate")
    assert names[at + 1 : at + 10] == [
        "Posts read back",
        "Replies and quotes",
        "Quotes among them",
        "Replies and quotes per post",
        "People replying",
        "Replies answered",
        "Answered share",
        "Median minutes to answer",
        "Answers timed (n)",
    ]
    assert [kitchen[name] for name in names[at + 1 : at + 10]] == [
        "2",
        "5",
        "1",
        "2.5",
        "4",
        "3",
        "0.6",
        "120.0",
        "3",
    ]
    assert rows[conversation.boiler.title]["Median minutes to answer"] == ""
    assert client.get(REPORT, {"export": "xlsx"}).status_code == 200


def test_the_report_sorts_by_a_conversation_figure(client, social_manager, make_story):
    conversation = data.build(make_story)
    client.force_login(social_manager)

    html = client.get(REPORT, {"ordering": "conversation_replies"}).content.decode()
    assert html.find(conversation.boiler.title) < html.find(conversation.kitchen.title)
    html = client.get(REPORT, {"ordering": "-conversation_replies"}).content.decode()
    assert html.find(conversation.kitchen.title) < html.find(conversation.boiler.title)
    assert "Replies &amp; quotes: the top 2 by story" in html  # the chart follows the sort


def test_a_storys_page_shows_its_conversation_in_all_and_per_account(client, people, make_story):
    conversation = data.build(make_story)
    for user in people:
        client.force_login(user)
        response = client.get(story_page(conversation.kitchen.pk))
        assert response.status_code == 200, user
        html = response.content.decode()

        assert '<h2 class="w-h3" id="conversation-figures-heading">Conversation</h2>' in html
        # The networks' own counter keeps its place above, named as what it is.
        assert "<dt>Replies, as the networks count them</dt><dd>0 (" in html
        assert "<dt>Posts read back</dt><dd>2</dd>" in html
        assert "<dt>Replies and quotes</dt><dd>5 (4 replies, 1 quote)</dd>" in html
        assert "<dt>Replies and quotes per post</dt><dd>2.50</dd>" in html
        assert "<dt>People replying</dt><dd>4</dd>" in html
        assert "<dt>Answered</dt><dd>3 of 5 (60%)</dd>" in html
        assert "<dt>Median time to answer</dt><dd>2 h (n = 3)</dd>" in html
        assert cells(html, "Mastodon @storyloom") == [
            "Mastodon @storyloom",
            "1",
            "4",
            "4.00",
            "3",
            "2 (50%)",
            "1 h 15 min (n = 2)",
        ]
        assert cells(html, "Bluesky storyloom.bsky")[1:] == [
            "1",
            "1",
            "1.00",
            "1",
            "1 (100%)",
            "4 h (n = 1)",
        ]
        # The accounts add up to the story, but for people (@ann on two networks is two;
        # on two accounts of one network she would be one).
        assert cells(html, "All accounts")[1:] == ["2", "5", "2.50", "4", "3 (60%)", "2 h (n = 3)"]


def test_a_storys_page_without_conversation_says_there_is_nothing_to_measure(
    client, people, make_story
):
    story = make_story(title="Never posted")
    for user in people:
        client.force_login(user)
        html = client.get(story_page(story.pk)).content.decode()
        assert "<dt>Posts read back</dt><dd>0</dd>" in html
        for label in (
            "Replies and quotes",
            "Replies and quotes per post",
            "People replying",
            "Answered",
            "Median time to answer",
        ):
            assert f"<dt>{label}</dt><dd>—</dd>" in html
        assert "Conversation per account" not in html


def test_the_report_and_a_storys_page_take_the_same_queries_for_1_or_20_stories(
    client, social_manager, make_story
):
    account = ChannelAccountFactory()
    now = timezone.now()
    stories = []

    def add_stories(count):
        for _ in range(count):
            story = make_story()
            stories.append(story)
            post = data.published_post(story, account, now - datetime.timedelta(days=1))
            reply = data.item(post, 1, written=now - datetime.timedelta(hours=5))
            data.answer(reply, now - datetime.timedelta(hours=1))

    client.force_login(social_manager)
    add_stories(1)
    client.get(REPORT)  # warm up what is cached once per process
    pages = [REPORT, f"{REPORT}?group=interest", f"{REPORT}?group=channel"]
    baselines = {}
    for url in [*pages, story_page(stories[0].pk)]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        baselines[url] = len(queries)

    add_stories(19)
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        assert len(queries) == baselines[url], url
    assert "100% (20 of 20)" in html  # the one Mastodon row: twenty answered replies
    second = ChannelAccountFactory(handle="@second")
    data.published_post(stories[0], second, now - datetime.timedelta(hours=3))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(story_page(stories[0].pk)).status_code == 200
    assert len(queries) == baselines[story_page(stories[0].pk)]
