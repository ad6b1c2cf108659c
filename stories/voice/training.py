"""Build the learned layer (``model.json``) from the labelled corpus, and score it.

The corpus (``corpus/raw/*.jsonl``, described in docs/voice.md, "The corpus") holds items
of brand copy — sentences, social posts, paragraphs — each labelled ``salesy`` or not and
with the kind of text it is. ``split`` assigns every item once to train (70 %), dev (15 %)
or test (15 %) by a hash of its text, so the assignment never changes when items are added
and no item is in two splits. ``train`` learns from train and the old test split
(``LEARN_FROM``: test was scored once and reported, then folded in); dev is learned from by
no model. The judge is the held-out set (``HELDOUT``), written by someone who has not seen
the model and scored once, at the end, by ``evaluate`` (``manage.py train_voice --evaluate
heldout``).

How it learns. The check reads runs of one to three sentences (``engine.WINDOW``), but the
corpus labels items: a salesy paragraph may hold one selling sentence among story
sentences. So the model learns in two rounds: first from every run of a non-salesy item
(not selling) and from each salesy item short enough to be one run (selling); then each
longer salesy item adds the run the first model finds most selling (multiple-instance
learning, the usual heuristic). A second model, over the selling runs, learns which kind
of pitch each is (for the suggestion). Both are scikit-learn's ``LogisticRegression``
(liblinear), with a
fixed seed: the same corpus gives the same weights, to the fourth decimal kept.

The cutoff (the probability at which a sentence sells) and the regularisation are chosen
for recall while precision stays at or over ``PRECISION_FLOOR`` on items scored out of
sample: cross-validation over what it learns from, and dev (``tune``). Items are scored
exactly as the engine scores them (the most selling run decides).

scikit-learn is needed here only (the test extra installs it); the check itself reads the
weights with dictionary look-ups (``model.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stories.voice import engine
from stories.voice.model import MODEL_PATH

CORPUS = Path(__file__).with_name("corpus")
SPLITS = ("train", "dev", "test")
#: What the model learns from. The old test split was scored once and reported (0.984
#: precision, 0.841 recall), then folded in: a fresh held-out set (``HELDOUT``) judges now.
LEARN_FROM = ("train", "test")
#: Written by someone who has not seen the model; scored once (``--evaluate heldout``).
HELDOUT = Path(__file__).with_name("heldout")
SEED = 7
#: Out-of-sample precision the cutoff must keep (``tune``). 0.95 is asked of the held-out set;
#: a point of margin: a false flag blocks a story or an edition, a miss only lets a soft line
#: through.
PRECISION_FLOOR = 0.98
#: 0.25 lost recall at the floor in every cross-validation tried; each value costs a round.
C_GRID = (0.5, 1.0)
#: Cross-validation over ``LEARN_FROM`` chooses C and the cutoff.
FOLDS = 5
#: Soft pitches are every selling kind but this one (their recall is reported apart).
BLATANT = "blatant"
#: A feature must occur in this many training runs to get a weight.
MIN_COUNT = 2
FIELDS = {"text": str, "salesy": bool, "kind": str, "form": str, "industry": str, "locale": str}
FORMS = ("sentence", "post", "paragraph")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def item_id(text: str) -> str:
    return hashlib.sha256(_normal(text).encode("utf-8")).hexdigest()[:16]


def split_of(text: str) -> str:
    bucket = int(item_id(text), 16) % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


def read_raw(folder: Path = CORPUS / "raw") -> list[dict]:
    """Every item of the raw files, checked, first copy of each text kept."""
    rows, seen, problems = [], set(), []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{path.name}:{number}: {error}")
                continue
            wrong = [
                name
                for name, kind in FIELDS.items()
                if not isinstance(row.get(name), kind) or (kind is str and not row[name].strip())
            ]
            if wrong or row["form"] not in FORMS:
                problems.append(f"{path.name}:{number}: bad {', '.join(wrong) or 'form'}")
                continue
            key = item_id(row["text"])
            if key in seen:
                continue
            seen.add(key)
            rows.append({"id": key, **{name: row[name] for name in FIELDS}, "source": path.stem})
    if problems:
        raise ValueError("The corpus has bad lines:\n" + "\n".join(problems[:20]))
    return rows


def write_splits(rows: list[dict], folder: Path = CORPUS) -> dict[str, int]:
    parts: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for row in sorted(rows, key=lambda r: r["id"]):
        parts[split_of(row["text"])].append(row)
    for name, part in parts.items():
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in part)
        (folder / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    return {name: len(part) for name, part in parts.items()}


def read_split(name: str, folder: Path = CORPUS) -> list[dict]:
    path = folder / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --- Learning -------------------------------------------------------------------------------


@dataclass
class Prepared:
    """One item as the engine reads it: its runs of sentences and their features."""

    row: dict
    count: int = 0  # sentences
    rules: float = 0.0  # the rules' score of the whole item
    windows: list[tuple[int, int]] = field(default_factory=list)
    features: list[dict] = field(default_factory=list)  # {feature: value} per window


def prepare(rows: list[dict]) -> list[Prepared]:
    prepared = []
    for row in rows:
        doc = engine._analyse(row["text"], (), (), use_model=False)
        item = Prepared(
            row, rules=engine._text_score([engine._sentence_score(g) for g in doc.groups])
        )
        for first, last, found in engine.model_inputs(row["text"]):
            item.windows.append((first, last))
            item.features.append({name: value for name, (value, _s, _e) in found.items()})
            item.count = max(item.count, last + 1)
        prepared.append(item)
    return prepared


def _ratios(units, labels, alpha: float = 1.0) -> dict[str, float]:
    """Each feature's log-count ratio between selling and other runs (smoothed by ``alpha``)."""
    selling, other = Counter(), Counter()
    for unit, label in zip(units, labels, strict=True):
        (selling if label else other).update(unit)
    names = set(selling) | set(other)
    total_selling = sum(selling.values()) + alpha * len(names)
    total_other = sum(other.values()) + alpha * len(names)
    return {
        name: math.log(
            ((selling[name] + alpha) / total_selling) / ((other[name] + alpha) / total_other)
        )
        for name in names
    }


