"""Every text a reader sees of a story is voice-checked, and each finding names where the
editor wrote it: the body's blocks, a picture's alt text, and every audience version
(the default and each interest's variant). A pitch in an audience variant is held back
from publication exactly like one in the body, and released by the same approval."""

from django.core.exceptions import ValidationError

from wagtail.models import PageLogEntry
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

import pytest

from stories.models import StoryPage, VoiceApproval
from stories.models.voice import check_with_site_options, publication_block
from stories.tasks import publish_scheduled_pages
from tests.factories import AudienceInterestFactory, ImageFactory
from tests.stories.test_admin import add_url, story_form
from tests.stories.test_voice_gate import finish_workflow, schedule, voice_workflow

pytestmark = pytest.mark.django_db

#: A soft pitch: polite, no exclamation mark, but an advert all the same.
PITCH = "Book your free consultation with our team today."
#: The same places filled with plain storytelling, which must never be flagged.
CALM = "The cat slept in the laundry basket until the dryer stopped."

#: Where a text can be put, and the label its findings must carry.
PLACES = {
    "paragraph": "Paragraph 1",
    "alt text": "Alt text 1",
    "caption": "Caption 1",
    "default paragraph": "Audience default · Paragraph 1",
    "default alt text": "Audience default · Alt text 1",
    "variant paragraph": "Audience variant (Pets) · Paragraph 1",
    "variant caption": "Audience variant (Pets) · Caption 1",
    "variant alt text": "Audience variant (Pets) · Alt text 1",
}


@pytest.fixture
def pets(db):
    return AudienceInterestFactory(name="Pets")


def picture(image, alt):
    return {"image": image.pk, "decorative": False, "alt_text": alt}


def body_with(place: str, text: str, pets, image) -> list[dict]:
    """A story body (as stored) with ``text`` in ``place`` and calm words everywhere else."""

    def put(here: str) -> str:
        return text if here == place else CALM

    def content(prefix: str) -> dict:
        return {
            "image": picture(image, put(f"{prefix} alt text")),
            "caption": put(f"{prefix} caption"),
            "text": f"<p>{put(f'{prefix} paragraph')}</p>",
        }

    return [
        {"type": "paragraph", "value": f"<p>{put('paragraph')}</p>"},
        {
            "type": "image",
            "value": {"image": picture(image, put("alt text")), "caption": put("caption")},
        },
        {
            "type": "audience",
            "value": {
                "default": content("default"),
                "variants": [{"interest": pets.pk, "content": content("variant")}],
            },
        },
    ]


def story_with(make_story, place, text, pets, **kwargs):
    story = make_story(title="The cat and the dryer", intro="A warm afternoon.", **kwargs)
    story.body = body_with(place, text, pets, ImageFactory())
    return story


@pytest.mark.parametrize(("place", "label"), PLACES.items())
def test_a_soft_pitch_is_flagged_where_the_editor_wrote_it(make_story, pets, place, label):
    result = check_with_site_options(story_with(make_story, place, PITCH, pets))
    assert result.is_salesy
    assert {item["where"] for item in result.items} == {label}
    assert "Book" in {item["phrase"] for item in result.items}
    assert all(item["message"] and item["suggestion"] for item in result.items)


def test_the_same_places_with_storytelling_are_not_flagged(make_story, pets):
    result = check_with_site_options(story_with(make_story, "", CALM, pets))
    assert not result.is_salesy
    assert result.items == []


def test_a_decorative_picture_has_no_alt_text_to_read(make_story, pets):
    story = make_story()
    image = picture(ImageFactory(), PITCH) | {"decorative": True}
    story.body = [{"type": "image", "value": {"image": image, "caption": ""}}]
    assert check_with_site_options(story).items == []


def test_a_variant_whose_interest_was_deleted_is_not_read(make_story, pets):
    story = story_with(make_story, "variant paragraph", PITCH, pets)
    story.save_revision()
    pets.delete()
    story = StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object()
    assert not check_with_site_options(story).is_salesy


