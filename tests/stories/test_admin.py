"""Editors in Wagtail's admin: writing stories, link rules, the Stories listing, snippets."""

from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

import pytest

from stories.models import AudienceInterest, StoryPage
from tests.factories import AudienceInterestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, admin_user):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(admin_user)
    return client


def story_form(title, interest, links=(), **extra):
    data = nested_form_data(
        {
            "title": title,
            "slug": title.lower().replace(" ", "-"),
            "intro": "What happened when the boiler started to sing.",
            "body": streamfield([("paragraph", rich_text("<p>It began in November.</p>"))]),
            "purpose": "solve",
            "story_links": inline_formset(
                [{"target": target.pk, "kind": kind} for target, kind in links]
            ),
            **extra,
        }
    )
    data["interests"] = [interest.pk]  # a multiple choice, not a nested list
    return data


def add_url(story_index):
    return f"/admin/pages/add/stories/storypage/{story_index.pk}/"


def test_an_editor_writes_and_publishes_a_story(editor_client, story_index, make_story):
    home = AudienceInterestFactory(name="Home")
    earlier = make_story()
    data = story_form("The boiler that sang", home, [(earlier, "background")])
    data["action-publish"] = "publish"
    response = editor_client.post(add_url(story_index), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(slug="the-boiler-that-sang")
    assert story.live
    assert list(story.interests.all()) == [home]
    assert story.word_count > 0
    assert [(link.target_id, link.kind) for link in story.story_links.all()] == [
        (earlier.pk, "background")
    ]


def test_the_editor_is_told_why_links_are_rejected(editor_client, story_index, make_story):
    home = AudienceInterestFactory(name="Home")
    one, two = make_story(), make_story()
    data = story_form("Two ways on", home, [(one, "continues"), (two, "continues")])
    data["action-publish"] = "publish"
    response = editor_client.post(add_url(story_index), data)
    assert response.status_code == 200
    assert "A story can continue into only one other story" in response.content.decode()
    assert not StoryPage.objects.filter(slug="two-ways-on").exists()


def test_a_cycle_is_rejected_in_the_editor(editor_client, make_story):
    home = AudienceInterestFactory(name="Home")
    first, second = make_story(interests=[home]), make_story(interests=[home])
    from tests.factories import link

    link(first, second, "continues")
    data = story_form(second.title, home, [(first, "continues")], slug=second.slug)
    data["action-publish"] = "publish"
    response = editor_client.post(f"/admin/pages/{second.pk}/edit/", data)
    assert response.status_code == 200
    assert "go round in a circle" in response.content.decode()
    assert not second.story_links.exists()


def test_a_story_needs_at_least_one_interest(editor_client, story_index):
    data = story_form("No audience", AudienceInterestFactory(name="Home"))
    data["interests"] = []
    response = editor_client.post(add_url(story_index), data)
    assert response.status_code == 200
    assert response.context["form"].errors["interests"] == ["This field is required."]
    assert not StoryPage.objects.filter(slug="no-audience").exists()


def test_stories_listing_filters_by_interest_and_purpose(editor_client, make_story):
    pets, travel = AudienceInterestFactory(name="Pets"), AudienceInterestFactory(name="Travel")
    make_story(title="Dog on a train", interests=[pets], purpose="smile")
    make_story(title="Cat at the vet", interests=[pets], purpose="ease")
    make_story(title="Lost in Porto", interests=[travel], purpose="smile")

    everything = editor_client.get("/admin/stories/").content.decode()
    assert all(t in everything for t in ("Dog on a train", "Cat at the vet", "Lost in Porto"))
    smiles = editor_client.get("/admin/stories/", {"purpose": "smile"}).content.decode()
    assert "Dog on a train" in smiles and "Lost in Porto" in smiles
    assert "Cat at the vet" not in smiles
    pet_smiles = editor_client.get(
        "/admin/stories/", {"purpose": "smile", "interests": pets.pk}
    ).content.decode()
    assert "Dog on a train" in pet_smiles and "Lost in Porto" not in pet_smiles


def test_interests_are_managed_as_snippets(editor_client):
    response = editor_client.post(
        "/admin/snippets/stories/audienceinterest/add/",
        {"name": "Gardening", "slug": "Gardening", "description": "Growing things."},
    )
    assert response.status_code == 302
    assert AudienceInterest.objects.get(name="Gardening").slug == "gardening"
    duplicate = editor_client.post(
        "/admin/snippets/stories/audienceinterest/add/",
        {"name": "Gardening again", "slug": "GARDENING", "description": ""},
    )
    assert duplicate.status_code == 200
    assert "An interest with this slug already exists." in duplicate.content.decode()


def test_block_previews_and_help_text_reach_the_editor(editor_client, story_index):
    AudienceInterestFactory(name="Pets", description="For people who live with animals.")
    page = editor_client.get(add_url(story_index)).content.decode()
    assert "Pets — For people who live with animals." in page
    assert "Tell it as you would to a friend, not a customer." in page
    assert "If it does none of these, it is probably an advert." in page
