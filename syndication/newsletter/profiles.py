"""Who is reading, as far as the site may know, for "For you" (docs/newsletter.md, "On the site").

A reader's profile comes from one of two things the reader did themselves:

* **the consent cookie** ``storyloom_reader``, set only when they said yes (to the
  prompt after a newsletter link, or by picking interests). It is signed with
  ``django.core.signing`` and holds interest ids and up to ``MAX_READS`` story ids
  opened on this device: no subscriber id, no address, nothing else;
* **a newsletter click token** (``clicks.read_token``) they arrived with: it names a
  delivery, so the subscriber's interests and the reads their links told us
  (``SubscriberRead``). It is used for the request it comes with and never stored.

``catalogue()`` is what every reader's picks are drawn from: the newest live stories
as ``stories.selection.Candidate`` with their engagement quality, and the interests.
It is the same for everyone, so it is kept in the cache for the content version.
"""

import dataclasses
import datetime
import zlib
from collections import Counter

from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from stories import selection
from stories.models import AudienceInterest, StoryPage
from stories.render_cache import content_version

from ..engagement import metrics
from . import clicks
from .models import Delivery, Subscriber, SubscriberRead

COOKIE_NAME = "storyloom_reader"
COOKIE_SALT = "storyloom.newsletter.reader"
COOKIE_MAX_AGE = datetime.timedelta(days=180)
#: Story ids the cookie remembers (most recent first), so picks skip what was read.
MAX_READS = 50
MAX_INTERESTS = 50
#: Candidates: the newest live stories, so the cost does not grow with the archive.
CANDIDATE_POOL = 300
#: Quality is measured over this many days of engagement.
QUALITY_DAYS = 90
CATALOGUE_SECONDS = 300
#: A subscriber's reads looked at when their newsletter link brings them here.
SUBSCRIBER_READS = 500


@dataclasses.dataclass(frozen=True)
class Interest:
    id: int
    slug: str
    name: str


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """The candidates (newest first) and the interests, as every reader's picks need them."""

    candidates: tuple[selection.Candidate, ...]
    interests: tuple[Interest, ...]

    @property
    def interest_names(self) -> dict[int, str]:
        return {interest.id: interest.name for interest in self.interests}

    @property
    def interest_slugs(self) -> dict[int, str]:
        return {interest.id: interest.slug for interest in self.interests}

    @property
    def story_interests(self) -> dict[int, tuple[int, ...]]:
        return {candidate.story_id: candidate.interests for candidate in self.candidates}


@dataclasses.dataclass(frozen=True)
class Profile:
    """What "For you" knows about one reader, and where it learned it."""

    COOKIE = "cookie"
    NEWSLETTER = "newsletter"

    source: str
    followed: tuple[int, ...] = ()
    #: Opened on this device (cookie) or read through a newsletter link, newest first.
    read: tuple[int, ...] = ()
    read_through: tuple[int, ...] = ()
    learned: dict = dataclasses.field(default_factory=dict, hash=False)
    key: int = 0

    def reader(self) -> selection.Reader:
        read = frozenset(self.read) | frozenset(self.read_through)
        if self.source == self.COOKIE:
            # On the site a story the reader has opened is not offered to them again.
            return selection.Reader(
                key=self.key, followed=frozenset(self.followed), read=read, read_through=read
            )
        return selection.Reader(
            key=self.key,
            followed=frozenset(self.followed),
            learned=dict(self.learned),
            read=read,
            read_through=frozenset(self.read_through),
        )

    def known_interests(self) -> list[int]:
        """Followed interests first, then learned ones, strongest first."""
        learned = sorted(self.learned, key=lambda i: (-self.learned[i], i))
        return list(dict.fromkeys([*self.followed, *learned]))

    def with_read(self, story_id: int) -> "Profile":
        read = (story_id, *(s for s in self.read if s != story_id))[:MAX_READS]
        return dataclasses.replace(self, read=read)

    def for_cookie(self) -> "Profile":
        """What the cookie would keep of this profile: interests and reads, nothing else."""
        read = tuple(dict.fromkeys([*self.read, *self.read_through]))[:MAX_READS]
        followed = tuple(self.followed)[:MAX_INTERESTS]
        return Profile(Profile.COOKIE, followed=followed, read=read, key=_key(followed))


def _key(followed) -> int:
    # Selection seeds a reader's random draws from this; on the site nothing is drawn
    # (``explore=False``), so it only has to be stable.
    return zlib.crc32(",".join(map(str, sorted(followed))).encode())


# --- The cookie ---------------------------------------------------------------------


def cookie_value(profile: Profile) -> str:
    kept = profile.for_cookie()
    return signing.dumps(
        {"i": list(kept.followed), "r": list(kept.read)}, salt=COOKIE_SALT, compress=True
    )


def from_cookie(value: str | None) -> Profile | None:
    """The profile in a consent cookie; None when there is none or it cannot be trusted."""
    if not value:
        return None
    try:
        data = signing.loads(value, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    followed, read = data.get("i"), data.get("r")
    if not (_ids(followed, MAX_INTERESTS) and _ids(read, MAX_READS)):
        return None
    return Profile(Profile.COOKIE, followed=tuple(followed), read=tuple(read), key=_key(followed))


def _ids(value, most: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= most
        and all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in value)
    )


