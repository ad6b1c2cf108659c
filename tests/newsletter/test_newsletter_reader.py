"""A newsletter reader on the site: the click link, their reads, and "For you".

* ``/newsletter/c/<token>/``: a valid click is noted once and sent on to the story,
  tagged; anything else gets a clear page and changes nothing.
* Engaged reads and read-throughs carrying the click token (``nl``) become the
  subscriber's ``SubscriberRead`` when the flusher counts their batch, exactly once.
* ``/newsletter/for-you/``: picks for a reader with the consent cookie or a click
  token, none the page shows already; no stories for everyone else (the page's own
  "More on…" block stays); a cookie only after a yes.
"""

import datetime
import json
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import pytest
from bs4 import BeautifulSoup

from stories.models import AudienceInterest, StorySeries
from stories.render_cache import bump_content_version
from syndication.engagement import events, flush
from syndication.engagement.models import EngagementRollup
from syndication.newsletter import clicks, profiles
from syndication.newsletter.models import (
    Delivery,
    DeliveryPick,
    Edition,
    Subscriber,
    SubscriberRead,
)
from tests.factories import AudienceInterestFactory, ImageFactory

pytestmark = pytest.mark.django_db

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SAME_SITE = {"HTTP_ORIGIN": "http://localhost"}


@pytest.fixture(autouse=True)
def _fresh(fresh_collector):
    """The collector's in-process caches start empty (``fresh_collector`` in conftest)."""


@pytest.fixture
def pets():
    return AudienceInterestFactory(name="Pets")


@pytest.fixture
def food():
    return AudienceInterestFactory(name="Food")


@pytest.fixture
def shelf(make_story, pets, food):
    """A story about a cat, three more about pets, two about food."""
    return {
        "cat": make_story(title="The cat who hid in the boiler cupboard", interests=[pets]),
        "pets": [make_story(title=f"Pets, part {n}", interests=[pets]) for n in range(3)],
        "food": [make_story(title=f"Food, part {n}", interests=[food]) for n in range(2)],
    }


def subscriber(*interests, status=Subscriber.Status.ACTIVE, email="reader@example.com"):
    person = Subscriber.objects.create(email=email, status=status)
    person.interests.set(interests)
    return person


def delivered(person, *stories) -> Delivery:
    edition = Edition.objects.create(title="This week", status=Edition.Status.SENT)
    delivery = Delivery.objects.create(
        edition=edition, subscriber=person, state=Delivery.State.SENT
    )
    DeliveryPick.objects.bulk_create(
        DeliveryPick(
            delivery=delivery, slot=slot, story=story, score=1.0, probability=1.0, reason="r"
        )
        for slot, story in enumerate(stories)
    )
    return delivery


def old_token(monkeypatch, delivery_id, slot, days):
    """A click token signed ``days`` ago."""
    then = time.time() - days * 86400
    monkeypatch.setattr(signing.time, "time", lambda: then)
    token = clicks.make_token(delivery_id, slot)
    monkeypatch.undo()
    return token


def tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


# --- The click link ---------------------------------------------------------------------


def clicked(delivery) -> list:
    return list(delivery.picks.order_by("slot").values_list("clicked_at", flat=True))


def test_a_click_goes_to_the_story_tagged_and_is_noted_once(client, shelf):
    story = shelf["cat"]
    delivery = delivered(subscriber(), shelf["pets"][0], story)
    token = clicks.make_token(delivery.pk, 1)
    response = client.get(clicks.click_path(delivery.pk, 1), HTTP_USER_AGENT=READER)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == story.url
    assert parse_qs(target.query) == {
        "utm_source": ["newsletter"],
        "utm_medium": ["email"],
        "utm_campaign": [f"edition-{delivery.edition_id}"],
        "nl": [token],
    }
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"]
    first = clicked(delivery)
    assert first[0] is None and first[1] is not None  # only the pick that was clicked

    # The collector sees an arrival from the newsletter in those tags.
    tags = {k.removeprefix("utm_"): v[0] for k, v in parse_qs(target.query).items() if k != "nl"}
    assert events.attribution(tags, None, None, "localhost").source == "newsletter"

    # Clicking again (or from another device) does not move the first click.
    assert client.get(clicks.click_path(delivery.pk, 1), HTTP_USER_AGENT=READER).status_code == 302
    assert clicked(delivery) == first


