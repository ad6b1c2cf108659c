from django.core.exceptions import ValidationError
from django.utils.html import strip_tags

from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock
from wagtail.snippets.blocks import SnippetChooserBlock

#: ``StoryPage`` preview modes that show one interest's variant: ``interest:<slug>``.
AUDIENCE_PREVIEW_PREFIX = "interest:"


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        template = "stories/blocks/heading.html"
        form_classname = "title"
        description = "A section heading; readers skim these, so make them say what follows."
        preview_value = "What the boiler was trying to tell us"


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=["bold", "italic", "link", "ol", "ul"], **kwargs)

    class Meta:
        icon = "pilcrow"
        template = "stories/blocks/paragraph.html"
        description = "Running text. Tell it as you would to a friend, not a customer."
        preview_value = (
            "<p>The noise started in November, a low hum that rose to a whistle "
            "whenever the heating came on after midnight.</p>"
        )


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageBlock()
    caption = blocks.CharBlock(required=False, max_length=250)

    class Meta:
        icon = "image"
        template = "stories/blocks/image.html"
        description = (
            "A picture with alt text for people who cannot see it, and an optional caption."
        )


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=120)

    class Meta:
        icon = "openquote"
        template = "stories/blocks/quote.html"
        description = "Something a person in the story said, in their words."
        preview_value = {
            "quote": "We laughed about it for weeks, once the house was warm again.",
            "attribution": "Maya, who lives with the boiler",
        }


class StoryEmbedBlock(EmbedBlock):
    class Meta:
        icon = "media"
        template = "stories/blocks/embed.html"
        description = "A video or post from another site, by its URL."


class StoryLinkBlock(blocks.StructBlock):
    story = blocks.PageChooserBlock(page_type="stories.StoryPage")
    note = blocks.CharBlock(
        required=False,
        max_length=140,
        help_text="Optional: why a reader might want to go there from here.",
    )

    class Meta:
        icon = "link"
        template = "stories/blocks/story_link.html"
        description = "A card inside the text pointing to another story."


class AudienceContentBlock(blocks.StructBlock):
    """What one audience sees: a picture with its caption, some text, or both."""

    image = ImageBlock(required=False)
    caption = blocks.CharBlock(required=False, max_length=250)
    text = ParagraphBlock(required=False)

    class Meta:
        icon = "image"
        label = "Content"

    def clean(self, value):
        value = super().clean(value)
        if not value.get("image") and not _has_text(value.get("text")):
            raise blocks.StructBlockValidationError(
                non_block_errors=[ValidationError("Add a picture, some text, or both.")]
            )
        return value


class AudienceVariantBlock(blocks.StructBlock):
    interest = SnippetChooserBlock(
        "stories.AudienceInterest", help_text="Readers who follow this interest see this variant."
    )
    content = AudienceContentBlock()

    class Meta:
        icon = "group"
        label = "Variant"


class AudienceVariantsBlock(blocks.StructBlock):
    """One spot in the story that shows each reader the variant for their interests.

    Every variant is in the page's HTML (the page is cached and the same for every
    reader); the default shows, and ``for-you.js`` swaps in the first variant whose
    interest the reader is known to follow. The editor previews each variant through
    ``StoryPage.preview_modes``, which sets ``request.audience_interest``.
    """

    default = AudienceContentBlock(
        help_text="What every reader sees unless a variant below is meant for them."
    )
    variants = blocks.ListBlock(
        AudienceVariantBlock(),
        min_num=0,
        help_text="One per interest, e.g. a cat for readers who follow Pets. "
        "A reader who follows several sees the first that matches.",
    )

    class Meta:
        icon = "group"
        template = "stories/blocks/audience_variants.html"
        label = "Audience variants"
        description = (
            "A picture or passage with a version per interest: readers who follow "
            "an interest see its version, everyone else the default."
        )
        preview_value = {
            "default": {
                "caption": "",
                "text": "<p>Every home has one escape artist. Ours is a budgie called Kiwi, "
                "who once spent an afternoon on top of the curtain rail.</p>",
            },
            "variants": [],
        }

    def clean(self, value):
        value = super().clean(value)
        seen = set()
        errors = {}
        for index, variant in enumerate(value["variants"]):
            interest = variant["interest"]
            if interest is None:
                continue
            if interest.pk in seen:
                errors[index] = blocks.StructBlockValidationError(
                    block_errors={
                        "interest": ValidationError(
                            f"“{interest.name}” already has a variant above. Each interest "
                            "can have one: change this one's interest or remove it."
                        )
                    }
                )
            seen.add(interest.pk)
        if errors:
            raise blocks.StructBlockValidationError(
                block_errors={"variants": blocks.ListBlockValidationError(block_errors=errors)}
            )
        return value

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        request = (parent_context or {}).get("request")
        # Only an editor's preview picks a variant on the server; reading pages are
        # shared by every reader and leave the choice to the browser.
        wanted = ""
        if request is not None and getattr(request, "is_preview", False):
            wanted = getattr(request, "audience_interest", "")
        slugs = [v["interest"].slug for v in value["variants"] if v["interest"] is not None]
        shown = wanted if wanted in slugs else ""
        versions = [{"slug": "", "content": value["default"], "visible": not shown}]
        for variant in value["variants"]:
            if variant["interest"] is None:
                continue  # its interest was deleted
            slug = variant["interest"].slug
            versions.append({"slug": slug, "content": variant["content"], "visible": slug == shown})
            if slug == shown:
                shown = None  # only the first of the interest's variants
        context["versions"] = versions
        return context


class StoryStreamBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    heading = HeadingBlock()
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    embed = StoryEmbedBlock()
    story_link = StoryLinkBlock()
    audience = AudienceVariantsBlock()

    class Meta:
        template = "stories/blocks/stream.html"


def block_texts(stream_value) -> list[str]:
    """The reader-visible words of a story body, block by block."""
    texts: list[str] = []
    for child in stream_value:
        value = child.value
        if child.block_type == "paragraph":
            texts.append(value.source)
        elif child.block_type == "heading":
            texts.append(value)
        elif child.block_type == "quote":
            texts.extend([value["quote"], value["attribution"]])
        elif child.block_type == "image":
            texts.append(value["caption"])
        elif child.block_type == "audience":
            # Every reader gets one version; the default stands for them all.
            default = value["default"]
            texts.append(default["caption"])
            if _has_text(default["text"]):
                texts.append(default["text"].source)
    return texts


def _has_text(rich_text) -> bool:
    """Whether a rich-text value holds any words (an emptied editor leaves ``<p></p>``)."""
    source = getattr(rich_text, "source", rich_text) or ""
    return bool(strip_tags(source).strip())
