"""Forms readers fill in to sign up and change their newsletter, and the admin's forms."""

from django import forms
from django.core.exceptions import ValidationError

from stories.models import AudienceInterest

from . import subscriptions
from .models import Subscriber

Status = Subscriber.Status

INTERESTS_REQUIRED = (
    "Choose at least one interest, so we know which stories to send you. "
    "To stop the newsletter for a while, pause it instead."
)


class InterestsField(forms.ModelMultipleChoiceField):
    """Interests by id; an id no integer column holds is an invalid choice, not a 500
    (SQLite refuses an integer past 64 bits in the look-up; Django catches only
    ValueError and TypeError there)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            digits = text.lstrip("+-")
            # By length first: int() refuses over 4,300 digits.
            if (
                digits.isascii()
                and digits.isdigit()
                and (len(digits) > 19 or abs(int(digits)) >= 2**63)
            ):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:20]},
                )
        return super()._check_values(value)


def interests_field(**kwargs) -> forms.ModelMultipleChoiceField:
    return InterestsField(
        queryset=AudienceInterest.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="What would you like to read about?",
        help_text="Choose one or more. We pick the stories of each newsletter for you.",
        error_messages={"required": INTERESTS_REQUIRED},
        **kwargs,
    )


class InterestsMixin:
    """At least one interest, once the site has any: a newsletter of "a segment of one"
    is chosen from what the reader asked for (docs/newsletter.md)."""

    def _require_interests_if_any(self):
        field = self.fields["interests"]
        field.required = field.queryset.exists()


class EmailField(forms.EmailField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Your email address",
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
            error_messages={
                "required": "Enter your email address.",
                "invalid": "Enter a whole email address, like name@example.com.",
            },
            **kwargs,
        )


class SubscribeForm(InterestsMixin, forms.Form):
    email = EmailField()
    interests = interests_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._require_interests_if_any()

    def clean_email(self):
        return subscriptions.normalise_email(self.cleaned_data["email"])


class PreferencesLinkForm(forms.Form):
    """ "Already subscribed? Email me a link to my preferences." """

    email = EmailField(help_text="The address the newsletter comes to.")

    # Two forms share the sign-up page: their fields need ids of their own.
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)


class InterestsForm(InterestsMixin, forms.Form):
    interests = interests_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._require_interests_if_any()
        self.fields["interests"].label = "Your interests"


# --- Admin -----------------------------------------------------------------------------
class SubscriberCreateForm(forms.ModelForm):
    """Adding someone in the admin invites them: they get the confirmation email and
    are subscribed only once they confirm (nobody is subscribed on someone's behalf)."""

    class Meta:
        model = Subscriber
        fields = ["email", "interests"]
        widgets = {"interests": forms.CheckboxSelectMultiple}
        help_texts = {
            "email": "They will get an email asking them to confirm; until they do, "
            "nothing is sent to them."
        }

    def clean_email(self):
        return subscriptions.normalise_email(self.cleaned_data["email"])


class SubscriberEditForm(forms.ModelForm):
    """Interests, and the status changes the admin may make for someone who asked:
    pause, resume, unsubscribe. Confirming is only ever the person's own act."""

    class Meta:
        model = Subscriber
        fields = ["interests", "status"]
        widgets = {"interests": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.status
        self.initial_status = current
        allowed = [
            (value, label)
            for value, label in Status.choices
            if value == current or subscriptions.act_for(current, value) in subscriptions.ADMIN_ACTS
        ]
        self.fields["status"].choices = allowed
        self.fields["status"].help_text = (
            "Only the person can confirm their address or sign up again."
            if len(allowed) < len(Status.choices)
            else ""
        )

    def clean_status(self):
        status = self.cleaned_data["status"]
        act = subscriptions.act_for(self.initial_status, status)
        if status != self.initial_status and act not in subscriptions.ADMIN_ACTS:
            raise ValidationError("Only the person can make this change.")
        return status

    def save(self, commit=True):
        """Interests as chosen; the status through the state machine, never directly."""
        subscriber = self.instance
        target = self.cleaned_data["status"]
        subscriber.status = self.initial_status  # never written past the state machine
        subscriber.interests.set(self.cleaned_data["interests"])
        subscriptions.change_status(subscriber, target, acts=subscriptions.ADMIN_ACTS)
        return subscriber
