"""Forms people fill in about the conversation."""

from django import forms

from syndication.forms import check_summary

from . import answers


class AnswerForm(forms.Form):
    """An answer to one item: its text, and why it goes out when the voice check reads it
    as selling. Checked as ``answers.answer`` will check it (the same length rule for the
    account's network, the same voice check and threshold as composing a post), so what
    the form accepts is what the service stores."""

    text = forms.CharField(
        label="Answer",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent as written, as a reply to this item, from the account it came to. "
        "No story link is added.",
    )
    override_reason = forms.CharField(
        label="Send anyway because…",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The voice check reads this answer as selling. Say why it should go out "
        "as it is; the reason is kept with the answer's post.",
    )

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.check = None
        if item.network == "mastodon" and item.author_handle:
            # Mastodon tells people of a reply only when it mentions them.
            self.fields["text"].initial = f"{item.author_handle} "

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("text")
        if text is None:
            return cleaned
        text = text.strip()
        problems = answers.text_problems(text)
        if problems:
            for problem in problems:
                self.add_error("text", problem)
            return cleaned
        self.check = answers.check(self.item, text)
        for error in self.check["validation"].errors:
            self.add_error("text", error)
        if self.check["voice"].is_salesy and not cleaned.get("override_reason", "").strip():
            self.add_error(
                "override_reason",
                "The voice check reads this answer as selling. Rewrite it, or say why it "
                "should go out anyway.",
            )
        cleaned["text"] = text
        return cleaned

    def check_initial(self):
        """The checks on the text as first shown, so the count appears at once."""
        text = (self["text"].value() or "").strip()
        if text:
            self.check = answers.check(self.item, text)

    @property
    def summary(self) -> dict | None:
        """The check as the compose form shows it (``syndication.forms.check_summary``):
        length against the limit, the voice score and each finding with its reason."""
        return check_summary(self.check) if self.check else None

    @property
    def salesy(self) -> bool:
        return bool(self.check and self.check["voice"].is_salesy)