# --- A newsletter link -------------------------------------------------------------


def from_click_token(token: str | None, catalogue: Catalogue) -> Profile | None:
    """The profile of the subscriber whose newsletter link carried ``token``.

    None for a token that is tampered with or expired, a delivery that is gone, or a
    subscriber who has unsubscribed. Three queries: the delivery, the subscriber's
    interests, their reads. Learned interests come from the stories they read with
    engagement (among the catalogue's, which knows their interests).
    """
    if not token or len(token) > 120:
        return None
    try:
        click = clicks.read_token(token)
    except clicks.BadClickToken:
        return None
    subscriber_id = (
        Delivery.objects.filter(pk=click.delivery_id)
        .exclude(subscriber__status=Subscriber.Status.UNSUBSCRIBED)
        .values_list("subscriber_id", flat=True)
        .first()
    )
    if subscriber_id is None:
        return None
    followed = tuple(
        Subscriber.interests.through.objects.filter(subscriber_id=subscriber_id)
        .order_by("audienceinterest__name")
        .values_list("audienceinterest_id", flat=True)
    )
    reads = list(
        SubscriberRead.objects.filter(subscriber_id=subscriber_id)
        .order_by("-at", "-pk")
        .values_list("story_id", "engaged", "read_through")[:SUBSCRIBER_READS]
    )
    story_interests = catalogue.story_interests
    learned = Counter()
    for story_id, engaged, _ in reads:
        if engaged:  # as the newsletter learns them (``candidates.load_readers``)
            learned.update(story_interests.get(story_id, ()))
    return Profile(
        Profile.NEWSLETTER,
        followed=followed,
        read=tuple(story_id for story_id, engaged, _ in reads if engaged),
        read_through=tuple(story_id for story_id, _, through in reads if through),
        learned={interest: float(n) for interest, n in learned.items()},
        key=subscriber_id,
    )


# --- What there is to pick from --------------------------------------------------------


def catalogue() -> Catalogue:
    """``site_candidates`` and the interests, kept for the content version a few minutes."""
    key = f"storyloom:for-you:catalogue:{content_version()}"
    found = cache.get(key)
    if found is None:
        interests = tuple(
            Interest(*row) for row in AudienceInterest.objects.values_list("pk", "slug", "name")
        )
        found = Catalogue(tuple(site_candidates()), interests)
        cache.set(key, found, CATALOGUE_SECONDS)
    return found


def site_candidates(*, pool: int = CANDIDATE_POOL, today: datetime.date | None = None):
    """The newest ``pool`` live stories as selection candidates, newest first.

    Quality is the engagement quality score (``metrics.quality_score``, 0–100, 50 the
    average story) over the last ``QUALITY_DAYS``, as 0–1; its evidence the story's
    engaged reads. Six queries whatever the number of stories: the stories (with their
    series), their interests, earlier chapters outside the pool, and the three of
    ``metrics.load_inputs``.
    """
    rows = list(
        StoryPage.objects.live()
        .order_by("-first_published_at", "-pk")
        .values_list(
            "pk", "first_published_at", "title", "series_id", "series_part", "series__name"
        )[:pool]
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    interests: dict[int, list[int]] = {}
    for story_id, interest_id in StoryPage.interests.through.objects.filter(
        storypage_id__in=ids
    ).values_list("storypage_id", "audienceinterest_id"):
        interests.setdefault(story_id, []).append(interest_id)

    # A chapter whose predecessor is older than the pool still names it, or selection
    # would never offer it.
    in_pool = {(row[3], row[4]) for row in rows if row[3] is not None}
    chapters = {}
    if in_pool:
        chapters = {
            (series_id, part): story_id
            for series_id, part, story_id in StoryPage.objects.live()
            .filter(series_id__in={series for series, _ in in_pool}, series_part__isnull=False)
            .values_list("series_id", "series_part", "pk")
        }

    today = today or timezone.localdate()
    inputs = metrics.load_inputs(
        today - datetime.timedelta(days=QUALITY_DAYS), today, group_by="story", stories=ids
    )
    priors = metrics.Priors.from_totals(metrics.Inputs.total(inputs.values()))

    candidates = []
    for story_id, published, title, series_id, part, series_name in rows:
        story_inputs = inputs.get(story_id)
        quality = None
        evidence = 0.0
        if story_inputs is not None and story_inputs.views:
            quality = metrics.quality_score(story_inputs, priors) / 100
            evidence = float(story_inputs.engaged_reads)
        previous = None
        if series_id is not None and part and part > 1:
            previous = chapters.get((series_id, part - 1))
        candidates.append(
            selection.Candidate(
                story_id=story_id,
                interests=tuple(interests.get(story_id, ())),
                published_at=published or timezone.now(),
                quality=quality,
                evidence=evidence,
                series_id=series_id,
                series_part=part,
                title=title,
                series_name=series_name or "",
                previous_story_id=previous,
            )
        )
    return candidates