@pytest.mark.parametrize(
    ("method", "user_agent"),
    [
        ("head", READER),
        ("get", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
        ("get", "python-requests/2.32.3"),
        ("get", ""),
    ],
)
def test_link_scanners_are_sent_on_without_a_click(client, shelf, method, user_agent):
    delivery = delivered(subscriber(), shelf["cat"])
    response = getattr(client, method)(
        clicks.click_path(delivery.pk, 0), HTTP_USER_AGENT=user_agent
    )
    assert response.status_code == 302
    assert clicked(delivery) == [None]


def bad_links(monkeypatch, delivery):
    good = clicks.make_token(delivery.pk, 0)
    return {
        "tampered": tampered(good),
        "expired": old_token(monkeypatch, delivery.pk, 0, days=91),
        "not a token": "hello",
        "another salt": signing.TimestampSigner(salt="other", sep="~").sign(f"{delivery.pk}.0"),
        "unknown delivery": clicks.make_token(delivery.pk + 1000, 0),
        "unknown slot": clicks.make_token(delivery.pk, 7),
    }


def test_a_bad_click_link_gets_a_clear_page_and_changes_nothing(client, shelf, monkeypatch):
    delivery = delivered(subscriber(), shelf["cat"])
    for name, token in bad_links(monkeypatch, delivery).items():
        response = client.get(reverse("newsletter:click", args=[token]), HTTP_USER_AGENT=READER)
        assert response.status_code == 400, name
        html = BeautifulSoup(response.content, "html.parser")
        assert html.h1.get_text() == "This link is not valid or has expired", name
        links = {a["href"] for a in html.select("main a")}
        assert {"/", "/stories/"} <= links, name
        assert response["X-Robots-Tag"] == "noindex"
    expired = client.get(
        reverse("newsletter:click", args=[bad_links(monkeypatch, delivery)["expired"]])
    )
    assert "expired" in expired.content.decode()
    assert clicked(delivery) == [None]
    assert not SubscriberRead.objects.exists()


def test_a_link_to_a_story_taken_down_says_so(client, shelf):
    story = shelf["cat"]
    delivery = delivered(subscriber(), story)
    story.unpublish()
    response = client.get(clicks.click_path(delivery.pk, 0), HTTP_USER_AGENT=READER)
    assert response.status_code == 410
    html = BeautifulSoup(response.content, "html.parser")
    assert html.h1.get_text() == "This story is no longer here"
    assert html.select_one('main a[href="/"]') is not None


# --- Reads through newsletter links --------------------------------------------------------


def post_event(client, body, **headers):
    headers.setdefault("HTTP_USER_AGENT", READER)
    return client.post(
        reverse("engagement:collect"),
        data=json.dumps(body).encode(),
        content_type="text/plain;charset=UTF-8",
        **headers,
    )


def reads() -> dict:
    return {
        (r.subscriber_id, r.story_id): (r.engaged, r.read_through)
        for r in SubscriberRead.objects.all()
    }


@pytest.fixture(params=["embedded", "redis"])
def sink(request, settings):
    """Where events go: straight into the database, or a Redis stream ``flush`` empties."""
    if request.param == "embedded":
        settings.ENGAGEMENT_REDIS_URL = ""
        return lambda: None
    request.getfixturevalue("stream")
    return lambda: flush.flush()


def test_engaged_reads_and_read_throughs_with_a_click_token_are_the_subscribers(
    client, sink, shelf
):
    story, other = shelf["cat"], shelf["pets"][0]
    person = subscriber()
    token = clicks.make_token(delivered(person, story).pk, 0)
    someone = subscriber(email="someone@example.com")
    their_token = clicks.make_token(delivered(someone, other).pk, 0)
    landing = {"u": {"source": "newsletter", "medium": "email"}, "nl": token}
    bodies = [
        {"t": "view", "s": story.pk, **landing},
        {"t": "engaged_read", "s": story.pk, "ms": 40_000, "sd": 90, **landing},
        {"t": "read_through", "s": story.pk, "sd": 100, **landing},
        # On to the next story in the same tab: still this subscriber reading.
        {"t": "read_through", "s": other.pk, **landing},
        {"t": "feeling", "s": other.pk, "f": "helpful", **landing},
        {"t": "engaged_read", "s": other.pk, "ms": 30_000, "nl": their_token},
        # Not a read, or a token that cannot be trusted: nothing for anyone.
        {"t": "view", "s": shelf["food"][0].pk, "nl": their_token},
        {"t": "read_through", "s": shelf["food"][1].pk, "nl": tampered(token)},
    ]
    for body in bodies:
        assert post_event(client, body).status_code == 202, body
    sink()
    assert reads() == {
        (person.pk, story.pk): (True, True),
        (person.pk, other.pk): (False, True),
        (someone.pk, other.pk): (True, False),
    }
    # The rollups stay anonymous: the arrival is "newsletter", no subscriber anywhere.
    assert set(EngagementRollup.objects.values_list("source", flat=True)) >= {"newsletter"}
    columns = {f.name for f in EngagementRollup._meta.get_fields()}
    assert not columns & {"subscriber", "subscriber_id", "delivery", "nl"}

    # Later reads only ever add: an engaged read after a read-through keeps both.
    post_event(client, {"t": "engaged_read", "s": other.pk, "ms": 20_000, **landing})
    sink()
    assert reads()[(person.pk, other.pk)] == (True, True)


def test_a_malformed_click_token_is_refused_naming_the_field(client, settings, shelf):
    settings.ENGAGEMENT_REDIS_URL = ""
    story = shelf["cat"]
    for bad in ["", "x" * 121, "has space", "semi;colon", "<script>", 42, None, ["a"]]:
        response = post_event(client, {"t": "read_through", "s": story.pk, "nl": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"].startswith("nl: "), bad
    assert not EngagementRollup.objects.exists()
    # The shape of a real token passes (its signature is the flusher's business).
    token = clicks.make_token(123, 4)
    assert events.NEWSLETTER_TOKEN.fullmatch(token)
    assert post_event(client, {"t": "view", "s": story.pk, "nl": token}).status_code == 202


def test_a_batch_flushed_twice_writes_its_reads_once(stream, settings, shelf, monkeypatch):
    story = shelf["cat"]
    person = subscriber()
    token = clicks.make_token(delivered(person, story).pk, 0)
    from syndication.engagement import buffer

    came_from = events.Attribution("newsletter", 0, 0, "")
    assert buffer.record("engaged_read", story.pk, came_from, nl=token).recorded
    acknowledge = flush.acknowledge

    def killed(*args):
        raise RuntimeError("killed after the commit, before the acknowledgement")

    monkeypatch.setattr(flush, "acknowledge", killed)
    with pytest.raises(RuntimeError):
        flush.flush()
    assert reads() == {(person.pk, story.pk): (True, False)}
    # Had the read been written outside the batch's transaction, a second pass would
    # write it again; it must not.
    SubscriberRead.objects.all().delete()
    stream.delete(f"{settings.ENGAGEMENT_STREAM}:flush-lock")
    monkeypatch.setattr(flush, "acknowledge", acknowledge)
    outcome = flush.flush()
    assert outcome["duplicate"] == 1 and outcome["events"] == 0
    assert reads() == {}


def test_a_batch_of_reads_costs_the_same_queries_however_many(stream, settings, make_story, pets):
    from syndication.engagement import buffer

    stories = [make_story(interests=[pets]) for _ in range(12)]
    people = [subscriber(email=f"r{n}@example.com") for n in range(12)]
    tokens = [
        clicks.make_token(delivered(p, s).pk, 0) for p, s in zip(people, stories, strict=True)
    ]
    came_from = events.Attribution("newsletter", 0, 0, "")

    def measured(count):
        for story, token in list(zip(stories, tokens, strict=True))[:count]:
            buffer.record("engaged_read", story.pk, came_from, nl=token)
            buffer.record("read_through", story.pk, came_from, nl=token)
        entries = flush.read_batch(buffer.redis_client(), settings.ENGAGEMENT_STREAM, 1000)
        with CaptureQueriesContext(connection) as queries:
            flush.count_batch(settings.ENGAGEMENT_STREAM, entries)
        flush.acknowledge(
            buffer.redis_client(), settings.ENGAGEMENT_STREAM, [i for i, _ in entries]
        )
        return len(queries.captured_queries)

    flush.ensure_group(buffer.redis_client(), settings.ENGAGEMENT_STREAM)
    assert measured(1) == measured(12)
    assert len(reads()) == 12


# --- For you ------------------------------------------------------------------------------


def for_you(client, story=None, **params):
    query = {"story": story.pk} if story else {}
    return client.get(reverse("newsletter:for_you"), {**query, **params})


def fragment(response):
    assert response.status_code in (200, 400, 403), response.status_code
    return BeautifulSoup(response.content, "html.parser").select_one("[data-for-you-content]")


def cards(html) -> dict:
    """{story title: the reason above it}."""
    return {
        card.select_one(".card__title").get_text(strip=True): (
            card.select_one(".card__label").get_text(strip=True)
            if card.select_one(".card__label")
            else ""
        )
        for card in html.select(".card")
    }


def followed(picked: dict, interest: str) -> set:
    return {title for title, reason in picked.items() if reason == f"Because you follow {interest}"}


def assert_private(response):
    assert response["Cache-Control"] == "private, no-store"
    assert "Cookie" in response["Vary"]
    assert response["X-Robots-Tag"] == "noindex"


def reader_cookie(client, *interests, read=()):
    profile = profiles.Profile(
        profiles.Profile.COOKIE, followed=tuple(i.pk for i in interests), read=tuple(read)
    )
    client.cookies[profiles.COOKIE_NAME] = profiles.cookie_value(profile)


def set_cookie(response):
    return response.cookies.get(profiles.COOKIE_NAME)


def test_a_reader_we_know_nothing_about_gets_no_stories_but_may_pick_interests(client, shelf):
    response = for_you(client, shelf["cat"])
    html = fragment(response)
    assert_private(response)
    assert not response.cookies and "Set-Cookie" not in response
    # No list of stories: the page's own "More on…" block is the one the story ends with.
    assert html.h2 is None and cards(html) == {}
    assert not html.has_attr("data-picked")
    assert html["data-interests"] == ""
    # ...and may pick interests of their own; nothing is asked of them otherwise.
    form = html.select_one("form[action='/newsletter/for-you/consent/']")
    assert form.legend.get_text() == "Pick your interests"
    offered = {box.parent.get_text(strip=True) for box in form.select("input[name=interest]")}
    assert offered == set(AudienceInterest.objects.values_list("name", flat=True)) > {"Pets"}
    assert html.find(string=lambda s: "Keep showing" in s) is None
    assert html.select_one("[data-forget]") is None


def is_stranger(html) -> bool:
    return html.h2 is None and not html.has_attr("data-picked") and html["data-interests"] == ""


def test_a_reader_with_the_cookie_gets_picks_with_reasons(client, shelf, pets):
    reader_cookie(client, pets, read=[shelf["pets"][2].pk])
    response = for_you(client)  # the home page: no story
    html = fragment(response)
    assert_private(response)
    assert html.h2.get_text() == "Picked for you" and html.has_attr("data-picked")
    picked = cards(html)
    assert len(picked) == 4  # topped up past the reader's interest (selection's rules)
    assert followed(picked, "Pets") == {
        "The cat who hid in the boiler cupboard",
        "Pets, part 0",
        "Pets, part 1",
    }
    assert html["data-interests"] == "pets"
    assert html.select_one("form[data-forget] button").get_text() == "Forget me"
    assert html.select_one("input[name=interest]") is None
    assert not response.cookies  # nothing new to remember on the home page

    # On a story page the story itself is not offered, and the cookie remembers it was read.
    response = for_you(client, shelf["cat"])
    assert "The cat who hid in the boiler cupboard" not in cards(fragment(response))
    assert all(a["data-follow-kind"] == "for_you" for a in fragment(response).select(".card a"))
    kept = profiles.from_cookie(set_cookie(response).value)
    assert kept.read == (shelf["cat"].pk, shelf["pets"][2].pk)
    assert kept.followed == (pets.pk,)


def test_picks_leave_out_the_stories_the_page_shows_already(client, shelf, pets):
    reader_cookie(client, pets)
    first, second, third = shelf["pets"]
    everything = set(cards(fragment(for_you(client, shelf["cat"]))))
    assert {first.title, second.title, third.title} <= everything

    # The story page links two of them ("Continue the story", its text): for-you.js
    # sends their ids, with whatever else a forged address carries.
    shown = f"{first.pk},{second.pk},x,-3,{'9' * 40},"
    html = fragment(for_you(client, shelf["cat"], shown=shown))
    picked = cards(html)
    assert followed(picked, "Pets") == {third.title}
    assert not {first.title, second.title} & set(picked)
    # The forms carry them on, so the answer to "Forget me" or a yes leaves them out too.
    assert html.select_one("form[data-forget] input[name=shown]")["value"] == (
        f"{first.pk},{second.pk}"
    )
    nonce = html.select_one("form[data-forget] input[name=nonce]")["value"]
    response = consent(
        client,
        {"interest": [str(pets.pk)], "story": shelf["cat"].pk, "shown": shown, "nonce": nonce},
    )
    assert followed(cards(fragment(response)), "Pets") == {third.title}


def test_a_tampered_or_foreign_cookie_is_ignored(client, shelf, pets):
    reader_cookie(client, pets)
    value = client.cookies[profiles.COOKIE_NAME].value
    forged = [
        tampered(value),
        signing.dumps({"i": [pets.pk], "r": []}, salt="another.salt"),
        signing.dumps({"i": ["1"], "r": []}, salt=profiles.COOKIE_SALT),
        signing.dumps({"i": [pets.pk], "r": list(range(1, 60))}, salt=profiles.COOKIE_SALT),
        "garbage",
    ]
    for cookie in forged:
        client.cookies[profiles.COOKIE_NAME] = cookie
        html = fragment(for_you(client, shelf["cat"]))
        assert is_stranger(html), cookie


def test_a_newsletter_reader_gets_their_picks_and_a_question_but_no_cookie(client, shelf, pets):
    person = subscriber(pets)
    SubscriberRead.objects.create(
        subscriber=person, story=shelf["pets"][0], engaged=True, read_through=True
    )
    token = clicks.make_token(delivered(person, shelf["cat"]).pk, 0)
    response = for_you(client, shelf["cat"], nl=token)
    html = fragment(response)
    assert_private(response)
    assert not response.cookies and "Set-Cookie" not in response
    picked = cards(html)
    # Neither the story read to the end nor this one.
    assert followed(picked, "Pets") == {"Pets, part 1", "Pets, part 2"}
    assert html["data-interests"] == "pets"
    form = html.select_one("form[data-for-you-form]")
    assert "Keep showing stories picked for you on this device? (one cookie, nothing else)" in (
        form.get_text()
    )
    assert form.select_one("input[name=nl]")["value"] == token
    assert form.select_one("[data-for-you-dismiss]") is not None

    # Said "No thanks" in this tab: the picks stay, the question goes.
    html = fragment(for_you(client, shelf["cat"], nl=token, ask="0"))
    assert set(cards(html)) == set(picked) and html.select_one("input[name=nl]") is None

    # A bad token, or an unsubscribed reader, is a stranger.
    html = fragment(for_you(client, shelf["cat"], nl=tampered(token)))
    assert is_stranger(html)
    person.status = Subscriber.Status.UNSUBSCRIBED
    person.save()
    assert is_stranger(fragment(for_you(client, shelf["cat"], nl=token)))


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"])
def test_readers_who_ask_not_to_be_tracked_are_asked_nothing(client, shelf, pets, header):
    token = clicks.make_token(delivered(subscriber(pets), shelf["cat"]).pk, 0)
    response = client.get(
        reverse("newsletter:for_you"), {"story": shelf["cat"].pk, "nl": token}, **{header: "1"}
    )
    html = fragment(response)
    assert is_stranger(html)
    assert html.select("form") == []
    assert not response.cookies


def consent(client, data, **headers):
    headers = {**SAME_SITE, **headers}
    data = {
        "nonce": signing.TimestampSigner(salt="storyloom.newsletter.for-you").sign("for-you"),
        **data,
    }
    return client.post(reverse("newsletter:consent"), data, **headers)


def test_saying_yes_after_a_newsletter_link_sets_the_one_cookie(client, shelf, pets):
    person = subscriber(pets)
    SubscriberRead.objects.create(subscriber=person, story=shelf["pets"][0], engaged=True)
    token = clicks.make_token(delivered(person, shelf["cat"]).pk, 0)
    nonce = fragment(for_you(client, shelf["cat"], nl=token)).select_one("input[name=nonce]")
    response = consent(client, {"nl": token, "story": shelf["cat"].pk, "nonce": nonce["value"]})
    assert response.status_code == 200
    assert_private(response)
    cookie = set_cookie(response)
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 180 * 24 * 3600
    # Interest ids and read stories, signed; no subscriber, no address, no token.
    data = signing.loads(cookie.value, salt=profiles.COOKIE_SALT)
    assert data == {"i": [pets.pk], "r": [shelf["cat"].pk, shelf["pets"][0].pk]}
    assert "reader@example.com" not in cookie.value
    # The answer is their "For you" as a cookie reader.
    html = fragment(response)
    assert html.select_one("[data-forget]") is not None
    assert "Pets, part 0" not in cards(html)

    # With the cookie alone, the next page knows them.
    client.cookies[profiles.COOKIE_NAME] = cookie.value
    html = fragment(for_you(client, shelf["pets"][1]))
    assert followed(cards(html), "Pets") == {"Pets, part 2"}


def test_picking_interests_sets_the_cookie_with_just_those(client, shelf, pets, food):
    response = consent(client, {"interest": [str(food.pk), "999999", "x"], "story": ""})
    data = signing.loads(set_cookie(response).value, salt=profiles.COOKIE_SALT)
    assert data == {"i": [food.pk], "r": []}
    assert followed(cards(fragment(response)), "Food") == {"Food, part 0", "Food, part 1"}

    # None picked: asked again, nothing set.
    response = consent(client, {"story": shelf["cat"].pk})
    assert response.status_code == 400
    assert "Pick at least one interest." in fragment(response).get_text()
    assert not response.cookies


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ({"nonce": "forged"}, {}),
        ({"nonce": ""}, {}),
        ({}, {"HTTP_ORIGIN": "https://elsewhere.example"}),
        ({}, {"HTTP_ORIGIN": "", "HTTP_SEC_FETCH_SITE": "cross-site"}),
        ({}, {"HTTP_ORIGIN": ""}),  # a browser always says where a POST comes from
    ],
)
def test_a_yes_from_elsewhere_or_without_a_fresh_form_sets_nothing(client, pets, data, headers):
    response = consent(client, {"interest": [str(pets.pk)], **data}, **headers)
    assert response.status_code == 403
    assert "Reload the page" in fragment(response).get_text()
    assert not response.cookies


def test_a_stale_form_is_refused(client, pets, monkeypatch):
    then = time.time() - 13 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: then)
    nonce = signing.TimestampSigner(salt="storyloom.newsletter.for-you").sign("for-you")
    monkeypatch.undo()
    response = consent(client, {"interest": [str(pets.pk)], "nonce": nonce})
    assert response.status_code == 403 and not response.cookies


