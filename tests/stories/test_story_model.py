from django.core.exceptions import ValidationError

import pytest

from stories.models import AudienceInterest, StoryLink, StoryPage
from tests.factories import AudienceInterestFactory, link

pytestmark = pytest.mark.django_db


def test_word_count_and_reading_time_are_stored_on_publish(make_story):
    story = make_story(body=[("paragraph", "<p>" + "word " * 50 + "</p>")], intro="Two words")
    assert story.word_count == 52
    assert story.reading_time == 1

    story.body = [("paragraph", "<p>" + "word " * 700 + "</p>"), ("heading", "Three more words")]
    story.save_revision().publish()
    story = StoryPage.objects.get(pk=story.pk)
    assert story.word_count == 2 + 700 + 3
    assert story.reading_time == 4  # 705 words / 230 per minute, rounded up


def test_a_draft_does_not_change_the_live_reading_time(make_story):
    story = make_story(body=[("paragraph", "<p>short</p>")])
    story.body = [("paragraph", "<p>" + "long " * 1000 + "</p>")]
    story.save_revision()
    assert StoryPage.objects.get(pk=story.pk).reading_time == 1


def test_interest_slugs_are_unique_ignoring_case():
    AudienceInterest.objects.create(name="Pets", slug="pets")
    duplicate = AudienceInterest(name="Pets again", slug="PETS")
    with pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()


def test_interest_slug_is_stored_lower_case():
    interest = AudienceInterestFactory(name="Travel", slug="Travel")
    assert AudienceInterest.objects.get(pk=interest.pk).slug == "travel"


def test_a_story_cannot_link_to_itself(make_story):
    story = make_story()
    with pytest.raises(ValidationError, match="cannot link to itself"):
        link(story, story)
    assert not StoryLink.objects.filter(page=story).exists()


def test_a_story_continues_into_at_most_one_story(make_story):
    first, second, third = make_story(), make_story(), make_story()
    link(first, second, "continues")
    with pytest.raises(ValidationError, match="only one other story"):
        link(first, third, "continues")


def test_a_cycle_of_continues_links_is_rejected(make_story):
    a, b, c = make_story(), make_story(), make_story()
    link(a, b, "continues")
    link(b, c, "continues")
    with pytest.raises(ValidationError, match="go round in a circle") as error:
        link(c, a, "continues")
    assert f"{c.pk} → {a.pk} → {b.pk} → {c.pk}" in str(error.value)


def test_background_links_may_point_back(make_story):
    a, b = make_story(), make_story()
    link(a, b, "continues")
    link(b, a, "background")  # not a continues cycle: allowed
    assert StoryLink.objects.filter(page=b, target=a, kind="background").exists()
