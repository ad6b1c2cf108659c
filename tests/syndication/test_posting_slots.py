"""Posting slots and "Add to the queue": the next free slot across time zones and
summer-time changes, slots held by other posts, no slots; the slots screen; compose."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

import pytest

from syndication import slots, states
from syndication.models import PostingSlot, SyndicationPost
from tests.factories import BlueskyAccountFactory, ChannelAccountFactory, SyndicationPostFactory
from tests.syndication.test_compose import compose_url, form_data

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = datetime.UTC
MON, TUE, SAT, SUN = 0, 1, 5, 6


def at(hour, minute=0):
    return datetime.time(hour, minute)


def utc(*parts):
    return datetime.datetime(*parts, tzinfo=UTC)


# --- next_free: plain arithmetic -----------------------------------------------------------
def test_the_slot_later_today_comes_first():
    # Monday 7 December 2026, 08:00 in London (GMT).
    now = utc(2026, 12, 7, 8, 0)
    found = slots.next_free([(MON, at(9)), (MON, at(17, 30))], [], now, LONDON)
    assert found == utc(2026, 12, 7, 9, 0)
    assert found.tzinfo is UTC


def test_a_slot_already_past_waits_a_week():
    now = utc(2026, 12, 7, 9, 0, 1)  # a second after Monday's only slot
    assert slots.next_free([(MON, at(9))], [], now, LONDON) == utc(2026, 12, 14, 9, 0)


def test_a_slot_held_by_another_post_in_the_same_minute_is_skipped():
    now = utc(2026, 12, 7, 8, 0)
    taken = [utc(2026, 12, 7, 9, 0, 42)]  # same minute, other seconds: still held
    found = slots.next_free([(MON, at(9)), (TUE, at(8, 15))], taken, now, LONDON)
    assert found == utc(2026, 12, 8, 8, 15)
    # A post a minute later does not hold it.
    assert slots.next_free([(MON, at(9))], [utc(2026, 12, 7, 9, 1)], now, LONDON) == utc(
        2026, 12, 7, 9, 0
    )


def test_no_slots_no_time():
    assert slots.next_free([], [], utc(2026, 12, 7), LONDON) is None


def test_every_slot_taken_within_the_horizon_is_none():
    now = utc(2026, 12, 7, 10, 0)
    week = [(day, at(9)) for day in range(7)]
    days = [now.date() + datetime.timedelta(days=n) for n in range(slots.HORIZON_DAYS + 2)]
    # 09:00 on London's clocks, summer time included.
    taken = [datetime.datetime.combine(day, at(9), tzinfo=LONDON) for day in days]
    assert slots.next_free(week, taken, now, LONDON) is None


def test_a_slot_keeps_its_clock_time_across_the_spring_change():
    # Summer time starts in London on Sunday 29 March 2026 at 01:00 GMT.
    now = utc(2026, 3, 28, 10, 0)  # Saturday, after its 09:00 slot
    found = slots.next_free([(SAT, at(9)), (MON, at(9))], [], now, LONDON)
    assert found == utc(2026, 3, 30, 8, 0)  # 09:00 BST
    assert found.astimezone(LONDON).hour == 9


def test_a_slot_in_the_skipped_hour_happens_an_hour_later_on_the_clock():
    now = utc(2026, 3, 28, 12, 0)
    found = slots.next_free([(SUN, at(1, 30))], [], now, LONDON)
    assert found == utc(2026, 3, 29, 1, 30)  # the clocks read 02:30 BST
    assert (found.astimezone(LONDON).hour, found.astimezone(LONDON).minute) == (2, 30)


def test_a_slot_in_the_repeated_hour_is_its_first_occurrence():
    # Summer time ends on Sunday 25 October 2026: 01:30 happens twice.
    now = utc(2026, 10, 24, 12, 0)
    assert slots.next_free([(SUN, at(1, 30))], [], now, LONDON) == utc(2026, 10, 25, 0, 30)


def test_the_zone_decides_the_instant_and_the_day():
    # 23:30 on Sunday in New York is already Monday in UTC; summer time there began on
    # 8 March 2026, so the two Sundays are five and four hours behind UTC.
    now = utc(2026, 3, 1, 12, 0)
    first = slots.next_free([(SUN, at(23, 30))], [], now, NEW_YORK)
    assert first == utc(2026, 3, 2, 4, 30)
    second = slots.next_free([(SUN, at(23, 30))], [first], now, NEW_YORK)
    assert second == utc(2026, 3, 9, 3, 30)


@pytest.mark.parametrize(
    ("text", "times"),
    [
        ("8:30, 12:00 17.45", [at(8, 30), at(12), at(17, 45)]),
        ("  ", []),
        ("09:00,09:00", [at(9)]),
        ("23:59;0:00", [at(0), at(23, 59)]),
    ],
)
def test_slot_times_are_read_as_people_write_them(text, times):
    assert slots.parse_times(text) == times


@pytest.mark.parametrize("text", ["25:00", "9", "noon", "12:60", "1\x00:00", "9" * 40])
def test_what_is_not_a_time_is_refused_by_name(text):
    with pytest.raises(ValueError, match="is not a time"):
        slots.parse_times(text)


# --- next_free_slot: the account's slots and posts -----------------------------------------
@pytest.mark.django_db
def test_only_this_accounts_scheduled_or_outgoing_posts_hold_a_slot(settings):
    settings.TIME_ZONE = "Europe/London"
    account, other = ChannelAccountFactory(), BlueskyAccountFactory()
    now = utc(2026, 12, 7, 8, 0)
    for weekday, time in [(MON, at(9)), (MON, at(12)), (MON, at(15)), (MON, at(18))]:
        PostingSlot.objects.create(account=account, weekday=weekday, time=time)
    SyndicationPostFactory(account=account, scheduled_at=utc(2026, 12, 7, 9, 0))
    SyndicationPostFactory(
        account=account, scheduled_at=utc(2026, 12, 7, 12, 0), state=states.PUBLISHING
    )
    # Neither a cancelled post nor another account's post holds a slot.
    SyndicationPostFactory(
        account=account, scheduled_at=utc(2026, 12, 7, 15, 0), state=states.CANCELLED
    )
    SyndicationPostFactory(account=other, scheduled_at=utc(2026, 12, 7, 15, 0))
    assert slots.next_free_slot(account, now) == utc(2026, 12, 7, 15, 0)
    assert slots.next_free_slot(other, now) is None


# --- The slots screen ------------------------------------------------------------------------
@pytest.fixture
def account(db):
    return ChannelAccountFactory(remote_id="slots", handle="@brand")


def slots_url(account):
    return f"/admin/syndication/accounts/{account.pk}/slots/"


def test_a_social_manager_sets_weekly_slots(client, social_manager, account):
    client.force_login(social_manager)
    listing = client.get("/admin/syndication/accounts/").content.decode()
    assert slots_url(account) in listing
    data = {f"weekday_{n}": "" for n in range(7)}
    data.update(weekday_0="17:45, 8:30", weekday_4="12.00")
    response = client.post(slots_url(account), data)
    assert response.status_code == 302
    saved = list(PostingSlot.objects.filter(account=account).values_list("weekday", "time"))
    assert saved == [(MON, at(8, 30)), (MON, at(17, 45)), (4, at(12))]
    page = client.get(slots_url(account)).content.decode()
    assert 'value="08:30, 17:45"' in page and "Next free slot" in page
    # Saving again replaces them.
    data.update(weekday_0="", weekday_4="")
    assert client.post(slots_url(account), data).status_code == 302
    assert not PostingSlot.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("25:00", "is not a time"),
        ("08:00\x00", "Null characters are not allowed"),
        ("9" * 500, "at most 400 characters"),
        (", ".join(f"{h:02}:00" for h in range(24)) + ", 23:30", "At most 24 slots a day"),
    ],
)
def test_bad_slot_times_are_a_clear_400_and_change_nothing(
    client, social_manager, account, value, message
):
    PostingSlot.objects.create(account=account, weekday=TUE, time=at(9))
    client.force_login(social_manager)
    response = client.post(slots_url(account), {"weekday_0": value, "weekday_1": ""})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(PostingSlot.objects.values_list("weekday", flat=True)) == [TUE]


def test_editors_cannot_change_slots(client, editor, account):
    client.force_login(editor)
    assert client.post(slots_url(account), {"weekday_0": "09:00"}).status_code == 403
    assert not PostingSlot.objects.exists()


# --- "Add to the queue" in compose -------------------------------------------------------------
@pytest.fixture
def story(make_story):
    return make_story(title="The boiler that sang", intro="A noisy boiler, a patient plumber.")


def test_add_to_the_queue_takes_each_accounts_next_free_slot(
    client, social_manager, story, account
):
    soon = timezone.localtime() + datetime.timedelta(days=1)
    later = soon + datetime.timedelta(days=1)
    for when in (soon, later):
        PostingSlot.objects.create(
            account=account, weekday=when.weekday(), time=at(when.hour, when.minute)
        )
    client.force_login(social_manager)
    page = client.get(compose_url(story)).content.decode()
    assert 'value="queue"' in page and "Add to the queue" in page

    response = client.post(compose_url(story), form_data([account], action="queue"))
    assert response.status_code == 302
    first = SyndicationPost.objects.get()
    assert first.state == states.SCHEDULED and first.due_at == first.scheduled_at
    assert slots.minute(first.scheduled_at) == slots.minute(soon)
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("1 post added to the queue: @brand" in m for m in messages)

    # The next one takes the next slot, whatever time the form carries.
    data = form_data([account], action="queue", when="2030-01-01 09:00")
    assert client.post(compose_url(story), data).status_code == 302
    second = SyndicationPost.objects.exclude(pk=first.pk).get()
    assert slots.minute(second.scheduled_at) == slots.minute(later)


def test_add_to_the_queue_without_slots_says_so_and_saves_nothing(
    client, social_manager, story, account
):
    other = BlueskyAccountFactory(remote_id="did:plc:other")
    PostingSlot.objects.create(account=other, weekday=MON, time=at(9))
    client.force_login(social_manager)
    response = client.post(compose_url(story), form_data([other, account], action="queue"))
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("@brand" in error and "No posting slots, so no queue" in error for error in errors)
    assert not SyndicationPost.objects.exists()


def test_editors_cannot_add_to_the_queue(client, editor, story, account):
    PostingSlot.objects.create(account=account, weekday=MON, time=at(9))
    client.force_login(editor)
    assert client.post(compose_url(story), form_data([account], action="queue")).status_code == 403
    assert not SyndicationPost.objects.exists()
    assert "Add to the queue" not in client.get(compose_url(story)).content.decode()
