"""The voice check on what a social manager writes for an edition: its title and intro.

Subscribers read them as the email's subject and above their stories, so they are held
to the stories' rule with the default site's brand settings
(``stories.models.voice.options_for``): words that read as selling do not go out unless
whoever sends or schedules the edition says why (``Edition.voice_override_reason``),
and that reason covers the words checked then only (``voice_override_hash``). A draft
may hold them meanwhile, with a warning, as a story's draft may.

``sending_block`` is the one rule; the edition's form (for a scheduled edition), the
"Send now" and "Schedule" screens and ``lifecycle.plan_edition`` (every send, scheduled
or by command) ask it. The stories inside were checked when they were published; the
fixed emails (confirmation, preferences link) are product copy, checked by a test.
"""

from stories.models.voice import options_for
from stories.voice_review import StoryCheck, check_texts

#: The edition's fields the voice check reads, with the labels the editor sees.
FIELDS = {"title": "Title", "intro": "Intro"}


def check_edition(title: str, intro: str) -> StoryCheck:
    """The voice check of an edition's title and intro, findings labelled by field."""
    texts = [(FIELDS["title"], title or ""), (FIELDS["intro"], intro or "")]
    return check_texts([(label, text) for label, text in texts if text.strip()], options_for())


def field_problems(result: StoryCheck) -> dict[str, str]:
    """What the check found in each field (by field name), in words for the form."""
    names = {label: name for name, label in FIELDS.items()}
    problems = {}
    for block in result.blocks:
        phrases = ", ".join(f"“{block.text[f.start : f.end]}”" for f in block.findings)
        problems[names[block.label]] = (
            f"Reads as selling: {phrases}. {block.findings[0].message} "
            f"Try: {block.findings[0].suggestion}"
        )
    return problems


def is_overridden(edition, result: StoryCheck) -> bool:
    return bool(edition.voice_override_reason.strip()) and (
        edition.voice_override_hash == result.text_hash
    )


def sending_block(edition, result: StoryCheck | None = None) -> str | None:
    """Why ``edition`` may not be sent or scheduled as it is, or None."""
    result = result or check_edition(edition.title, edition.intro)
    if not result.is_salesy or is_overridden(edition, result):
        return None
    where = " and ".join(block.label.lower() for block in result.blocks) or "words"
    phrases = ", ".join(f"“{item['phrase']}”" for item in result.summary(3))
    return (
        f"The edition's {where} read{'s' if ' and ' not in where else ''} as selling (voice "
        f"score {result.score:.2f}, threshold {result.threshold:.2f})"
        f"{': ' + phrases if phrases else ''}. Rewrite it in the stories' own voice, or say "
        "why it should go out anyway."
    )