def _fit(units, labels, c: float):
    """Logistic regression on features scaled by their log-count ratios (NB-weighted, as in
    Wang and Manning's "Baselines and bigrams", 2012: on a corpus this size it kept dev
    precision with about three points more recall than plain weights). The weights returned
    are for the unscaled features, so the check multiplies nothing."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(name for unit in units for name in unit)
    kept = [{n: v for n, v in unit.items() if counts[n] >= MIN_COUNT} for unit in units]
    ratios = _ratios(kept, labels)
    scaled = [{n: v * ratios[n] for n, v in unit.items()} for unit in kept]
    vectorizer = DictVectorizer(sort=True)
    matrix = _int32(vectorizer.fit_transform(scaled))
    classifier = LogisticRegression(C=c, solver="liblinear", random_state=SEED, max_iter=1000)
    classifier.fit(matrix, labels)
    names = vectorizer.get_feature_names_out()
    classifier.coef_[0] = [w * ratios[n] for n, w in zip(names, classifier.coef_[0], strict=True)]
    return vectorizer, classifier


def _int32(matrix):
    """liblinear takes 32-bit indices only; DictVectorizer may give 64-bit ones."""
    matrix = matrix.tocsr()
    matrix.indices = matrix.indices.astype("int32")
    matrix.indptr = matrix.indptr.astype("int32")
    return matrix


def _weights(vectorizer, classifier) -> tuple[float, dict[str, float]]:
    weights = {
        name: round(float(w), 4)
        for name, w in zip(vectorizer.get_feature_names_out(), classifier.coef_[0], strict=True)
        if abs(w) >= 1e-3
    }
    return round(float(classifier.intercept_[0]), 4), weights


def _probabilities(bias: float, weights: dict[str, float], sentences: list[dict]) -> list[float]:
    from stories.voice.model import Model

    model = Model({"bias": bias, "weights": weights, "cutoff": 0.5, "kinds": _NO_KINDS})
    return [
        model.probability({n: (v, -1, -1) for n, v in sentence.items()}) for sentence in sentences
    ]


_NO_KINDS = {"labels": ["other"], "bias": [0.0], "weights": {}}


def _whole(item: Prepared) -> int | None:
    """The window that is the whole item, when the learned layer reads it in one run."""
    return item.windows.index((0, item.count - 1)) if item.count <= engine.WINDOW else None


def _units(items: list[Prepared], chosen: dict[int, int] | None):
    units, labels = [], []
    for index, item in enumerate(items):
        if not item.row["salesy"]:
            units += item.features
            labels += [0] * len(item.features)
        elif _whole(item) is not None:
            units.append(item.features[_whole(item)])
            labels.append(1)
        elif chosen is not None:
            units.append(item.features[chosen[index]])
            labels.append(1)
    return units, labels


def learn(items: list[Prepared], c: float) -> tuple[float, dict[str, float], list]:
    """The two rounds: returns the bias, the weights and the selling runs (features, kind)."""
    units, labels = _units(items, None)
    bias, weights = _weights(*_fit(units, labels, c))
    chosen = {}
    for index, item in enumerate(items):
        if item.row["salesy"] and _whole(item) is None:
            probabilities = _probabilities(bias, weights, item.features)
            chosen[index] = max(range(len(probabilities)), key=probabilities.__getitem__)
    units, labels = _units(items, chosen)
    bias, weights = _weights(*_fit(units, labels, c))
    selling = []
    for index, item in enumerate(items):
        if item.row["salesy"]:
            window = _whole(item) if _whole(item) is not None else chosen[index]
            selling.append((item.features[window], item.row["kind"]))
    return bias, weights, selling


def learn_kinds(selling: list) -> dict:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    words = [
        {n: v for n, v in sentence.items() if not n.startswith("rule")} for sentence, _ in selling
    ]
    counts = Counter(name for unit in words for name in unit)
    words = [{n: v for n, v in unit.items() if counts[n] >= MIN_COUNT} for unit in words]
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(words)
    kinds = [kind for _, kind in selling]
    classifier = LogisticRegression(C=1.0, random_state=SEED, max_iter=2000)
    classifier.fit(matrix, kinds)
    labels = [str(label) for label in classifier.classes_]
    table = {}
    for j, name in enumerate(vectorizer.get_feature_names_out()):
        row = [round(float(classifier.coef_[k][j]), 3) for k in range(len(labels))]
        if max(abs(w) for w in row) >= 0.01:
            table[name] = row
    return {
        "labels": labels,
        "bias": [round(float(b), 3) for b in classifier.intercept_],
        "weights": table,
    }


def item_score(item: Prepared, probabilities: list[float], cutoff: float) -> float:
    """The item's score as ``engine.check`` gives it, from sentence probabilities."""
    learned = max(engine._learned_score(p, cutoff) for p in probabilities)
    return max(learned, engine._rules_part(item.rules))


@dataclass
class Scores:
    precision: float
    recall: float
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"(tp {self.true_pos}, fp {self.false_pos}, fn {self.false_neg}, tn {self.true_neg})"
        )


def scores(pairs) -> Scores:
    """``pairs``: (labelled salesy, flagged)."""
    pairs = list(pairs)
    tp = sum(1 for label, flagged in pairs if label and flagged)
    fp = sum(1 for label, flagged in pairs if not label and flagged)
    fn = sum(1 for label, flagged in pairs if label and not flagged)
    tn = sum(1 for label, flagged in pairs if not label and not flagged)
    return Scores(tp / max(1, tp + fp), tp / max(1, tp + fn), tp, fp, fn, tn)


def folds(rows: list[dict], k: int = FOLDS) -> list[int]:
    """Each row's fold, stratified by kind (so by label too): within a kind, rows in the order
    of their ids (a hash of the text) are dealt out in turn. No randomness to seed, and the
    same corpus always gives the same folds."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["kind"], rows[i]["id"]))
    fold, dealt = [0] * len(rows), Counter()
    for i in order:
        fold[i] = dealt[rows[i]["kind"]] % k
        dealt[rows[i]["kind"]] += 1
    return fold


def out_of_fold(items: list[Prepared], c: float, k: int = FOLDS) -> list[list[float]]:
    """Every item's run probabilities from the model learned without its fold."""
    fold = folds([item.row for item in items], k)
    found: list[list[float]] = [[] for _ in items]
    for held in range(k):
        kept = [item for item, f in zip(items, fold, strict=True) if f != held]
        bias, weights, _selling = learn(kept, c)
        for index, item in enumerate(items):
            if fold[index] == held:
                found[index] = _probabilities(bias, weights, item.features)
    return found


