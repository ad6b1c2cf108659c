"""A social manager, in a real Chromium, composes a post with pictures (issue 21): the
story's audience picture replaces the hero when the audience changes, two pictures are
picked, one alt text is edited, the previews show the network's crop; scheduled, a real
worker publishes it, and the Mastodon test server holds two attachments with those
descriptions, in that order.

The Mastodon test server runs in this process; the worker and beat are child processes
on the server-less broker, as in test_syndication_flow.py.
"""

import io

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.images import ImageFile

from wagtail.models import Collection

import pytest
from PIL import Image as PILImage

from syndication import states
from syndication.models import PostPicture, SyndicationPost
from syndication.testing.mastodon_server import MastodonTestServer
from tests.browser.conftest import sign_in, worker_and_beat
from tests.factories import AudienceInterestFactory, ChannelAccountFactory, ImageFactory
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a-long-password"
HERO_ALT = "A boiler with its front panel off, pipes showing."
EDITED_ALT = "Our plumber, ear to the pipe, listening for the whistle."


def picture(title, colour, description=""):
    output = io.BytesIO()
    PILImage.new("RGB", (1600, 1000), colour).save(output, "JPEG", quality=85)
    return ImageFactory(
        title=title,
        description=description,
        file=ImageFile(io.BytesIO(output.getvalue()), name=f"{title}.jpg"),
        # The site's own collection, where the image chooser looks (the factory would
        # make a collection of its own).
        collection=Collection.get_first_root_node(),
    )


def test_pick_two_pictures_edit_an_alt_text_schedule_and_publish(
    live_server, browser_page, make_story, django_user_model, tmp_path
):
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    pets = AudienceInterestFactory(name="Pets")
    hero = picture("boiler", (180, 60, 40), description=HERO_ALT)
    plumber = picture("plumber", (40, 90, 160))
    cat = picture("cat", (230, 150, 60), description="A ginger cat asleep on the boiler.")
    story = make_story(
        title="The boiler that sang",
        intro="A noisy boiler, a patient plumber.",
        hero_image=hero,
        body=[
            ("paragraph", "<p>It started in November.</p>"),
            (
                "image",
                {
                    "image": {"image": plumber, "alt_text": "The plumber.", "decorative": False},
                    "caption": "",
                },
            ),
            (
                "audience",
                {
                    "default": {"image": None, "caption": "", "text": "<p>Everyone.</p>"},
                    "variants": [
                        {
                            "interest": pets,
                            "content": {
                                "image": {"image": cat, "alt_text": "", "decorative": False},
                                "caption": "",
                                "text": "",
                            },
                        }
                    ],
                },
            ),
        ],
    )
    page = browser_page
    with MastodonTestServer(usernames=("brand",)) as server:
        remote_id, token = server.create_account("storyloom")
        account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@storyloom",
            tokens={"access_token": token},
        )
        sign_in(page, live_server.url, "sam", PASSWORD)

        page.goto(f"{live_server.url}/admin/syndication/compose/{story.pk}/")
        block = page.locator(f'[data-compose-account="{account.pk}"]')
        box = {
            image: block.locator(f'input[name="pictures_{account.pk}"][value="{key}:{image.pk}"]')
            for image, key in ((hero, "hero"), (plumber, "body"), (cat, "audience"))
        }
        count = block.locator("[data-compose-picture-count]")
        # No audience: the hero is ticked.
        assert box[hero].is_checked() and not box[plumber].is_checked()
        assert count.text_content() == "1 of at most 4 pictures"
        # Speaking to Pets: the story's picture for them replaces the hero; and back.
        interest = block.locator(f'select[name="interest_{account.pk}"]')
        interest.select_option(label="Pets")
        assert box[cat].is_checked() and not box[hero].is_checked()
        interest.select_option(label="No particular audience")
        assert box[hero].is_checked() and not box[cat].is_checked()

        # Two pictures, numbered in the order they go out.
        box[plumber].check()
        assert count.text_content() == "2 of at most 4 pictures"
        positions = block.locator("[data-compose-position]")
        assert positions.nth(0).text_content() == "Picture 1"
        assert positions.nth(1).text_content() == "Picture 2"
        alt = block.locator(f'textarea[name="alt_{account.pk}_{plumber.pk}"]')
        assert alt.input_value() == "The plumber."
        alt.fill(EDITED_ALT)
        assert block.locator(f'textarea[name="alt_{account.pk}_{hero.pk}"]').input_value() == (
            HERO_ALT
        )

        # The previews: our own renditions, cropped 16:9 as Mastodon shows them, loaded.
        previews = block.locator("img[data-compose-preview]")
        assert previews.count() == 3
        for index in range(3):
            preview = previews.nth(index)
            assert ".fill-640x360" in preview.get_attribute("src")
            page.wait_for_function(
                "img => img.complete && img.naturalWidth === 640 && img.naturalHeight === 360",
                arg=preview.element_handle(),
            )

        page.get_by_role("button", name="Schedule").click()
        page.wait_for_url("**/admin/syndication/posts/**")
        post = SyndicationPost.objects.get()
        assert post.state == states.SCHEDULED
        saved = list(post.pictures.values_list("position", "image", "alt_text"))
        assert saved == [(0, hero.pk, HERO_ALT), (1, plumber.pk, EDITED_ALT)]

        # Publish: a real beat and worker on the server-less broker.
        with worker_and_beat(tmp_path, media_root=settings.MEDIA_ROOT) as worker_log:
            wait_for(
                lambda: SyndicationPost.objects.get(pk=post.pk).state == states.PUBLISHED,
                90,
                "the worker to publish the post",
                worker_log,
            )
        post.refresh_from_db()
        [status] = server.statuses
        assert status["id"] == post.remote_id
        attachments = status["media_attachments"]
        assert [a["description"] for a in attachments] == [HERO_ALT, EDITED_ALT]
        assert len(server.media) == 2  # uploaded once each
        recorded = PostPicture.objects.filter(post=post).order_by("position")
        assert [p.remote_media_id for p in recorded] == [a["id"] for a in attachments]

        # The post's page shows both pictures with their alt text.
        page.goto(f"{live_server.url}/admin/syndication/posts/inspect/{post.pk}/")
        rows = page.locator("[data-post-picture]")
        assert rows.count() == 2
        assert HERO_ALT in rows.nth(0).text_content()
        assert EDITED_ALT in rows.nth(1).text_content()


