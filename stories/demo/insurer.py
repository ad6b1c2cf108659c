"""Seed 003's pet insurer: one story that shows each reader their own animal.

Interests for cat, dog and budgie owners, and a story whose audience-variants block has
a drawn picture (with alt text) for each; everyone else sees the three together, which
is also the story's hero. A post to an account whose audience is cat owners goes out
with the cat (``syndication.story_pictures``). Kept apart from ``content.py``, whose
stories are text and whose checks count its own interests.
"""

import datetime
import io

from django.core.files.images import ImageFile
from django.utils import timezone

from wagtail.images import get_image_model
from wagtail.images.rect import Rect

from stories.models import AudienceInterest, StoryPage

from .images import animal_png

SLUG = "when-the-thunder-comes"

INTERESTS = [
    {
        "slug": "cat-owners",
        "name": "Cat owners",
        "description": "For people who share a home with a cat, and know who is really in charge.",
    },
    {
        "slug": "dog-owners",
        "name": "Dog owners",
        "description": "For people whose day is shaped by walks, and by someone waiting at the door.",
    },
    {
        "slug": "budgie-owners",
        "name": "Budgie owners",
        "description": "For people who keep budgies and other small birds, and their chatter.",
    },
]

#: (interest slug or "" for everyone else, drawing, alt text, caption, text)
VERSIONS = [
    (
        "",
        "all",
        "Drawings of a ginger cat, a brown dog with floppy ears and a green budgie on a "
        "perch, side by side, labelled cat, dog and budgie.",
        "Three ways to ride out a storm.",
        "<p>Every animal meets thunder its own way. Some hide, some follow you from room "
        "to room, some go very quiet. The kindest thing is usually the same: stay calm, "
        "stay near, and let them choose where they feel safe.</p>",
    ),
    (
        "cat-owners",
        "cat",
        "A drawing of a ginger cat sitting with its tail curled round, labelled cat.",
        "Cats go up, or under.",
        "<p>Cats go up or under: the top of the wardrobe, the back of the bed. Leave the "
        "hiding place alone, put water and a litter tray nearby, and close the cat flap "
        "before the storm arrives so nobody is caught outside.</p>",
    ),
    (
        "dog-owners",
        "dog",
        "A drawing of a brown dog with floppy dark ears and a smile, labelled dog.",
        "Dogs want you near.",
        "<p>Dogs want company. Walk them early, before the sky darkens, draw the curtains, "
        "put the radio on and sit with them. A den under the table with a blanket over it "
        "helps more than a cuddle they did not ask for.</p>",
    ),
    (
        "budgie-owners",
        "budgie",
        "A drawing of a green budgie with a yellow head sitting on a wooden perch, "
        "labelled budgie.",
        "Budgies go quiet.",
        "<p>Budgies go quiet when they are frightened. Cover half the cage with a light "
        "cloth, move it away from the window, and keep the room lit: a bird startled in "
        "the dark can hurt itself against the bars.</p>",
    ),
]

STORY = {
    "title": "When the thunder comes",
    "intro": "A cat under the bed, a dog at your heels, a budgie gone quiet: how each rides "
    "out a storm, and how to help.",
    "purpose": "ease",
    "body_before": [
        (
            "paragraph",
            "<p>The first big storm of the summer brings the same calls to our helpline "
            "every year, and most of them are not about roofs. They are about a cat that "
            "has not come out from under the bed since lunchtime, a dog shaking in the "
            "bath, a budgie that has stopped talking.</p>",
        ),
        ("heading", "Yours, in a storm"),
    ],
    "body_after": [
        ("heading", "Afterwards"),
        (
            "paragraph",
            "<p>Once it passes, let them come out in their own time. Check the garden for "
            "fallen branches before the dog goes out, and look over the cage and the cat "
            "flap. If a pet was hurt or ran off in the noise, the vet is the first call; "
            "the paperwork can wait until morning.</p>",
        ),
        (
            "quote",
            {
                "quote": "She spent the whole storm in the laundry basket and came out "
                "asking for dinner as if nothing had happened.",
                "attribution": "Priya, on her cat Mango",
            },
        ),
    ],
}


def ensure_interests() -> dict[str, AudienceInterest]:
    interests = {}
    for item in INTERESTS:
        interest, _ = AudienceInterest.objects.get_or_create(
            slug=item["slug"], defaults={"name": item["name"], "description": item["description"]}
        )
        interests[interest.slug] = interest
    return interests


def ensure_story(index, pets: AudienceInterest | None) -> StoryPage:
    """The insurer's story, created once and published with a revision."""
    existing = StoryPage.objects.child_of(index).filter(slug=SLUG).first()
    if existing is not None:
        return existing
    interests = ensure_interests()
    pictures = {drawing: _picture(drawing, alt) for _, drawing, alt, _, _ in VERSIONS}
    versions = []
    for slug, drawing, alt, caption, text in VERSIONS:
        content = {
            "image": {"image": pictures[drawing], "alt_text": alt, "decorative": False},
            "caption": caption,
            "text": text,
        }
        versions.append((interests.get(slug), content))
    default = versions[0][1]
    audience = {
        "default": default,
        "variants": [
            {"interest": interest, "content": content} for interest, content in versions[1:]
        ],
    }
    page = StoryPage(
        title=STORY["title"],
        slug=SLUG,
        intro=STORY["intro"],
        purpose=STORY["purpose"],
        hero_image=pictures["all"],
        body=[*STORY["body_before"], ("audience", audience), *STORY["body_after"]],
    )
    page.interests = [i for i in (pets, *interests.values()) if i is not None]
    index.add_child(instance=page)
    page.save_revision().publish()
    # The newest story of the demo, as seed 003 is the one people open first.
    StoryPage.objects.filter(pk=page.pk).update(
        first_published_at=timezone.now() - datetime.timedelta(hours=1)
    )
    return page


def _picture(drawing: str, alt: str):
    """A drawn picture in the image library, with its alt text as the description and a
    focal point on the animal(s), found by title when it is already there."""
    Image = get_image_model()
    title = f"When the thunder comes: {drawing if drawing != 'all' else 'cat, dog and budgie'}"
    existing = Image.objects.filter(title=title).first()
    if existing is not None:
        return existing
    png, (left, top, width, height) = animal_png(drawing)
    image = Image(title=title, description=alt)
    image.file = ImageFile(_named(png, f"thunder-{drawing}.png"), name=f"thunder-{drawing}.png")
    image.set_focal_point(Rect(left, top, left + width, top + height))
    image.save()
    return image


def _named(data: bytes, name: str):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer
