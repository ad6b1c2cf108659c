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
    """The reader-visible text of a story, block by block, with a label for editors."""
    texts = [("Title", title or ""), ("Intro", intro or "")]
    counts: dict[str, int] = {}
    labels = {
        "paragraph": "Paragraph",
        "heading": "Heading",
        "quote": "Quote",
        "image": "Caption",
        "story_link": "Story link note",
    }
    for child in body or []:
        kind = child.block_type
        if kind not in labels:
            continue
        counts[kind] = counts.get(kind, 0) + 1
        label = f"{labels[kind]} {counts[kind]}"
        value = child.value
        if kind == "paragraph":
            text = _plain(value.source)
        elif kind == "heading":
            text = value
        elif kind == "quote":
            text = " ".join(filter(None, [value["quote"], value["attribution"]]))
        elif kind == "image":
            text = value["caption"]
        else:
            text = value["note"]
        if text and text.strip():
            texts.append((label, text))
    return [(label, text) for label, text in texts if text.strip()]


def check_texts(texts: list[tuple[str, str]], options: dict) -> StoryCheck:
    joined = "\n\n".join(text for _, text in texts)
    whole = voice.check(joined, **options)
    blocks = [
        BlockCheck(label, text, voice.check(text, **options).findings) for label, text in texts
    ]
    return StoryCheck(
        score=whole.score,
        is_salesy=whole.is_salesy,
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
