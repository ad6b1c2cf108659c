"""Composing with pictures (issue 21, points 1, 2 and 4): the story's pictures offered with
the network's crop as a preview, the audience's picture first, alt text pre-filled and
required where the network needs it, every problem refused at compose time with the
network and its limit named, and nothing stored when anything is refused.

What the network then receives is the engine's (tests/syndication/test_pictures.py and
the publishing tests); the whole flow in a browser is tests/browser/test_compose_pictures.py.
"""

import pytest
from bs4 import BeautifulSoup

from stories.demo import insurer
from stories.models import AudienceInterest
from syndication import posts
from syndication.models import PostPicture, SyndicationPost
from syndication.story_pictures import Chosen
from tests.factories import (
    AudienceInterestFactory,
    BlueskyAccountFactory,
    ChannelAccountFactory,
    ImageFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "The boiler that sang through the night, and the plumber who listened. {story_url}"


@pytest.fixture
def mastodon(db):
    return ChannelAccountFactory(remote_id="1", tokens={"access_token": "not-shown"})


@pytest.fixture
def bluesky(db):
    return BlueskyAccountFactory(remote_id="did:plc:storyloom")


@pytest.fixture
def linkedin(db):
    return ChannelAccountFactory(
        network="linkedin", instance_url="", remote_id="urn:li:organization:1", handle="Storyloom"
    )


@pytest.fixture
def hero():
    return ImageFactory(title="hero.jpg", description="A boiler with its front panel off.")


@pytest.fixture
def inside():
    # No description: the alt text starts from the block's own words.
    return ImageFactory(title="IMG_2231.jpg", description="")


@pytest.fixture
def story(make_story, hero, inside):
    return make_story(
        title="The boiler that sang",
        intro="A noisy boiler, a patient plumber.",
        hero_image=hero,
        body=[
            ("paragraph", "<p>It started in November.</p>"),
            (
                "image",
                {
                    "image": {
                        "image": inside,
                        "alt_text": "The plumber listening to the pipes with a glass.",
                        "decorative": False,
                    },
                    "caption": "",
                },
            ),
        ],
    )


def url(story):
    return f"/admin/syndication/compose/{story.pk}/"


def data_for(accounts, story, *, pictures, alts=None, action="schedule", **extra):
    """The form as a browser sends it: ``pictures`` {account: [keys]}, ``alts``
    {(account, image id): text}; alt texts not given are sent as first shown."""
    data = {"action": action, "when": "", "related_1": "", "related_2": "", "override_reason": ""}
    for account in accounts:
        data[f"include_{account.pk}"] = "on"
        data[f"text_{account.pk}"] = TEXT
        data[f"interest_{account.pk}"] = account.audience_interest_id or ""
        data[f"pictures_{account.pk}"] = pictures.get(account, [])
        data[f"library_{account.pk}"] = ""
        data[f"library_alt_{account.pk}"] = ""
    data.update(extra)
    return data


def shown_alts(client, story, account) -> dict:
    form = client.get(url(story)).context["form"]
    return {
        int(name.rsplit("_", 1)[1]): form[name].value()
        for name in form.fields
        if name.startswith(f"alt_{account.pk}_")
    }


def with_alts(data, client, story, accounts, alts=None):
    for account in accounts:
        for image_id, text in shown_alts(client, story, account).items():
            data[f"alt_{account.pk}_{image_id}"] = text
    for (account, image_id), text in (alts or {}).items():
        data[f"alt_{account.pk}_{image_id}"] = text
    return data


def nothing_stored():
    return not SyndicationPost.objects.exists() and not PostPicture.objects.exists()


def errors_of(response, name) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


# --- The form as it opens ----------------------------------------------------------------
def test_the_hero_is_offered_first_and_ticked_with_the_networks_crop(
    client, social_manager, story, mastodon, linkedin, hero, inside
):
    client.force_login(social_manager)
    response = client.get(url(story))
    form = response.context["form"]
    assert form[f"pictures_{mastodon.pk}"].value() == [f"hero:{hero.pk}"]
    # Alt text: the image's description, else the story's own alt text for it.
    assert form[f"alt_{mastodon.pk}_{hero.pk}"].value() == "A boiler with its front panel off."
    assert (
        form[f"alt_{mastodon.pk}_{inside.pk}"].value()
        == "The plumber listening to the pipes with a glass."
    )

    page = BeautifulSoup(response.content, "html.parser")
    block = page.select_one(f'[data-compose-account="{mastodon.pk}"]')
    boxes = block.select(f'input[name="pictures_{mastodon.pk}"]')
    assert [(b["value"], b.has_attr("checked")) for b in boxes] == [
        (f"hero:{hero.pk}", True),
        (f"body:{inside.pk}", False),
    ]
    assert block.select_one("[data-compose-position]").get_text() == "Picture 1"
    assert "takes up to 4 pictures" in block.get_text() and "16:9" in block.get_text()
    # Previews are our own renditions, cropped as each network shows a picture.
    mastodon_previews = [img["src"] for img in block.select("img[data-compose-preview]")]
    assert all("/media/images/" in src and ".fill-640x360" in src for src in mastodon_previews)
    assert len(mastodon_previews) == 2
    linkedin_block = page.select_one(f'[data-compose-account="{linkedin.pk}"]')
    assert ".fill-600x314" in linkedin_block.select_one("img[data-compose-preview]")["src"]
    assert "takes up to 1 picture," in linkedin_block.get_text()
    assert hero.renditions.filter(filter_spec="fill-640x360").exists()
    # The library chooser is there, with its own alt text.
    assert block.select_one(f'input[name="library_{mastodon.pk}"]') is not None
    assert block.select_one(f'textarea[name="library_alt_{mastodon.pk}"]') is not None


def test_a_story_without_pictures_offers_only_the_library(
    client, social_manager, make_story, mastodon
):
    story = make_story(hero_image=None)
    client.force_login(social_manager)
    form = client.get(url(story)).context["form"]
    assert form.offered == []
    assert form[f"pictures_{mastodon.pk}"].value() == []


# --- Saving --------------------------------------------------------------------------------
def test_two_pictures_with_an_edited_alt_text_are_saved_with_the_post_in_order(
    client, social_manager, story, mastodon, hero, inside
):
    client.force_login(social_manager)
    data = data_for(
        [mastodon], story, pictures={mastodon: [f"body:{inside.pk}", f"hero:{hero.pk}"]}
    )
    data = with_alts(data, client, story, [mastodon], {(mastodon, hero.pk): "The boiler, opened."})
    response = client.post(url(story), data)
    assert response.status_code == 302, response.context["form"].errors
    post = SyndicationPost.objects.get()
    saved = list(post.pictures.values_list("position", "image", "source", "alt_text", "role"))
    # In the order the story shows them, whatever order the browser sent them in.
    assert saved == [
        (0, hero.pk, "hero", "The boiler, opened.", "attachment"),
        (1, inside.pk, "body", "The plumber listening to the pipes with a glass.", "attachment"),
    ]
    assert "with 2 pictures" in post.attempts.get().message


def test_a_library_picture_goes_after_the_storys_own(client, social_manager, story, mastodon, hero):
    library = ImageFactory(title="Kettle", description="")
    client.force_login(social_manager)
    data = data_for([mastodon], story, pictures={mastodon: [f"hero:{hero.pk}"]})
    data = with_alts(data, client, story, [mastodon])
    data[f"library_{mastodon.pk}"] = library.pk
    data[f"library_alt_{mastodon.pk}"] = "A kettle on the hob."
    assert client.post(url(story), data).status_code == 302
    rows = list(PostPicture.objects.values_list("position", "image", "source", "alt_text"))
    assert rows == [
        (0, hero.pk, "hero", "A boiler with its front panel off."),
        (1, library.pk, "library", "A kettle on the hob."),
    ]


def test_no_pictures_is_a_post_without_pictures(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    data = with_alts(data_for([mastodon], story, pictures={}), client, story, [mastodon])
    assert client.post(url(story), data).status_code == 302
    assert SyndicationPost.objects.get().pictures.count() == 0


# --- Refused at compose time, nothing stored ------------------------------------------------
def test_alt_text_is_required_for_mastodon_and_bluesky_not_for_x(
    client, social_manager, story, mastodon, bluesky, hero
):
    x = ChannelAccountFactory(network="x", instance_url="", remote_id="42", handle="@storyloom")
    client.force_login(social_manager)
    chosen = {account: [f"hero:{hero.pk}"] for account in (mastodon, bluesky, x)}
    data = data_for([mastodon, bluesky, x], story, pictures=chosen)
    data = with_alts(data, client, story, [mastodon, bluesky, x])
    for account in (mastodon, bluesky, x):
        data[f"alt_{account.pk}_{hero.pk}"] = "   "
    response = client.post(url(story), data)
    assert response.status_code == 200
    [mastodon_error] = errors_of(response, f"pictures_{mastodon.pk}")
    assert (
        "Picture 1 has no alt text" in mastodon_error
        and "Mastodon on social.example" in mastodon_error
    )
    [bluesky_error] = errors_of(response, f"pictures_{bluesky.pk}")
    assert "Bluesky" in bluesky_error
    assert errors_of(response, f"pictures_{x.pk}") == []
    assert nothing_stored()
    # The message stands next to the account's pictures.
    page = BeautifulSoup(response.content, "html.parser")
    block = page.select_one(f'[data-compose-account="{mastodon.pk}"] [data-compose-picture-errors]')
    assert "has no alt text" in block.get_text()


def test_more_pictures_than_the_network_takes_names_the_network_and_its_limit(
    client, social_manager, story, linkedin, hero, inside
):
    client.force_login(social_manager)
    data = data_for(
        [linkedin], story, pictures={linkedin: [f"hero:{hero.pk}", f"body:{inside.pk}"]}
    )
    response = client.post(url(story), with_alts(data, client, story, [linkedin]))
    assert errors_of(response, f"pictures_{linkedin.pk}") == [
        "LinkedIn takes at most 1 picture per post; this one has 2."
    ]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("deleted", "not in the image library (it may have been deleted)"),
        ("not-a-number", "not in the image library"),
        ("99999999999999999999", "not in the image library"),
    ],
)
def test_a_library_picture_that_is_not_there_is_a_form_error(
    client, social_manager, story, mastodon, hero, value, message
):
    if value == "deleted":
        gone = ImageFactory()
        value = gone.pk
        gone.delete()
    client.force_login(social_manager)
    data = with_alts(data_for([mastodon], story, pictures={}), client, story, [mastodon])
    data[f"library_{mastodon.pk}"] = value
    data[f"library_alt_{mastodon.pk}"] = "Something"
    response = client.post(url(story), data)
    assert response.status_code == 200
    [error] = errors_of(response, f"library_{mastodon.pk}")
    assert message in error
    assert nothing_stored()


