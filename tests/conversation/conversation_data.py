"""A conversation built by hand, with every case the conversation figures must get right
(docs/metrics.md, "Conversation"), and the figures worked out on paper.

Two stories. "Kitchen" (interests Home and Money) has a Mastodon post and a Bluesky post;
"Boiler" (Home) has a Mastodon post. Under them:

=====  ======  =========  ==========  ==========================================
item   post    kind       author      answers
=====  ======  =========  ==========  ==========================================
r1     kitchen reply      m @ann      published after 30 min, and another after 90
r2     kitchen reply      m @bob      one scheduled, not published: unanswered
       (nested under r1)
r3     kitchen reply      m @ann      published after 2 h (@ann again: one person)
q1     kitchen quote      m @cat      none
—      kitchen boost      m @dan      (not a reply)
—      kitchen like       m @eve      (not a reply)
t1     kitchen tombstone  (erased)    published (a deleted reply counts nowhere)
r4     bluesky reply      b @ann      published after 4 h (@ann on Bluesky: another)
r5     boiler  reply      m @ann      none
r6     boiler  reply      m @zed      none
=====  ======  =========  ==========  ==========================================

Plus what must not count: a post published 40 days ago with a reply, a post still
scheduled with a reply, our answers' own posts (published posts of the story) and a
reply under one of them, and a LinkedIn post (its conversation is not read back).
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from syndication import states
from syndication.conversation.models import Answer, ConversationItem
from syndication.models import Network
from tests.factories import AudienceInterestFactory, ChannelAccountFactory, SyndicationPostFactory

MINUTE = 60
HOUR = 60 * MINUTE
#: The networks the figures read, as if Bluesky were collected too.
COLLECTED = ("mastodon", "bluesky")


@dataclass
class Conversation:
    kitchen: object
    boiler: object
    home: object
    money: object
    mastodon: object
    bluesky: object
    linkedin: object
    now: datetime.datetime


def published_post(story, account, when, **fields):
    return SyndicationPostFactory(
        story=story,
        account=account,
        state=fields.pop("state", states.PUBLISHED),
        remote_id=fields.pop("remote_id", f"{account.network}-{story.pk}-{when.timestamp()}"),
        published_at=when,
        **fields,
    )


def item(post, number, kind="reply", handle="@ann", written=None, **fields):
    return ConversationItem.objects.create(
        post=post,
        network=post.account.network,
        remote_id=f"{post.account.network}.example/{post.pk}/{number}",
        kind=kind,
        author_handle=handle,
        author_name=handle.strip("@").title() if handle else "",
        created_at=written,
        **fields,
    )


def answer(reply, when, state=states.PUBLISHED):
    post = published_post(
        reply.post.story,
        reply.post.account,
        when,
        state=state,
        remote_id=f"answer-{reply.pk}-{when.timestamp()}",
        reply_to_ref={"id": reply.remote_id},
    )
    if state != states.PUBLISHED:
        post.published_at = None
        post.save(update_fields=["published_at"])
    return Answer.objects.create(item=reply, post=post)


def build(make_story, now=None) -> Conversation:
    now = now or timezone.now()
    home = AudienceInterestFactory(name="Home")
    money = AudienceInterestFactory(name="Money")
    kitchen = make_story(title="The small kitchen", interests=[home, money])
    boiler = make_story(title="The boiler that sang", interests=[home])
    mastodon = ChannelAccountFactory(handle="@storyloom")
    bluesky = ChannelAccountFactory(
        network=Network.BLUESKY, instance_url="https://bsky.social", handle="storyloom.bsky"
    )
    linkedin = ChannelAccountFactory(network=Network.LINKEDIN, handle="Storyloom")

    day = datetime.timedelta(days=1)
    on_mastodon = published_post(kitchen, mastodon, now - 3 * day)
    written = now - 2 * day
    r1 = item(on_mastodon, 1, handle="@ann", written=written)
    answer(r1, written + datetime.timedelta(minutes=90))
    answer(r1, written + datetime.timedelta(minutes=30))
    r2 = item(on_mastodon, 2, handle="@bob", written=written, parent_remote_id=r1.remote_id)
    answer(r2, now, state=states.SCHEDULED)
    r3 = item(on_mastodon, 3, handle="@ann", written=written)
    answer(r3, written + datetime.timedelta(hours=2))
    item(on_mastodon, 4, kind="quote", handle="@cat", written=written)
    item(on_mastodon, 5, kind="boost", handle="@dan")
    item(on_mastodon, 6, kind="like", handle="@eve")
    tombstone = item(on_mastodon, 7, handle="", deleted=True, deleted_at=now)
    answer(tombstone, written + datetime.timedelta(minutes=5))

    on_bluesky = published_post(kitchen, bluesky, now - 2 * day)
    r4 = item(on_bluesky, 1, handle="@ann", written=written)
    answer(r4, written + datetime.timedelta(hours=4))
    # A reply under our answer is collected with the answer's post: not the story post's.
    item(r4.answers.get().post, 2, handle="@fay", written=written)

    on_boiler = published_post(boiler, mastodon, now - day)
    item(on_boiler, 1, handle="@ann", written=now - day)
    item(on_boiler, 2, handle="@zed", written=now - day)

    # What must not count at all.
    old = published_post(boiler, mastodon, now - 40 * day)
    item(old, 1, handle="@old", written=now - 40 * day)
    scheduled = published_post(boiler, mastodon, now + day, state=states.SCHEDULED)
    item(scheduled, 1, handle="@early", written=now)
    published_post(boiler, linkedin, now - day)
    return Conversation(kitchen, boiler, home, money, mastodon, bluesky, linkedin, now)


#: The figures of ``build``, worked out by hand: (posts, replies, quotes, people,
#: answered, seconds to answer).
KITCHEN = (2, 5, 1, 4, 3, [30 * MINUTE, 2 * HOUR, 4 * HOUR])
BOILER = (1, 2, 0, 2, 0, [])
HOME = (3, 7, 1, 5, 3, [30 * MINUTE, 2 * HOUR, 4 * HOUR])
MONEY = KITCHEN
ON_MASTODON = (2, 6, 1, 4, 2, [30 * MINUTE, 2 * HOUR])
ON_BLUESKY = (1, 1, 0, 1, 1, [4 * HOUR])
EVERYTHING = (3, 7, 1, 5, 3, [30 * MINUTE, 2 * HOUR, 4 * HOUR])
