"""Per-reader story selection: which stories go into one reader's digest, in what order, and why.

Pure Python + numpy, no Django and no database: the caller loads readers and candidate stories,
``select_many`` returns the picks. ``select`` is ``select_many([reader])[0]``, so one reader and a
batch of a hundred thousand go through the same code. docs/selection.md has the formula, the
rules and how the logged probabilities feed offline evaluation.

Scoring
-------
For reader r and candidate story s::

    relevance = MATCH_WEIGHT * match(r, s)           # 0..1, interests
              + QUALITY_WEIGHT * quality(s)          # 0..1, smoothed toward QUALITY_PRIOR
              + FRESHNESS_WEIGHT * freshness(s)      # 1 when published now, halves every 14 days
              + JOURNEY_WEIGHT * journey(r, s)       # 1 when readers went on to s from r's reads

* ``match`` is the reader's weight for the best of the story's interests: FOLLOWED_WEIGHT (1.0)
  for an interest the reader follows, LEARNED_WEIGHT (0.6) times the learned weight relative to the
  reader's strongest learned interest otherwise; the larger of the two when both apply.
* ``quality`` is ``(q * e + PRIOR * STRENGTH) / (e + STRENGTH)`` with ``QUALITY_PRIOR`` (0.5),
  ``QUALITY_PRIOR_STRENGTH`` (20 engaged reads) and ``q = PRIOR`` when unknown: a story with no
  data scores the neutral prior, and a few lucky reads cannot outrank a story whose quality rests
  on hundreds.
* The digest is filled greedily by maximal marginal relevance,
  ``MMR_THETA * relevance - (1 - MMR_THETA) * max(similarity to the picks so far)``, with
  similarity the Jaccard overlap of the two stories' interest sets.

Rules (eligibility and caps)
----------------------------
* A story in ``reader.read_through`` is never picked.
* Chapter n > 1 of a series is eligible only when chapter n - 1 is in ``reader.read`` (or
  ``reader.read_through``). Chapter n - 1 is the candidate with the same ``series_id`` and part
  n - 1, or ``previous_story_id`` when that chapter is not among the candidates; a chapter whose
  predecessor is unknown is never eligible. When a later chapter is held back and the reader has
  not read chapter 1 (a candidate), chapter 1 takes the later chapter's relevance if that is
  higher. An unread chapter 1 whose later chapters are among the candidates is offered as
  "Start with chapter 1 of <series>".
* Interest cap: a pick counts against *every* interest the story carries, and no interest may
  count more than ``max(1, k // 2)`` picks. A reader who follows exactly one interest is exempt
  for that interest only. A story carrying any full interest is skipped, so a digest can come
  out shorter than ``k`` when the cap leaves nothing else.
* Exploration: when ``explore`` is on, ``k >= 2`` and more than ``k`` candidates are eligible,
  the last slot is drawn uniformly at random from the eligible stories not already picked and
  not blocked by the cap ("the rest"), and its ``probability`` is ``1 / len(rest)``. Every other
  pick is deterministic (``probability == 1.0``).
* Randomness for a reader comes from a counter-based hash of ``(seed, reader.key)`` (splitmix64),
  never from a shared stream, so a reader's picks do not depend on which other readers are in
  the batch: a resumed newsletter chunk reproduces the same picks. Pass ``now`` explicitly for
  that, too; its default is the current time.
* Candidates are handled in story-id order, whatever order they come in, and ties go to the
  lower story id.

Reasons
-------
Each pick carries one line, the first that applies: the exploration slot ("Something different:
a story outside your usual picks"); "Start with chapter 1 of <series>"; "Next in <series>:
chapter n"; "Readers who enjoyed <title> went on to this" (the strongest journey source the
reader read); "Because you follow <interest>"; "Because you read stories about <interest>";
then, for stories matching none of the reader's interests, "Readers found this helpful this
week" (published in the last 7 days, smoothed quality at or above the prior, some data), "New
this week", "Readers found this helpful" or "A story you may have missed". ``select_many``
stores a reason code per pick; the text is formatted when a reader's list is read.

Speed
-----
Readers are scored in blocks of ``BLOCK_SIZE`` as (readers x candidates) arrays. MMR runs first
over each reader's ``SHORTLISTS[0] * k`` best stories; a reader whose next pick could lie
outside (its best marginal value does not beat the best gain left out) is redone over a longer
list or all candidates, so the picks are exactly those of MMR over all candidates.
"""

import concurrent.futures
import dataclasses
import datetime
import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

# Logged with every pick; change it whenever the formula, a constant or a rule changes, so that
# offline evaluation never mixes the data of two policies.
POLICY_VERSION = "selection-1"

# Interest match
FOLLOWED_WEIGHT = 1.0
LEARNED_WEIGHT = 0.6