# --- The editor's panel ------------------------------------------------------------------
def audience_form(pets, variant_text, image, alt):
    def content(text, with_picture):
        return {
            "image": {"image": image.pk if with_picture else "", "alt_text": alt},
            "caption": "",
            "text": rich_text(f"<p>{text}</p>"),
        }

    return {
        "default": content(CALM, with_picture=False),
        "variants": {
            "count": 1,
            "0": {
                "value": {"interest": pets.pk, "content": content(variant_text, True)},
                "deleted": "",
                "order": "0",
                "id": "",
            },
        },
    }


def test_the_panel_lists_variant_and_alt_text_findings_with_their_labels(
    client, admin_user, story_index, pets
):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(admin_user)
    data = story_form("The cat and the dryer", pets)
    data.update(
        nested_form_data(
            {"body": streamfield([("audience", audience_form(pets, PITCH, ImageFactory(), PITCH))])}
        )
    )
    data["parent"] = story_index.pk
    response = client.post("/admin/stories/voice-check/", data)
    assert response.status_code == 200
    result = response.json()
    assert result["is_salesy"] is True
    blocks = {block["label"]: block for block in result["blocks"]}
    assert set(blocks) == {
        "Audience variant (Pets) · Alt text 1",
        "Audience variant (Pets) · Paragraph 1",
    }
    for block in blocks.values():
        assert block["text"] == PITCH
        phrases = [f["phrase"] for f in block["findings"]]
        assert "Book" in phrases
        assert all(block["text"][f["start"] : f["end"]] == f["phrase"] for f in block["findings"])


# --- Before it goes out --------------------------------------------------------------------
@pytest.mark.parametrize("place", ["paragraph", "variant paragraph"])
def test_a_pitch_in_a_variant_is_held_back_and_released_like_body_text(
    make_story, pets, admin_user, place
):
    story = story_with(make_story, place, PITCH, pets)
    live_revision = story.live_revision_id
    with pytest.raises(ValidationError, match="reads as selling") as refused:
        story.save_revision().publish()
    assert "“Book”" in str(refused.value)
    assert StoryPage.objects.get(pk=story.pk).live_revision_id == live_revision

    # The same approval path releases it: a reviewer approves those words with a reason.
    state = voice_workflow()[0].start(story, admin_user)
    finish_workflow(state, admin_user, "A quoted flyer from the vet's noticeboard.")
    story = StoryPage.objects.get(pk=story.pk)
    assert story.live and PITCH in str(story.body.raw_data)
    assert VoiceApproval.objects.filter(page=story).count() == 1
    assert publication_block(story) is None

    # Other words in the same place need another review.
    story.body = body_with(place, PITCH.replace("today", "this week"), pets, ImageFactory())
    assert publication_block(story)


@pytest.mark.parametrize("place", ["paragraph", "variant paragraph"])
def test_a_scheduled_story_with_a_pitch_in_a_variant_is_held(make_story, pets, place):
    story = story_with(
        make_story, place, PITCH, pets, live=False, first_published_at=None, last_published_at=None
    )
    schedule(story)
    publish_scheduled_pages()
    assert not StoryPage.objects.get(pk=story.pk).live
    assert PageLogEntry.objects.filter(page=story, action="stories.voice_hold").exists()


def test_the_editor_cannot_publish_a_pitch_in_a_variant(client, admin_user, story_index, pets):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(admin_user)
    data = story_form("The cat and the dryer", pets)
    data.update(
        nested_form_data(
            {"body": streamfield([("audience", audience_form(pets, PITCH, ImageFactory(), CALM))])}
        )
    )
    data["action-publish"] = "publish"
    response = client.post(add_url(story_index), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This story reads as selling" in page and "“Book”" in page
    assert not StoryPage.objects.filter(slug="the-cat-and-the-dryer", live=True).exists()

    # The same story with the variant told as a story goes out.
    data.update(
        nested_form_data(
            {"body": streamfield([("audience", audience_form(pets, CALM, ImageFactory(), CALM))])}
        )
    )
    response = client.post(add_url(story_index), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StoryPage.objects.get(slug="the-cat-and-the-dryer").live
