"""The posting calendar: what a week and a month show (time zone, states, reactions,
one account), its query count, and moving a scheduled post (rules, races, bad input)."""

import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest
from bs4 import BeautifulSoup

from syndication import posts, states
from syndication.engagement.models import ChannelMetricSnapshot
from syndication.models import PostAttempt, SyndicationPost
from tests.factories import BlueskyAccountFactory, ChannelAccountFactory, SyndicationPostFactory

pytestmark = pytest.mark.django_db

CALENDAR = "/admin/syndication/calendar/"
UTC = datetime.UTC


def utc(*parts):
    return datetime.datetime(*parts, tzinfo=UTC)


@pytest.fixture(autouse=True)
def london(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def account(db):
    return ChannelAccountFactory(remote_id="cal", handle="@brand")


@pytest.fixture
def other(db):
    return BlueskyAccountFactory(remote_id="did:plc:cal", handle="brand.bsky.social")


def cards(response):
    """Each post card: (post id, the cell's date, its hour or None, its text)."""
    soup = BeautifulSoup(response.content, "html.parser")
    found = []
    for card in soup.select("[data-calendar-post]"):
        cell = card.find_parent(attrs={"data-calendar-drop": True})
        found.append(
            (
                int(card["data-calendar-post"]),
                cell["data-date"],
                cell.get("data-hour"),
                " ".join(card.get_text(" ").split()),
                card,
            )
        )
    return found


# --- What a week shows ---------------------------------------------------------------------
def test_a_week_shows_its_posts_in_the_sites_time_zone_with_states_and_reactions(
    client, social_manager, account
):
    # Week of Monday 6 July 2026; London is on summer time (UTC+1).
    late = SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 7, 23, 30))
    published = SyndicationPostFactory(
        account=account,
        scheduled_at=utc(2026, 7, 6, 8, 0),
        published_at=utc(2026, 7, 6, 8, 2),
        state=states.PUBLISHED,
    )
    ChannelMetricSnapshot.objects.create(
        post=published, taken_at=utc(2026, 7, 6, 9), replies=1, reposts=1, likes=1
    )
    ChannelMetricSnapshot.objects.create(
        post=published, taken_at=utc(2026, 7, 6, 12), replies=2, reposts=0, likes=5
    )
    failed = SyndicationPostFactory(
        account=account, scheduled_at=utc(2026, 7, 10, 12, 0), state=states.FAILED
    )
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 8, 9), state=states.DRAFT)
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 8, 9), state=states.CANCELLED)
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 13, 9))  # next week

    client.force_login(social_manager)
    response = client.get(CALENDAR, {"view": "week", "date": "2026-07-09"})
    assert response.status_code == 200
    shown = {pk: (date, hour, text, card) for pk, date, hour, text, card in cards(response)}
    assert set(shown) == {late.pk, published.pk, failed.pk}
    # 23:30 UTC on Tuesday is 00:30 on Wednesday in London.
    assert shown[late.pk][:2] == ("2026-07-08", "00")
    assert shown[late.pk][2].startswith("00:30 Mastodon · @brand")
    # Where it went out, with the latest snapshot's figures.
    assert shown[published.pk][:2] == ("2026-07-06", "09")
    assert "09:02" in shown[published.pk][2]
    assert "2 replies · 0 reposts · 5 likes" in shown[published.pk][2]
    # Failed is marked; only the scheduled post can be dragged or moved.
    assert "calendar-post--marked" in shown[failed.pk][3]["class"]
    assert "Failed" in shown[failed.pk][2]
    assert shown[late.pk][3].get("draggable") == "true"
    assert shown[late.pk][3].select_one("form[data-calendar-move] input[name=when]")["value"] == (
        "2026-07-08T00:30"
    )
    assert not shown[published.pk][3].get("draggable")
    assert not shown[failed.pk][3].select("form")
    html = response.content.decode()
    assert "Times in Europe/London" in html and "6 Jul – 12 Jul 2026" in html
    assert (
        "syndication/js/calendar.js" in html
        and "https://" not in html.split("calendar.js")[0][-200:]
    )


