from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


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


class StoryStreamBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    heading = HeadingBlock()
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    embed = StoryEmbedBlock()
    story_link = StoryLinkBlock()

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
    return texts
