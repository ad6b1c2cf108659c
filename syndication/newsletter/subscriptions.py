"""Subscribing: sign-up with double opt-in, signed links, preferences, leaving, a person's data.

Every status change goes through ``change_status``, and ``TRANSITIONS`` is the whole
state machine: which move is allowed and by what act. Only the address's owner gives
consent (``confirm``, ``subscribe``); people in the admin may pause, resume or remove
someone who asked them to (``ADMIN_ACTS``).

Links are signed with ``django.core.signing``, each kind with its own salt so one can
never stand in for another. They name the subscriber by id and by a keyed fingerprint
of the address (never the address itself, which would end up in logs), so a link stops
working if the address is corrected or the row is deleted.

* confirmation: expires after ``NEWSLETTER_CONFIRM_MAX_AGE_DAYS``;
* preferences: expires after ``PREFERENCES_MAX_AGE`` (every email carries a fresh one);
* unsubscribe: never expires (an old newsletter must still let people leave).

Sign-up answers the same whatever state the address is in, and the email says the rest
(docs/newsletter.md, "Privacy"), so the form cannot be used to learn who subscribes —
not by its words, and not by its time: the forms only hand what was asked to a task
(``tasks.queue_request``), which looks the address up and sends or not.
"""

import datetime
import enum
import hmac
import logging
import secrets
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Value
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from wagtail.models import Site

from .models import Delivery, DeliveryPick, Subscriber, SubscriberRead

logger = logging.getLogger(__name__)

Status = Subscriber.Status

CONFIRM_SALT = "storyloom.newsletter.confirm"
PREFERENCES_SALT = "storyloom.newsletter.preferences"
UNSUBSCRIBE_SALT = "storyloom.newsletter.unsubscribe"
FINGERPRINT_SALT = "storyloom.newsletter.address"

PREFERENCES_MAX_AGE = datetime.timedelta(days=30)
#: At most one email (a confirmation or a preferences link) to an address this often,
#: so nobody can use the sign-up form to flood someone's inbox.
RESEND_INTERVAL = datetime.timedelta(minutes=5)

#: The whole state machine: (from, to) → the act that makes the move.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.PENDING, Status.ACTIVE): "confirm",
    (Status.ACTIVE, Status.PAUSED): "pause",
    (Status.PAUSED, Status.ACTIVE): "resume",
    (Status.PENDING, Status.UNSUBSCRIBED): "leave",
    (Status.ACTIVE, Status.UNSUBSCRIBED): "leave",
    (Status.PAUSED, Status.UNSUBSCRIBED): "leave",
    (Status.UNSUBSCRIBED, Status.PENDING): "subscribe",
}
#: What the admin may do on someone's behalf: never confirm or re-subscribe anyone.
ADMIN_ACTS = frozenset({"pause", "resume", "leave"})


class NotAllowed(ValueError):
    """A status change the state machine does not have."""


class MailNotSent(RuntimeError):
    """The mail server refused or could not be reached; nothing was sent."""


