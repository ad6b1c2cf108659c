"""Conversation metrics: how much people replied to our posts, and how well we answered.

Defined in words in docs/metrics.md ("Conversation"). The formulas are plain functions
over plain numbers (no Django), as in ``syndication.engagement.metrics``; one loader at
the bottom, ``load_figures``, reads the counts for any set of posts in three queries
whatever the number of stories: the posts, the replies summed per group in the
database, and the answered replies' two times (the median is taken in Python over
those: replies a person on our team answered, so as many as the team wrote answers).

Boosts and likes are not counted here: the engagement report already counts them from
the networks' own counters (reposts, likes). Follower counts are not an input.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field

#: What the loader can group by: the engagement report's groupings, and one account.
GROUPINGS = ("story", "interest", "channel", "purpose", "account")


# --- The figures ---------------------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def median(values) -> float | None:
    """The middle value (the mean of the two middle ones for an even count), or ``None``.

    The same as PostgreSQL's ``percentile_cont(0.5)``."""
    values = list(values)
    return statistics.median(values) if values else None


def seconds_to_answer(written: datetime.datetime, answered: datetime.datetime) -> float:
    """From a reply being written to our first answer going out, in seconds. Never below
    zero: the reply's time comes from its author's server, whose clock may run ahead."""
    return max((answered - written).total_seconds(), 0.0)


@dataclass
class ConversationFigures:
    """The conversation of one story, channel, interest, purpose or account.

    ``posts``: our posts whose conversation is collected. ``replies``: visible replies
    (at any depth) and quotes under them, ``quotes`` of which are quotes. ``people``:
    distinct ``(network, handle)`` among their authors. ``answered``: replies with a
    published answer of ours. ``delays``: seconds to the first published answer, one
    per answered reply whose time of writing is known.
    """

    posts: int = 0
    replies: int = 0
    quotes: int = 0
    people: int = 0
    answered: int = 0
    delays: list[float] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        """A post whose conversation is collected: without one there is nothing to say
        (not even zero replies: a LinkedIn post's replies are simply not read)."""
        return self.posts > 0

    @property
    def replies_per_post(self) -> float | None:
        return ratio(self.replies, self.posts)

    @property
    def answered_share(self) -> float | None:
        return ratio(self.answered, self.replies)

    @property
    def median_seconds_to_answer(self) -> float | None:
        return median(self.delays)

    @property
    def timed(self) -> int:
        """How many answered replies the median is taken over."""
        return len(self.delays)


def duration(seconds: float | None) -> str:
    """``"—"``, ``"under a minute"``, ``"45 min"``, ``"3 h 5 min"``, ``"2 d 4 h"``."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


# --- Loading the figures --------------------------------------------------------------
def load_figures(
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    group_by: str | None = "story",
    stories=None,
    interest=None,
    purpose: str = "",
    networks=None,
) -> dict[object, ConversationFigures]:
    """The figures of every group with a post whose conversation is collected, published
    in ``[since, until)``, counted as things stood at ``until``: replies written before
    it, answers published before it (a past period's figures do not change later).

    ``group_by``: ``story`` (story ids), ``interest`` (interest ids; a story counts in
    each of its interests), ``channel`` (networks), ``purpose``, ``account`` (channel
    account ids) or ``None`` for one set of totals under the key ``None``. ``stories``,
    ``interest``, ``purpose`` and ``networks`` (``None``: any) narrow what is counted,
    as the engagement report's filters do. Three queries.
    """
    from django.db.models import Count, Exists, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce, Concat

    from syndication import states
    from syndication.models import SyndicationPost

    from .collect import networks as collected_networks
    from .models import Answer, ConversationItem, ItemKind

    if group_by not in (*GROUPINGS, None):
        raise ValueError(f"group_by must be one of {GROUPINGS} or None, not {group_by!r}")
    collected = [n for n in collected_networks() if networks is None or n in networks]

    def our_posts(prefix: str = "") -> Q:
        """Our posts of the stories, published in the period, on a collected network.
        An answer is a post too, but not one of the story's (the engagement report does
        not count it either, by the same test): the replies under it are collected with
        it, and are not counted here."""
        query = Q(
            **{
                f"{prefix}state": states.PUBLISHED,
                f"{prefix}published_at__gte": since,
                f"{prefix}published_at__lt": until,
                f"{prefix}account__network__in": collected,
                f"{prefix}reply_to_ref": {},
            }
        )
        if stories is not None:
            query &= Q(**{f"{prefix}story__in": stories})
        if interest is not None:
            query &= Q(**{f"{prefix}story__interests": interest})
        if purpose:
            query &= Q(**{f"{prefix}story__purpose": purpose})
        return query

    def group(prefix: str) -> str | None:
        paths = {
            "story": "story_id",
            "interest": "story__interests",
            "channel": "account__network",
            "purpose": "story__purpose",
            "account": "account_id",
        }
        return f"{prefix}{paths[group_by]}" if group_by else None

    published_answers = Answer.objects.filter(
        item=OuterRef("pk"), post__state=states.PUBLISHED, post__published_at__lt=until
    )
    replies = (
        ConversationItem.objects.visible()
        .filter(our_posts("post__"), kind__in=(ItemKind.REPLY, ItemKind.QUOTE))
        .annotate(written=Coalesce("created_at", "first_seen_at"))
        .filter(written__lt=until)
    )
    posts = SyndicationPost.objects.filter(our_posts())
    person = Concat("network", Value(" "), "author_handle")
    sums = {
        "replies": Count("pk", distinct=True),
        "quotes": Count("pk", distinct=True, filter=Q(kind=ItemKind.QUOTE)),
        # A tombstone has no author (and is not visible); an empty handle is nobody known.
        "people": Count(person, distinct=True, filter=~Q(author_handle="")),
        "answered": Count("pk", distinct=True, filter=Exists(published_answers)),
    }
    first_answer = published_answers.order_by("post__published_at").values("post__published_at")[:1]
    answered = (
        replies.filter(Exists(published_answers), created_at__isnull=False)
        .annotate(first_answer=Subquery(first_answer))
        .order_by()
    )

    found: dict[object, ConversationFigures] = {}

    def rows(queryset, prefix, aggregates):
        key = group(prefix)
        if key is None:
            return [(None, queryset.aggregate(**aggregates))]
        grouped = queryset.order_by().values(key).annotate(**aggregates)
        return [(row.pop(key), row) for row in map(dict, grouped)]

    for queryset, prefix, aggregates in (
        (posts, "", {"posts": Count("pk", distinct=True)}),
        (replies, "post__", sums),
    ):
        for key, row in rows(queryset, prefix, aggregates):
            if key is None and group_by is not None:
                continue  # a story with no interest, when grouping by interest
            figures = found.setdefault(key, ConversationFigures())
            for name, value in row.items():
                setattr(figures, name, getattr(figures, name) + (value or 0))

    key = group("post__")
    times = answered.values_list(*([key] if key else []), "created_at", "first_answer")
    for *where, written, first in times:
        figures = found.get(where[0] if where else None)
        if figures is not None:
            figures.delays.append(seconds_to_answer(written, first))

    if group_by is None:
        found.setdefault(None, ConversationFigures())
    return found