def test_a_page_id_is_not_a_picture(client, social_manager, story, mastodon):
    client.force_login(social_manager)
    data = with_alts(data_for([mastodon], story, pictures={}), client, story, [mastodon])
    # An id that exists, but as a page, not an image (the image ids here are lower).
    data[f"library_{mastodon.pk}"] = story.pk + 10_000
    response = client.post(url(story), data)
    assert "not in the image library" in errors_of(response, f"library_{mastodon.pk}")[0]
    assert nothing_stored()


def test_a_picture_that_is_no_longer_in_the_story_is_a_form_error(
    client, social_manager, story, mastodon, inside
):
    client.force_login(social_manager)
    stranger = ImageFactory()
    for key in (f"body:{stranger.pk}", f"hero:{inside.pk}", "hero:", "<script>"):
        data = with_alts(
            data_for([mastodon], story, pictures={mastodon: [key]}), client, story, [mastodon]
        )
        response = client.post(url(story), data)
        [error] = errors_of(response, f"pictures_{mastodon.pk}")
        assert "no longer in the story" in error
    assert nothing_stored()


def test_a_picture_deleted_after_the_form_opened_is_a_form_error(
    client, social_manager, story, mastodon, inside
):
    client.force_login(social_manager)
    data = data_for([mastodon], story, pictures={mastodon: [f"body:{inside.pk}"]})
    data = with_alts(data, client, story, [mastodon])
    inside.delete()
    response = client.post(url(story), data)
    assert "no longer in the story" in errors_of(response, f"pictures_{mastodon.pk}")[0]
    assert nothing_stored()