def test_a_month_shows_whole_weeks_and_one_account_when_asked(
    client, social_manager, account, other
):
    mine = SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 1, 9))
    theirs = SyndicationPostFactory(account=other, scheduled_at=utc(2026, 7, 31, 17))
    edge = SyndicationPostFactory(account=account, scheduled_at=utc(2026, 6, 29, 9))
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 8, 3, 9))  # not shown
    client.force_login(social_manager)

    response = client.get(CALENDAR, {"view": "month", "date": "2026-07-15"})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    dates = [cell["data-date"] for cell in soup.select("[data-calendar-drop]")]
    assert dates[0] == "2026-06-29" and dates[-1] == "2026-08-02" and len(dates) == 35
    found = {pk: date for pk, date, hour, _, _ in cards(response)}
    assert found == {mine.pk: "2026-07-01", theirs.pk: "2026-07-31", edge.pk: "2026-06-29"}
    assert all(hour is None for _, _, hour, _, _ in cards(response))
    assert "July 2026" in response.content.decode()

    only = client.get(CALENDAR, {"view": "month", "date": "2026-07-15", "account": other.pk})
    assert {pk for pk, *_ in cards(only)} == {theirs.pk}
    # Navigation keeps the view and the account.
    nav = BeautifulSoup(only.content, "html.parser")
    assert nav.select_one("a[rel=next]")["href"] == (
        f"{CALENDAR}?view=month&date=2026-08-01&account={other.pk}"
    )
    assert nav.select_one("a[rel=prev]")["href"] == (
        f"{CALENDAR}?view=month&date=2026-06-01&account={other.pk}"
    )


def test_the_calendar_reads_its_posts_in_one_query_however_many(
    client, social_manager, account, other
):
    client.force_login(social_manager)
    params = {"view": "month", "date": "2026-07-15"}
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 1, 9))
    client.get(CALENDAR, params)  # warm the session and the menus

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CALENDAR, params).status_code == 200
        reading = [q["sql"] for q in captured if 'FROM "syndication_syndicationpost"' in q["sql"]]
        return len(captured), reading

    few, few_reads = count()
    for day in range(2, 20):
        post = SyndicationPostFactory(
            account=other if day % 2 else account,
            scheduled_at=utc(2026, 7, day, 9),
            published_at=utc(2026, 7, day, 9),
            state=states.PUBLISHED,
        )
        ChannelMetricSnapshot.objects.create(post=post, replies=day, likes=1, reposts=0)
    many, many_reads = count()
    assert len(cards(client.get(CALENDAR, params))) == 19
    assert many == few
    assert len(many_reads) == 1 and "syndication_channelmetricsnapshot" in many_reads[0]


def test_editors_see_the_calendar_but_cannot_move_posts(client, editor, account):
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 7, 7, 9))
    client.force_login(editor)
    response = client.get(CALENDAR, {"date": "2026-07-07"})
    assert response.status_code == 200
    [(_, _, _, _, card)] = cards(response)
    assert not card.get("draggable") and not card.select("form")


def test_the_calendar_is_in_the_syndication_menu(client, social_manager):
    client.force_login(social_manager)
    assert CALENDAR in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-02-30"},
        {"date": "1\x00"},
        {"date": "99999999999-01-01"},
        {"date": "0001-01-01"},
        {"view": "year"},
        {"account": "99999999999999999999"},
        {"account": "abc"},
    ],
)
def test_bad_calendar_parameters_are_a_clear_400(client, social_manager, params):
    client.force_login(social_manager)
    response = client.get(CALENDAR, params)
    assert response.status_code == 400
    assert "help-critical" in response.content.decode()


# --- Moving a scheduled post ------------------------------------------------------------------
def move_url(post):
    return f"{CALENDAR}{post.pk}/reschedule/"


def move(client, post, when, **headers):
    return client.post(move_url(post), {"when": when}, HTTP_ACCEPT="application/json", **headers)


def soon(days=2, hour=9):
    return (datetime.datetime.now(UTC) + datetime.timedelta(days=days)).replace(
        hour=hour, minute=15, second=0, microsecond=0
    )


