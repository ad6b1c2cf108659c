"""Selection benchmark: 12 picks for each of 100,000 readers out of 200 candidate stories.

Everything is synthetic and made here (no database, no Django): about 40 interests of uneven
popularity, 1,000 stories of which the 200 newest are candidates (1-3 interests each, some in
series, quality and evidence spread from none to thousands of reads, journeys into many of
them), and readers who follow 1-5 interests, have learned weights for a few more and have read
about 20 stories to the end. The timed part is ``stories.selection.select_many`` over all
readers, which computes every pick's story id, score, probability and reason code; the reason
*text* and the ``Pick`` objects are built when a reader's list is read, and that is timed
separately, for a sample and for everyone.

    .venv/bin/python bench/selection.py [--readers N] [--candidates S] [--k K] [--seed X]
                                        [--repeats R]

Stdout carries a table, a check of the rules on a sample, then, as its last line, one JSON
object: {"readers": N, "candidates": S, "k": K, "seconds": X, ...}
"""

import argparse
import datetime
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stories.selection import Candidate, Reader, select_many

N_INTERESTS = 40
HISTORY = 800  # older stories readers may have read, besides the candidates
NOW = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.UTC)


def make_candidates(rng, n_candidates):
    """Candidates and journeys; ids 1..HISTORY are older stories, the candidates come after."""
    popularity = 1.0 / np.arange(1, N_INTERESTS + 1) ** 0.8
    popularity /= popularity.sum()
    candidates = []
    story_id = HISTORY + 1
    series_id = 0
    while len(candidates) < n_candidates:
        n_interests = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        interests = tuple(
            int(i) + 1 for i in rng.choice(N_INTERESTS, n_interests, replace=False, p=popularity)
        )
        parts = int(rng.choice([2, 3, 4])) if rng.random() < 0.06 else 1
        if parts > 1:
            series_id += 1
        older_first = parts > 1 and rng.random() < 0.3  # chapter 1 is past the candidate window
        for part in range(1, parts + 1):
            if len(candidates) >= n_candidates:
                break
            if part == 1 and older_first:
                continue
            has_data = rng.random() < 0.8
            candidates.append(
                Candidate(
                    story_id=story_id + part - 1,
                    interests=interests,
                    published_at=NOW - datetime.timedelta(days=float(rng.uniform(0, 60))),
                    quality=float(rng.beta(4, 3)) if has_data else None,
                    evidence=float(rng.lognormal(3, 1.5)) if has_data else 0.0,
                    series_id=series_id if parts > 1 else None,
                    series_part=part if parts > 1 else None,
                    title=f"Story {story_id + part - 1}",
                    series_name=f"Series {series_id}" if parts > 1 else "",
                    previous_story_id=(
                        int(rng.integers(1, HISTORY + 1)) if part == 2 and older_first else None
                    ),
                )
            )
        story_id += parts
    all_ids = np.arange(1, story_id)
    journeys = {}
    for c in candidates:
        if rng.random() < 0.6:
            sources = rng.choice(all_ids, int(rng.integers(1, 11)), replace=False)
            counts = rng.integers(1, 50, len(sources))
            journeys[c.story_id] = [(int(s), int(n)) for s, n in zip(sources, counts, strict=True)]
    return candidates, journeys, popularity, story_id - 1


