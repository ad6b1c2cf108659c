"""Composing a subscriber's email from their picks: links, footer, headers and MIME.

``Composer`` builds one edition's emails (``sending`` calls it with each delivery's
stored picks); ``preview`` shows what one subscriber would get now, storing nothing.
The deterministic ``Message-ID`` is made here, and in SQL for the claim that records it.
"""

import hashlib
import hmac
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes

from stories import selection
from stories.models import StoryPage

from . import clicks, subscriptions
from .candidates import (
    NoCandidates,
    Pool,
    load_pool,
    load_readers,
    no_candidates_message,
    select_for,
)
from .models import Delivery, Subscriber
from .rendering import EditionRenderer, Email, MessageFrame, Slot, StoryCard

logger = logging.getLogger(__name__)

#: The picture on a story's card in the email.
IMAGE_SPEC = "width-1120"


class Composer:
    """Builds one edition's emails: links, footer, headers and MIME, per reader.

    Per email it signs fourteen links (twelve clicks, preferences, unsubscribe). Two
    things Django would redo for each are done once here: resolving the URL pattern
    (``url_template``) and deriving the click signer's HMAC key (``keyed_signer``).
    Tests check the links equal what ``clicks`` and ``subscriptions`` make themselves.
    """

    def __init__(self, edition, pool: Pool):
        self.edition = edition
        self.root_url = subscriptions.site_root_url()
        self.host = urlsplit(self.root_url).hostname or "localhost"
        self.renderer = EditionRenderer(
            edition, StoryCards(pool.pages, self.root_url), root_url=self.root_url
        )
        self.frame = MessageFrame(edition.title, settings.DEFAULT_FROM_EMAIL)
        self._click = url_template("newsletter:click", self.root_url)
        self._preferences = url_template("newsletter:preferences", self.root_url)
        self._unsubscribe = url_template("newsletter:unsubscribe", self.root_url)
        self._sign_click = keyed_signer(clicks._signer()).sign

    def click_url(self, delivery_id: int, slot: int) -> str:
        head, tail = self._click
        return f"{head}{self._sign_click(f'{int(delivery_id)}.{int(slot)}')}{tail}"

    def email(self, delivery: Delivery, picks: Iterable[tuple[int, int, str]]) -> Email:
        subscriber = delivery.subscriber
        slots = [
            Slot(story, self.click_url(delivery.pk, slot), reason) for slot, story, reason in picks
        ]
        head, tail = self._preferences
        preferences = f"{head}{subscriptions.preferences_token(subscriber)}{tail}"
        head, tail = self._unsubscribe
        unsubscribe = f"{head}{subscriptions.unsubscribe_token(subscriber)}{tail}"
        text, html = self.renderer.render(
            slots, preferences_url=preferences, unsubscribe_url=unsubscribe
        )
        headers = {
            "Message-ID": message_id(self.edition.pk, delivery.pk, self.host),
            # subscriptions.list_unsubscribe_headers(), without resolving the URL again.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return Email(
            subject=self.edition.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=subscriber.email,
            text=text,
            html=html,
            headers=headers,
        )


class StoryCards(dict):
    """Story id → ``StoryCard``, built on first use (the picture's rendition included)."""

    def __init__(self, pages: dict[int, StoryPage], root_url: str):
        super().__init__()
        self.pages = pages
        self.root_url = root_url

    def __missing__(self, story_id: int) -> StoryCard:
        page = self.pages.get(story_id)
        if page is None:  # picked earlier, out of the window now: still show it
            page = StoryPage.objects.select_related("series", "hero_image").get(pk=story_id)
        card = self[story_id] = story_card(page, self.root_url)
        return card


def story_card(page: StoryPage, root_url: str) -> StoryCard:
    image_url = ""
    if page.hero_image_id:
        try:
            image_url = page.hero_image.get_rendition(IMAGE_SPEC).url
        except Exception:  # a missing or unreadable file: the email goes without it
            logger.warning("No picture for story %s in the newsletter", page.pk, exc_info=True)
        if image_url.startswith("/"):
            image_url = f"{root_url}{image_url}"
    return StoryCard(
        story_id=page.pk,
        title=page.title,
        intro=page.intro,
        url=page.get_full_url() or "",
        image_url=image_url,
        series_name=page.series.name if page.series_id else "",
        series_part=page.series_part if page.series_id else None,
    )


