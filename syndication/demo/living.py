"""The living demo: a channel, posts, a conversation, 60 days of readers, an edition.

Every part goes through the product's own code, as a person and the background tasks
would: the brand account is connected with the OAuth connect flow
(``syndication.connect``), posts are created as a social manager creates them and
published by the engine (``syndication.publishing``), the demo network's audience
replies, boosts and likes and the conversation collector brings it in
(``conversation.collect``, then the tone alert), channel metrics are read as beat reads
them, readers' events go through the flusher's counting (``engagement.flush``), and
subscribers sign up and confirm before an edition is sent by the newsletter's sender.

Each step looks for what it made before, so running it twice changes nothing; what it
makes is recorded as demo data (``marks``), and ``remove.py`` takes it all away.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import uuid
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

import requests

from stories.demo import marks
from stories.demo.content import EDITION_INTRO, EDITION_TITLE
from stories.models import AudienceInterest, StoryLink, StoryPage
from syndication import connect, publishing, sendtimes, states
from syndication.engagement import collect as metrics_collect
from syndication.engagement import events, flush
from syndication.engagement.buffer import entry_for
from syndication.engagement.models import ChannelMetricSnapshot, EngagementRollup, FlushedBatch
from syndication.models import ChannelAccount, MastodonApp, Network, SyndicationPost
from syndication.newsletter import lifecycle, sending, subscriptions
from syndication.newsletter.models import Edition, Subscriber
from syndication.posts import create_post, default_text

from . import send_history

#: The stories the brand posts about, and what the audience says under each post.
POSTED = [
    "when-the-thunder-comes",
    "the-payslip-that-made-no-sense",
    "the-hamster-in-the-slipper",
]
CONVERSATION = {
    "when-the-thunder-comes": {
        "replies": [
            (
                "maya",
                "Our collie does exactly this. The den under the table really helps, thank you.",
            ),
            ("oskar", "Is the advice different for rabbits kept in a hutch outside?"),
            (
                "june",
                "Your claims line kept me on hold for an hour, this is useless when the "
                "roof is leaking. Fix it.",
            ),
            ("ravi", "The claim form is broken, it failed twice on my phone. Sort it out."),
            ("beth", "Still can't log in to make a claim after the storm. Do better."),
        ],
        "favourites": ["maya", "oskar", "tomas", "lena", "ade", "kim"],
        "reblogs": ["maya", "lena", "ade"],
    },
    "the-payslip-that-made-no-sense": {
        "replies": [
            ("ade", "How do I find out which tax code I should be on?"),
            ("lena", "Wish someone had explained this to me at nineteen. Lovely story."),
        ],
        "favourites": ["ade", "lena", "kim"],
        "reblogs": ["kim"],
    },
    "the-hamster-in-the-slipper": {
        "replies": [("tomas", "This made me smile, our hamster once hid in a boot.")],
        "favourites": ["tomas", "maya"],
        "reblogs": [],
    },
}
SUBSCRIBERS = [
    ("priya@example.com", ["pets", "cat-owners"]),
    ("tomasz@example.com", ["financial-wellbeing", "family"]),
    ("hannah@example.com", ["home", "outdoors"]),
    ("sam@example.com", ["travel", "food"]),
    ("noor@example.com", ["family", "pets", "dog-owners"]),
]
HISTORY_DAYS = 60
HISTORY_STREAM = "demo-history"


def social_manager():
    return get_user_model().objects.filter(username="socialmanager").first()


def admin_user():
    return get_user_model().objects.filter(username="admin").first()


# --- The channel ----------------------------------------------------------------------
def demo_account() -> ChannelAccount | None:
    return ChannelAccount.objects.filter(
        network=Network.MASTODON, pk__in=marks.int_ids("account")
    ).first()


def connect_brand(network, user=None) -> ChannelAccount:
    """Connect the brand's account as a person does in the admin: register Storyloom on
    the server, approve it there (the demo network approves as the brand at once) and
    finish with the code the callback receives."""
    from syndication.newsletter.subscriptions import site_root_url

    callback = site_root_url() + reverse("syndication_admin:connect_callback", args=["mastodon"])
    authorize_url, flow = connect.mastodon_start(network.url, callback)
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    account = connect.mastodon_finish(flow, params, user)
    marks.mark("account", [account])
    marks.mark("mastodon app", MastodonApp.objects.filter(instance_url=network.url))
    return account


def publish_posts(account: ChannelAccount, user) -> list[SyndicationPost]:
    """One post per story in ``POSTED``, created as the social manager creates it and
    sent by the engine in this process (dispatch, then the worker's ``publish_post``)."""
    made = set(marks.int_ids("post"))
    posts = []
    for slug in POSTED:
        story = StoryPage.objects.live().filter(slug=slug).first()
        if story is None:
            continue
        post = SyndicationPost.objects.filter(pk__in=made, story=story, account=account).first()
        if post is None:
            post = create_post(story=story, account=account, text=default_text(story), user=user)
            marks.mark("post", [post])
        posts.append(post)
    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)))
    for post_id, claim in claimed:
        publishing.publish_post(post_id, claim)
    return [SyndicationPost.objects.get(pk=post.pk) for post in posts]