def test_a_social_manager_moves_a_scheduled_post(client, social_manager, account):
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    target = soon(3, hour=14)
    client.force_login(social_manager)
    local = timezone.localtime(target)
    response = move(client, post, local.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["date"] == local.date().isoformat() and answer["time"] == local.strftime("%H:%M")
    post.refresh_from_db()
    assert post.scheduled_at == target and post.due_at == target
    assert post.state == states.SCHEDULED
    assert "Moved on the calendar by sam" in post.attempts.last().message


def test_without_the_script_the_move_form_comes_back_with_a_message(
    client, social_manager, account
):
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    client.force_login(social_manager)
    when = timezone.localtime(soon(4)).strftime("%Y-%m-%dT%H:%M")
    here = f"{CALENDAR}?view=month&date=2026-07-01"
    response = client.post(move_url(post), {"when": when, "next": here})
    assert response.status_code == 302 and response["Location"] == here
    messages = [str(m) for m in client.get(here).context["messages"]]
    assert any(m.startswith("Moved to") for m in messages)
    bad = client.post(move_url(post), {"when": "nonsense", "next": "https://evil.example/"})
    assert bad["Location"] == CALENDAR


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("", "Choose the new time."),
        ("2030-07-01T10:00\x00", "like 2026-12-08T09:30"),
        ("2030-07\x00-01T10:00", "like 2026-12-08T09:30"),
        ("2030-07-01T10:00+05:00", "like 2026-12-08T09:30"),
        ("99999999999999999999", "like 2026-12-08T09:30"),
        ("2026-13-45T10:00", "like 2026-12-08T09:30"),
        ("9999-12-31T23:59", "within the next five years"),
        ("2001-01-01T10:00", "is in the past"),
    ],
)
def test_bad_times_are_a_clear_400_and_change_nothing(
    client, social_manager, account, when, message
):
    original = soon(1)
    post = SyndicationPostFactory(account=account, scheduled_at=original)
    client.force_login(social_manager)
    response = move(client, post, when)
    assert response.status_code == 400
    assert message in response.json()["error"]
    post.refresh_from_db()
    assert post.scheduled_at == original


def test_a_time_the_clocks_skip_is_refused_by_name(client, social_manager, account, settings):
    settings.TIME_ZONE = "America/New_York"
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    client.force_login(social_manager)
    year = datetime.date.today().year + 1
    # Summer time in New York starts on the second Sunday of March, at 02:00.
    march = datetime.date(year, 3, 1)
    sunday = march + datetime.timedelta(days=(6 - march.weekday()) % 7 + 7)
    response = move(client, post, f"{sunday}T02:30")
    assert response.status_code == 400
    assert "America/New_York" in response.json()["error"]


@pytest.mark.parametrize("state", [states.PUBLISHED, states.FAILED, states.MISSED, states.DRAFT])
def test_only_a_scheduled_post_moves(client, social_manager, account, state):
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1), state=state)
    client.force_login(social_manager)
    response = move(client, post, soon(3).strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 409
    assert "only a scheduled post can be moved" in response.json()["error"]
    assert SyndicationPost.objects.get(pk=post.pk).state == state


def test_editors_and_strangers_cannot_move_posts(client, editor, account):
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    client.force_login(editor)
    assert move(client, post, soon(3).strftime("%Y-%m-%dT%H:%M")).status_code == 403
    client.logout()
    assert move(client, post, soon(3).strftime("%Y-%m-%dT%H:%M")).status_code == 302
    assert SyndicationPost.objects.get(pk=post.pk).scheduled_at == post.scheduled_at


def test_moving_needs_the_csrf_token_and_a_post(social_manager, account):
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    strict = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    strict.force_login(social_manager)
    assert move(strict, post, soon(3).strftime("%Y-%m-%dT%H:%M")).status_code == 403
    assert strict.get(move_url(post)).status_code == 405
    assert SyndicationPost.objects.get(pk=post.pk).scheduled_at == post.scheduled_at


def test_unknown_and_huge_post_ids_are_404(client, social_manager):
    client.force_login(social_manager)
    for pk in ("424242", "99999999999999999999"):
        response = client.post(
            f"{CALENDAR}{pk}/reschedule/",
            {"when": "2030-01-01T10:00"},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 404


def test_a_post_claimed_meanwhile_is_not_taken_back(social_manager, account):
    """The person read the post while scheduled; a worker claimed it before the move."""
    post = SyndicationPostFactory(account=account, scheduled_at=soon(1))
    SyndicationPost.objects.filter(pk=post.pk).update(state=states.PUBLISHING)
    assert post.state == states.SCHEDULED  # what the person's request read
    assert posts.move_scheduled(post, social_manager, soon(3)) is False
    # The queue's Reschedule action too: a claimed post is never taken back to scheduled.
    assert posts.apply_action(post, "reschedule", social_manager, when=soon(3)) is False
    fresh = SyndicationPost.objects.get(pk=post.pk)
    assert fresh.state == states.PUBLISHING and fresh.scheduled_at == post.scheduled_at
    assert not PostAttempt.objects.filter(post=post).exists()


def test_the_role_matrix_knows_the_calendar():
    from tests.test_role_matrix import CHANGES, area_of

    assert area_of("syndication_calendar:index") == "proposing"
    assert area_of("syndication_calendar:reschedule") == "syndication"
    assert area_of("syndication_accounts:slots") == "syndication"
    assert CHANGES.search("syndication_calendar:reschedule")