def url_template(name: str, root_url: str) -> tuple[str, str]:
    """The absolute address of the route ``name`` taking one token, as the parts before
    and after the token: ``reverse()`` once instead of once per email."""
    marker = "0token0"
    head, found, tail = reverse(name, args=[marker]).partition(marker)
    if not found:  # pragma: no cover - a route that quotes or rewrites its argument
        raise ValueError(f"{name} does not put its token in the path as given")
    return f"{root_url}{head}", tail


def keyed_signer(signer: signing.Signer) -> signing.Signer:
    """``signer`` with its HMAC key derived once rather than for every signature.

    ``Signer.signature`` derives the key (``salted_hmac``: a hash of salt and secret)
    anew each time; here a keyed HMAC is prepared once and copied per value. Same
    algorithm, same signatures — verification still goes through Django.
    """
    hasher = getattr(hashlib, signer.algorithm)
    key = hasher(force_bytes(signer.salt + "signer") + force_bytes(signer.key)).digest()
    keyed = hmac.new(key, digestmod=hasher)
    plain = signer.signature

    def signature(value, key=None):
        if key is not None and key != signer.key:
            return plain(value, key)
        mac = keyed.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()

    signer.signature = signature
    if isinstance(signer, signing.TimestampSigner):
        # The base62 timestamp changes once a second; fourteen links share it.
        stamp = {"at": None, "text": ""}

        def timestamp():
            now = int(time.time())
            if stamp["at"] != now:
                stamp["at"], stamp["text"] = now, signing.b62_encode(now)
            return stamp["text"]

        signer.timestamp = timestamp
    return signer


def message_id(edition_id: int, delivery_id: int, host: str) -> str:
    return f"<edition-{edition_id}.delivery-{delivery_id}@{host}>"


def message_id_sql():
    """``message_id`` as an SQL expression, for the UPDATE that claims deliveries."""
    host = urlsplit(subscriptions.site_root_url()).hostname or "localhost"
    return Concat(
        Value("<edition-"),
        Cast("edition_id", CharField()),
        Value(".delivery-"),
        Cast("id", CharField()),
        Value(f"@{host}>"),
        output_field=CharField(),
    )


@dataclass
class Preview:
    email: Email
    picks: list
    subscriber: Subscriber | None
    cards: list[StoryCard] = field(default_factory=list)


def preview(edition, subscriber: Subscriber | None = None, now=None) -> Preview:
    """What ``subscriber`` (or a reader who follows nothing yet) would get if the edition
    went out now. Stores nothing; links go straight to the stories."""
    now = now or timezone.now()
    pool = load_pool(edition, now)
    if not pool:
        raise NoCandidates(no_candidates_message(edition))
    if subscriber is not None:
        reader = load_readers([subscriber.pk], pool)[subscriber.pk]
    else:
        reader = selection.Reader(key=0)
    picks = list(select_for(edition, [reader], pool, now)[0])
    composer = Composer(edition, pool)
    cards = composer.renderer.stories
    slots = [Slot(p.story_id, cards[p.story_id].url or "#", p.reason) for p in picks]
    if subscriber is not None:
        preferences = subscriptions.preferences_url(subscriber)
        unsubscribe = subscriptions.unsubscribe_url(subscriber)
        headers = subscriptions.list_unsubscribe_headers(subscriber)
    else:
        preferences = unsubscribe = f"{composer.root_url}/newsletter/"
        headers = {}
    text, html = composer.renderer.render(
        slots, preferences_url=preferences, unsubscribe_url=unsubscribe
    )
    email = Email(
        subject=edition.title,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=subscriber.email if subscriber else "reader@example.com",
        text=text,
        html=html,
        headers=headers,
    )
    return Preview(
        email=email, picks=picks, subscriber=subscriber, cards=[cards[p.story_id] for p in picks]
    )