def test_forget_me_deletes_the_cookie(client, shelf, pets):
    reader_cookie(client, pets)
    html = fragment(for_you(client, shelf["cat"]))
    nonce = html.select_one("form[data-forget] input[name=nonce]")["value"]
    response = client.post(
        reverse("newsletter:forget"), {"nonce": nonce, "story": shelf["cat"].pk}, **SAME_SITE
    )
    assert response.status_code == 200
    cookie = set_cookie(response)
    assert cookie.value == "" and cookie["max-age"] == 0
    html = fragment(response)
    assert is_stranger(html)
    assert html.select_one("input[name=interest]") is not None
    # Without a fresh form, nothing is deleted.
    response = client.post(reverse("newsletter:forget"), {"nonce": "x"}, **SAME_SITE)
    assert response.status_code == 403 and not response.cookies


def test_no_get_ever_sets_a_cookie_for_a_reader_who_did_not_say_yes(client, shelf, pets):
    token = clicks.make_token(delivered(subscriber(pets), shelf["cat"]).pk, 0)
    responses = [
        for_you(client),
        for_you(client, shelf["cat"]),
        for_you(client, shelf["cat"], nl=token),
        client.get(reverse("newsletter:click", args=[token]), HTTP_USER_AGENT=READER),
        client.get(shelf["cat"].url + f"?nl={token}"),
    ]
    for response in responses:
        assert "Set-Cookie" not in response, response
    assert not client.cookies
    assert client.get(reverse("newsletter:consent")).status_code == 405


