"""Build the demo site: interests, series, users, stories with pictures and links, and
seed 003's pet insurer story (``insurer.py``: a picture per reader's animal).

Every step looks for what is already there first, so running it twice changes
nothing. ``extra`` stories (for benchmarks, up to tens of thousands) are written
in bulk, straight into the page tree, without revisions or search indexing.
"""

import datetime
import io
import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.images import ImageFile
from django.db import connection, transaction
from django.utils import timezone

from wagtail.images import get_image_model
from wagtail.models import Locale, Page

from stories.models import AudienceInterest, StoryIndexPage, StoryLink, StoryPage, StorySeries
from stories.page_cache import purge_all

from . import content, insurer
from . import marks as demo_records
from .images import hero_png

DEMO_PASSWORD = "changeme"  # noqa: S105 - documented demo logins, never used outside the demo
DEMO_USERS = [
    # username, superuser, groups
    ("admin", True, []),
    ("editor", False, ["Editors"]),
    ("socialmanager", False, ["Social managers"]),
]

Progress = Callable[[str], None]


def _noop(message: str) -> None:
    return None


def load(
    stories: int | None = None, progress: Progress = _noop, interests: int | None = None
) -> dict:
    index = StoryIndexPage.objects.first()
    if index is None:
        raise RuntimeError("No story index page: run `manage.py migrate` first.")
    wanted_interests = interests
    interests = ensure_interests()
    ensure_users()
    base = ensure_demo_stories(index, interests, progress)
    insurer.ensure_story(index, interests.get("pets"))
    target = max(stories or 0, len(base))
    extra = target - StoryPage.objects.child_of(index).count()
    generated = ensure_generated_interests(wanted_interests or 0)
    if extra > 0:
        add_bulk_stories(index, interests, base, extra, progress, generated)
        purge_all()  # bulk rows bypass publishing and its signals
    adopt(index)
    return {
        "interests": AudienceInterest.objects.count(),
        "stories": StoryPage.objects.live().count(),
        "links": StoryLink.objects.count(),
    }


def adopt(index) -> None:
    """Record what the demo made as demo data (``marks``), found by the names it gave
    it: this run's rows and those of a demo loaded before records were kept."""
    slugs = [story["slug"] for story in content.STORIES] + [insurer.SLUG]
    demo_records.mark("story", StoryPage.objects.child_of(index).filter(slug__in=slugs))
    slugs = [i["slug"] for i in content.INTERESTS + insurer.INTERESTS]
    demo_records.mark("interest", AudienceInterest.objects.filter(slug__in=slugs))
    names = {story["series"] for story in content.STORIES if story.get("series")}
    demo_records.mark("series", StorySeries.objects.filter(name__in=names))
    Image = get_image_model()
    titles = [f"{story['title']} (picture)" for story in content.STORIES]
    demo_records.mark("image", Image.objects.filter(title__in=titles))
    demo_records.mark("image", Image.objects.filter(title__startswith="When the thunder comes: "))
    usernames = [name for name, _, _ in DEMO_USERS]
    demo_records.mark("user", get_user_model().objects.filter(username__in=usernames))


def ensure_interests() -> dict[str, AudienceInterest]:
    interests = {}
    for item in content.INTERESTS:
        interest, _ = AudienceInterest.objects.get_or_create(
            slug=item["slug"], defaults={"name": item["name"], "description": item["description"]}
        )
        interests[interest.slug] = interest
    return interests


#: Benchmark interests beyond the demo's own: "Topic 1", "Topic 2"… (slugs ``topic-1``…).
GENERATED_INTEREST_PREFIX = "topic-"


def ensure_generated_interests(total: int) -> list[AudienceInterest]:
    """Interests made up to ``total`` in all, for sites the size of a large brand's.

    Each generated story carries its original's interests and one of these in turn, so
    every generated interest has its share of the archive.
    """
    missing = total - AudienceInterest.objects.count()
    have = AudienceInterest.objects.filter(slug__startswith=GENERATED_INTEREST_PREFIX)
    numbers = {
        int(slug.removeprefix(GENERATED_INTEREST_PREFIX))
        for slug in have.values_list("slug", flat=True)
        if slug.removeprefix(GENERATED_INTEREST_PREFIX).isdigit()
    }
    number = 0
    new = []
    while missing > 0:
        number += 1
        if number in numbers:
            continue
        new.append(
            AudienceInterest(
                name=f"Topic {number}",
                slug=f"{GENERATED_INTEREST_PREFIX}{number}",
                description="A benchmark interest (load_demo --interests).",
            )
        )
        missing -= 1
    AudienceInterest.objects.bulk_create(new)
    return list(have.order_by("pk"))