def test_ten_thousand_characters_of_alt_text_are_refused_with_the_networks_limit(
    client, social_manager, story, mastodon, bluesky, hero
):
    client.force_login(social_manager)
    chosen = {account: [f"hero:{hero.pk}"] for account in (mastodon, bluesky)}
    data = with_alts(
        data_for([mastodon, bluesky], story, pictures=chosen), client, story, [mastodon, bluesky]
    )
    for account in (mastodon, bluesky):
        data[f"alt_{account.pk}_{hero.pk}"] = "a" * 10_000
    response = client.post(url(story), data)
    assert errors_of(response, f"pictures_{mastodon.pk}") == [
        "Picture 1's alt text is 10,000 characters; Mastodon on social.example keeps 1,500."
    ]
    assert errors_of(response, f"pictures_{bluesky.pk}") == [
        "Picture 1's alt text is 10,000 characters; Bluesky keeps 2,000."
    ]
    assert nothing_stored()


def test_a_nul_in_alt_text_is_a_form_error(client, social_manager, story, mastodon, hero):
    client.force_login(social_manager)
    data = data_for([mastodon], story, pictures={mastodon: [f"hero:{hero.pk}"]})
    data = with_alts(data, client, story, [mastodon], {(mastodon, hero.pk): "A boiler\x00"})
    response = client.post(url(story), data)
    assert errors_of(response, f"alt_{mastodon.pk}_{hero.pk}") == [
        "Null characters are not allowed."
    ]
    # Not also "no alt text": the words are there.
    assert errors_of(response, f"pictures_{mastodon.pk}") == []
    assert nothing_stored()


