"""Forms people fill in to connect accounts, compose posts and change the queue."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from wagtail.admin.widgets import AdminDateTimeInput, AdminPageChooser

from stories.models import StoryPage

from . import links, posts
from .channels.base import NotAChannel
from .channels.mastodon import normalise_instance_url


def _time_help() -> str:
    # The zone the admin works in (the site's TIME_ZONE unless a person chose their own).
    return f"Time in {timezone.get_current_timezone_name()}."


class MastodonConnectForm(forms.Form):
    instance = forms.CharField(
        label="Mastodon server",
        max_length=255,
        help_text="The server the account lives on, e.g. mastodon.social or "
        "https://social.example.org. You will be sent there to approve Storyloom.",
    )

    def clean_instance(self):
        try:
            return normalise_instance_url(self.cleaned_data["instance"])
        except NotAChannel as error:
            raise ValidationError(error.message) from error


class BlueskyConnectForm(forms.Form):
    handle = forms.CharField(
        label="Bluesky handle",
        max_length=255,
        help_text="For example storyloom.bsky.social (without the @). Storyloom finds the "
        "account's server from it.",
    )
    app_password = forms.CharField(
        label="App password",
        max_length=100,
        # Never sent back to the browser, not even after a failed attempt.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Create one in Bluesky under Settings → Privacy and security → App "
        "passwords. Storyloom never sees the account's real password.",
    )
    # A plain field: the address rules (scheme added, no path) are the adapter's, the same
    # for this form and for manage.py connect_channel.
    service_url = forms.CharField(
        label="Server (optional)",
        max_length=255,
        required=False,
        help_text="Leave empty: the server is found from the handle. Fill in only for a "
        "server (PDS) whose handles cannot be looked up, like https://pds.example.",
    )

    def clean_handle(self):
        return self.cleaned_data["handle"].strip().lstrip("@")


class QueueActionForm(forms.Form):
    """The optional or required new time for schedule, retry and reschedule."""

    when = forms.DateTimeField(
        label="New time",
        required=False,
        widget=AdminDateTimeInput,
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["when"].help_text = _time_help()
        if action == "reschedule":
            self.fields["when"].required = True
        elif action == "schedule":
            self.fields["when"].help_text += " Leave empty to post as soon as possible."
        else:
            del self.fields["when"]

    def clean_when(self):
        when = self.cleaned_data.get("when")
        if when is None:
            return None
        return posts.validate_schedule_time(when)


class ComposeForm(forms.Form):
    """One block per account (include it? what it says) and what the posts share.

    Every included block is checked here exactly as the publisher will see it
    (``posts.check_text``: length for the network, placeholders, the voice check), so
    nothing is saved that the engine would refuse.
    """

    when = forms.DateTimeField(
        label="When",
        required=False,
        widget=AdminDateTimeInput,
    )
    thread_with_previous = forms.BooleanField(
        label="Thread with the previous chapter",
        required=False,
        help_text="Each post replies to the same account's post of the previous chapter, "
        "so followers can read the series in order.",
    )
    related_1 = forms.ModelChoiceField(
        label="Related story",
        queryset=StoryPage.objects.live(),
        required=False,
        widget=AdminPageChooser(target_models=[StoryPage]),
        help_text="Its link goes where the text says {related_url}. With two related "
        "stories, {related_url} is the older one and {related_url_2} the newer.",
    )
    related_2 = forms.ModelChoiceField(
        label="Second related story",
        queryset=StoryPage.objects.live(),
        required=False,
        widget=AdminPageChooser(target_models=[StoryPage]),
        help_text="Optional; see above for which placeholder it fills.",
    )
    override_reason = forms.CharField(
        label="Post anyway because…",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The voice check reads this post as selling. Say why it should go out "
        "as it is; the reason is kept with the post.",
    )

    def __init__(self, *args, story, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.story = story
        self.accounts = list(accounts)
        self.checks = {}
        self.fields["when"].help_text = _time_help() + " Leave empty to post as soon as possible."
        if not can_thread(story):
            del self.fields["thread_with_previous"]
        text = posts.default_text(story)
        for account in self.accounts:
            self.fields[self.include_name(account)] = forms.BooleanField(
                label=f"Post to {account.handle}",
                required=False,
                initial=True,
            )
            self.fields[self.text_name(account)] = forms.CharField(
                label=f"Text for {account.get_network_display()}",
                required=False,
                initial=text,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 6, "data-compose-text": ""}),
            )

    @staticmethod
    def include_name(account) -> str:
        return f"include_{account.pk}"

    @staticmethod
    def text_name(account) -> str:
        return f"text_{account.pk}"

    def blocks(self):
        """(account, include field, text field, check summary) per account, for the template."""
        related = self.related() if hasattr(self, "cleaned_data") else []
        blocks = []
        for account in self.accounts:
            text = self[self.text_name(account)]
            check = self.checks.get(account.pk)
            summary = check_summary(check, text.value() or "", related) if check else None
            blocks.append((account, self[self.include_name(account)], text, summary))
        return blocks

    def clean_when(self):
        when = self.cleaned_data.get("when")
        if when is None:
            return None
        return posts.validate_schedule_time(when)

    def related(self) -> list[StoryPage]:
        """The related stories in the order the publisher fills the placeholders (by id),
        so what the check shows is what goes out."""
        chosen = [self.cleaned_data.get(name) for name in ("related_1", "related_2")]
        return sorted((story for story in chosen if story is not None), key=lambda s: s.pk)

    def included(self):
        return [a for a in self.accounts if self.cleaned_data.get(self.include_name(a))]

    def clean(self):
        cleaned = super().clean()
        if not self.story.live:
            raise ValidationError("Publish the story first: a post can only link to a live story.")
        related = self.related()
        if any(story.pk == self.story.pk for story in related):
            self.add_error("related_1", "Choose another story than the one being shared.")
        if len(related) == 2 and related[0].pk == related[1].pk:
            self.add_error("related_2", "Choose two different stories.")
        included = self.included()
        if not included:
            raise ValidationError("Choose at least one account to post to.")
        salesy = []
        for account in included:
            name = self.text_name(account)
            template = cleaned.get(name, "")
            if not template.strip():
                self.add_error(name, "Write what the post says.")
                continue
            result = posts.check_text(template, self.story, account, related)
            self.checks[account.pk] = result
            network = account.get_network_display()
            for error in result["validation"].errors:
                self.add_error(name, error if network in error else f"{network}: {error}")
            for problem in missing_related(template, related):
                self.add_error(name, problem)
            if result["voice"].is_salesy:
                salesy.append(account)
        self.salesy = salesy
        if salesy and not cleaned.get("override_reason", "").strip():
            names = ", ".join(account.handle for account in salesy)
            self.add_error(
                "override_reason",
                f"The voice check reads the post for {names} as selling. Rewrite it, or "
                "say why it should go out anyway.",
            )
        return cleaned

    def check_initial(self):
        """Run the checks on the texts as first shown, so counts appear without JavaScript."""
        for account in self.accounts:
            template = self[self.text_name(account)].value() or ""
            self.checks[account.pk] = posts.check_text(template, self.story, account)

    @property
    def any_salesy(self) -> bool:
        return any(check["voice"].is_salesy for check in self.checks.values())


def missing_related(template: str, related) -> list[str]:
    problems = []
    if "{related_url}" in template and not related:
        problems.append("The text uses {related_url}; choose a related story below.")
    if links.PLACEHOLDERS[2] in template and len(related) < 2:
        problems.append("The text uses {related_url_2}; choose a second related story.")
    return problems


def can_thread(story) -> bool:
    return bool(story.series_id and story.series_part and story.series_part >= 2)


def check_summary(result, template="", related=()) -> dict:
    """``posts.check_text``'s answer as the compose form's JavaScript reads it."""
    validation, voice, text = result["validation"], result["voice"], result["text"]
    errors = [*validation.errors, *missing_related(template, related)]
    return {
        "text": text,
        "length": validation.length,
        "limit": validation.limit,
        "count": f"{validation.length} / {validation.limit}",
        "errors": errors,
        "ok": not errors,
        "voice": {
            "score": round(voice.score, 3),
            "threshold": voice.threshold,
            "is_salesy": voice.is_salesy,
            "findings": [
                {
                    "start": finding.start,
                    "end": finding.end,
                    # The phrase is cut here: JavaScript counts offsets in UTF-16 units.
                    "phrase": text[finding.start : finding.end],
                    "rule": finding.rule,
                    "message": finding.message,
                    "suggestion": finding.suggestion,
                }
                for finding in voice.findings
            ],
        },
    }