@pytest.mark.parametrize("reader", ["stranger", "cookie", "newsletter"])
def test_for_you_costs_a_bounded_number_of_queries(
    client, make_story, pets, food, reader, django_assert_max_num_queries
):
    interests = [pets, food] + [AudienceInterestFactory(name=f"Topic {n}") for n in range(5)]
    series = StorySeries.objects.create(name="Winter at home")
    picture = ImageFactory()
    person = subscriber(pets, food)

    def add_stories(count):
        made = [
            make_story(
                interests=interests[n % 3 : n % 3 + 2],
                hero_image=picture,
                series=series if n < 3 else None,
                series_part=n + 1 if n < 3 else None,
            )
            for n in range(count)
        ]
        SubscriberRead.objects.bulk_create(
            SubscriberRead(subscriber=person, story=story, engaged=True) for story in made[:5]
        )
        return made

    picks = reader != "stranger"  # a stranger gets no stories, only the interests

    def measure(stories, params):
        bump_content_version()  # a new catalogue: the cold path
        with CaptureQueriesContext(connection) as cold:
            assert bool(cards(fragment(for_you(client, stories[-1], **params)))) == picks
        with CaptureQueriesContext(connection) as warm:
            assert bool(cards(fragment(for_you(client, stories[-2], **params)))) == picks
        return len(cold.captured_queries), len(warm.captured_queries)

    stories = add_stories(6)
    token = clicks.make_token(delivered(person, *stories[:5]).pk, 0)
    if reader == "cookie":
        reader_cookie(client, pets, food, read=[s.pk for s in stories[:3]])
    params = {"nl": token} if reader == "newsletter" else {}
    for_you(client, stories[0], **params)  # the card picture's rendition is made once
    few = measure(stories, params)
    stories += add_stories(40)
    if reader == "cookie":
        # Many reads, and a few stories left to pick.
        reader_cookie(client, pets, food, read=[s.pk for s in stories[:40]])
    assert measure(stories, params) == few  # the same however many stories and reads
    # Cold (after a content change): the site and its root, the catalogue (interests,
    # stories, their interests, chapters, three for quality), the reader's own rows
    # (newsletter: three), the cards and their pictures. Warm: the reader's rows and
    # the cards.
    assert few[0] <= 14, few
    assert few[1] <= (5 if reader == "newsletter" else 2), few
    with django_assert_max_num_queries(few[1]):
        for_you(client, stories[-3], **params)