def test_the_same_picture_twice_is_refused(client, social_manager, story, mastodon, hero):
    client.force_login(social_manager)
    data = data_for([mastodon], story, pictures={mastodon: [f"hero:{hero.pk}"]})
    data = with_alts(data, client, story, [mastodon])
    data[f"library_{mastodon.pk}"] = hero.pk
    data[f"library_alt_{mastodon.pk}"] = "Again"
    response = client.post(url(story), data)
    assert "already ticked above" in errors_of(response, f"library_{mastodon.pk}")[0]
    assert nothing_stored()


def test_one_accounts_refused_pictures_save_no_post_for_any_account(
    client, social_manager, story, mastodon, linkedin, hero, inside
):
    client.force_login(social_manager)
    both = [f"hero:{hero.pk}", f"body:{inside.pk}"]
    data = data_for([mastodon, linkedin], story, pictures={mastodon: both, linkedin: both})
    response = client.post(url(story), with_alts(data, client, story, [mastodon, linkedin]))
    assert response.status_code == 200
    assert errors_of(response, f"pictures_{mastodon.pk}") == []
    assert errors_of(response, f"pictures_{linkedin.pk}")
    assert nothing_stored()


def test_create_post_checks_pictures_too(social_manager, story, mastodon, hero):
    """Whoever calls it, the network's checks run before anything is written."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        posts.create_post(
            story=story,
            account=mastodon,
            text=TEXT,
            user=social_manager,
            pictures=[Chosen(hero, "hero", "")],
        )
    assert "has no alt text" in raised.value.messages[0]
    assert nothing_stored()


def test_a_picture_deleted_while_composing_is_a_clear_refusal(social_manager, story, mastodon):
    """The form checked it; then someone deleted it from the library before the save."""
    from django.core.exceptions import ValidationError

    doomed = ImageFactory(title="Gone soon")
    chosen = Chosen(doomed, "library", "A kettle on the hob.")
    type(doomed).objects.filter(pk=doomed.pk).delete()
    with pytest.raises(ValidationError) as raised:
        posts.create_post(
            story=story, account=mastodon, text=TEXT, user=social_manager, pictures=[chosen]
        )
    assert "deleted from the image library" in raised.value.messages[0]
    assert nothing_stored()


# --- Audience pictures ------------------------------------------------------------------------
@pytest.fixture
def thunder(story_index):
    """Seed 003's insurer story from the demo: a picture per animal."""
    return insurer.ensure_story(story_index, AudienceInterestFactory(name="Pets", slug="pets"))