def at_cutoff(items: list[Prepared], probabilities, cutoff: float) -> list[tuple[dict, bool]]:
    """(row, flagged) for each item, scored as the engine scores it."""
    return [
        (item.row, item_score(item, probs, cutoff) >= engine.DEFAULT_THRESHOLD)
        for item, probs in zip(items, probabilities, strict=True)
    ]


def tune(items: list[Prepared], items_dev: list[Prepared]) -> dict:
    """Choose the regularisation and the cutoff: for recall, while precision stays at
    ``PRECISION_FLOOR`` or over on every item no model learned from when scoring it — each of
    ``items`` by the model learned without its fold (cross-validation), each of ``items_dev``
    by the model learned from all of ``items``. Dev alone reads lower than the folds, so
    judging on both together keeps the cutoff from trusting the easier part (docs/voice.md,
    "How it decides")."""
    best = None
    for c in C_GRID:
        out_of_fold_probabilities = out_of_fold(items, c)
        bias, weights, selling = learn(items, c)
        dev_probabilities = [_probabilities(bias, weights, item.features) for item in items_dev]
        for cutoff in [x / 100 for x in range(30, 96)]:
            cv = at_cutoff(items, out_of_fold_probabilities, cutoff)
            dev = at_cutoff(items_dev, dev_probabilities, cutoff)
            found = scores((row["salesy"], hit) for row, hit in cv + dev)
            if found.precision < PRECISION_FLOOR:
                continue
            key = (found.recall, found.precision, -c, cutoff)
            if best is None or key > best["key"]:
                best = {"key": key, "c": c, "cutoff": cutoff}
                best.update(cv=report(cv), dev=report(dev), both=report(cv + dev))
                best.update(bias=bias, weights=weights, selling=selling, dev_p=dev_probabilities)
    if best is None:
        raise ValueError(f"No setting keeps out-of-sample precision at {PRECISION_FLOOR}")
    return best


def train(folder: Path = CORPUS) -> tuple[dict, dict[str, Report]]:
    """The model as ``model.json`` holds it, and its scores out of sample: ``cv`` (each item of
    ``LEARN_FROM`` by the model learned without its fold), ``dev`` and ``both`` together.

    Learns from ``LEARN_FROM``; dev is learned from by no model. Its non-selling runs also
    measure how rarely a run that does not sell crosses each probability (the long-text
    correction)."""
    rows = [row for name in LEARN_FROM for row in read_split(name, folder)]
    dev_rows = read_split("dev", folder)
    items, items_dev = prepare(rows), prepare(dev_rows)
    best = tune(items, items_dev)
    bias, weights = best["bias"], best["weights"]
    kinds = learn_kinds(best["selling"])
    dev_probabilities = best["dev_p"]
    # How often a run of a text that is not selling reaches each probability (dev): the
    # check raises its cutoff for texts with more runs than an item (``model.cutoff_for``).
    negatives = sorted(
        p
        for item, probs in zip(items_dev, dev_probabilities, strict=True)
        if not item.row["salesy"]
        for p in probs
    )
    exceedance = [
        [x / 1000, round(sum(1 for p in negatives if p >= x / 1000) / len(negatives), 6)]
        for x in range(int(best["cutoff"] * 1000), 1000, 5)
    ]
    cv, dev, both = best["cv"], best["dev"], best["both"]
    data = {
        "about": {
            "trained_on": len(rows),
            "learned_from": list(LEARN_FROM),
            "folds": FOLDS,
            "precision_floor": PRECISION_FLOOR,
            "c": best["c"],
            "seed": SEED,
            "cv_precision": round(cv.overall.precision, 4),
            "cv_recall": round(cv.overall.recall, 4),
            "cv_soft_recall": round(cv.soft.recall, 4),
            "dev_precision": round(dev.overall.precision, 4),
            "dev_recall": round(dev.overall.recall, 4),
            "dev_soft_recall": round(dev.soft.recall, 4),
            "both_precision": round(both.overall.precision, 4),
            "both_recall": round(both.overall.recall, 4),
            "both_soft_recall": round(both.soft.recall, 4),
        },
        "bias": bias,
        "cutoff": best["cutoff"],
        "exceedance": exceedance,
        "negative_runs": len(negatives),
        "weights": dict(sorted(weights.items())),
        "kinds": kinds,
    }
    return data, {"cv": cv, "dev": dev, "both": both}