def test_a_picture_from_the_library_is_previewed_and_its_alt_text_filled_in(
    live_server, browser_page, make_story, django_user_model
):
    """Wagtail's image chooser, then our preview: the network's crop and the picture's
    description as alt text, kept when someone already wrote their own."""
    manager = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD)
    manager.groups.add(Group.objects.get(name="Social managers"))
    story = make_story(title="The boiler that sang", hero_image=None)
    kettle = picture("kettle", (90, 160, 90), description="A kettle steaming on the hob.")
    account = ChannelAccountFactory(network="linkedin", instance_url="", handle="Storyloom")
    page = browser_page
    sign_in(page, live_server.url, "sam", PASSWORD)

    page.goto(f"{live_server.url}/admin/syndication/compose/{story.pk}/")
    block = page.locator(f'[data-compose-account="{account.pk}"]')
    count = block.locator("[data-compose-picture-count]")
    assert count.text_content() == "0 of at most 1 picture"
    block.get_by_role("button", name="Choose an image").click()
    page.locator(f'a[data-chooser-modal-choice][title*="{kettle.title}"]').click()
    preview = block.locator("img[data-compose-library-preview]")
    page.wait_for_function(
        "img => !img.hidden && img.complete && img.naturalWidth === 600",
        arg=preview.element_handle(),
    )
    assert ".fill-600x314" in preview.get_attribute("src")  # LinkedIn's 1.91:1
    alt = block.locator(f'textarea[name="library_alt_{account.pk}"]')
    assert alt.input_value() == "A kettle steaming on the hob."
    assert count.text_content() == "1 of at most 1 picture"

    alt.fill("Our kettle, which also sings.")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/admin/syndication/posts/**")
    [saved] = PostPicture.objects.filter(post__account=account)
    assert (saved.image_id, saved.source, saved.alt_text) == (
        kettle.pk,
        "library",
        "Our kettle, which also sings.",
    )
