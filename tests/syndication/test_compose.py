"""Composing posts from a story: pre-fill, live checks, server-side validation, saving."""

import datetime
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

import pytest
from bs4 import BeautifulSoup

from stories.models import StorySeries
from syndication import posts, states
from syndication.models import ChannelAccount, PostAttempt, SyndicationPost
from tests.factories import AudienceInterestFactory, BlueskyAccountFactory, ChannelAccountFactory
from tests.syndication.conftest import make_user

pytestmark = pytest.mark.django_db

SALESY = "Buy now! 50% off today only, don't miss out! {story_url}"
CALM = "The boiler that sang through the night, and the plumber who listened. {story_url}"


@pytest.fixture
def mastodon(db):
    return ChannelAccountFactory(remote_id="1", tokens={"access_token": "not-shown"})


@pytest.fixture
def bluesky(db):
    return BlueskyAccountFactory(remote_id="did:plc:storyloom")


@pytest.fixture
def story(make_story):
    return make_story(
        title="The boiler that sang",
        intro="A noisy boiler, a patient plumber.",
        interests=[
            AudienceInterestFactory(name="Home repairs"),
            AudienceInterestFactory(name="Pets"),
        ],
    )


def compose_url(story):
    return f"/admin/syndication/compose/{story.pk}/"


def form_data(accounts, text=CALM, action="schedule", **extra):
    data = {"action": action, "when": "", "related_1": "", "related_2": "", "override_reason": ""}
    for account in accounts:
        data[f"include_{account.pk}"] = "on"
        data[f"text_{account.pk}"] = text
    data.update(extra)
    return data


def local(when):
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


