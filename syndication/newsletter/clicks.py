"""Click tokens: which delivery and which slot a newsletter link belongs to, signed.

A token names a ``DeliveryPick`` by its delivery id and slot — numbers, no email
address or other personal data — signed with Django's signer so nobody can forge a
click for someone else. Tokens carry their time and expire after
``NEWSLETTER_CLICK_MAX_AGE_DAYS``.
"""

import datetime
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "storyloom.newsletter.click"


class Click(NamedTuple):
    delivery_id: int
    slot: int


class BadClickToken(ValueError):
    """A token that was tampered with, has expired or is not a click token."""


def _signer() -> signing.TimestampSigner:
    # "~" is URL-safe and never appears in base64url or in the numbers ("_" does appear
    # in base64url, and Django refuses it as a separator).
    return signing.TimestampSigner(salt=SALT, sep="~")


def make_token(delivery_id: int, slot: int) -> str:
    return _signer().sign(f"{int(delivery_id)}.{int(slot)}")


def read_token(token: str, *, max_age: datetime.timedelta | None = None) -> Click:
    """The click a token names; ``BadClickToken`` saying why when it cannot be trusted."""
    if max_age is None:
        max_age = datetime.timedelta(days=settings.NEWSLETTER_CLICK_MAX_AGE_DAYS)
    try:
        value = _signer().unsign(str(token), max_age=max_age)
    except signing.SignatureExpired:
        raise BadClickToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadClickToken("This link is not valid: it may have been changed.") from None
    delivery, _, slot = value.partition(".")
    if not (delivery.isdigit() and slot.isdigit()):
        raise BadClickToken("This link is not valid.")
    return Click(int(delivery), int(slot))


def click_path(delivery_id: int, slot: int) -> str:
    """The site-relative address a newsletter link points at (it redirects to the story)."""
    return reverse("newsletter:click", args=[make_token(delivery_id, slot)])