def audience(network, posts: list[SyndicationPost]) -> None:
    """The demo network's readers answer, like and boost (once: a step)."""
    if marks.done("audience"):
        return
    for post in posts:
        said = CONVERSATION.get(post.story.slug)
        if not said or not post.remote_id:
            continue
        for username, text in said["replies"]:
            network.reply(post.remote_id, text, as_user=username)
        for username in said["favourites"]:
            network.favourite(post.remote_id, username)
        for username in said["reblogs"]:
            network.reblog(post.remote_id, username)
    network.save()
    marks.record_step("audience")


def collect_conversation(posts: list[SyndicationPost]) -> None:
    """Collect each post's conversation now, as beat and a worker would (the
    conversation's own ``collect_conversations`` command: collection, then the tone
    alert and its email); channel metrics once."""
    ids = [post.pk for post in posts if post.state == states.PUBLISHED]
    if ids:
        call_command("collect_conversations", *map(str, ids), verbosity=0)
    if not marks.done("moderation") and ids:
        # The social manager shows the kind words and the question under the storm story.
        call_command(
            "show_conversation",
            POSTED[0],
            "--as",
            "socialmanager",
            "--tone",
            "praise",
            "--tone",
            "question",
            "--tone",
            "other",
            verbosity=0,
        )
        marks.record_step("moderation")
    if not marks.done("metrics") and ids:
        now = timezone.now()
        by_account = {}
        for post in SyndicationPost.objects.filter(pk__in=ids).select_related("account"):
            by_account.setdefault(post.account_id, (post.account, []))[1].append(post)
        for account, account_posts in by_account.values():
            metrics_collect.collect_account(account, account_posts, now=now)
        marks.record_step("metrics")


def ensure_channel(network) -> dict:
    user = social_manager()
    account = demo_account()
    if account is None or account.instance_url != network.url:
        account = connect_brand(network, user)
    posts = publish_posts(account, user)
    audience(network, posts)
    collect_conversation(posts)
    return {"account": account, "posts": posts}