def animal_image(story, slug):
    [block] = [child.value for child in story.body if child.block_type == "audience"]
    for variant in block["variants"]:
        if variant["interest"].slug == slug:
            return variant["content"]["image"]
    raise AssertionError(slug)


def test_an_account_for_cat_owners_starts_with_the_cat(client, social_manager, thunder, bluesky):
    """The demo has no channel accounts: the demo's cat-owners account is made here."""
    cats = AudienceInterest.objects.get(slug="cat-owners")
    cat_account = ChannelAccountFactory(remote_id="cats", handle="@cats", audience_interest=cats)
    client.force_login(social_manager)
    form = client.get(url(thunder)).context["form"]
    cat = animal_image(thunder, "cat-owners")
    assert form[f"interest_{cat_account.pk}"].value() == cats.pk
    assert form[f"pictures_{cat_account.pk}"].value() == [f"audience:{cat.pk}"]
    assert form[f"alt_{cat_account.pk}_{cat.pk}"].value().endswith("labelled cat.")
    # An account without an audience starts with the hero (the three together).
    assert form[f"pictures_{bluesky.pk}"].value() == [f"hero:{thunder.hero_image_id}"]

    data = data_for([cat_account], thunder, pictures={cat_account: [f"audience:{cat.pk}"]})
    data = with_alts(data, client, thunder, [cat_account])
    assert client.post(url(thunder), data).status_code == 302
    post = SyndicationPost.objects.get()
    assert post.audience_interest == cats
    [picture] = post.pictures.all()
    assert (picture.image_id, picture.source) == (cat.pk, "audience")
    assert picture.alt_text.endswith("labelled cat.")


def test_another_audience_can_be_chosen_for_the_post(client, social_manager, thunder, mastodon):
    dogs = AudienceInterest.objects.get(slug="dog-owners")
    dog = animal_image(thunder, "dog-owners")
    client.force_login(social_manager)
    data = data_for([mastodon], thunder, pictures={mastodon: [f"audience:{dog.pk}"]})
    data = with_alts(data, client, thunder, [mastodon])
    data[f"interest_{mastodon.pk}"] = dogs.pk
    assert client.post(url(thunder), data).status_code == 302
    post = SyndicationPost.objects.get()
    assert post.audience_interest == dogs
    assert list(post.pictures.values_list("image", "source")) == [(dog.pk, "audience")]


def test_an_interest_that_is_gone_is_a_form_error(client, social_manager, thunder, mastodon):
    client.force_login(social_manager)
    data = with_alts(data_for([mastodon], thunder, pictures={}), client, thunder, [mastodon])
    data[f"interest_{mastodon.pk}"] = "987654"
    response = client.post(url(thunder), data)
    assert "no longer exists" in errors_of(response, f"interest_{mastodon.pk}")[0]
    assert nothing_stored()


