"""Running the voice check on a story's text, block by block.

``stories.voice`` is the pure analyzer; this module reads a story's title, intro and
body the way readers see them and checks them with the options it is given. The
Wagtail side (a site's brand settings, reviewers' approvals, and
``publication_block``, the one rule that keeps selling copy from going live) is in
``stories.models.voice``, which imports this.
"""

import hashlib
from dataclasses import dataclass, field
from html import unescape

from django.utils.html import strip_tags

from stories import voice


@dataclass
class BlockCheck:
    label: str
    text: str
    findings: list


@dataclass
class StoryCheck:
    score: float
    is_salesy: bool
    threshold: float
    blocks: list = field(default_factory=list)
    text_hash: str = ""

    @property
    def findings(self):
        return [(block, finding) for block in self.blocks for finding in block.findings]

    @property
    def items(self) -> list[dict]:
        return self.summary(limit=None)

    def summary(self, limit=3) -> list[dict]:
        """The first few findings (all with ``limit=None``), as stored on the page."""
        return [
            {
                "where": block.label,
                "phrase": block.text[f.start : f.end],
                "rule": f.rule,
                "message": f.message,
                "suggestion": f.suggestion,
            }
            for block, f in self.findings[:limit]
        ]


def _plain(html: str) -> str:
    # Block-level tags end a sentence; inline ones just disappear.
    for tag in ("</p>", "</li>", "<br>", "<br/>", "</h2>", "</h3>", "</h4>"):
        html = html.replace(tag, f"{tag}\n")
    return unescape(strip_tags(html)).strip()


def story_texts(title: str, intro: str, body) -> list[tuple[str, str]]:
    """The reader-visible text of a story, block by block, with a label for editors.

    Labels say where the editor writes the words: "Paragraph 2", "Quote 1 attribution",
    "Alt text 1" (of the first picture), "Audience variant (Pets) · Caption 1" (in the
    first audience-variants block). Every audience version is read, the default and each
    variant, because each is some reader's story; a variant whose interest was deleted is
    shown to nobody.
    """
    texts = [("Title", title or ""), ("Intro", intro or "")]
    counts: dict[str, int] = {}
    kinds = {"paragraph", "heading", "quote", "image", "story_link", "audience"}
    for child in body or []:
        kind = child.block_type
        if kind not in kinds:
            continue
        counts[kind] = counts.get(kind, 0) + 1
        number = counts[kind]
        value = child.value
        if kind == "paragraph":
            texts.append((f"Paragraph {number}", _plain(value.source)))
        elif kind == "heading":
            texts.append((f"Heading {number}", value))
        elif kind == "quote":
            # Read apart: a quote followed by a name has a testimonial's shape, whatever
            # it says, and the sentence reader takes the shape for social proof.
            texts.append((f"Quote {number}", value["quote"]))
            texts.append((f"Quote {number} attribution", value["attribution"]))
        elif kind == "image":
            texts.append((f"Alt text {number}", _alt_text(value["image"])))
            texts.append((f"Caption {number}", value["caption"]))
        elif kind == "audience":
            texts.extend(_audience_texts(value, number))
        else:
            texts.append((f"Story link note {number}", value["note"]))
    return [(label, text) for label, text in texts if text and text.strip()]


def _alt_text(image) -> str:
    """What a screen reader says for a picture (``ImageBlock`` puts it on the image)."""
    if image is None or getattr(image, "decorative", False):
        return ""
    return getattr(image, "contextual_alt_text", None) or ""


def _audience_texts(value, number: int) -> list[tuple[str, str]]:
    versions = [("Audience default", value["default"])]
    for variant in value["variants"]:
        if variant["interest"] is not None:
            versions.append((f"Audience variant ({variant['interest'].name})", variant["content"]))
    texts = []
    for where, content in versions:
        text = content.get("text")
        texts += [
            (f"{where} · Alt text {number}", _alt_text(content.get("image"))),
            (f"{where} · Caption {number}", content.get("caption") or ""),
            (f"{where} · Paragraph {number}", _plain(getattr(text, "source", text) or "")),
        ]
    return texts


def check_texts(texts: list[tuple[str, str]], options: dict) -> StoryCheck:
    """The story sells if its whole text does, or any one text of it: a block of up to five
    sentences is read by the sentence reader too (``voice.reader``), the whole story by the
    rules and the word model only."""
    joined = "\n\n".join(text for _, text in texts)
    whole = voice.check(joined, **options)
    reports = [(label, text, voice.check(text, **options)) for label, text in texts]
    blocks = [BlockCheck(label, text, report.findings) for label, text, report in reports]
    score = max([whole.score, *(report.score for _l, _t, report in reports)])
    return StoryCheck(
        score=score,
        is_salesy=whole.is_salesy or any(report.is_salesy for _l, _t, report in reports),
        threshold=whole.threshold,
        blocks=[b for b in blocks if b.findings],
        text_hash=hashlib.sha256(joined.encode("utf-8")).hexdigest(),
    )


def check_story(page, options: dict) -> StoryCheck:
    """Check ``page``'s title, intro and body with ``options``.

    A site's options are ``stories.models.voice.options_for``.
    """
    texts = story_texts(page.title, page.intro, page.body)
    return check_texts(texts, options)
