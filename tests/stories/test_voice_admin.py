"""The voice check in the admin: the editor's endpoint, the preview, the report."""

import pytest

from stories.models import StoryPage
from tests.factories import AudienceInterestFactory
from tests.stories.test_admin import story_form

pytestmark = pytest.mark.django_db

SALESY = "<p>Act now — only 3 left at this unbeatable price!</p>"


@pytest.fixture
def editor(client, admin_user):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(admin_user)
    return client


def test_the_endpoint_checks_the_unsaved_form(editor, make_story):
    story = make_story()
    data = story_form(story.title, AudienceInterestFactory(name="Home"), slug=story.slug)
    data["intro"] = "Hurry — our biggest sale of the season ends Friday!!!"
    data["page"] = story.pk
    response = editor.post("/admin/stories/voice-check/", data)
    assert response.status_code == 200
    result = response.json()
    assert result["is_salesy"] is True
    intro = next(block for block in result["blocks"] if block["label"] == "Intro")
    phrases = {f["phrase"] for f in intro["findings"]}
    assert any("Hurry" in p for p in phrases)
    for finding in intro["findings"]:
        assert intro["text"][finding["start"] : finding["end"]] == finding["phrase"]
        assert finding["message"] and finding["suggestion"]
    # Nothing was saved: the check reads the form, not the page.
    assert StoryPage.objects.get(pk=story.pk).intro != data["intro"]


def test_the_endpoint_works_for_a_story_not_yet_created(editor, story_index):
    data = story_form("New one", AudienceInterestFactory(name="Home"))
    data["parent"] = story_index.pk
    response = editor.post("/admin/stories/voice-check/", data)
    assert response.status_code == 200
    assert response.json()["is_salesy"] is False


def test_the_endpoint_refuses_other_pages_and_anonymous_users(client, editor, home):
    assert editor.post("/admin/stories/voice-check/", {"page": home.pk}).status_code == 400
    assert editor.post("/admin/stories/voice-check/", {"page": 999_999}).status_code == 404
    client.logout()
    response = client.post("/admin/stories/voice-check/", {"page": home.pk})
    assert response.status_code == 302  # to the login page


def test_previews_show_the_findings_and_live_pages_never_do(editor, make_story):
    story = make_story()
    story.body = [("paragraph", SALESY)]
    preview = story.make_preview_request()
    if hasattr(preview, "render"):
        preview.render()
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "data-voice-preview" in html and "<mark>Act now</mark>" in html
    editor.logout()
    assert "data-voice-preview" not in editor.get(story.url).content.decode()


def test_the_report_ranks_live_stories_by_voice_score(editor, make_story):
    pets = AudienceInterestFactory(name="Pets")
    calm = make_story(title="A quiet walk", interests=[pets])
    loud = make_story(title="A loud flyer", interests=[pets], purpose="smile")
    loud.body = [("paragraph", SALESY)]
    loud.save()
    assert loud.voice_score > (calm.voice_score or 0)

    html = editor.get("/admin/reports/voice/").content.decode()
    assert html.index("A loud flyer") < html.index("A quiet walk")
    assert "“Act now”" in html
    only_smiles = editor.get("/admin/reports/voice/", {"purpose": "smile"}).content.decode()
    assert "A loud flyer" in only_smiles and "A quiet walk" not in only_smiles
    export = editor.get("/admin/reports/voice/", {"export": "csv"})
    assert export.status_code == 200
    assert "A loud flyer" in b"".join(export.streaming_content).decode()


def test_brand_terms_are_edited_in_site_settings(editor, home):
    from wagtail.models import Site

    from stories.models import VoiceSettings

    site = Site.objects.get(is_default_site=True)
    url = f"/admin/settings/stories/voicesettings/{site.pk}/"
    assert editor.get(url).status_code == 200
    response = editor.post(
        url, {"flag_phrases": "Gold Plan\nMega Saver", "allow_phrases": "", "threshold": "0.4"}
    )
    assert response.status_code == 302
    assert VoiceSettings.for_site(site).options()["flag"] == ["Gold Plan", "Mega Saver"]
    bad = editor.post(url, {"flag_phrases": "", "allow_phrases": "", "threshold": "7"})
    assert bad.status_code == 200
    assert VoiceSettings.for_site(site).threshold == 0.4