# --- The library picture's preview, and the post in the queue ---------------------------------
def test_the_preview_endpoint_crops_for_the_network_and_starts_the_alt_text(
    client, social_manager, editor, mastodon, linkedin, django_user_model
):
    image = ImageFactory(title="Kettle", description="A kettle on the hob.")
    client.force_login(social_manager)
    answer = client.get(
        "/admin/syndication/picture-preview/", {"account": linkedin.pk, "image": image.pk}
    ).json()
    assert answer["alt"] == "A kettle on the hob." and answer["title"] == "Kettle"
    assert ".fill-600x314" in answer["preview"]["url"]
    assert (answer["preview"]["width"], answer["preview"]["height"]) == (600, 314)
    titled = ImageFactory(title="Teapot", description="")
    answer = client.get(
        "/admin/syndication/picture-preview/", {"account": mastodon.pk, "image": titled.pk}
    ).json()
    assert answer["alt"] == "Teapot" and ".fill-640x360" in answer["preview"]["url"]

    for params, status in [
        ({"account": mastodon.pk, "image": 987654}, 404),
        ({"account": mastodon.pk, "image": "x"}, 400),
        ({"account": mastodon.pk}, 400),
        ({"account": "\x00", "image": image.pk}, 400),
    ]:
        assert client.get("/admin/syndication/picture-preview/", params).status_code == status
    nobody = django_user_model.objects.create_user("nobody", password="pw", is_staff=True)
    client.force_login(nobody)
    response = client.get(
        "/admin/syndication/picture-preview/", {"account": mastodon.pk, "image": image.pk}
    )
    assert response.status_code in (302, 403)


def test_the_post_shows_its_pictures_with_their_alt_text(
    client, social_manager, story, mastodon, hero, inside
):
    client.force_login(social_manager)
    data = data_for(
        [mastodon], story, pictures={mastodon: [f"hero:{hero.pk}", f"body:{inside.pk}"]}
    )
    data = with_alts(data, client, story, [mastodon], {(mastodon, hero.pk): "Edited <b>alt</b>"})
    assert client.post(url(story), data).status_code == 302
    post = SyndicationPost.objects.get()
    inside.delete()  # after scheduling: the post shows the gap
    html = client.get(f"/admin/syndication/posts/inspect/{post.pk}/").content.decode()
    page = BeautifulSoup(html, "html.parser")
    rows = page.select("[data-post-picture]")
    assert len(rows) == 2
    assert "Edited <b>alt</b>" in rows[0].get_text()  # escaped, shown as written
    assert (
        rows[0].select_one("img")["src"].endswith(".png")
        or "/media/images/" in rows[0].select_one("img")["src"]
    )
    assert "deleted from the image library" in rows[1].get_text()


@pytest.mark.parametrize("value", ["abc", "1\x00", "99999999999999999999"])
def test_a_chooser_sent_something_that_is_not_an_id_is_a_form_error(
    client, social_manager, story, mastodon, value
):
    """The related story's and the library picture's choosers render such a value as no
    choice when the form comes back (Wagtail's widgets look it up and failed with a 500)."""
    client.force_login(social_manager)
    data = with_alts(data_for([mastodon], story, pictures={}), client, story, [mastodon])
    data["related_1"] = value
    data[f"library_{mastodon.pk}"] = value
    response = client.post(url(story), data)
    assert response.status_code == 200
    assert errors_of(response, "related_1") and errors_of(response, f"library_{mastodon.pk}")
    assert nothing_stored()