# Quality smoothing: the prior is worth QUALITY_PRIOR_STRENGTH engaged reads of evidence.
QUALITY_PRIOR = 0.5
QUALITY_PRIOR_STRENGTH = 20.0

# Freshness: exponential decay with this half-life.
FRESHNESS_HALF_LIFE_DAYS = 14.0

# Relevance weights.
MATCH_WEIGHT = 0.55
QUALITY_WEIGHT = 0.25
FRESHNESS_WEIGHT = 0.15
JOURNEY_WEIGHT = 0.05

# Maximal marginal relevance trade-off (POPROX uses 0.8).
MMR_THETA = 0.8

# Journeys: a path needs this many readers to count, and only the strongest sources of a story
# are looked at.
JOURNEY_MIN_COUNT = 3
JOURNEY_TOP_SOURCES = 8

# "this week" in reasons.
THIS_WEEK_DAYS = 7.0

# MMR runs over each reader's best SHORTLISTS[0] * k stories, then SHORTLISTS[1] * k... for the
# readers that need more, then over all candidates; the picks are the same as over all at once.
SHORTLISTS = (5,)

# Readers scored together; large enough to amortise numpy calls, small enough for the cache.
BLOCK_SIZE = 2048

# Reason codes, stored per pick; the text is formatted when a pick is materialised.
REASON_EXPLORE = 1
REASON_SERIES_START = 2
REASON_SERIES_NEXT = 3
REASON_JOURNEY = 4
REASON_FOLLOWED = 5
REASON_LEARNED = 6
REASON_HELPFUL_THIS_WEEK = 7
REASON_NEW_THIS_WEEK = 8
REASON_HELPFUL = 9
REASON_MISSED = 10

_U64 = 0xFFFF_FFFF_FFFF_FFFF
_KEY = operator.attrgetter("key")


@dataclasses.dataclass(frozen=True)
class Candidate:
    story_id: int
    interests: tuple[int, ...]  # AudienceInterest ids the story serves
    published_at: datetime.datetime  # aware
    quality: float | None = None  # 0..1 from engagement metrics, None = no data
    evidence: float = 0.0  # how much data stands behind quality (e.g. engaged reads)
    series_id: int | None = None
    series_part: int | None = None  # 1, 2, 3... within the series
    title: str = ""
    series_name: str = ""
    # The story id of chapter n - 1 when that chapter is not among the candidates.
    previous_story_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Reader:
    key: int  # stable id (subscriber id); seeds this reader's random stream
    followed: frozenset[int] = frozenset()  # interest ids the reader chose
    # interest id -> weight learned from engaged reads (>= 0)
    learned: Mapping[int, float] = dataclasses.field(default_factory=dict, hash=False)
    read_through: frozenset[int] = frozenset()  # read to the end: never picked again
    read: frozenset[int] = frozenset()  # engaged read or read through


@dataclasses.dataclass(frozen=True)
class Pick:
    story_id: int
    score: float  # relevance of the story for this reader (before the diversity penalty)
    reason: str  # one line shown to the reader
    probability: float  # chance this story was selected into this slot under the policy
    exploration: bool = False
    slot: int = 0  # 0-based position in the digest


def select(
    reader: Reader,
    candidates: Iterable[Candidate],
    k: int = 12,
    *,
    seed: int = 0,
    now: datetime.datetime | None = None,
    journeys: Mapping[int, Sequence[tuple[int, int]]] | None = None,
    interest_names: Mapping[int, str] | None = None,
    story_titles: Mapping[int, str] | None = None,
    explore: bool = True,
) -> list[Pick]:
    """Up to ``k`` picks for one reader; the same code path as ``select_many``."""
    if not isinstance(reader, Reader):
        raise TypeError(f"select() takes a Reader, got {type(reader).__name__}")
    return select_many(
        [reader],
        candidates,
        k,
        seed=seed,
        now=now,
        journeys=journeys,
        interest_names=interest_names,
        story_titles=story_titles,
        explore=explore,
    )[0]


