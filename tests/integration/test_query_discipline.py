"""Query discipline at scale (issue 7): reader pages and admin screens cost a constant
number of queries, and the heavy ones use indexes, with 10,000 stories, 100 interests
and a year of engagement rollups.

PostgreSQL only: the plans that matter are PostgreSQL's. One module-scoped fixture
builds a small site with the factories, measures every page on it, grows the same site
to full size (the demo loader's bulk story writer, then set-based SQL: interests, links,
rollups from ``generate_series``, readers), runs ``ANALYZE`` and measures every page
again. All of it happens in one transaction that is rolled back when the module ends,
so the rest of the suite never sees the rows.

Pages are rendered by the Django test client, which never goes through the WSGI page
cache (``cms.wsgi`` wraps Django in ``stories.page_cache.with_page_cache``), and the
shared cache is emptied before each measured request, so every query a page makes after
a publish (the site, the "For you" catalogue, the syndicated stories) is counted.
"""

import datetime
import json
import re
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from stories.demo.loader import add_bulk_stories
from stories.models import AudienceInterest, StoryLink, StoryPage, StorySeries
from syndication import states
from syndication.engagement.models import ChannelMetricSnapshot, EngagementRollup
from syndication.models import SyndicationPost
from syndication.newsletter import profiles
from syndication.newsletter.models import Delivery, Edition, Subscriber
from tests.conftest import require_service
from tests.factories import (
    AudienceInterestFactory,
    BlueskyAccountFactory,
    ChannelAccountFactory,
    ImageFactory,
    StoryPageFactory,
    SubscriberFactory,
    SyndicationPostFactory,
    link,
    site_tree,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SMALL_STORIES = 40
SMALL_INTERESTS = 5
BIG_STORIES = 10_000
BIG_INTERESTS = 100
DAYS = 365
MIN_ROLLUPS = 2_000_000
BIG_POSTS = 2_000
BIG_SUBSCRIBERS = 10_000
BIG_EDITIONS = 40
SENT_EDITIONS = 10

#: The tables that grow with the site, whose plans are checked.
BIG_TABLES = {
    "wagtailcore_page",
    "stories_storypage",
    "stories_storypage_interests",
    "stories_storylink",
    EngagementRollup._meta.db_table,
}


# --- Building the site -----------------------------------------------------------------
@dataclass
class Measured:
    status: int
    queries: list[str]

    @property
    def count(self) -> int:
        return len(self.queries)


@dataclass
class Scales:
    small: dict[str, Measured] = field(default_factory=dict)
    big: dict[str, Measured] = field(default_factory=dict)
    build_seconds: float = 0.0
    rollups: int = 0


def small_site():
    """A site as the factories make it: every kind of thing each page shows, a few times."""
    home, index = site_tree()
    interests = AudienceInterestFactory.create_batch(SMALL_INTERESTS)
    series = StorySeries.objects.create(name="The leaky roof")
    picture = ImageFactory()
    stories = []
    for n in range(SMALL_STORIES):
        in_series = n < 3
        stories.append(
            StoryPageFactory(
                parent=index,
                interests=[interests[n % SMALL_INTERESTS], interests[(n + 1) % SMALL_INTERESTS]],
                hero_image=picture if n % 2 else None,
                series=series if in_series else None,
                series_part=n + 1 if in_series else None,
            )
        )
    for n, story in enumerate(stories[:10]):
        link(story, stories[n + 10], "related")
        link(story, stories[n + 20], "background")
    link(stories[5], stories[6], "continues")

    mastodon, bluesky = ChannelAccountFactory(), BlueskyAccountFactory()
    now = timezone.now()
    for n, story in enumerate(stories[:6]):
        post = SyndicationPostFactory(
            story=story,
            account=mastodon if n % 2 else bluesky,
            state=states.PUBLISHED,
            remote_id=f"small-{n}",
            remote_url=f"https://social.example/@storyloom/{n}",
            published_at=now - datetime.timedelta(days=n),
        )
        ChannelMetricSnapshot.objects.create(post=post, replies=n, reposts=2, likes=5)
    SyndicationPostFactory(story=stories[7], account=mastodon)
    SyndicationPostFactory(
        story=stories[8],
        account=mastodon,
        state=states.FAILED,
        scheduled_at=now - datetime.timedelta(hours=2),
        last_error="The server said no.",
    )

    today = timezone.localdate()
    EngagementRollup.objects.bulk_create(
        EngagementRollup(
            day=today - datetime.timedelta(days=days_ago),
            story=story,
            event=event,
            source=source,
            detail=detail,
            count=count,
        )
        for days_ago in range(7)
        for story in stories
        for event, source, detail, count in (
            ("view", "direct", "", 20),
            ("view", "mastodon", "", 5),
            ("engaged_read", "direct", "", 8),
            ("read_through", "direct", "", 4),
            ("link_follow", "internal", f"related:{stories[0].pk}", 2),
            ("share", "direct", "mastodon", 1),
            ("feeling", "direct", "helpful", 1),
        )
    )

    subscribers = [SubscriberFactory(interests=[interests[n % SMALL_INTERESTS]]) for n in range(10)]
    sent = Edition.objects.create(
        title="Last week", status=Edition.Status.SENT, send_at=now, total=len(subscribers)
    )
    Edition.objects.create(title="Next week", send_at=now + datetime.timedelta(days=7))
    Delivery.objects.bulk_create(
        Delivery(edition=sent, subscriber=subscriber, state=Delivery.State.SENT)
        for subscriber in subscribers
    )
    return {
        "home": home,
        "index": index,
        "interest": interests[0],
        "story": stories[1],  # in a series, a picture, links, posts, engagement
        "stories": stories,
    }


def grow(cursor, made):
    """Grow the small site to full size; the number of rollups made.

    The stories come from the demo loader's bulk writer (what ``load_demo --stories``
    and the page benchmark use); interests, links, rollups and readers are added with
    set-based SQL.
    """
    page = "wagtailcore_page"
    interests_table = StoryPage.interests.through._meta.db_table
    rollups = EngagementRollup._meta.db_table
    now = timezone.now()

    AudienceInterest.objects.bulk_create(
        AudienceInterestFactory.build_batch(BIG_INTERESTS - SMALL_INTERESTS)
    )

    # 10,000 variations of the small site's stories, then published one after another
    # over two years, the newest last: story k of N is published k/N of the way.
    cursor.execute("SELECT coalesce(max(id), 0) FROM wagtailcore_page")
    (last_id,) = cursor.fetchone()
    add_bulk_stories(
        made["index"], AudienceInterest.objects.all(), made["stories"], BIG_STORIES, lambda _: None
    )
    cursor.execute("SELECT min(id), max(id) FROM wagtailcore_page WHERE id > %s", [last_id])
    low, high = cursor.fetchone()
    assert high - low + 1 == BIG_STORIES
    cursor.execute(
        f"""
        UPDATE {page} SET first_published_at = %(start)s + (id - %(low)s + 1) * %(step)s,
            last_published_at = %(start)s + (id - %(low)s + 1) * %(step)s
        WHERE id BETWEEN %(low)s AND %(high)s
        """,  # noqa: S608 (table names from the models, values as parameters)
        {
            "start": now - datetime.timedelta(days=2 * DAYS),
            "step": datetime.timedelta(days=2 * DAYS) / BIG_STORIES,
            "low": low,
            "high": high,
        },
    )

    # A couple more interests each, a few interests far more popular than the rest; the
    # last interest is a quiet one, on a few of the oldest stories only.
    cursor.execute(
        f"""
        WITH ids AS (SELECT array_agg(id ORDER BY id) AS ids FROM {AudienceInterest._meta.db_table})
        INSERT INTO {interests_table} (storypage_id, audienceinterest_id)
        SELECT s.id, ids.ids[1 + pick.n]
        FROM ids, generate_series(%(low)s, %(high)s) AS s(id),
        LATERAL (VALUES
            (floor(%(n)s * power((s.id * 7919 %% 10007) / 10007.0, 2))::int),
            ((s.id * 37 + 11) %% %(n)s),
            (CASE WHEN s.id %% 3 = 0 THEN (s.id * 53 + 29) %% %(n)s END)
        ) AS pick(n)
        WHERE pick.n IS NOT NULL
        UNION ALL
        SELECT s.id, ids.ids[%(n)s + 1] FROM ids, generate_series(%(low)s, %(low)s + 49) AS s(id)
        ON CONFLICT DO NOTHING
        """,  # noqa: S608
        {"low": low, "high": high, "n": BIG_INTERESTS - 1},
    )
    # And a related story each (the loader linked them to their originals and in threes).
    cursor.execute(
        f"""
        INSERT INTO {StoryLink._meta.db_table} (page_id, target_id, kind, sort_order)
        SELECT s.id, %(low)s + (s.id - %(low)s + 17) %% %(count)s, 'related', 2
        FROM generate_series(%(low)s, %(high)s) AS s(id)
        """,  # noqa: S608
        {"low": low, "high": high, "count": BIG_STORIES},
    )

    # The last year of daily rollups, in the order the flusher writes them (day by day).
    # A story is read every day in its first 60 days, then every third day; a view
    # makes a row, engaged reads, read-throughs, link follows, shares and feelings some
    # more. Half the stories are older than the year, so the rows are spread over it
    # as on a site past its first year (the last 28 days hold a tenth of them).
    cursor.execute(
        f"""
        INSERT INTO {rollups} (day, story_id, event, source, detail, post_id, share_id, count)
        SELECT %(first)s::date + d.n, %(low)s + k.k - 1, e.event,
            (ARRAY['direct', 'search', 'mastodon', 'newsletter', 'share', 'example.org'])
                [1 + (k.k + d.n) %% 6],
            CASE e.event
                WHEN 'link_follow' THEN 'continues:' || (%(low)s + k.k)
                WHEN 'share' THEN 'mastodon'
                WHEN 'feeling' THEN 'helpful'
                ELSE '' END,
            0, 0, 1 + (k.k * d.n) %% 40
        FROM generate_series(0, %(days)s - 1) AS d(n)
        CROSS JOIN LATERAL generate_series(
            1, least(%(count)s, (d.n + %(days)s + 1) * %(count)s / (2 * %(days)s))
        ) AS k(k)
        CROSS JOIN LATERAL (
            SELECT event FROM (VALUES ('view', 1, 0), ('engaged_read', 2, 0),
                                      ('read_through', 4, 1), ('link_follow', 10, 3),
                                      ('share', 20, 7), ('feeling', 20, 11))
                AS e(event, every, remainder)
            WHERE (k.k + d.n) %% e.every = e.remainder
        ) AS e
        WHERE d.n + %(days)s - k.k * 2 * %(days)s / %(count)s < 60 OR (k.k + d.n) %% 3 = 0
        """,  # noqa: S608
        {
            "first": timezone.localdate() - datetime.timedelta(days=DAYS - 1),
            "days": DAYS,
            "low": low,
            "count": BIG_STORIES,
        },
    )
    made_rollups = cursor.rowcount

    # Posts over the year on the big stories, most published with a snapshot each.
    accounts = [ChannelAccountFactory(remote_id="big-1"), BlueskyAccountFactory()]
    posts = SyndicationPost.objects.bulk_create(
        SyndicationPost(
            story_id=low + n * (BIG_STORIES // BIG_POSTS),
            account=accounts[n % 2],
            text="A story worth a read. {story_url}",
            scheduled_at=now - datetime.timedelta(hours=4 * n),
            due_at=now - datetime.timedelta(hours=4 * n),
            state=states.PUBLISHED if n % 10 else states.FAILED,
            remote_id=f"big-{n}" if n % 10 else "",
            remote_url=f"https://social.example/@storyloom/big-{n}" if n % 10 else "",
            published_at=now - datetime.timedelta(hours=4 * n) if n % 10 else None,
        )
        for n in range(BIG_POSTS)
    )
    ChannelMetricSnapshot.objects.bulk_create(
        ChannelMetricSnapshot(post=post, replies=n % 4, reposts=n % 7, likes=n % 11)
        for n, post in enumerate(posts)
        if post.state == states.PUBLISHED
    )

    # Newsletter readers with two interests each, and a few months of editions.
    subscribers_table = Subscriber._meta.db_table
    cursor.execute(
        f"""
        INSERT INTO {subscribers_table} (email, status, created_at, confirmed_at, status_changed_at)
        SELECT 'archive-reader-' || g.n || '@example.com',
            CASE WHEN g.n %% 10 = 0 THEN 'unsubscribed' ELSE 'active' END,
            %(now)s, %(now)s, %(now)s
        FROM generate_series(1, %(count)s) AS g(n)
        """,  # noqa: S608
        {"now": now, "count": BIG_SUBSCRIBERS},
    )
    cursor.execute(
        f"""
        INSERT INTO {Subscriber.interests.through._meta.db_table}
            (subscriber_id, audienceinterest_id)
        SELECT s.id, i.id FROM {subscribers_table} s
        JOIN {AudienceInterest._meta.db_table} i ON (s.id + i.id) %% %(every)s IN (0, 7)
        WHERE s.email LIKE 'archive-reader-%%'
        """,  # noqa: S608
        {"every": BIG_INTERESTS // 2},
    )
    editions = Edition.objects.bulk_create(
        Edition(
            title=f"Week {n}",
            status=Edition.Status.SENT if n < SENT_EDITIONS else Edition.Status.DRAFT,
            send_at=now - datetime.timedelta(days=7 * n),
            total=BIG_SUBSCRIBERS,
        )
        for n in range(BIG_EDITIONS)
    )
    cursor.execute(
        f"""
        INSERT INTO {Delivery._meta.db_table}
            (edition_id, subscriber_id, state, message_id, error, sent_at)
        SELECT e.id, s.id, 'sent', '', '', %(now)s
        FROM unnest(%(editions)s::int[]) AS e(id)
        CROSS JOIN {subscribers_table} s WHERE s.email LIKE 'archive-reader-%%'
        """,  # noqa: S608
        {"now": now, "editions": [e.pk for e in editions[:SENT_EDITIONS]]},
    )
    return made_rollups


# --- What is measured ------------------------------------------------------------------
REPORT = "/admin/reports/engagement/"
#: Reader pages: name → the page's address on the site ``made`` by ``small_site``.
READER_PAGES = {
    "home": lambda made: "/",
    "story page": lambda made: made["story"].url,
    "story index": lambda made: "/stories/",
    "story index, page 2": lambda made: "/stories/?page=2",
    "interest hub": lambda made: f"/stories/interest/{made['interest'].slug}/",
    "interest hub, page 2": lambda made: f"/stories/interest/{made['interest'].slug}/?page=2",
    "RSS": lambda made: "/feeds/stories/rss/",
    "Atom": lambda made: "/feeds/stories/atom/",
    "interest RSS": lambda made: f"/feeds/interest/{made['interest'].slug}/rss/",
    "interest Atom": lambda made: f"/feeds/interest/{made['interest'].slug}/atom/",
    "for you, a stranger": lambda made: f"/newsletter/for-you/?story={made['story'].pk}",
    # The same address with the consent cookie of a reader following one interest.
    "for you, a reader": lambda made: f"/newsletter/for-you/?story={made['story'].pk}",
    "API: pages": lambda made: "/api/v2/pages/",
    "API: stories": lambda made: (
        "/api/v2/pages/?type=stories.StoryPage&fields=intro,interests,story_links"
    ),
    "API: a story": lambda made: f"/api/v2/pages/{made['story'].pk}/",
    "sitemap": lambda made: "/sitemap.xml",
}
#: Admin screens, seen by a superuser (every panel and every menu item).
ADMIN_PAGES = {
    "dashboard": lambda made: "/admin/",
    "engagement report": lambda made: REPORT,
    "engagement report per interest": lambda made: f"{REPORT}?group=interest",
    "engagement report per channel": lambda made: f"{REPORT}?group=channel",
    "engagement report per purpose": lambda made: f"{REPORT}?group=purpose",
    "engagement report of one interest": lambda made: f"{REPORT}?interest={made['interest'].pk}",
    "engagement report over the year": lambda made: (
        f"{REPORT}?period_from={timezone.localdate() - datetime.timedelta(days=DAYS - 1)}"
    ),
    "engagement report CSV": lambda made: f"{REPORT}?export=csv",
    "reader journeys": lambda made: "/admin/reports/reader-journeys/",
    "a story's engagement": lambda made: f"/admin/engagement/story/{made['story'].pk}/",
    "voice report": lambda made: "/admin/reports/voice/",
    "post queue": lambda made: "/admin/syndication/posts/",
    "story listing": lambda made: "/admin/stories/",
    "story listing of one interest": lambda made: (
        f"/admin/stories/?interests={made['interest'].pk}"
    ),
    "explorer: the story index": lambda made: f"/admin/pages/{made['index'].pk}/",
    "page editor: a story": lambda made: f"/admin/pages/{made['story'].pk}/edit/",
    "interests": lambda made: "/admin/snippets/stories/audienceinterest/",
    "newsletter editions": lambda made: "/admin/newsletter/editions/",
    "newsletter subscribers": lambda made: "/admin/newsletter/subscribers/",
}


def measure(client, url, cookies=None) -> Measured:
    """The queries of one request with nothing in the shared cache (as after a publish)."""
    client.cookies.clear()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    client.get(url)  # once, for what a process loads only once (content types, renditions)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return Measured(response.status_code, [q["sql"] for q in queries.captured_queries])


def measure_all(made, admin_user) -> dict[str, Measured]:
    reader, editor = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
    editor.force_login(admin_user)
    session = {"sessionid": editor.cookies["sessionid"].value}
    follows = profiles.Profile(profiles.Profile.COOKIE, followed=(made["interest"].pk,))
    reader_cookie = {profiles.COOKIE_NAME: profiles.cookie_value(follows)}
    found = {}
    for name, url in READER_PAGES.items():
        cookies = reader_cookie if name == "for you, a reader" else None
        found[name] = measure(reader, url(made), cookies)
    for name, url in ADMIN_PAGES.items():
        found[name] = measure(editor, url(made), session)
    return found


def without_triggers(cursor) -> bool:
    """Skip foreign-key triggers while the generated rows go in, where allowed (superuser).

    The rows are consistent by construction; checking millions of deferred foreign
    keys would cost half a minute at the end of the first test.
    """
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SET LOCAL session_replication_role = replica")
    return True


@pytest.fixture(scope="module")
def scales(django_db_setup, django_db_blocker):
    """Every page measured on the small site, then on the same site grown to full size.

    One transaction for the module, rolled back at the end: each test's own
    transaction nests inside it as a savepoint.
    """
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    with django_db_blocker.unblock(), transaction.atomic():
        found = Scales()
        cache.clear()
        made = small_site()
        admin_user = get_user_model().objects.create_superuser("quinn", "q@example.com", "pw")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        found.small = measure_all(made, admin_user)

        started = time.monotonic()
        with connection.cursor() as cursor:
            skipped_triggers = without_triggers(cursor)
            found.rollups = grow(cursor, made)
            if skipped_triggers:
                cursor.execute("SET LOCAL session_replication_role = origin")
            cursor.execute("ANALYZE")
        found.build_seconds = time.monotonic() - started
        found.big = measure_all(made, admin_user)
        yield found
        transaction.set_rollback(True)
    cache.clear()


# --- Constant query counts -------------------------------------------------------------
#: Queries a page may add at full size, each for a reason that does not grow further.
EXTRA_AT_FULL_SIZE = {
    # Interests with too few stories among the newest 300 are looked up in the whole
    # archive, in one more query; a site of 40 stories never has a full recent pool.
    "home": 1,
    # Wagtail's sitemap lists every page and loads the specific pages 2,000 at a time,
    # one query per chunk: it does grow with the site (Wagtail's view, left as it is).
    "sitemap": BIG_STORIES // 2000,
}


def test_the_big_site_is_as_big_as_promised(scales, record_property):
    record_property("build_seconds", round(scales.build_seconds, 1))
    assert StoryPage.objects.live().count() >= BIG_STORIES
    assert AudienceInterest.objects.count() == BIG_INTERESTS
    assert scales.rollups >= MIN_ROLLUPS
    assert EngagementRollup.objects.count() >= MIN_ROLLUPS


@pytest.mark.parametrize("name", [*READER_PAGES, *ADMIN_PAGES])
def test_query_count_does_not_grow_with_the_site(scales, name, record_property):
    small, big = scales.small[name], scales.big[name]
    record_property("queries", f"{small.count} -> {big.count}")
    assert (small.status, big.status) == (200, 200)
    allowed = small.count + EXTRA_AT_FULL_SIZE.get(name, 0)
    assert big.count <= allowed, (
        f"{name}: {small.count} queries with {SMALL_STORIES} stories, {big.count} with "
        f"{BIG_STORIES:,}:\n" + "\n".join(sql[:300] for sql in big.queries)
    )


# --- Plans -----------------------------------------------------------------------------
ROLLUPS = EngagementRollup._meta.db_table
INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
#: Pages that ask for every row of a table, where reading it from end to end is the plan.
READS_EVERY_ROLLUP = {"engagement report over the year"}
READS_EVERY_STORY = {"sitemap"}
#: Queries whose cost follows a part of the archive by design: (page, SQL marker) → why.
ARCHIVE_BY_DESIGN = {
    ("home", "ROW_NUMBER() OVER"): (
        "the newest stories of interests with too few among the newest 300, looked for in "
        "the whole archive: it reads every story of those interests"
    ),
}
#: ``… "storypage_id" IN (1, 2, …)``: rows fetched by a list of ids the page already chose.
BY_KEYS = re.compile(r'\."(id|page_ptr_id|storypage_id|page_id|target_id|story_id)" IN \(\d')


def explain(sql: str, *, seqscan: bool = True) -> dict:
    """The plan of ``sql``; with ``seqscan=False``, the plan once tables cannot be read
    from end to end (whether an index can serve the query at all)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET enable_seqscan = {'on' if seqscan else 'off'}")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (found,) = cursor.fetchone()
        finally:
            cursor.execute("RESET enable_seqscan")
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def reads(sql: str, tables) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH")) and any(
        f'"{table}"' in sql for table in tables
    )


def plans_of(scales, names, tables):
    """``(page, sql, plan nodes)`` for each distinct query of ``names`` reading ``tables``."""
    seen = set()
    for name in names:
        for sql in scales.big[name].queries:
            if sql not in seen and reads(sql, tables):
                seen.add(sql)
                yield name, sql, list(plan_nodes(explain(sql)))


def describe(name, sql, nodes) -> str:
    scans = [
        f"{n['Node Type']} on {n['Relation Name']}"
        + (f" ({n['Index Name']})" if "Index Name" in n else "")
        for n in nodes
        if "Relation Name" in n
    ]
    return f"{name}: {', '.join(scans)}\n    {sql[:400]}"


def test_rollups_are_only_read_through_an_index(scales):
    """A year of rollups is millions of rows: every report reads its period, not the year."""
    names = [n for n in [*READER_PAGES, *ADMIN_PAGES] if n not in READS_EVERY_ROLLUP]
    problems, checked = [], 0
    for name, sql, nodes in plans_of(scales, names, {ROLLUPS}):
        checked += 1
        on_rollups = [n for n in nodes if n.get("Relation Name") == ROLLUPS]
        bitmap_indexes = [n for n in nodes if n["Node Type"] == "Bitmap Index Scan"]
        seq = any(n["Node Type"] == "Seq Scan" for n in on_rollups)
        indexed = (
            any(n["Node Type"] in INDEX_NODES and n.get("Index Cond") for n in on_rollups)
            or any(n["Node Type"] == "Bitmap Heap Scan" for n in on_rollups)
            and any(n.get("Index Cond") for n in bitmap_indexes)
        )
        if seq or not indexed:
            problems.append(describe(name, sql, nodes))
    assert checked >= 10, "the reports' rollup queries were not captured"
    assert not problems, "\n".join(problems)


def narrowed_by_indexes(nodes, tables) -> bool:
    """Whether every scan of ``tables`` goes through an index with a condition."""
    for node in nodes:
        if node.get("Relation Name") not in tables:
            continue
        if node["Node Type"] == "Bitmap Heap Scan":
            bitmaps = [n for n in plan_nodes(node) if n["Node Type"] == "Bitmap Index Scan"]
            if not bitmaps or not all(n.get("Index Cond") for n in bitmaps):
                return False
        elif node["Node Type"] not in INDEX_NODES or not node.get("Index Cond"):
            return False
    return True


def test_reader_pages_find_their_stories_through_indexes(scales):
    """Reader pages show a few stories: none reads the story tables from end to end.

    Rows fetched by a list of ids the page already chose (a few hundred cards, their
    interests) must have an index to go through, but the planner may rightly prefer
    reading a 10,000-row table for them: those are checked with sequential scans
    turned off. A listing's ``COUNT(*)`` ("page 2 of 836" counts every story it lists)
    and the queries in ``ARCHIVE_BY_DESIGN`` are left out.
    """
    story_tables = BIG_TABLES - {ROLLUPS}
    names = [n for n in READER_PAGES if n not in READS_EVERY_STORY]
    problems, checked = [], 0
    for name, sql, nodes in plans_of(scales, names, story_tables):
        checked += 1
        by_design = any(page == name and marker in sql for page, marker in ARCHIVE_BY_DESIGN)
        if sql.startswith("SELECT COUNT(*)") or by_design:
            continue
        on_stories = [n for n in nodes if n.get("Relation Name") in story_tables]
        seq = any(n["Node Type"] == "Seq Scan" for n in on_stories)
        indexed = any(n["Node Type"] in (*INDEX_NODES, "Bitmap Heap Scan") for n in on_stories)
        if not seq and indexed:
            continue
        if BY_KEYS.search(sql):
            forced = list(plan_nodes(explain(sql, seqscan=False)))
            if narrowed_by_indexes(forced, story_tables):
                continue
        problems.append(describe(name, sql, nodes))
    assert checked >= 20, "the reader pages' queries were not captured"
    assert not problems, "\n".join(problems)