def test_social_managers_choose_pictures_from_the_library_and_change_none(
    client, django_user_model
):
    """Migration 0014: the image chooser opens for them; editing an image does not."""
    from django.urls import reverse

    from wagtail.models import Collection

    from tests.syndication.conftest import make_user

    # In the site's own root collection (the factory makes a collection of its own).
    image = ImageFactory(title="Kettle on the hob", collection=Collection.get_first_root_node())
    manager = make_user(django_user_model, "sally", "Social managers")
    client.force_login(manager)
    response = client.get(reverse("wagtailimages_chooser:choose"))
    assert response.status_code == 200
    assert "Kettle on the hob" in response.json()["html"]
    edit = client.get(reverse("wagtailimages:edit", args=[image.pk]))
    assert edit.status_code in (302, 403) and edit.get("Location", "/admin/") == "/admin/"


# --- Pictures a network cannot take as they are ------------------------------------------------
def image_file(name, frames, fmt, **save):
    import io

    from django.core.files.images import ImageFile

    output = io.BytesIO()
    frames[0].save(output, fmt, **save)
    return ImageFactory(title=name, file=ImageFile(io.BytesIO(output.getvalue()), name=name))


def test_what_a_network_does_to_a_picture_is_said_before_it_is_ticked(
    client, social_manager, make_story, mastodon, hero
):
    from PIL import Image as PILImage

    banner = image_file("banner.png", [PILImage.new("RGB", (10_000, 10), "red")], "PNG")
    frames = [PILImage.new("RGB", (400, 300), colour) for colour in ("red", "blue")]
    gif = image_file("wave.gif", frames, "GIF", save_all=True, append_images=frames[1:])
    cmyk = image_file("print.tif", [PILImage.new("CMYK", (800, 600), (0, 50, 50, 0))], "TIFF")
    story = make_story(
        hero_image=hero,
        body=[
            (
                "image",
                {"image": {"image": image, "alt_text": "x", "decorative": False}, "caption": ""},
            )
            for image in (banner, gif, cmyk)
        ],
    )
    client.force_login(social_manager)
    response = client.get(url(story))
    page = BeautifulSoup(response.content, "html.parser")
    remarks = {
        item.select_one("input")["value"]: [
            li.get_text() for li in item.select("[data-compose-remarks] li")
        ]
        for item in page.select(f'[data-compose-account="{mastodon.pk}"] [data-compose-picture]')
    }
    assert remarks[f"hero:{hero.pk}"] == []
    assert remarks[f"body:{cmyk.pk}"] == []  # converted on the way, nothing to say
    [said] = remarks[f"body:{banner.pk}"]
    assert "Mastodon on social.example cannot show a picture 10,000 × 10 pixels" in said
    assert remarks[f"body:{gif.pk}"] == [
        "Animated: Mastodon on social.example gets its first frame."
    ]

    # Ticked anyway: the banner is refused, naming the network; nothing is stored.
    chosen = [f"hero:{hero.pk}", f"body:{banner.pk}", f"body:{gif.pk}", f"body:{cmyk.pk}"]
    data = with_alts(
        data_for([mastodon], story, pictures={mastodon: chosen}), client, story, [mastodon]
    )
    response = client.post(url(story), data)
    [error] = errors_of(response, f"pictures_{mastodon.pk}")
    assert error.startswith("Picture 2: Mastodon on social.example cannot show a picture 10,000")
    assert nothing_stored()
    # Without it, the animation and the CMYK TIFF go (fitted when published).
    chosen.remove(f"body:{banner.pk}")
    data[f"pictures_{mastodon.pk}"] = chosen
    assert client.post(url(story), data).status_code == 302
    assert PostPicture.objects.count() == 3


def test_the_library_preview_says_what_happens_to_an_animation(client, social_manager, mastodon):
    from PIL import Image as PILImage

    frames = [PILImage.new("RGB", (400, 300), colour) for colour in ("red", "blue")]
    gif = image_file("wave.gif", frames, "GIF", save_all=True, append_images=frames[1:])
    client.force_login(social_manager)
    answer = client.get(
        "/admin/syndication/picture-preview/", {"account": mastodon.pk, "image": gif.pk}
    ).json()
    assert answer["error"] == "Animated: Mastodon on social.example gets its first frame."
    assert answer["preview"]["url"]