def write_model(data: dict, path: Path = MODEL_PATH) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True))


@dataclass
class Report:
    """Scores of a set of items: overall, on soft pitches (every selling kind but blatant,
    with every item that is not selling), and per kind and label (items, flagged): the
    confusion counts of each kind."""

    overall: Scores
    soft: Scores
    per_kind: dict[tuple[str, bool], tuple[int, int]]

    def lines(self, name: str) -> list[str]:
        lines = [f"{name}: {self.overall.line()}", f"  soft pitches: {self.soft.line()}"]
        for (kind, selling), (total, flagged) in self.per_kind.items():
            if selling:
                counts = f"selling      {flagged:>4} flagged (tp), {total - flagged:>4} missed (fn)"
            else:
                counts = f"not selling  {flagged:>4} flagged (fp), {total - flagged:>4} clear (tn)"
            lines.append(f"  {kind:<24} {total:>4} items, {counts}")
        return lines


def report(flagged: list[tuple[dict, bool]]) -> Report:
    """``flagged``: (row, flagged) pairs."""
    per_kind: dict[tuple[str, bool], tuple[int, int]] = {}
    for row, hit in flagged:
        key = (row["kind"], row["salesy"])
        total, hits = per_kind.get(key, (0, 0))
        per_kind[key] = (total + 1, hits + int(hit))
    return Report(
        overall=scores((row["salesy"], hit) for row, hit in flagged),
        soft=scores(
            (row["salesy"], hit)
            for row, hit in flagged
            if row["kind"] != BLATANT or not row["salesy"]
        ),
        per_kind=dict(sorted(per_kind.items())),
    )


def evaluate(rows: list[dict], check=None) -> Report:
    """Items through the real ``check`` (rules and model)."""
    check = check or engine.check
    return report([(row, check(row["text"]).is_salesy) for row in rows])


def read_heldout(folder: Path = HELDOUT) -> list[dict]:
    """Every item of ``folder/*.jsonl`` (``text``, ``salesy`` and ``kind`` are needed; other
    fields are kept), first copy of each text; bad lines are refused with where they are."""
    rows, seen, problems = [], set(), []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{path.name}:{number}: {error}")
                continue
            if not isinstance(row, dict) or not (
                isinstance(row.get("text"), str)
                and isinstance(row.get("salesy"), bool)
                and isinstance(row.get("kind"), str)
            ):
                problems.append(f"{path.name}:{number}: needs text, salesy (true/false) and kind")
                continue
            key = item_id(row["text"])
            if key not in seen:
                seen.add(key)
                rows.append({**row, "id": key})
    if problems:
        raise ValueError("The held-out set has bad lines:\n" + "\n".join(problems[:20]))
    if not rows:
        raise ValueError(f"No items in {folder}/*.jsonl")
    return rows


def in_corpus(rows: list[dict], folder: Path = CORPUS) -> int:
    """How many of ``rows`` are also items of the corpus (a held-out item should not be)."""
    known = {row["id"] for name in SPLITS for row in read_split(name, folder)}
    return sum(1 for row in rows if item_id(row["text"]) in known)