# --- Readers over 60 days ------------------------------------------------------------
def simulated_entries(stories: list[StoryPage], posts, today: datetime.date, seed: int = 16):
    """Stream entries as the collector writes them, for readers of the last 60 days.

    Each simulated reader arrives from somewhere (search, directly, another story, the
    brand's posts, the newsletter), views a story, often reads it, sometimes to the end,
    sometimes follows a link on to the next story, now and then says how it felt.
    Returns ``[(entry id, fields)]`` with ids as a Redis stream would give them.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    onward = {}
    for link in StoryLink.objects.filter(page__in=stories).order_by("page_id", "sort_order"):
        onward.setdefault(link.page_id, []).append((link.kind, link.target_id))
    post_of = {post.story_id: post for post in posts if post.remote_id}
    weights = [rng.uniform(0.3, 3.0) for _ in stories]
    for position, story in enumerate(stories):
        if story.slug in POSTED:
            weights[position] *= 2.5
    host = "localhost"
    entries = []
    for back in range(HISTORY_DAYS, -1, -1):
        day = today - datetime.timedelta(days=back)
        # Quieter weekends, a slow climb over the two months.
        scale = (0.6 if day.weekday() >= 5 else 1.0) * (
            0.6 + 0.8 * (HISTORY_DAYS - back) / HISTORY_DAYS
        )
        readers = int(90 * scale)
        chosen = rng.choices(stories, weights=weights, k=readers)
        for number, story in enumerate(chosen):
            visitor = hashlib.sha256(f"{day}:{number}".encode()).hexdigest()[:32]
            came = rng.random()
            post = post_of.get(story.pk)
            if back == 0 and post is not None and came < 0.5:
                utm = {"source": "mastodon", "medium": "social", "content": str(post.pk)}
                referrer = None
            elif came < 0.35:
                utm, referrer = None, "https://www.google.com/"
            elif came < 0.6:
                utm, referrer = None, None
            elif came < 0.8:
                utm, referrer = None, f"http://{host}/stories/"
            else:
                utm, referrer = {"source": "newsletter", "medium": "email"}, None
            seen = [{"t": "view", "s": story.pk}]
            if rng.random() < 0.62:
                seen.append(
                    {"t": "engaged_read", "s": story.pk, "ms": rng.randint(20_000, 400_000)}
                )
                if rng.random() < 0.55:
                    seen.append({"t": "read_through", "s": story.pk, "sd": 100})
                    links = onward.get(story.pk)
                    if links and rng.random() < 0.45:
                        kind, target = links[0] if rng.random() < 0.7 else rng.choice(links)
                        seen.append({"t": "link_follow", "s": story.pk, "to": target, "k": kind})
                    if rng.random() < 0.12:
                        feeling = rng.choice(
                            ["helpful", "helpful", "moved", "smiled", "not_for_me"]
                        )
                        seen.append({"t": "feeling", "s": story.pk, "f": feeling})
                    if rng.random() < 0.04:
                        network = rng.choice(["mastodon", "email", "copy"])
                        seen.append({"t": "share", "s": story.pk, "n": network})
            for event in seen:
                came_from = events.attribution(utm, referrer, None, host, event)
                entry = entry_for(event["t"], story.pk, came_from, visitor)
                entry["day"] = day.isoformat()
                stamp = int(datetime.datetime.combine(day, datetime.time(12)).timestamp() * 1000)
                entries.append((f"{stamp}-{len(entries)}", entry))
    return entries


def ensure_history(stories: list[StoryPage], posts, batch: int = 5000) -> int:
    """Count the simulated readers into the rollups with the flusher's own code
    (``flush.count_batch``: checks, rollup keys, ``add_to_rollups``), batch by batch.
    Once: a step. Returns the events counted (0 when done before)."""
    if marks.done("history") or not stories:
        return 0
    entries = simulated_entries(stories, posts, timezone.localdate())
    # A stream name of this run's own: batches the flusher remembers from an earlier
    # demo (removed since) must not make these look counted already.
    stream = f"{HISTORY_STREAM}:{uuid.uuid4().hex}"
    counted = 0
    for start in range(0, len(entries), batch):
        chunk = entries[start : start + batch]
        result = flush.count_batch(stream, chunk)
        counted += result["events"]
        key = flush.batch_id(stream, [entry_id for entry_id, _ in chunk])
        marks.mark("history batch", FlushedBatch.objects.filter(batch_id=key))
    marks.record_step("history")
    return counted


# --- Two months of past posts, for send times -----------------------------------------
def _past_stories(stories: list[StoryPage]) -> list[StoryPage]:
    rng = random.Random(18)  # noqa: S311 - a reproducible simulation, not a secret
    shuffled = list(stories)
    rng.shuffle(shuffled)
    return shuffled


def ensure_past_posts(account, user, stories: list[StoryPage]) -> list[SyndicationPost]:
    """The brand's posts of the two months before the demo began (``send_history``),
    so compose has send times to suggest. Once: a step.

    Each is written as the social manager writes a post (``create_post``: text, the
    story link with the post's UTM marker, the voice check), then goes through the
    state machine to published at its past time. It has no remote id (it never reached
    the demo network), so metrics and conversation collection leave it alone; its
    replies are the snapshot collection would have taken then.
    """
    made = SyndicationPost.objects.filter(pk__in=marks.int_ids("past post")).order_by(
        "published_at", "pk"
    )
    if marks.done("past posts") or account is None or user is None or not stories:
        return list(made)
    zone = sendtimes.site_zone()
    planned = send_history.plan(timezone.localdate(), zone)
    chosen = _past_stories(stories)
    created = []
    snapshots = []
    with transaction.atomic():
        for number, past in enumerate(planned):
            story = chosen[number % len(chosen)]
            post = create_post(
                story=story, account=account, text=default_text(story), user=user, schedule=False
            )
            moments = {"scheduled_at": past.published_at, "due_at": past.published_at}
            post.move(states.SCHEDULED, **moments)
            post.move(states.PUBLISHING, started_at=past.published_at)
            post.move(states.PUBLISHED, published_at=past.published_at, due_at=None)
            created.append(post)
            snapshots.append(
                ChannelMetricSnapshot(
                    post=post,
                    taken_at=past.published_at + datetime.timedelta(days=1),
                    replies=past.replies,
                    reposts=past.replies // 2,
                    likes=past.engaged_reads // 2,
                )
            )
        ChannelMetricSnapshot.objects.bulk_create(snapshots)
        marks.mark("past post", created)
        entries = past_post_entries(created, planned)
        stream = f"{HISTORY_STREAM}:past:{uuid.uuid4().hex}"
        for start in range(0, len(entries), 5000):
            chunk = entries[start : start + 5000]
            flush.count_batch(stream, chunk)
            key = flush.batch_id(stream, [entry_id for entry_id, _ in chunk])
            marks.mark("history batch", FlushedBatch.objects.filter(batch_id=key))
        marks.record_step("past posts")
    return created


def past_post_entries(posts: list[SyndicationPost], planned=None):
    """Stream entries of the readers who came through each past post's link, on the day
    it went out: its planned views, engaged reads and some reads to the end."""
    if planned is None:
        planned = send_history.plan(timezone.localdate(), sendtimes.site_zone())
    rng = random.Random(19)  # noqa: S311 - a reproducible simulation, not a secret
    host = "localhost"
    entries = []
    for post, past in zip(posts, planned, strict=False):
        day = timezone.localtime(post.published_at).date()
        utm = {"source": post.account.network, "medium": "social", "content": str(post.pk)}
        stamp = int(post.published_at.timestamp() * 1000)
        for number in range(past.views):
            visitor = hashlib.sha256(f"past:{post.pk}:{number}".encode()).hexdigest()[:32]
            seen = [{"t": "view", "s": post.story_id}]
            if number < past.engaged_reads:
                seen.append(
                    {"t": "engaged_read", "s": post.story_id, "ms": rng.randint(20_000, 400_000)}
                )
                if rng.random() < 0.5:
                    seen.append({"t": "read_through", "s": post.story_id, "sd": 100})
            for event in seen:
                came_from = events.attribution(utm, None, None, host, event)
                entry = entry_for(event["t"], post.story_id, came_from, visitor)
                entry["day"] = day.isoformat()
                entries.append((f"{stamp}-{len(entries)}", entry))
    return entries


def rollup_total(stories) -> int:
    return EngagementRollup.objects.filter(story__in=stories).aggregate(n=Sum("count"))["n"] or 0


# --- Newsletter -----------------------------------------------------------------------
def ensure_subscribers() -> list[Subscriber]:
    """Readers at example.com sign up as on the site and confirm from their email."""
    made = []
    interests = {i.slug: i for i in AudienceInterest.objects.all()}
    for email, slugs in SUBSCRIBERS:
        existing = subscriptions.find_subscriber(email)
        if existing is not None:
            if str(existing.pk) in marks.ids("subscriber"):
                made.append(existing)
            continue
        signup = subscriptions.subscribe(email, [interests[s] for s in slugs if s in interests])
        subscriptions.confirm(signup.subscriber)
        marks.mark("subscriber", [signup.subscriber])
        made.append(signup.subscriber)
    return made


def ensure_edition() -> Edition | None:
    """One edition, sent now through the newsletter's own path: started, planned, its
    chunks sent (the file backend puts each email in ``var/sent-email/``)."""
    edition = Edition.objects.filter(pk__in=marks.int_ids("edition")).first()
    if edition is not None:
        return edition
    edition = Edition.objects.create(
        title=EDITION_TITLE,
        intro=EDITION_INTRO,
        window_days=90,
        k=4,
        send_at=timezone.now(),
        status=Edition.Status.SCHEDULED,
        created_by=admin_user(),
    )
    marks.mark("edition", [edition])
    for edition_id in lifecycle.start_due_editions(only=[edition.pk]):
        for first, last in lifecycle.plan_edition(edition_id):
            sending.send_chunk(edition_id, first, last)
    edition.refresh_from_db()
    return edition


# --- All of it ------------------------------------------------------------------------
#: The brand's weekly posting slots (site time): weekday mornings and evenings, when the
#: simulated readers answer best, so "Add to the queue" works in the demo.
SLOTS = [(weekday, datetime.time(hour)) for weekday in range(5) for hour in (8, 19)]


def ensure_slots(account) -> int:
    """The demo account's posting slots, once (they go with the account on removal)."""
    from syndication.models import PostingSlot

    if account is None or marks.done("slots"):
        return 0
    made = PostingSlot.objects.bulk_create(
        [PostingSlot(account=account, weekday=day, time=time) for day, time in SLOTS],
        ignore_conflicts=True,
    )
    marks.record_step("slots")
    return len(made)


def channel_complete() -> bool:
    """Whether the parts that need the demo network are all there already."""
    account = demo_account()
    if account is None or not (marks.done("audience") and marks.done("metrics")):
        return False
    posts = SyndicationPost.objects.filter(pk__in=marks.int_ids("post"), account=account)
    return posts.count() >= 1 and not posts.exclude(state=states.PUBLISHED).exists()


def ensure(progress=lambda message: None) -> dict:
    """The living demo on top of the stories; each part once."""
    from . import network as demo_network

    summary = {"network": "ready"}
    if not channel_complete():
        if demo_network.port_in_use():
            summary["network"] = (
                f"skipped: something already listens on {demo_network.url()} "
                "(stop `make run` and run load_demo again)"
            )
        else:
            progress("demo network: connecting, posting, collecting the conversation")
            with demo_network.running() as network:
                ensure_channel(network)
    posts = list(
        SyndicationPost.objects.filter(pk__in=marks.int_ids("post")).select_related("story")
    )
    stories = list(StoryPage.objects.live().filter(pk__in=marks.int_ids("story")).order_by("pk"))
    # Sixty days of readers for the hand-written stories (not a benchmark's thousands).
    stories = stories[:60]
    progress("readers: 60 days of engagement through the flusher's counting")
    summary["events"] = ensure_history(stories, posts)
    progress("past posts: two months of the brand's posts and their readers, for send times")
    summary["past posts"] = len(ensure_past_posts(demo_account(), social_manager(), stories))
    summary["slots"] = ensure_slots(demo_account())
    progress("newsletter: subscribers and one edition")
    summary["subscribers"] = len(ensure_subscribers())
    edition = ensure_edition()
    summary["edition"] = edition.status if edition else "none"
    summary["posts"] = len(posts)
    return summary