def ensure_users() -> None:
    social, created = Group.objects.get_or_create(name="Social managers")
    if created:
        social.permissions.add(
            Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
        )
    User = get_user_model()
    for username, superuser, groups in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = User.objects.create_user(
            username=username,
            email=f"{username}@storyloom.invalid",
            password=DEMO_PASSWORD,
            is_staff=superuser,
            is_superuser=superuser,
            first_name=username.capitalize(),
        )
        user.groups.set(Group.objects.filter(name__in=groups))


def _image_for(story: dict):
    Image = get_image_model()
    title = f"{story['title']} (picture)"
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    png = hero_png(story["slug"], story["interests"][0])
    image = Image(
        title=title,
        description=f"An illustration for the story “{story['title']}”.",
    )
    image.file = ImageFile(_named_bytes(png, f"{story['slug']}.png"), name=f"{story['slug']}.png")
    image.save()
    return image


def _named_bytes(data: bytes, name: str):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def _body(story: dict, pages_by_slug: dict[str, StoryPage], image):
    blocks = []
    for kind, value in story["body"]:
        if kind == "image":
            blocks.append(
                (
                    "image",
                    {
                        "image": {
                            "image": image,
                            "alt_text": value.get("alt", ""),
                            "decorative": False,
                        },
                        "caption": value.get("caption", ""),
                    },
                )
            )
        elif kind == "story_link":
            target = pages_by_slug.get(value)
            if target is not None:
                blocks.append(("story_link", {"story": target, "note": ""}))
        else:
            blocks.append((kind, value))
    if story["slug"] == AUDIENCE_STORY:
        blocks.append(_audience_variants())
    return blocks


#: The demo story that shows an audience-variants block (docs/newsletter.md, "On the site").
AUDIENCE_STORY = "the-hamster-in-the-slipper"
AUDIENCE_VARIANTS = {
    "default": "<p>Every home has an escape artist. Next door's budgie, Kiwi, once spent a "
    "whole afternoon on top of the curtain rail, refusing every offer of millet.</p>",
    "pets": "<p>Cats are escape artists too. Ours once spent a whole afternoon asleep in the "
    "airing cupboard while we searched the garden with a torch.</p>",
    "family": "<p>Children are not the only ones who go missing at bedtime. Our dog once "
    "took a school shoe under the shed and would not come out until the shoe did.</p>",
}


def _audience_variants():
    """A budgie for everyone, a cat for readers who follow Pets, a dog for Family."""
    text = AUDIENCE_VARIANTS
    interests = {
        interest.slug: interest
        for interest in AudienceInterest.objects.filter(
            slug__in=[s for s in text if s != "default"]
        )
    }
    return (
        "audience",
        {
            "default": {"image": None, "caption": "", "text": text["default"]},
            "variants": [
                {
                    "interest": interest,
                    "content": {"image": None, "caption": "", "text": text[slug]},
                }
                for slug, interest in interests.items()
            ],
        },
    )


@transaction.atomic
def ensure_demo_stories(index, interests, progress: Progress) -> list[StoryPage]:
    """The hand-written stories, created once each and published with one revision.

    First every missing page is added to the tree (not yet live), so that links and
    inline story cards can name any other story; then each is given its links and
    published once: one revision, one voice check and one round of publishing signals
    per story rather than two.
    """
    existing = {p.slug: p for p in StoryPage.objects.child_of(index)}
    series_parts: dict[str, int] = {}
    now = timezone.now()
    created = []
    stories = content.STORIES
    for story in stories:
        series = None
        if story.get("series"):
            series, _ = StorySeries.objects.get_or_create(name=story["series"])
            series_parts[story["series"]] = series_parts.get(story["series"], 0) + 1
        if story["slug"] in existing:
            continue
        image = _image_for(story)
        page = StoryPage(
            title=story["title"],
            slug=story["slug"],
            intro=story["intro"],
            purpose=story["purpose"],
            hero_image=image,
            series=series,
            series_part=series_parts.get(story["series"]) if series else None,
            live=False,
        )
        page.interests = [interests[s] for s in story["interests"]]
        index.add_child(instance=page)
        existing[page.slug] = page
        created.append(page)
    # Links and inline story cards refer to other stories, so they come second.
    total = len(stories)
    for position, story in enumerate(stories):
        page = existing[story["slug"]]
        if page not in created:
            continue
        # Spread publication over recent months so listings look lived-in.
        published = now - datetime.timedelta(days=(total - position) * 3, hours=position)
        _link_and_publish(page, story, existing, published)
        progress(f"story {position + 1}/{total}: {page.title}")
    demo_records.mark("story", created)
    return [existing[s["slug"]] for s in stories]