class BadToken(ValueError):
    """A link that was changed, has expired or names nobody (any more).

    ``status`` is the HTTP status the page answers with: 400 changed, 410 expired,
    404 for a subscriber who no longer exists.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Outcome(enum.Enum):
    CONFIRMATION_SENT = "confirmation sent"  # new, waiting or returning: consent asked (again)
    PREFERENCES_SENT = "preferences sent"  # already subscribed: a link to change preferences
    THROTTLED = "throttled"  # an email went to this address moments ago; nothing sent
    NOTHING_SENT = "nothing sent"  # a preferences link asked for an unknown address


class Signup(NamedTuple):
    subscriber: Subscriber | None
    outcome: Outcome


# --- Addresses -------------------------------------------------------------------------
def normalise_email(email: str) -> str:
    """The address as typed, trimmed, with its domain in lower case (domains are not
    case-sensitive; the part before the @ may be, so it is kept as given)."""
    local, at, domain = email.strip().rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else email.strip()


def find_subscriber(email: str) -> Subscriber | None:
    """The subscriber with this address in any case, compared the way the database's
    unique constraint compares (``LOWER`` on both sides)."""
    return (
        Subscriber.objects.alias(email_ci=Lower("email"))
        .filter(email_ci=Lower(Value(normalise_email(email))))
        .first()
    )


def _fingerprint(email: str, secret=None) -> str:
    # Keyed with SECRET_KEY: a token or cache key never carries a guessable address hash.
    return salted_hmac(FINGERPRINT_SALT, email.strip().lower(), secret=secret).hexdigest()[:16]


def _fingerprint_matches(fingerprint: str, email: str) -> bool:
    # The signer accepts SECRET_KEY_FALLBACKS during a key rotation; so does this.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(fingerprint, _fingerprint(email, key)) for key in secrets)


# --- Tokens ----------------------------------------------------------------------------
def _payload(subscriber: Subscriber) -> str:
    return f"{subscriber.pk}.{_fingerprint(subscriber.email)}"


def _confirm_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=CONFIRM_SALT)


def _preferences_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=PREFERENCES_SALT)


def _unsubscribe_signer() -> signing.Signer:
    return signing.Signer(salt=UNSUBSCRIBE_SALT)


def confirm_token(subscriber: Subscriber) -> str:
    return _confirm_signer().sign(_payload(subscriber))


def preferences_token(subscriber: Subscriber) -> str:
    return _preferences_signer().sign(_payload(subscriber))


def unsubscribe_token(subscriber: Subscriber) -> str:
    return _unsubscribe_signer().sign(_payload(subscriber))


def _read(signer: signing.Signer, token: str, max_age=None) -> Subscriber:
    try:
        if max_age is None:
            value = signer.unsign(str(token))
        else:
            value = signer.unsign(str(token), max_age=max_age)
    except signing.SignatureExpired:
        raise BadToken("This link has expired.", status=410) from None
    except signing.BadSignature:
        raise BadToken("This link is not valid: part of it may be missing or changed.") from None
    pk, _, fingerprint = value.partition(".")
    if not pk.isdigit():
        raise BadToken("This link is not valid.")
    subscriber = Subscriber.objects.filter(pk=int(pk)).first()
    if subscriber is None or not _fingerprint_matches(fingerprint, subscriber.email):
        raise BadToken(
            "We have no subscription for this link any more: its data may have been deleted.",
            status=404,
        )
    return subscriber


def read_confirm_token(token: str) -> Subscriber:
    max_age = datetime.timedelta(days=settings.NEWSLETTER_CONFIRM_MAX_AGE_DAYS)
    return _read(_confirm_signer(), token, max_age)


def read_preferences_token(token: str) -> Subscriber:
    return _read(_preferences_signer(), token, PREFERENCES_MAX_AGE)


def read_unsubscribe_token(token: str) -> Subscriber:
    return _read(_unsubscribe_signer(), token)


# --- Addresses of the links ------------------------------------------------------------
def site_root_url() -> str:
    """The public address links in emails start with, when no request is at hand."""
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "")
    if base:
        return base.rstrip("/")
    site = Site.objects.filter(is_default_site=True).first()
    return site.root_url.rstrip("/") if site else ""


def absolute_url(path: str, request=None) -> str:
    if request is not None:
        return request.build_absolute_uri(path)
    return f"{site_root_url()}{path}"


def confirm_url(subscriber: Subscriber, request=None) -> str:
    return absolute_url(reverse("newsletter:confirm", args=[confirm_token(subscriber)]), request)


def preferences_url(subscriber: Subscriber, request=None) -> str:
    path = reverse("newsletter:preferences", args=[preferences_token(subscriber)])
    return absolute_url(path, request)


def unsubscribe_url(subscriber: Subscriber, request=None) -> str:
    path = reverse("newsletter:unsubscribe", args=[unsubscribe_token(subscriber)])
    return absolute_url(path, request)


def list_unsubscribe_headers(subscriber: Subscriber) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers for a newsletter email to ``subscriber``."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- The state machine -----------------------------------------------------------------
def act_for(current: str, target: str) -> str | None:
    return TRANSITIONS.get((current, target))


def change_status(subscriber: Subscriber, target: str, *, acts=None) -> bool:
    """Move ``subscriber`` to ``target``; False when it is there already (so every caller
    is idempotent). ``NotAllowed`` for a move the state machine lacks, or one outside
    ``acts`` when the caller may only make some (the admin: ``ADMIN_ACTS``)."""
    with transaction.atomic():
        current = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if current.status == target:
            changed = False
        else:
            act = act_for(current.status, target)
            if act is None or (acts is not None and act not in acts):
                raise NotAllowed(
                    f"A subscriber cannot go from {current.get_status_display().lower()} "
                    f"to {Status(target).label.lower()} this way."
                )
            now = timezone.now()
            fields = {"status": target, "status_changed_at": now}
            if act == "confirm":
                fields["confirmed_at"] = now
            Subscriber.objects.filter(pk=current.pk).update(**fields)
            changed = True
    subscriber.refresh_from_db(fields=["status", "status_changed_at", "confirmed_at"])
    return changed


def confirm(subscriber: Subscriber) -> bool:
    """Confirm a subscriber who is waiting for it; in any other state nothing changes
    (a confirmation link must never resume a paused subscription or bring back someone
    who left, even when that happened a moment ago)."""
    try:
        return change_status(subscriber, Status.ACTIVE, acts={"confirm"})
    except NotAllowed:
        return False


# Each of these makes its own act only: "resume" is never a way to confirm.
def pause(subscriber: Subscriber) -> bool:
    return change_status(subscriber, Status.PAUSED, acts={"pause"})


def resume(subscriber: Subscriber) -> bool:
    return change_status(subscriber, Status.ACTIVE, acts={"resume"})


def unsubscribe(subscriber: Subscriber) -> bool:
    return change_status(subscriber, Status.UNSUBSCRIBED, acts={"leave"})


def set_interests(subscriber: Subscriber, interests) -> None:
    subscriber.interests.set(interests)


# --- What readers ask on the forms, answered in the background -----------------------------
#: A form's request waits here for its task, under a random key: the address never
#: travels in a task's arguments (the broker, worker logs, failure records).
REQUEST_KEY = "storyloom:newsletter:request:{}"
#: Longer than the task's retries take; a request nobody answered by then is dropped.
REQUEST_KEEP = datetime.timedelta(days=1)
SUBSCRIBE, PREFERENCES_LINK = "subscribe", "preferences link"


def store_request(kind: str, email: str, interests=()) -> str:
    """Keep a reader's sign-up (``SUBSCRIBE``) or "email me a link" (``PREFERENCES_LINK``)
    for ``answer_request``, under a new random key, and return the key.

    ``tasks.queue_request`` stores and queues: the request does the same work whatever
    the address — one cache write, one task — so neither the page nor its timing tells a
    stranger whether someone subscribes."""
    key = secrets.token_urlsafe(18)
    payload = {"kind": kind, "email": email, "interests": [i.pk for i in interests]}
    cache.set(REQUEST_KEY.format(key), payload, int(REQUEST_KEEP.total_seconds()))
    return key


def answer_request(key: str) -> Outcome | None:
    """Do what ``store_request`` kept: look the address up, change what the sign-up
    changes, send the email or not. ``MailNotSent`` keeps the request for a retry."""
    from stories.models import AudienceInterest

    payload = cache.get(REQUEST_KEY.format(key))
    if payload is None:  # answered already, or expired
        return None
    if payload["kind"] == SUBSCRIBE:
        interests = list(AudienceInterest.objects.filter(pk__in=payload["interests"]))
        outcome = subscribe(payload["email"], interests).outcome
    else:
        outcome = request_preferences_link(payload["email"]).outcome
    forget_request(key)
    return outcome


def forget_request(key: str) -> None:
    cache.delete(REQUEST_KEY.format(key))


# --- Signing up ------------------------------------------------------------------------
def _find_or_create(email: str, interests) -> tuple[Subscriber, bool]:
    existing = find_subscriber(email)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            subscriber = Subscriber.objects.create(email=email)
            subscriber.interests.set(interests)
    except IntegrityError:
        # The same address (in any case) was signed up between our look and our insert.
        existing = find_subscriber(email)
        if existing is None:
            raise
        return existing, False
    return subscriber, True


def subscribe(email: str, interests, *, request=None) -> Signup:
    """Sign ``email`` up for ``interests``; never a second row for one address.

    * new address → waiting for confirmation, confirmation email;
    * waiting → the latest interests, the confirmation again;
    * left earlier → waiting again with the new interests, a new confirmation (consent
      is asked again);
    * subscribed or paused → nothing changes here (anyone can type an address), and a
      link to the preferences is sent instead.

    At most one email per address per ``RESEND_INTERVAL``.
    """
    email = normalise_email(email)
    subscriber, created = _find_or_create(email, interests)
    if not created:
        if subscriber.status in (Status.ACTIVE, Status.PAUSED):
            return Signup(subscriber, _send_once(subscriber, send_preferences_link, request))
        with transaction.atomic():
            if subscriber.status == Status.UNSUBSCRIBED:
                change_status(subscriber, Status.PENDING)
            subscriber.interests.set(interests)
    return Signup(subscriber, _send_once(subscriber, send_confirmation, request))


def request_preferences_link(email: str, *, request=None) -> Signup:
    """Email a fresh preferences link to a subscriber who asks (a confirmation instead
    to one still waiting); nothing to an unknown address."""
    subscriber = find_subscriber(email)
    if subscriber is None:
        return Signup(None, Outcome.NOTHING_SENT)
    send = send_confirmation if subscriber.status == Status.PENDING else send_preferences_link
    return Signup(subscriber, _send_once(subscriber, send, request))


def _throttle_key(email: str) -> str:
    return f"storyloom:newsletter:mailed:{_fingerprint(email)}"


def _send_once(subscriber: Subscriber, send, request) -> Outcome:
    key = _throttle_key(subscriber.email)
    if not cache.add(key, True, int(RESEND_INTERVAL.total_seconds())):
        return Outcome.THROTTLED
    try:
        send(subscriber, request=request)
    except MailNotSent:
        cache.delete(key)  # nothing went out: the person may try again at once
        raise
    return Outcome.CONFIRMATION_SENT if send is send_confirmation else Outcome.PREFERENCES_SENT


# --- Emails ----------------------------------------------------------------------------
def _send_mail(subject: str, template: str, subscriber: Subscriber, context: dict, request):
    context = {
        "subscriber": subscriber,
        "interests": list(subscriber.interests.all()),
        "site_url": absolute_url("/", request),
        **context,
    }
    base = f"newsletter/email/{template}"
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{base}.txt", context), to=[subscriber.email]
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    try:
        message.send()
    except OSError as error:  # smtplib's errors are OSErrors too
        # The error's text may quote the address (a refused recipient): name its kind only.
        reason = type(error).__name__
        logger.warning("Newsletter email to subscriber %s not sent: %s", subscriber.pk, reason)
        # Not chained either: a failure record's traceback would print the cause.
        raise MailNotSent(f"The mail server did not take the email ({reason}).") from None


def send_confirmation(subscriber: Subscriber, *, request=None) -> None:
    _send_mail(
        "Please confirm your Storyloom newsletter subscription",
        "confirm",
        subscriber,
        {
            "confirm_url": confirm_url(subscriber, request),
            "max_age_days": settings.NEWSLETTER_CONFIRM_MAX_AGE_DAYS,
        },
        request,
    )


def send_preferences_link(subscriber: Subscriber, *, request=None) -> None:
    _send_mail(
        "Your Storyloom newsletter preferences",
        "preferences_link",
        subscriber,
        {
            "preferences_url": preferences_url(subscriber, request),
            "max_age_days": PREFERENCES_MAX_AGE.days,
        },
        request,
    )


# --- A person's data -------------------------------------------------------------------
def _when(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _story(story) -> dict:
    return {"id": story.pk, "title": story.title, "url": story.full_url}


def export_data(subscriber: Subscriber) -> dict:
    """Everything kept about ``subscriber``, as plain JSON-ready data (a constant number
    of queries, plus Wagtail's cached site lookup for the story addresses)."""
    subscriber = Subscriber.objects.prefetch_related(
        "interests",
        Prefetch("reads", queryset=SubscriberRead.objects.select_related("story").order_by("at")),
        Prefetch(
            "deliveries",
            queryset=Delivery.objects.select_related("edition").prefetch_related(
                Prefetch("picks", queryset=DeliveryPick.objects.select_related("story"))
            ),
        ),
    ).get(pk=subscriber.pk)
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "status_label": subscriber.get_status_display(),
        "created_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "status_changed_at": _when(subscriber.status_changed_at),
        "interests": [
            {"name": interest.name, "slug": interest.slug}
            for interest in subscriber.interests.all()
        ],
        "reads": [
            {
                "story": _story(read.story),
                "at": _when(read.at),
                "engaged": read.engaged,
                "read_through": read.read_through,
            }
            for read in subscriber.reads.all()
        ],
        "deliveries": [
            {
                "edition": delivery.edition.title,
                "state": delivery.state,
                "sent_at": _when(delivery.sent_at),
                "stories": [
                    {
                        "slot": pick.slot,
                        "story": _story(pick.story),
                        "reason": pick.reason,
                        "clicked_at": _when(pick.clicked_at),
                    }
                    for pick in delivery.picks.all()
                ],
            }
            for delivery in subscriber.deliveries.all()
        ],
        "exported_at": _when(timezone.now()),
    }


def export_filename() -> str:
    return f"storyloom-newsletter-data-{timezone.localdate().isoformat()}.json"


def delete_subscriber(subscriber: Subscriber) -> int:
    """Delete the subscriber and everything kept about them (reads, deliveries and their
    picks cascade). Returns how many rows went."""
    deleted, _ = Subscriber.objects.filter(pk=subscriber.pk).delete()
    return deleted


def forget_unconfirmed(now=None) -> int:
    """Delete the sign-ups never confirmed whose confirmation link has expired.

    Someone typed the address and nobody said yes: after ``NEWSLETTER_CONFIRM_MAX_AGE_DAYS``
    the link cannot say yes any more, so nothing is kept of it (``erasure`` runs on each
    delete). A person who was subscribed once and asked to come back keeps their row.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(
        days=settings.NEWSLETTER_CONFIRM_MAX_AGE_DAYS
    )
    deleted = 0
    stale = Subscriber.objects.filter(
        status=Status.PENDING, confirmed_at__isnull=True, status_changed_at__lt=cutoff
    )
    for subscriber in stale.iterator():
        subscriber.delete()  # one by one: post_delete erases what the address left behind
        deleted += 1
    return deleted