def test_the_catalogue_is_the_newest_stories_with_their_quality(shelf, settings, client):
    settings.ENGAGEMENT_REDIS_URL = ""
    story = shelf["cat"]
    for _ in range(5):
        post_event(client, {"t": "view", "s": story.pk})
        post_event(client, {"t": "engaged_read", "s": story.pk, "ms": 30_000})
    candidates = {c.story_id: c for c in profiles.site_candidates()}
    assert set(candidates) == {story.pk, *(s.pk for s in shelf["pets"] + shelf["food"])}
    cat = candidates[story.pk]
    assert cat.title == story.title and cat.interests == (story.interests.get().pk,)
    assert 0 <= cat.quality <= 1 and cat.evidence == 5.0
    assert candidates[shelf["food"][0].pk].quality is None  # nothing measured yet
    assert cat.published_at <= timezone.now() + datetime.timedelta(seconds=1)


def test_the_cookie_reads_back_what_it_was_given():
    profile = profiles.Profile(profiles.Profile.COOKIE, followed=(3, 1), read=tuple(range(1, 80)))
    back = profiles.from_cookie(profiles.cookie_value(profile))
    assert back.followed == (3, 1)
    assert back.read == tuple(range(1, 51))  # at most 50 kept
    cookie = SimpleCookie()
    cookie["x"] = profiles.cookie_value(profile)
    assert len(cookie.output()) < 1000