def make_readers(rng, n_readers, candidates, popularity, last_id):
    """Readers drawn in bulk: followed and learned interests weighted by popularity (Gumbel
    top-k, so without repeats), about 20 read-throughs (a third among the candidates) and
    about 5 more engaged reads."""
    candidate_ids = np.array([c.story_id for c in candidates])
    ranked = np.argsort(
        -(np.log(popularity) + rng.gumbel(size=(n_readers, N_INTERESTS))), axis=1
    ).tolist()
    n_followed = rng.integers(1, 6, n_readers).tolist()
    n_learned = rng.integers(0, 5, n_readers).tolist()
    weights = rng.gamma(2.0, 2.0, (n_readers, 4)).tolist()
    n_through = rng.poisson(20, n_readers)
    n_from_candidates = np.minimum(n_through // 3, len(candidate_ids))
    n_engaged = rng.poisson(5, n_readers)
    through_ids = rng.integers(1, last_id + 1, int(n_through.sum()))
    starts = np.cumsum(n_through) - n_through
    # The first third of each reader's read-throughs are candidates.
    offsets = np.arange(len(through_ids)) - np.repeat(starts, n_through)
    in_candidates = offsets < np.repeat(n_from_candidates, n_through)
    through_ids[in_candidates] = rng.choice(candidate_ids, int(in_candidates.sum()))
    through_ids = through_ids.tolist()
    engaged_ids = rng.integers(1, last_id + 1, int(n_engaged.sum())).tolist()
    through_ends = np.cumsum(n_through).tolist()
    engaged_ends = np.cumsum(n_engaged).tolist()

    readers = []
    through_start = engaged_start = 0
    for i in range(n_readers):
        # Learned interests come from further down the same ranking: never a followed one.
        learned_ids = ranked[i][n_followed[i] : n_followed[i] + n_learned[i]]
        read_through = frozenset(through_ids[through_start : through_ends[i]])
        engaged = frozenset(engaged_ids[engaged_start : engaged_ends[i]])
        through_start, engaged_start = through_ends[i], engaged_ends[i]
        readers.append(
            Reader(
                key=i + 1,
                followed=frozenset(c + 1 for c in ranked[i][: n_followed[i]]),
                learned={c + 1: w for c, w in zip(learned_ids, weights[i], strict=False)},
                read_through=read_through,
                read=read_through | engaged,
            )
        )
    return readers


def check_rules(picks_by_reader, readers, candidates, k):
    """Count rule violations in a sample: read-through picks, cap, exploration slot."""
    by_id = {c.story_id: c for c in candidates}
    cap = max(1, k // 2)
    problems = Counter()
    exploring = 0
    for reader, picks in zip(readers, picks_by_reader, strict=True):
        ids = [p.story_id for p in picks]
        if len(set(ids)) != len(ids):
            problems["duplicate pick"] += 1
        if any(i in reader.read_through for i in ids):
            problems["read-through picked"] += 1
        per_interest = Counter(i for s in ids for i in set(by_id[s].interests))
        exempt = set(reader.followed) if len(reader.followed) == 1 else set()
        if any(n > cap for i, n in per_interest.items() if i not in exempt):
            problems["cap broken"] += 1
        for s in ids:
            c = by_id[s]
            if c.series_part and c.series_part > 1:
                previous = c.previous_story_id or next(
                    (
                        o.story_id
                        for o in candidates
                        if o.series_id == c.series_id and o.series_part == c.series_part - 1
                    ),
                    None,
                )
                if previous not in reader.read:
                    problems["series order broken"] += 1
        explored = [p for p in picks if p.exploration]
        if len(explored) > 1:
            problems["more than one exploration slot"] += 1
        if explored:
            exploring += 1
            if not 0 < explored[0].probability < 1:
                problems["bad exploration probability"] += 1
        elif len(picks) == k:
            problems["full digest without exploration"] += 1
        if any(p.probability != 1.0 for p in picks if not p.exploration):
            problems["deterministic pick with probability != 1"] += 1
        if any(not p.reason for p in picks):
            problems["pick without reason"] += 1
    return problems, exploring


def table(rows):
    widths = [max(len(str(row[c])) for row in rows) for c in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(cell).rjust(widths[c]) for c, cell in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()

    load = os.getloadavg()[0]
    rng = np.random.default_rng(args.seed)
    candidates, journeys, popularity, last_id = make_candidates(rng, args.candidates)
    readers = make_readers(rng, args.readers, candidates, popularity, last_id)
    interest_names = {i: f"Interest {i}" for i in range(1, N_INTERESTS + 1)}
    options = {"seed": args.seed, "now": NOW, "journeys": journeys}
    options["interest_names"] = interest_names

    # The synthetic input (100,000 readers, each with a few sets) stays alive all run; without
    # this every full garbage collection would walk it, which a service selecting for one chunk
    # of readers at a time does not pay.
    gc.collect()
    gc.freeze()
    select_many(readers[:1_000], candidates, args.k, **options)  # warm-up
    runs = {}  # threads -> [(wall s, cpu s)]
    for workers in (1, 2):
        runs[workers] = []
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            result = select_many(readers, candidates, args.k, workers=workers, **options)
            runs[workers].append((time.perf_counter() - wall, time.process_time() - cpu))
    seconds = statistics.median(wall for wall, _ in runs[1])
    seconds_2 = statistics.median(wall for wall, _ in runs[2])
    cpu_seconds = statistics.median(cpu for _, cpu in runs[1])

    sample = min(args.sample, len(readers))
    start = time.perf_counter()
    sample_picks = result[:sample]
    sample_seconds = time.perf_counter() - start
    start = time.perf_counter()
    all_picks = list(result)
    all_seconds = time.perf_counter() - start
    n_picks = sum(len(p) for p in all_picks)

    print(
        f"{len(readers):,} readers x {len(candidates)} candidates, k={args.k}, "
        f"{sum(len(j) for j in journeys.values()):,} journey paths, "
        f"{len({c.series_id for c in candidates if c.series_id})} series; "
        f"median of {args.repeats} runs"
    )
    print("select_many computes ids, scores, probabilities and reason codes; reason text and")
    print("Pick objects are built on access and timed separately below. The input is frozen")
    print("out of the garbage collector (gc.freeze) before timing. cpu s is process time,")
    print("which other load on the machine inflates less than wall-clock seconds.")
    print()
    rows = [("step", "readers", "candidates", "k", "seconds", "best", "cpu s", "readers/s")]
    for workers, label in ((1, "select_many"), (2, "select_many, 2 threads")):
        walls = [wall for wall, _ in runs[workers]]
        wall = statistics.median(walls)
        rows.append(
            (
                label,
                len(readers),
                len(candidates),
                args.k,
                f"{wall:.3f}",
                f"{min(walls):.3f}",
                f"{statistics.median(cpu for _, cpu in runs[workers]):.3f}",
                f"{len(readers) / wall:,.0f}",
            )
        )
    for label, n, spent in (
        ("materialise sample", sample, sample_seconds),
        ("materialise all", len(readers), all_seconds),
    ):
        rows.append((label, n, "", "", f"{spent:.3f}", "", "", f"{n / spent:,.0f}"))
    table(rows)
    for workers, timed in runs.items():
        walls = ", ".join(f"{wall:.3f}" for wall, _ in timed)
        print(f"runs, {workers} thread(s): {walls} s")
    print(f"{n_picks:,} picks in all; load average before the run: {load:.2f}")

    problems, exploring = check_rules(sample_picks, readers[:sample], candidates, args.k)
    reasons = Counter(p.reason.split(" ")[0] for picks in sample_picks for p in picks)
    print()
    print(f"rule check on {sample:,} readers: {exploring:,} with an exploration slot; ", end="")
    print("violations: " + (", ".join(f"{k} {n}" for k, n in problems.items()) or "none"))
    print("reasons (first word): " + ", ".join(f"{w} {n}" for w, n in reasons.most_common()))
    print(
        json.dumps(
            {
                "readers": len(readers),
                "candidates": len(candidates),
                "k": args.k,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "seconds_2_threads": round(seconds_2, 3),
                "materialise_all_seconds": round(all_seconds, 3),
                "violations": sum(problems.values()),
            }
        )
    )
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
