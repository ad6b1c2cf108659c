"""An editor in a real Chromium sees sales speak flagged while writing, and sees it clear."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SALESY = "Act now — only 3 left at this unbeatable price!"
REWRITE = (
    "The last batch came out of the kiln on Tuesday, and the price is the same as last spring."
)


def test_editor_sees_a_finding_and_its_suggestion_then_clears_it(
    live_server, browser_page, make_story, django_user_model
):
    django_user_model.objects.create_superuser("maya", "maya@example.org", "a-long-password")
    story = make_story(
        title="The market stall",
        intro="A Saturday at the fruit stall on Kirkgate.",
        body=[("paragraph", "<p>The stall opens at seven.</p>")],
    )
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", "a-long-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")

    page.goto(f"{live_server.url}/admin/pages/{story.pk}/edit/")
    panel = page.locator("[data-voice-check]")
    status = panel.locator("[data-voice-status]")
    status.filter(has_text="No sales speak found").wait_for()

    editor = page.locator(".public-DraftEditor-content").first
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" " + SALESY)

    finding = panel.locator(".voice-check__finding").filter(has_text="Act now").first
    finding.wait_for(timeout=20_000)
    assert finding.locator("mark").first.inner_text().strip() != ""
    assert "Try:" in finding.locator(".voice-check__suggestion").inner_text()
    assert "read as selling" in status.inner_text()

    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(REWRITE)
    status.filter(has_text="No sales speak found").wait_for(timeout=20_000)
    assert panel.locator(".voice-check__finding").count() == 0


PITCH = "Book your free consultation with our team today."


def test_the_panel_names_the_audience_variant_a_pitch_is_in(
    live_server, browser_page, make_story, django_user_model
):
    """The panel reads the real editor's form, nested audience variants included."""
    from tests.factories import AudienceInterestFactory

    django_user_model.objects.create_superuser("maya", "maya@example.org", "a-long-password")
    pets = AudienceInterestFactory(name="Pets")
    pitch = {"image": None, "caption": "", "text": f"<p>{PITCH}</p>"}
    default = {"image": None, "caption": "", "text": "<p>A budgie on the curtain rail.</p>"}
    story = make_story(
        title="The great escape",
        intro="An open cage door and a long afternoon.",
        interests=[pets],
        body=[
            ("paragraph", "<p>It began with an open cage door.</p>"),
            ("audience", {"default": default, "variants": [{"interest": pets, "content": pitch}]}),
        ],
    )
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", "a-long-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")

    page.goto(f"{live_server.url}/admin/pages/{story.pk}/edit/")
    panel = page.locator("[data-voice-check]")
    finding = panel.locator(".voice-check__finding").filter(has_text="Book").first
    finding.wait_for(timeout=20_000)
    where = finding.locator(".voice-check__where").text_content()
    assert where.startswith("Audience variant (Pets) · Paragraph 1")
    assert "Book" in finding.locator("mark").first.inner_text()