def _link_and_publish(page: StoryPage, story: dict, pages_by_slug, published) -> None:
    wanted = []
    if story.get("continues"):
        wanted.append((story["continues"], "continues"))
    wanted += [(slug, "background") for slug in story.get("background", [])]
    wanted += [(slug, "related") for slug in story.get("related", [])]
    page.story_links = [
        StoryLink(target=pages_by_slug[slug], kind=kind)
        for slug, kind in wanted
        if slug in pages_by_slug
    ]
    page.body = _body(story, pages_by_slug, page.hero_image)
    page.save_revision().publish()
    StoryPage.objects.filter(pk=page.pk).update(
        first_published_at=published, last_published_at=published
    )


def add_bulk_stories(
    index, interests, base: list[StoryPage], count: int, progress: Progress, generated=()
):
    """Write ``count`` more live stories straight into the tree, in batches.

    Variations of the hand-written stories, linked in threes ("continues") and to
    their originals ("background"), so large sites have the same shape as the demo.
    """
    base = list(StoryPage.objects.filter(pk__in=[p.pk for p in base]).prefetch_related("interests"))
    content_type = ContentType.objects.get_for_model(StoryPage)
    locale = Locale.get_default()
    index = Page.objects.get(pk=index.pk)
    last_child = index.get_children().order_by("-path").first()
    next_step = Page._str2int(last_child.path[-Page.steplen :]) + 1 if last_child else 1
    now = timezone.now()
    existing_slugs = set(StoryPage.objects.child_of(index).values_list("slug", flat=True))
    number = 0
    made = 0
    batch = 500
    while made < count:
        size = min(batch, count - made)
        rows = []
        for _ in range(size):
            number += 1
            original = base[number % len(base)]
            slug = f"{original.slug}-{number}"
            while slug in existing_slugs:
                number += 1
                slug = f"{original.slug}-{number}"
            existing_slugs.add(slug)
            rows.append((number, original, slug))
        _write_batch(index, rows, next_step, content_type, locale, now, generated)
        next_step += size
        made += size
        progress(f"{made}/{count} generated stories")
    Page.objects.filter(pk=index.pk).update(numchild=index.get_children().count())


def _write_batch(index, rows, first_step, content_type, locale, now, generated=()):
    with transaction.atomic():
        pages = []
        for offset, (number, original, slug) in enumerate(rows):
            published = now - datetime.timedelta(minutes=number * 17)
            pages.append(
                Page(
                    title=f"{original.title} ({number})",
                    draft_title=f"{original.title} ({number})",
                    slug=slug,
                    content_type=content_type,
                    path=Page._get_path(index.path, index.depth + 1, first_step + offset),
                    depth=index.depth + 1,
                    numchild=0,
                    url_path=f"{index.url_path}{slug}/",
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=published,
                    last_published_at=published,
                    locale=locale,
                    translation_key=uuid.uuid4(),
                )
            )
        Page.objects.bulk_create(pages)
        demo_records.mark_ids("story", StoryPage, [page.pk for page in pages])
        # Multi-table inheritance: Django's bulk_create cannot write the StoryPage
        # rows, so they go in with one parameterised INSERT per batch.
        fields = list(StoryPage._meta.local_concrete_fields)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {connection.ops.quote_name(StoryPage._meta.db_table)} "  # noqa: S608
            f"({columns}) VALUES ({marks})"
        )
        values = []
        links = []
        interest_rows = []
        for position, (page, (number, original, _slug)) in enumerate(zip(pages, rows, strict=True)):
            story = StoryPage(
                page_ptr_id=page.pk,
                intro=original.intro,
                hero_image_id=original.hero_image_id,
                body=original.body,
                purpose=original.purpose,
                word_count=original.word_count,
                reading_time=original.reading_time,
                voice_score=original.voice_score,
                voice_findings=original.voice_findings,
            )
            values.append(
                [f.get_db_prep_save(getattr(story, f.attname), connection) for f in fields]
            )
            interest_rows += [
                StoryPage.interests.through(storypage_id=page.pk, audienceinterest_id=i.pk)
                for i in original.interests.all()
            ]
            if generated:
                topic = generated[number % len(generated)]
                interest_rows.append(
                    StoryPage.interests.through(storypage_id=page.pk, audienceinterest_id=topic.pk)
                )
            links.append(
                StoryLink(page_id=page.pk, target_id=original.pk, kind="background", sort_order=1)
            )
            if number % 3 != 0 and position + 1 < len(pages):
                links.append(
                    StoryLink(
                        page_id=page.pk,
                        target_id=pages[position + 1].pk,
                        kind="continues",
                        sort_order=0,
                    )
                )
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
        StoryPage.interests.through.objects.bulk_create(interest_rows)
        StoryLink.objects.bulk_create(links)
