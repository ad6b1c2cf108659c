"""Forms people fill in to connect accounts, compose posts and change the queue."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import DataError, transaction
from django.utils import timezone

from wagtail.admin.widgets import AdminDateTimeInput, AdminPageChooser
from wagtail.images import get_image_model
from wagtail.images.widgets import AdminImageChooser

from cms.admin_ui import IdChoiceField
from stories.models import AudienceInterest, StoryPage

from . import links, pictures, posts, slots, story_pictures
from .channels.base import NotAChannel
from .channels.mastodon import normalise_instance_url
from .models import ChannelAccount, PostingSlot, PostPicture


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


class AccountAudienceForm(forms.ModelForm):
    """Who an account mostly speaks to: its posts start with the story's picture for them."""

    class Meta:
        model = ChannelAccount
        fields = ["audience_interest"]
        labels = {"audience_interest": "Audience"}
        help_texts = {
            "audience_interest": "Posts to this account start with the story's "
            "audience-variant picture for this interest, when the story has one, instead "
            "of the hero. Each post can still choose another audience."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["audience_interest"]
        field.empty_label = "No particular audience"
        field.error_messages["invalid_choice"] = "That interest no longer exists; choose another."


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


class ForgivingChooserMixin:
    """A Wagtail chooser that renders a sent value which is not an id (``abc``, a NUL,
    a number no column holds) as no choice, instead of failing with a 500 when the form
    is shown again; the field's own error says what was wrong."""

    def get_instance(self, value):
        try:
            return super().get_instance(value)
        except (TypeError, ValueError, OverflowError, DataError):
            return None


class StoryChooser(ForgivingChooserMixin, AdminPageChooser):
    pass


class LibraryImageChooser(ForgivingChooserMixin, AdminImageChooser):
    pass


class ComposeForm(forms.Form):
    """One block per account (include it? what it says, its audience and pictures) and
    what the posts share.

    Every included block is checked here exactly as the publisher will see it
    (``posts.check_text``: length for the network, placeholders, the voice check;
    ``pictures.check``: how many pictures, which formats, alt text), so nothing is saved
    that the engine would refuse.

    Pictures are chosen per account, like the text: each network takes a different
    number, shows them cropped differently, and each account may speak to a different
    audience, whose picture the story may have.
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
    related_1 = IdChoiceField(
        label="Related story",
        queryset=StoryPage.objects.live(),
        required=False,
        widget=StoryChooser(target_models=[StoryPage]),
        help_text="Its link goes where the text says {related_url}. With two related "
        "stories, {related_url} is the older one and {related_url_2} the newer.",
    )
    related_2 = IdChoiceField(
        label="Second related story",
        queryset=StoryPage.objects.live(),
        required=False,
        widget=StoryChooser(target_models=[StoryPage]),
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
        self.pictures_chosen = {}
        self._traits = {}
        self.offered = story_pictures.candidates(story)
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
            self.add_picture_fields(account)

    @staticmethod
    def include_name(account) -> str:
        return f"include_{account.pk}"

    @staticmethod
    def text_name(account) -> str:
        return f"text_{account.pk}"

    @staticmethod
    def interest_name(account) -> str:
        return f"interest_{account.pk}"

    @staticmethod
    def pictures_name(account) -> str:
        return f"pictures_{account.pk}"

    @staticmethod
    def alt_name(account, image_id) -> str:
        return f"alt_{account.pk}_{image_id}"

    @staticmethod
    def library_name(account) -> str:
        return f"library_{account.pk}"

    @staticmethod
    def library_alt_name(account) -> str:
        return f"library_alt_{account.pk}"

    def add_picture_fields(self, account):
        """The account's audience, the story's pictures to tick (its audience's picture,
        else the hero, ticked), one from the image library, and alt text for each."""
        interest = self.fields[self.interest_name(account)] = IdChoiceField(
            label="Audience",
            queryset=AudienceInterest.objects.all(),
            required=False,
            initial=account.audience_interest_id,
            empty_label="No particular audience",
            help_text="Who this post speaks to (the account's audience unless you choose "
            "another). When the story has a picture for them, it replaces the hero.",
            widget=forms.Select(attrs={"data-compose-interest": ""}),
        )
        interest.error_messages["invalid_choice"] = (
            "That interest no longer exists; choose another."
        )
        default = story_pictures.default_for(self.offered, account.audience_interest_id)
        self.fields[self.pictures_name(account)] = forms.MultipleChoiceField(
            label="Pictures",
            required=False,
            choices=[(c.key, c.label) for c in self.offered],
            initial=[default.key] if default else [],
            error_messages={
                "invalid_choice": "A chosen picture is no longer in the story (it may have "
                "been removed or deleted); choose again."
            },
        )
        for candidate in self.offered:
            self.fields[self.alt_name(account, candidate.image.pk)] = forms.CharField(
                label=f"Alt text ({candidate.label[:1].lower()}{candidate.label[1:]})",
                required=False,
                initial=candidate.alt_text,
                widget=forms.Textarea(attrs={"rows": 2, "data-compose-alt": ""}),
            )
        library = self.fields[self.library_name(account)] = IdChoiceField(
            label="From the image library",
            queryset=get_image_model().objects.all(),
            required=False,
            widget=LibraryImageChooser(),
        )
        library.error_messages["invalid_choice"] = (
            "That picture is not in the image library (it may have been deleted); choose another."
        )
        self.fields[self.library_alt_name(account)] = forms.CharField(
            label="Alt text (the library's picture)",
            required=False,
            help_text="Filled in from the picture's description when you choose it.",
            widget=forms.Textarea(attrs={"rows": 2, "data-compose-alt": ""}),
        )

    def picture_limits(self, account):
        return pictures.limits_for(account)

    def picture_rows(self, account):
        """The story's pictures for the account's block: each with whether it is ticked,
        its alt text field, its place in the post and the network's crop as a preview."""
        chosen = set(self[self.pictures_name(account)].value() or [])
        spec = story_pictures.preview_spec(account.network)
        limits = self.picture_limits(account)
        rows = []
        position = 0
        for candidate in self.offered:
            ticked = candidate.key in chosen
            position += ticked
            rows.append(
                {
                    "candidate": candidate,
                    "checked": ticked,
                    "position": position if ticked else None,
                    "alt": self[self.alt_name(account, candidate.image.pk)],
                    "preview": preview(candidate.image, spec),
                    "remarks": self.remarks(candidate.image, limits),
                    "interests": " ".join(str(pk) for pk in candidate.interests),
                }
            )
        return rows

    def remarks(self, image, limits) -> list[str]:
        """What the network will do to ``image``, or why it cannot take it, said before
        anyone ticks it (``pictures.check`` refuses it again if they do)."""
        traits = self._traits.get(image.pk)
        if traits is None:
            traits = self._traits[image.pk] = picture_traits(image)
        return remarks_for(traits, limits)

    def library_preview(self, account):
        """The network's crop of the picture chosen from the library, once the form was
        sent with one (the browser asks ``picture_preview`` as people choose)."""
        image = getattr(self, "cleaned_data", {}).get(self.library_name(account))
        return preview(image, story_pictures.preview_spec(account.network)) if image else None

    def chosen_pictures(self, account) -> list[story_pictures.Chosen]:
        """The pictures chosen for ``account``, in the order they go out: the story's in
        the order it shows them, then the one from the library."""
        keys = self.cleaned_data.get(self.pictures_name(account)) or []
        chosen = []
        for candidate in self.offered:
            if candidate.key in keys:
                alt = self._alt(self.alt_name(account, candidate.image.pk))
                chosen.append(story_pictures.Chosen(candidate.image, candidate.source, alt))
        image = self.cleaned_data.get(self.library_name(account))
        if image is not None:
            alt = self._alt(self.library_alt_name(account))
            chosen.append(story_pictures.Chosen(image, PostPicture.Source.LIBRARY, alt))
        return chosen

    def _alt(self, name) -> str:
        if name in self.cleaned_data:
            return self.cleaned_data[name].strip()
        # The field has its own error (a NUL): measure what was typed for the checks.
        return str(self.data.get(name, "")).replace("\x00", "").strip()

    def blocks(self):
        """Per account, for the template: the account, its include and text fields, the
        check summary and its pictures (audience, rows, library, limits)."""
        related = self.related() if hasattr(self, "cleaned_data") else []
        blocks = []
        for account in self.accounts:
            text = self[self.text_name(account)]
            check = self.checks.get(account.pk)
            summary = check_summary(check, text.value() or "", related) if check else None
            rows = self.picture_rows(account)
            blocks.append(
                {
                    "account": account,
                    "include": self[self.include_name(account)],
                    "text": text,
                    "check": summary,
                    "interest": self[self.interest_name(account)],
                    "pictures": self[self.pictures_name(account)],
                    "rows": rows,
                    "library_position": 1 + sum(row["checked"] for row in rows),
                    "library": self[self.library_name(account)],
                    "library_alt": self[self.library_alt_name(account)],
                    "library_preview": self.library_preview(account),
                    "limits": self.picture_limits(account),
                    "preview_ratio": story_pictures.PREVIEW_RATIOS.get(
                        story_pictures.preview_spec(account.network), ""
                    ),
                }
            )
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
        for account in included:
            self.clean_pictures(account)
        self.salesy = salesy
        if salesy and not cleaned.get("override_reason", "").strip():
            names = ", ".join(account.handle for account in salesy)
            self.add_error(
                "override_reason",
                f"The voice check reads the post for {names} as selling. Rewrite it, or "
                "say why it should go out anyway.",
            )
        return cleaned

    def clean_pictures(self, account):
        """The network's own checks (``pictures.check``: count, format, shape, alt text),
        their messages next to the account's pictures."""
        name = self.pictures_name(account)
        if name not in self.cleaned_data:
            return  # an unknown picture was sent: that error is already there
        chosen = self.chosen_pictures(account)
        images = [picture.image.pk for picture in chosen]
        if len(images) != len(set(images)):
            self.add_error(
                self.library_name(account),
                "This picture is already ticked above; choose another or leave this empty.",
            )
        for message in pictures.check(account, chosen):
            self.add_error(name, message)
        self.pictures_chosen[account.pk] = chosen

    def check_initial(self):
        """Run the checks on the texts as first shown, so counts appear without JavaScript."""
        for account in self.accounts:
            template = self[self.text_name(account)].value() or ""
            self.checks[account.pk] = posts.check_text(template, self.story, account)

    @property
    def any_salesy(self) -> bool:
        return any(check["voice"].is_salesy for check in self.checks.values())


def picture_traits(image) -> dict:
    """What about a picture matters to every network: its format, shape and animation
    (read once per picture, from its file's header)."""
    kind = pictures.source_format(image)
    convertible = kind in pictures.CONVERTIBLE
    return {
        "image": image,
        "kind": kind,
        "convertible": convertible,
        "animated": convertible and pictures.is_animated(image),
        "cropped": bool(pictures.crop_spec(image.width, image.height)),
    }


def remarks_for(traits: dict, limits) -> list[str]:
    image = traits["image"]
    if not traits["convertible"]:
        return [pictures.format_problem(limits, image, traits["kind"])]
    problem = pictures.shape_problem(image.width, image.height, limits.label)
    if problem:
        return [problem]
    found = []
    if traits["cropped"]:
        found.append(
            f"Very wide or tall: {limits.label} gets it cropped to {pictures.MAX_RATIO}:1 "
            "around its focal point."
        )
    if traits["animated"]:
        found.append(f"Animated: {limits.label} gets its first frame.")
    return found


def preview(image, spec: str) -> dict | None:
    """The network's crop of ``image`` as a rendition (stored and served from our own
    media), or None when the file cannot be read."""
    try:
        rendition = image.get_rendition(spec)
    except Exception:  # a missing or unreadable file: the form says so, it never fails
        return None
    return {"url": rendition.url, "width": rendition.width, "height": rendition.height}


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


class PostingSlotsForm(forms.Form):
    """An account's weekly posting slots: a line of times per weekday, in the site's
    time zone ("08:30, 12:00"). Saving replaces the account's slots with these."""

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        current: dict[int, list[str]] = {}
        for slot in PostingSlot.objects.filter(account=account):
            current.setdefault(slot.weekday, []).append(f"{slot.time:%H:%M}")
        for weekday, name in PostingSlot.WEEKDAYS:
            self.fields[self.field_name(weekday)] = forms.CharField(
                label=name,
                required=False,
                max_length=400,
                initial=", ".join(current.get(weekday, [])),
                widget=forms.TextInput(attrs={"placeholder": "e.g. 08:30, 17:45"}),
            )

    @staticmethod
    def field_name(weekday: int) -> str:
        return f"weekday_{weekday}"

    def clean(self):
        cleaned = super().clean()
        self.times = {}
        for weekday, _ in PostingSlot.WEEKDAYS:
            name = self.field_name(weekday)
            if name not in cleaned:
                continue  # already refused (too long)
            try:
                self.times[weekday] = slots.parse_times(cleaned[name])
            except ValueError as error:
                self.add_error(name, str(error))
        return cleaned

    def save(self) -> int:
        with transaction.atomic():
            PostingSlot.objects.filter(account=self.account).delete()
            created = PostingSlot.objects.bulk_create(
                PostingSlot(account=self.account, weekday=weekday, time=at)
                for weekday, times in self.times.items()
                for at in times
            )
        return len(created)