def select_many(
    readers: Iterable[Reader],
    candidates: Iterable[Candidate],
    k: int = 12,
    *,
    seed: int = 0,
    now: datetime.datetime | None = None,
    journeys: Mapping[int, Sequence[tuple[int, int]]] | None = None,
    interest_names: Mapping[int, str] | None = None,
    story_titles: Mapping[int, str] | None = None,
    explore: bool = True,
    workers: int = 1,
) -> "Selection":
    """Picks for every reader, in reader order: a ``Selection`` behaving like list[list[Pick]].

    ``journeys`` maps a story id to ``(from_story_id, count)`` pairs: how many readers went on
    to it from another story. ``interest_names`` names interests in reasons; ``story_titles``
    names stories that are not candidates (a candidate's own ``title`` is used otherwise).
    ``explore=False`` leaves out the exploration slot. ``workers > 1`` scores blocks of readers
    in that many threads; the picks are the same either way.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be at least 1 (the number of picks per reader), got {k}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if isinstance(readers, Reader):
        raise TypeError("select_many() takes a sequence of Readers; use select() for one")
    readers = list(readers)
    for reader in readers:
        if not isinstance(reader, Reader):
            raise TypeError(f"select_many() takes Readers, got {type(reader).__name__}")
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")

    pool = _Pool(list(candidates), now, journeys or {})
    result = Selection(len(readers), k, pool, interest_names or {}, story_titles or {})
    if not (pool.size and readers):
        return result

    def run(start):
        block = readers[start : start + BLOCK_SIZE]
        _select_block(pool, block, k, seed, explore, result, start)

    starts = range(0, len(readers), BLOCK_SIZE)
    if workers > 1 and len(starts) > 1:
        # Blocks write disjoint rows of the result, and numpy releases the GIL in its loops.
        with concurrent.futures.ThreadPoolExecutor(workers) as executor:
            for _ in executor.map(run, starts):
                pass
    else:
        for start in starts:
            run(start)
    return result


class Selection(Sequence):
    """The picks of a batch of readers, held as arrays; ``selection[i]`` is reader i's list.

    Items are built on access, reason text included, so a caller that needs only the ids (or
    logs the arrays in bulk) does not pay for a million small objects. The arrays are public:
    ``story_ids``, ``scores``, ``probabilities``, ``exploration`` and ``reason_codes`` are
    (readers, k), padded with -1/0 past ``counts[i]`` picks.
    """

    def __init__(self, n_readers, k, pool, interest_names, story_titles):
        self.k = k
        self._pool = pool
        self._interest_names = interest_names
        self._story_titles = story_titles
        self._reasons = {}  # (code, arg, column) -> text
        self.counts = np.zeros(n_readers, dtype=np.int64)
        self._columns = np.full((n_readers, k), -1, dtype=np.int64)  # candidate, in id order
        self.scores = np.zeros((n_readers, k), dtype=np.float32)
        self.probabilities = np.zeros((n_readers, k), dtype=np.float64)
        self.exploration = np.zeros((n_readers, k), dtype=bool)
        self.reason_codes = np.zeros((n_readers, k), dtype=np.int8)
        self.reason_args = np.zeros((n_readers, k), dtype=np.int64)

    @property
    def story_ids(self) -> np.ndarray:
        """(readers, k) story ids, -1 past each reader's last pick."""
        if not self._pool.size:
            return self._columns.copy()
        return np.where(self._columns >= 0, self._pool.ids[np.maximum(self._columns, 0)], -1)

    def __len__(self) -> int:
        return len(self.counts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return list(self._lists(start, stop))
            return [self[i] for i in range(start, stop, step)]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("selection index out of range")
        return next(self._lists(index, index + 1))

    def __iter__(self):
        return self._lists(0, len(self))

    def _lists(self, start, stop, chunk=4096):
        """Reader lists for rows start..stop, converting the arrays a chunk at a time."""
        story_ids = self._pool.id_list
        reasons = self._reasons
        for first in range(start, stop, chunk):
            span = slice(first, min(stop, first + chunk))
            rows = zip(
                self.counts[span].tolist(),
                self._columns[span].tolist(),
                self.scores[span].astype(np.float64).round(6).tolist(),
                self.probabilities[span].tolist(),
                self.exploration[span].tolist(),
                self.reason_codes[span].tolist(),
                self.reason_args[span].tolist(),
                strict=True,
            )
            for count, cols, scores, chances, explored, codes, args in rows:
                picks = []
                for slot in range(count):
                    key = (codes[slot], args[slot], cols[slot])
                    reason = reasons.get(key)
                    if reason is None:
                        reason = reasons[key] = self.reason_text(*key)
                    picks.append(
                        Pick(
                            story_ids[cols[slot]],
                            scores[slot],
                            reason,
                            chances[slot],
                            explored[slot],
                            slot,
                        )
                    )
                yield picks

    def __eq__(self, other):
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"<Selection of {len(self)} readers, k={self.k}>"

    def reason_text(self, code: int, arg: int, col: int) -> str:
        """The one line shown to the reader for a pick with this reason code."""
        candidate = self._pool.candidates[col]
        if code == REASON_EXPLORE:
            return "Something different: a story outside your usual picks"
        if code == REASON_SERIES_START:
            return f"Start with chapter 1 of {candidate.series_name or 'this series'}"
        if code == REASON_SERIES_NEXT:
            series = candidate.series_name or "the series"
            return f"Next in {series}: chapter {candidate.series_part}"
        if code == REASON_JOURNEY:
            title = self._pool.titles.get(arg) or self._story_titles.get(arg)
            if title:
                return f"Readers who enjoyed {title} went on to this"
            return "Readers who enjoyed a story you read went on to this"
        if code == REASON_FOLLOWED:
            name = self._interest_names.get(arg)
            return f"Because you follow {name}" if name else "Because of a topic you follow"
        if code == REASON_LEARNED:
            name = self._interest_names.get(arg)
            return f"Because you read stories about {name}" if name else "Like stories you read"
        if code == REASON_HELPFUL_THIS_WEEK:
            return "Readers found this helpful this week"
        if code == REASON_NEW_THIS_WEEK:
            return "New this week"
        if code == REASON_HELPFUL:
            return "Readers found this helpful"
        return "A story you may have missed"


class _Pool:
    """The candidates as arrays, in story-id order, shared by every reader of a batch."""

    def __init__(self, candidates, now, journeys):
        for candidate in candidates:
            if not isinstance(candidate, Candidate):
                raise TypeError(f"candidates must be Candidates, got {type(candidate).__name__}")
        candidates = sorted(candidates, key=lambda c: c.story_id)
        self.candidates = candidates
        self.size = n = len(candidates)
        self.id_list = [c.story_id for c in candidates]
        self.ids = np.array(self.id_list, dtype=np.int64)
        if n and (np.diff(self.ids) == 0).any():
            dup = int(self.ids[1:][np.diff(self.ids) == 0][0])
            raise ValueError(f"story {dup} is among the candidates twice")
        self.titles = {c.story_id: c.title for c in candidates if c.title}
        if not n:
            return

        # Quality and freshness do not depend on the reader: computed once.
        quality = np.empty(n)
        evidence = np.empty(n)
        age_days = np.empty(n)
        for i, c in enumerate(candidates):
            if c.published_at.tzinfo is None or c.published_at.utcoffset() is None:
                raise ValueError(f"story {c.story_id}: published_at must be timezone-aware")
            e = float(c.evidence)
            if not math.isfinite(e) or e < 0:
                raise ValueError(f"story {c.story_id}: evidence must be >= 0, got {c.evidence}")
            if c.quality is None:
                q, e = QUALITY_PRIOR, 0.0
            else:
                q = float(c.quality)
                if not 0.0 <= q <= 1.0:
                    raise ValueError(f"story {c.story_id}: quality must be 0..1, got {c.quality}")
            quality[i] = (q * e + QUALITY_PRIOR * QUALITY_PRIOR_STRENGTH) / (
                e + QUALITY_PRIOR_STRENGTH
            )
            evidence[i] = e
            age_days[i] = max(0.0, (now - c.published_at).total_seconds() / 86400.0)
        freshness = 0.5 ** (age_days / FRESHNESS_HALF_LIFE_DAYS)
        self.quality = quality
        self.freshness = freshness
        self.base = (QUALITY_WEIGHT * quality + FRESHNESS_WEIGHT * freshness).astype(np.float32)

        # Reason when nothing more specific applies.
        this_week = age_days <= THIS_WEEK_DAYS
        well_read = (evidence > 0) & (quality >= QUALITY_PRIOR)
        self.fallback_reason = np.select(
            [this_week & well_read, this_week, well_read],
            [REASON_HELPFUL_THIS_WEEK, REASON_NEW_THIS_WEEK, REASON_HELPFUL],
            REASON_MISSED,
        ).astype(np.int8)

        # Interests: columns 0..I-1, then a sentinel column that is always 0 / False.
        self.interest_ids = np.array(
            sorted({i for c in candidates for i in c.interests}), dtype=np.int64
        )
        n_interests = len(self.interest_ids)
        width = max(1, max(len(set(c.interests)) for c in candidates))
        interest_col = {i: col for col, i in enumerate(self.interest_ids.tolist())}
        story_interests = np.full((n, width), n_interests, dtype=np.int64)
        for s, c in enumerate(candidates):
            cols = [interest_col[i] for i in dict.fromkeys(c.interests)]
            story_interests[s, : len(cols)] = cols
        self.story_interests = story_interests
        real = story_interests < n_interests
        shared = np.zeros((n, n), dtype=np.int64)  # a story's interests are unique
        for a in range(width):
            mine = np.where(real[:, a], story_interests[:, a], -1)[:, None]
            for b in range(width):
                shared += mine == story_interests[None, :, b]
        sizes = real.sum(axis=1)
        union = sizes[:, None] + sizes[None, :] - shared
        self.similarity = np.where(union > 0, shared / np.maximum(union, 1), 0.0).astype(np.float32)

        # Series: chapter n > 1 needs chapter n - 1 read.
        by_part = {
            (c.series_id, c.series_part): c.story_id
            for c in candidates
            if c.series_id is not None and c.series_part is not None
        }
        predecessor = {}  # column -> story id of chapter n - 1, or None when unknown
        self.part = np.zeros(n, dtype=np.int64)
        chapter_one = {}  # series id -> column of chapter 1
        for s, c in enumerate(candidates):
            if c.series_id is None or c.series_part is None:
                continue
            if c.series_part < 1:
                raise ValueError(f"story {c.story_id}: series_part must be 1 or more")
            self.part[s] = c.series_part
            if c.series_part == 1:
                chapter_one[c.series_id] = s
            elif c.previous_story_id is not None:
                predecessor[s] = c.previous_story_id
            else:
                predecessor[s] = by_part.get((c.series_id, c.series_part - 1))
        # For each later chapter, the column of its series' chapter 1 (or -1).
        self.start_of = np.full(n, -1, dtype=np.int64)
        self.has_later = np.zeros(n, dtype=bool)
        for s in predecessor:
            first = chapter_one.get(candidates[s].series_id)
            if first is not None:
                self.start_of[s] = first
                self.has_later[first] = True
        self.later_chapters = np.array(
            [s for s in range(n) if self.start_of[s] >= 0], dtype=np.int64
        )

        # Journeys: the strongest sources of each candidate.
        sources = np.full((n, JOURNEY_TOP_SOURCES), -1, dtype=np.int64)
        column = {sid: s for s, sid in enumerate(self.ids.tolist())}
        for story_id, paths in journeys.items():
            s = column.get(story_id)
            if s is None:
                continue
            strong = sorted(
                ((int(count), int(src)) for src, count in paths if count >= JOURNEY_MIN_COUNT),
                key=lambda p: (-p[0], p[1]),
            )
            strong = [src for _, src in strong if src != story_id][:JOURNEY_TOP_SOURCES]
            sources[s, : len(strong)] = strong
        self.journey_sources = sources

        # Stories whose "read" state matters: candidates, predecessors, journey sources.
        # Reader read masks have these columns plus two sentinels: FALSE_COL and TRUE_COL.
        tracked = set(self.ids.tolist())
        tracked.update(p for p in predecessor.values() if p is not None)
        tracked.update(sources[sources >= 0].tolist())
        self.tracked = np.array(sorted(tracked), dtype=np.int64)
        self.false_col = len(self.tracked)
        self.true_col = self.false_col + 1
        self.candidate_tracked = np.searchsorted(self.tracked, self.ids)
        pred_col = np.full(n, self.true_col, dtype=np.int64)
        for s, p in predecessor.items():
            pred_col[s] = self.false_col if p is None else np.searchsorted(self.tracked, p)
        self.predecessor_tracked = pred_col
        self.journey_tracked = np.where(
            sources >= 0, np.searchsorted(self.tracked, np.maximum(sources, 0)), self.false_col
        )
        # The same journeys the other way round (source column -> candidates), CSR-style.
        has = sources >= 0
        source_cols = self.journey_tracked[has]
        targets = np.broadcast_to(np.arange(n)[:, None], sources.shape)[has]
        order = np.argsort(source_cols, kind="stable")
        self.journey_targets = targets[order]
        self.journey_ptr = np.searchsorted(source_cols[order], np.arange(len(self.tracked) + 3))

        self.tracked_lookup = _Lookup(self.tracked)
        self.interest_lookup = _Lookup(self.interest_ids)
        # MMR works on n + 1 columns: the last is a "no story" that is never eligible, pads
        # shortlists and stands for "no pick" (similarity 0, interests all the sentinel).
        penalised = np.zeros((n + 1, n + 1), dtype=np.float32)
        penalised[:n, :n] = np.float32(1.0 - MMR_THETA) * self.similarity
        self.penalised_similarity = penalised
        # interest column -> which candidates carry it (the sentinel row carries none).
        self.interest_stories = np.zeros((n_interests + 1, n + 1), dtype=bool)
        self.interest_stories[story_interests.T, np.arange(n)] = True
        self.interest_stories[n_interests] = False
        self.story_interests_ext = np.vstack(
            [story_interests, np.full((1, width), n_interests, dtype=np.int64)]
        )


class _Lookup:
    """Column of each id in a sorted id array: bisection, or a dense table for big batches."""

    DENSE_LIMIT = 1 << 22

    def __init__(self, ids):
        self.ids = ids
        self.table = None

    def find(self, values):
        """(columns, hit): hit is False where the value is not among the ids."""
        ids = self.ids
        if (
            self.table is None
            and len(ids)
            and ids[0] >= 0
            and ids[-1] < min(self.DENSE_LIMIT, 8 * len(values))
        ):
            # Worth it when there are more values to look up than table entries to fill.
            # Filled before it is published: threads scoring other blocks may read it.
            table = np.full(int(ids[-1]) + 2, -1, dtype=np.int64)
            table[ids] = np.arange(len(ids))
            self.table = table
        table = self.table
        if table is not None:
            last = len(table) - 1  # always -1: out-of-range values land there
            cols = table[np.where((values >= 0) & (values < last), values, last)]
            return cols, cols >= 0
        if not len(self.ids):
            return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
        cols = np.minimum(np.searchsorted(self.ids, values), len(self.ids) - 1)
        return cols, self.ids[cols] == values


def _flatten(readers, attr):
    """Every reader's ``attr`` ids in one array, with the reader's row for each."""
    get = operator.attrgetter(attr)
    lengths = np.fromiter(map(len, map(get, readers)), np.int64, count=len(readers))
    ids = np.fromiter(
        itertools.chain.from_iterable(map(get, readers)), np.int64, count=int(lengths.sum())
    )
    return np.repeat(np.arange(len(readers)), lengths), ids


def _members(readers, attr, lookup):
    """Rows and columns of the ids each reader holds in ``attr`` that ``lookup`` knows."""
    rows, ids = _flatten(readers, attr)
    cols, hit = lookup.find(ids)
    return rows[hit], cols[hit]


def _hash_uniform(seed: int, keys: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) per key from splitmix64 of (seed, key): no state shared between readers."""

    def mix(z):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    seeded = mix(np.full(keys.shape, seed & _U64, dtype=np.uint64))
    z = mix(seeded ^ mix(keys))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _select_block(pool, readers, k, seed, explore, out, offset):
    n_readers, n = len(readers), pool.size
    n_interests = len(pool.interest_ids)
    rows_all = np.arange(n_readers)

    # What each reader has read, over the tracked stories (+ the two sentinel columns).
    read = np.zeros((n_readers, len(pool.tracked) + 2), dtype=bool)
    read[:, pool.true_col] = True
    through_rows, through_cols = _members(readers, "read_through", pool.tracked_lookup)
    read[through_rows, through_cols] = True
    read_through = read[:, pool.candidate_tracked]  # a copy, taken before plain reads
    read_rows, read_cols = _members(readers, "read", pool.tracked_lookup)
    read[read_rows, read_cols] = True

    # Interest weights per reader: followed, learned (relative to the reader's strongest).
    followed = np.zeros((n_readers, n_interests + 1), dtype=bool)
    rows, cols = _members(readers, "followed", pool.interest_lookup)
    followed[rows, cols] = True
    n_followed = np.fromiter((len(r.followed) for r in readers), np.int64, count=n_readers)
    learned = np.zeros((n_readers, n_interests + 1), dtype=np.float32)
    rows, ids = _flatten(readers, "learned")
    if len(rows):
        weights = np.fromiter(
            itertools.chain.from_iterable(r.learned.values() for r in readers),
            np.float64,
            count=len(rows),
        )
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            reader = readers[int(rows[bad][0])]
            raise ValueError(f"reader {reader.key}: learned weights must be finite and >= 0")
        strongest = np.zeros(n_readers)
        np.maximum.at(strongest, rows, weights)
        relative = weights / np.where(strongest[rows] > 0, strongest[rows], 1.0)
        cols, hit = pool.interest_lookup.find(ids)
        learned[rows[hit], cols[hit]] = relative[hit]
    profile = np.maximum(
        np.float32(FOLLOWED_WEIGHT) * followed, np.float32(LEARNED_WEIGHT) * learned
    )

    # Relevance (readers x candidates).
    interests = pool.story_interests
    match = profile[:, interests[:, 0]]
    for w in range(1, interests.shape[1]):
        np.maximum(match, profile[:, interests[:, w]], out=match)
    journey = np.zeros((n_readers, n), dtype=np.float32)
    rows = np.concatenate([through_rows, read_rows])
    cols = np.concatenate([through_cols, read_cols])
    starts = pool.journey_ptr[cols]
    counts = pool.journey_ptr[cols + 1] - starts
    if counts.any():
        total = int(counts.sum())
        ends = np.cumsum(counts)
        within = np.arange(total) - np.repeat(ends - counts, counts)
        targets = pool.journey_targets[np.repeat(starts, counts) + within]
        journey[np.repeat(rows, counts), targets] = JOURNEY_WEIGHT
    relevance = np.float32(MATCH_WEIGHT) * match
    relevance += pool.base
    relevance += journey

    # Eligibility: never a story read through; chapter n > 1 only after chapter n - 1.
    predecessor_read = read[:, pool.predecessor_tracked]
    eligible = ~read_through & predecessor_read
    # A held-back later chapter lends its relevance to an unstarted chapter 1.
    for s in pool.later_chapters:
        first = pool.start_of[s]
        lend = ~predecessor_read[:, s] & ~read[:, pool.candidate_tracked[first]]
        lend &= ~read_through[:, s]
        relevance[:, first] = np.where(
            lend, np.maximum(relevance[:, first], relevance[:, s]), relevance[:, first]
        )

    # A reader following exactly one interest is exempt from the cap for that one.
    exempt = followed & (n_followed == 1)[:, None]
    exempt[:, n_interests] = True
    explores = eligible.sum(axis=1) > k if (explore and k >= 2) else np.zeros(n_readers, bool)
    steps = np.where(explores, k - 1, k)

    gain = np.float32(MMR_THETA) * relevance
    masked = np.full((n_readers, n + 1), -np.inf, dtype=np.float32)
    np.copyto(masked[:, :n], gain, where=eligible)
    picks = np.full((n_readers, k), -1, dtype=np.int64)
    counts = np.zeros((n_readers, n_interests + 1), dtype=np.int64)
    pending = rows_all
    for size in SHORTLISTS:
        # MMR over each reader's best `size` stories only. A reader whose next pick could come
        # from outside (its best marginal does not beat the best gain left out) goes on to the
        # next, longer list, and finally to all candidates: the result is exactly full MMR.
        size *= k
        if size >= n or not len(pending):
            break
        sub = masked[pending]
        # The ceiling is the (size + 1)-th best gain; the shortlist is what beats it strictly
        # (at most `size` stories, in column order, padded with the "no story" column).
        ceiling = np.partition(sub[:, :n], n - size - 1, axis=1)[:, n - size - 1]
        inside = sub > ceiling[:, None]
        per_row = inside.sum(axis=1)
        row_start = np.repeat(np.arange(len(pending)) * (n + 1), per_row)
        rank = np.arange(int(per_row.sum())) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        columns = np.full((len(pending), size), n, dtype=np.int64)
        columns[np.repeat(np.arange(len(pending)), per_row), rank] = (
            np.flatnonzero(inside) - row_start
        )
        got, used, redo = _greedy(pool, columns, sub, ceiling, steps[pending], exempt[pending], k)
        picks[pending[~redo]] = got[~redo]
        counts[pending[~redo]] = used[~redo]
        pending = pending[redo]
    if len(pending):
        ceiling = np.full(len(pending), -np.inf, dtype=np.float32)
        got, used, _ = _greedy(
            pool, None, masked[pending], ceiling, steps[pending], exempt[pending], k
        )
        picks[pending], counts[pending] = got, used
    probability = (picks >= 0).astype(np.float64)
    explored = np.zeros((n_readers, k), dtype=bool)

    idx = np.flatnonzero(explores)
    if len(idx):
        # The exploration slot: uniform over the rest, with its probability logged.
        rest = eligible[idx]
        done = picks[idx, : k - 1]
        taken = done >= 0
        rest[np.nonzero(taken)[0], done[taken]] = False
        full = (counts[idx] >= max(1, k // 2)) & ~exempt[idx]
        if full.any():
            rest &= ~full[:, interests].any(axis=2)
        n_rest = rest.sum(axis=1)
        draw = _hash_uniform(seed, _keys(readers)[idx])
        small = np.int16 if n < 32_000 else np.int64
        target = np.floor(draw * n_rest).astype(small)
        chosen = (np.cumsum(rest, axis=1, dtype=small) > target[:, None]).argmax(axis=1)
        has = n_rest > 0
        picks[idx[has], k - 1] = chosen[has]
        probability[idx[has], k - 1] = 1.0 / n_rest[has]
        explored[idx[has], k - 1] = True

    # A reader's picks fill slots 0..n-1 without gaps; explain each pick.
    valid = picks >= 0
    col = np.maximum(picks, 0)
    r2 = rows_all[:, None]

    code = pool.fallback_reason[col]
    # Gathers through flat indices: much cheaper than numpy's broadcast fancy indexing.
    interest_cols = interests[col] + (rows_all * (n_interests + 1))[:, None, None]  # R x k x W
    learned_w = learned.ravel().take(interest_cols)
    has_learned = learned_w.max(axis=2) > 0
    code[has_learned] = REASON_LEARNED
    arg = np.where(has_learned, _interest_id(pool, col, learned_w.argmax(axis=2)), 0)
    followed_i = followed.ravel().take(interest_cols)
    has_followed = followed_i.any(axis=2)
    code[has_followed] = REASON_FOLLOWED
    arg = np.where(has_followed, _interest_id(pool, col, followed_i.argmax(axis=2)), arg)
    read_base = (rows_all * read.shape[1])[:, None]
    source_read = read.ravel().take(pool.journey_tracked[col] + read_base[..., None])
    has_journey = source_read.any(axis=2)
    code[has_journey] = REASON_JOURNEY
    first_source = np.take_along_axis(
        pool.journey_sources[col], source_read.argmax(axis=2)[..., None], axis=2
    )[..., 0]
    arg = np.where(has_journey, first_source, arg)
    code[pool.part[col] > 1] = REASON_SERIES_NEXT
    unstarted = ~read.ravel().take(pool.candidate_tracked[col] + read_base)
    code[pool.has_later[col] & unstarted] = REASON_SERIES_START
    code[explored] = REASON_EXPLORE
    code[~valid] = 0

    span = slice(offset, offset + n_readers)
    out._columns[span] = picks
    out.counts[span] = valid.sum(axis=1)
    out.scores[span] = np.where(valid, relevance.ravel().take(col + r2 * n), 0.0)
    out.probabilities[span] = probability
    out.exploration[span] = explored
    out.reason_codes[span] = code
    out.reason_args[span] = arg


def _greedy(pool, columns, masked, ceiling, steps, exempt, k):
    """Greedy MMR under the interest cap, over ``columns`` (readers x C, ascending) or all.

    ``masked`` is the MMR gain over all candidates, -inf where not eligible; ``ceiling`` the
    best gain among eligible stories left out of ``columns``. Returns the picks (readers x k,
    -1 past the end), the per-interest pick counts, and the readers that must be redone with
    more candidates because a story left out might have been the right next pick.
    """
    n_readers, n = masked.shape
    rows_all = np.arange(n_readers)
    if columns is None:
        gain = masked
        penalised = pool.penalised_similarity  # rows: the pick; columns: every candidate
    else:
        gain = np.take_along_axis(masked, columns, axis=1)
        penalised_flat = pool.penalised_similarity.ravel()
        offsets = columns  # the pick's row offset is added per step
    # marginal = gain - penalty * (max similarity to the picks so far); -inf once unavailable.
    # Updating it as min(marginal, gain - penalty * similarity to the new pick) is the same
    # number, since rounding is monotone.
    marginal = gain.copy()
    cap = max(1, k // 2)
    dummy = pool.size  # "no pick": similarity 0, interests all the sentinel
    counts = np.zeros((n_readers, len(pool.interest_ids) + 1), dtype=np.int64)
    counts_flat, exempt_flat = counts.ravel(), exempt.ravel()
    count_base = (rows_all * counts.shape[1])[:, None]
    picks = np.full((n_readers, k), -1, dtype=np.int64)
    redo = np.zeros(n_readers, dtype=bool)
    for slot in range(int(steps.max(initial=0))):
        best = marginal.argmax(axis=1)
        value = marginal[rows_all, best]
        wanted = slot < steps
        took = wanted & (value > -np.inf) & (value > ceiling)
        redo |= wanted & ~took & (ceiling > -np.inf)
        took &= ~redo
        if not took.any():
            break
        story = best if columns is None else columns[rows_all, best]
        chosen = np.where(took, story, dummy)
        picks[took, slot] = chosen[took]
        marginal[rows_all[took], best[took]] = -np.inf
        if columns is None:
            penalty = penalised[chosen]
        else:
            penalty = penalised_flat.take(offsets + (chosen * n)[:, None])
        np.minimum(marginal, gain - penalty, out=marginal)

        interests = pool.story_interests_ext[chosen]
        cells = interests + count_base  # flat indices into counts / exempt
        counts_flat[cells] += 1  # a story's interests are unique, the sentinel is exempt
        newly = (counts_flat[cells] == cap) & ~exempt_flat[cells] & took[:, None]
        if newly.any():
            hit = np.flatnonzero(newly.any(axis=1))
            full = np.where(newly[hit], interests[hit], len(pool.interest_ids))
            blocked = pool.interest_stories[full].any(axis=1)
            if columns is not None:
                blocked = np.take_along_axis(blocked, columns[hit], axis=1)
            marginal[hit] = np.where(blocked, -np.inf, marginal[hit])
    return picks, counts, redo


def _interest_id(pool, col, which):
    """The interest id at position ``which`` of the interests of the story in column ``col``."""
    cols = np.take_along_axis(pool.story_interests[col], which[..., None], axis=2)[..., 0]
    return np.append(pool.interest_ids, -1)[cols]


def _keys(readers):
    """Each reader's key as the 64-bit word its random stream is seeded with."""
    try:
        keys = np.fromiter(map(_KEY, readers), np.int64, count=len(readers))
    except OverflowError:
        keys = np.fromiter((r.key & _U64 for r in readers), np.uint64, count=len(readers))
    return keys.view(np.uint64)