# --- The form as it opens ---------------------------------------------------------------
def test_the_form_starts_from_intro_link_and_hashtags(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    response = client.get(compose_url(story))
    assert response.status_code == 200
    form = response.context["form"]
    text = form[f"text_{mastodon.pk}"].value()
    assert text == posts.default_text(story)
    assert text.startswith("A noisy boiler, a patient plumber.")
    assert "{story_url}" in text
    assert "#HomeRepairs" in text and "#Pets" in text
    html = response.content.decode()
    # The count is there before any JavaScript runs, against Mastodon's 500.
    assert f"{form.checks[mastodon.pk]['validation'].length} / 500" in html
    assert "syndication/js/compose.js" in html
    assert "Schedule" in html and "Save as draft" in html


def test_editors_only_get_save_as_draft(client, editor, story, mastodon):
    client.force_login(editor)
    html = client.get(compose_url(story)).content.decode()
    assert 'value="draft"' in html
    assert 'value="schedule"' not in html


def test_threading_is_offered_only_from_the_second_chapter(
    client, social_manager, make_story, mastodon
):
    client.force_login(social_manager)
    series = StorySeries.objects.create(name="Winter at home")
    first = make_story(series=series, series_part=1)
    second = make_story(series=series, series_part=2)
    assert "thread_with_previous" not in client.get(compose_url(first)).context["form"].fields
    assert "thread_with_previous" in client.get(compose_url(second)).context["form"].fields


def test_threading_replies_to_the_previous_chapters_post(
    client, social_manager, make_story, mastodon
):
    series = StorySeries.objects.create(name="Winter at home")
    first = make_story(series=series, series_part=1)
    second = make_story(series=series, series_part=2)
    client.force_login(social_manager)
    assert client.post(compose_url(first), form_data([mastodon])).status_code == 302
    earlier = SyndicationPost.objects.get(story=first)
    data = form_data([mastodon], thread_with_previous="on")
    assert client.post(compose_url(second), data).status_code == 302
    threaded = SyndicationPost.objects.get(story=second)
    assert threaded.thread_with_previous and threaded.in_reply_to == earlier


# --- Scheduling --------------------------------------------------------------------------
def test_scheduling_creates_one_post_per_included_account(
    client, social_manager, story, mastodon, bluesky
):
    client.force_login(social_manager)
    when = timezone.now() + datetime.timedelta(days=1)
    response = client.post(compose_url(story), form_data([mastodon, bluesky], when=local(when)))
    assert response.status_code == 302
    assert response["Location"] == f"/admin/syndication/posts/?story={story.pk}"

    created = SyndicationPost.objects.filter(story=story).order_by("account__network")
    assert [post.account for post in created] == [bluesky, mastodon]
    for post in created:
        assert post.state == states.SCHEDULED
        assert post.created_by == social_manager
        assert local(post.scheduled_at) == local(when)
        query = parse_qs(urlsplit(post.link).query)
        assert query == {
            "utm_source": [post.account.network],
            "utm_medium": ["social"],
            "utm_campaign": [story.slug],
            "utm_content": [str(post.pk)],
        }
        text, link = posts.render_post(post)
        assert link in text
        assert post.attempts.get().outcome == PostAttempt.Outcome.SCHEDULED
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("2 posts scheduled" in m for m in messages)


def test_an_unticked_account_gets_no_post(client, social_manager, story, mastodon, bluesky):
    client.force_login(social_manager)
    data = form_data([mastodon, bluesky])
    del data[f"include_{bluesky.pk}"]
    assert client.post(compose_url(story), data).status_code == 302
    assert list(SyndicationPost.objects.values_list("account", flat=True)) == [mastodon.pk]


def test_an_empty_time_means_as_soon_as_possible(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    before = timezone.now()
    client.post(compose_url(story), form_data([mastodon]))
    post = SyndicationPost.objects.get()
    assert before - datetime.timedelta(seconds=1) <= post.scheduled_at <= timezone.now()


def test_related_stories_fill_their_placeholders(
    client, social_manager, story, make_story, mastodon
):
    client.force_login(social_manager)
    other = make_story(title="Why cats hide")
    text = "Read this {story_url} and then {related_url}"
    response = client.post(
        compose_url(story), form_data([mastodon], text=text, related_1=str(other.pk))
    )
    assert response.status_code == 302
    post = SyndicationPost.objects.get()
    assert list(post.related_stories.all()) == [other]
    rendered, _ = posts.render_post(post)
    assert other.url in rendered and "{related_url}" not in rendered


def test_the_check_shows_two_related_links_where_they_will_be_published(
    client, social_manager, story, make_story, mastodon
):
    older, newer = make_story(title="Older story"), make_story(title="Newer story")
    client.force_login(social_manager)
    text = "First {related_url} then {related_url_2} {story_url}"
    checked = client.post(
        "/admin/syndication/check/",
        {"story": story.pk, "account": mastodon.pk, "text": text, "related": [newer.pk, older.pk]},
    ).json()["text"]
    data = form_data([mastodon], text=text, related_1=str(newer.pk), related_2=str(older.pk))
    assert client.post(compose_url(story), data).status_code == 302
    published, _ = posts.render_post(SyndicationPost.objects.get())
    assert published.index(older.url) < published.index(newer.url)
    assert checked.index(older.url) < checked.index(newer.url)


def test_a_related_placeholder_needs_a_related_story(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    response = client.post(compose_url(story), form_data([mastodon], text="See {related_url}"))
    assert response.status_code == 200
    assert "choose a related story" in response.content.decode()
    assert not SyndicationPost.objects.exists()


def test_editors_save_drafts_and_cannot_schedule(client, editor, story, mastodon):
    client.force_login(editor)
    refused = client.post(compose_url(story), form_data([mastodon], action="schedule"))
    assert refused.status_code == 403
    assert not SyndicationPost.objects.exists()

    response = client.post(compose_url(story), form_data([mastodon], action="draft"))
    assert response.status_code == 302
    post = SyndicationPost.objects.get()
    assert post.state == states.DRAFT
    assert post.created_by == editor


# --- What is refused, and nothing saved ----------------------------------------------
def test_salesy_text_needs_a_reason_and_nothing_is_saved(
    client, social_manager, story, mastodon, bluesky
):
    client.force_login(social_manager)
    data = form_data([mastodon, bluesky])
    data[f"text_{mastodon.pk}"] = SALESY
    response = client.post(compose_url(story), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "reads the post for @storyloom as selling" in errors["override_reason"][0]
    assert not SyndicationPost.objects.exists()
    # The reason field is visible when the server asks for it.
    assert "data-compose-override hidden" not in response.content.decode()


def test_salesy_text_with_a_reason_is_saved_with_the_reason(
    client, social_manager, story, mastodon, bluesky
):
    client.force_login(social_manager)
    data = form_data([mastodon, bluesky], override_reason="The partner offer is the story.")
    data[f"text_{mastodon.pk}"] = SALESY
    assert client.post(compose_url(story), data).status_code == 302
    salesy = SyndicationPost.objects.get(account=mastodon)
    calm = SyndicationPost.objects.get(account=bluesky)
    assert salesy.voice_override_reason == "The partner offer is the story."
    assert salesy.voice_score >= 0.5
    assert calm.voice_override_reason == ""
    assert "voice check overridden" in salesy.attempts.get().message


def test_text_over_the_limit_names_the_network_and_saves_nothing(
    client, social_manager, story, mastodon, bluesky
):
    client.force_login(social_manager)
    data = form_data([mastodon, bluesky])
    data[f"text_{bluesky.pk}"] = "A very long telling of the story. " * 12 + "{story_url}"
    response = client.post(compose_url(story), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[f"text_{bluesky.pk}"]
    assert any("Bluesky" in error and "300" in error for error in errors)
    assert f"text_{mastodon.pk}" not in response.context["form"].errors
    assert not SyndicationPost.objects.exists()


def test_unknown_placeholders_are_refused(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    response = client.post(compose_url(story), form_data([mastodon], text="{storyurl} hello"))
    assert response.status_code == 200
    assert "Unknown placeholder {storyurl}" in response.content.decode()
    assert not SyndicationPost.objects.exists()


def test_a_time_in_the_past_is_refused_on_the_time_field(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    past = timezone.now() - datetime.timedelta(hours=3)
    response = client.post(compose_url(story), form_data([mastodon], when=local(past)))
    assert response.status_code == 200
    assert "is in the past" in response.context["form"].errors["when"][0]
    assert not SyndicationPost.objects.exists()


def test_a_story_that_is_not_live_cannot_be_syndicated(client, social_manager, story, mastodon):
    story.unpublish()
    client.force_login(social_manager)
    assert "Publish the story first" in client.get(compose_url(story)).content.decode()
    response = client.post(compose_url(story), form_data([mastodon]))
    assert response.status_code == 200
    assert "Publish the story first" in str(response.context["form"].non_field_errors())
    assert not SyndicationPost.objects.exists()


def test_nothing_is_saved_when_one_post_is_refused_while_saving(
    client, social_manager, story, mastodon, bluesky, monkeypatch
):
    """The form checks pass, then the second account turns unusable: no half-saved batch."""
    client.force_login(social_manager)
    original = posts.create_post
    calls = []

    def create_then_lose_account(**kwargs):
        calls.append(kwargs["account"])
        if len(calls) == 2:
            ChannelAccount.objects.filter(pk=kwargs["account"].pk).update(
                status=ChannelAccount.Status.NEEDS_RECONNECT
            )
            kwargs["account"].refresh_from_db()
        return original(**kwargs)

    monkeypatch.setattr(posts, "create_post", create_then_lose_account)
    response = client.post(compose_url(story), form_data([mastodon, bluesky]))
    assert len(calls) == 2
    assert response.status_code == 200
    assert "needs reconnecting" in str(response.context["form"].non_field_errors())
    assert not SyndicationPost.objects.exists()
    assert not PostAttempt.objects.exists()


def test_at_least_one_account_must_be_chosen(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    data = form_data([mastodon])
    del data[f"include_{mastodon.pk}"]
    response = client.post(compose_url(story), data)
    assert response.status_code == 200
    assert "Choose at least one account" in str(response.context["form"].non_field_errors())


# --- The live check ----------------------------------------------------------------------
def test_check_endpoint_answers_count_and_voice(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    answer = client.post(
        "/admin/syndication/check/",
        {"story": story.pk, "account": mastodon.pk, "text": SALESY},
    )
    assert answer.status_code == 200
    data = answer.json()
    # Mastodon counts every link as 23 characters.
    expected = len(SALESY.replace("{story_url}", "x" * 23))
    assert data["length"] == expected and data["limit"] == 500
    assert data["count"] == f"{expected} / 500"
    assert data["ok"] is True
    assert data["voice"]["is_salesy"] is True
    phrases = [finding["phrase"] for finding in data["voice"]["findings"]]
    assert "50% off" in phrases
    assert all(
        data["text"][f["start"] : f["end"]] == f["phrase"] for f in data["voice"]["findings"]
    )
    assert "utm_content=000000" in data["text"]


def test_check_endpoint_reports_length_errors(client, editor, story, bluesky):
    client.force_login(editor)
    data = client.post(
        "/admin/syndication/check/",
        {"story": story.pk, "account": bluesky.pk, "text": " ".join(["word"] * 80)},
    ).json()
    assert data["ok"] is False
    assert data["count"] == "399 / 300"
    assert "Bluesky" in data["errors"][0]


def test_check_endpoint_refuses_bad_input_and_strangers(
    client, social_manager, django_user_model, story, mastodon
):
    assert client.post("/admin/syndication/check/", {}).status_code == 302  # to the login
    client.force_login(social_manager)
    assert client.post("/admin/syndication/check/", {"story": story.pk}).status_code == 400
    assert client.get("/admin/syndication/check/").status_code == 405
    nobody = make_user(django_user_model, "moe", "Moderators")
    client.force_login(nobody)
    payload = {"story": story.pk, "account": mastodon.pk, "text": "hi"}
    assert client.post("/admin/syndication/check/", payload).status_code == 403


# --- A soft pitch, and where it is -------------------------------------------------------
PITCH = "Book your free consultation with our team today. {story_url}"


def test_a_soft_pitch_is_reported_on_the_post_it_is_in(
    client, social_manager, story, mastodon, bluesky
):
    client.force_login(social_manager)
    data = form_data([mastodon, bluesky])
    data[f"text_{mastodon.pk}"] = PITCH
    response = client.post(compose_url(story), data)
    assert response.status_code == 200
    assert not SyndicationPost.objects.exists()
    form = response.context["form"]
    # The reason is asked for that account's post, by its handle, and not for the other.
    [error] = form.errors["override_reason"]
    assert mastodon.handle in error and bluesky.handle not in error
    checks = {block["account"].pk: block["check"] for block in form.blocks()}
    findings = checks[mastodon.pk]["voice"]["findings"]
    assert "Book" in [f["phrase"] for f in findings]
    assert all(checks[mastodon.pk]["text"][f["start"] : f["end"]] == f["phrase"] for f in findings)
    assert checks[bluesky.pk]["voice"]["findings"] == []
    # On the page, the findings sit in the account's own section, under its text.
    page = BeautifulSoup(response.content, "html.parser")
    pitched = page.select_one(f'[data-compose-account="{mastodon.pk}"] [data-compose-voice]')
    calm = page.select_one(f'[data-compose-account="{bluesky.pk}"] [data-compose-voice]')
    assert "Book" in [mark.get_text() for mark in pitched.find_all("mark")]
    assert calm.find("mark") is None and "No sales speak found" in calm.get_text()
