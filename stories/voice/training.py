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
(liblinear), with a fixed seed: the same corpus gives the same weights, to the fourth
decimal kept. Each run's features are its words and phrases, the rules' signals, and its
sentence embedding (``e:0``…, from the committed table, ``distil.py``), which weighs as much
as ``EMBED_SCALES`` lets it (0: the words alone).

The cutoff (the probability at which a sentence sells), the regularisation and the
embedding's scale are chosen for recall while precision stays at or over
``PRECISION_FLOOR`` on the writer-held-out folds (``tune``): each raw batch, one writer's,
scored by the model learned from all the others — the honest proxy for a new writer, as
ordinary cross-validation is not. Ordinary cross-validation and dev are reported beside it.
Items are scored exactly as the engine scores them (the most selling run decides).
``rebuild`` repeats the last fit for the settings a model.json records (the test of
reproducibility), without the search.

scikit-learn is needed here only (the test extra installs it); the check itself reads the
weights with dictionary look-ups and the table with numpy (``model.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stories.voice import engine, model
from stories.voice.messages import _KINDS
from stories.voice.model import EMBEDDING, MODEL_PATH

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
#: How strongly the sentence embedding is read beside the words: its unit vector's
#: components are multiplied by this before learning (a larger scale is a weaker
#: regularisation of the embedding's weights; 0 is the words alone). Chosen with C on the
#: writer-held-out folds; each setting costs a round of folds (ten to fifteen minutes on one
#: core with eleven writers). Only the words are tried now: the embedding lowered recall on
#: eight writers (scales 4 and 8) and gained nothing that survived on nine (docs/voice.md,
#: "third round"); add a scale here to try it again.
EMBED_SCALES = (0.0,)
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


def _dense(name: str) -> bool:
    return name.startswith(EMBEDDING)


def _ratios(units, labels, alpha: float = 1.0) -> dict[str, float]:
    """Each feature's log-count ratio between selling and other runs (smoothed by ``alpha``);
    the embedding's components are not counts and have none."""
    selling, other = Counter(), Counter()
    for unit, label in zip(units, labels, strict=True):
        (selling if label else other).update(n for n in unit if not _dense(n))
    names = set(selling) | set(other)
    total_selling = sum(selling.values()) + alpha * len(names)
    total_other = sum(other.values()) + alpha * len(names)
    return {
        name: math.log(
            ((selling[name] + alpha) / total_selling) / ((other[name] + alpha) / total_other)
        )
        for name in names
    }


def _fit(units, labels, c: float, scale: float = 0.0):
    """Logistic regression on features scaled by their log-count ratios (NB-weighted, as in
    Wang and Manning's "Baselines and bigrams", 2012: on a corpus this size it kept dev
    precision with about three points more recall than plain weights), and the embedding's
    components by ``scale``. The weights returned are for the unscaled features, so the check
    multiplies nothing."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(name for unit in units for name in unit)
    kept = [{n: v for n, v in unit.items() if counts[n] >= MIN_COUNT} for unit in units]
    ratios = _ratios(kept, labels)
    ratios.update({n: scale for n in counts if _dense(n)})
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
    """Each run's probability, as ``model.Model.probability`` gives it."""
    found = []
    for sentence in sentences:
        z = bias
        for name, value in sentence.items():
            w = weights.get(name)
            if w is not None:
                z += w * value
        found.append(model._sigmoid(z))
    return found


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


def learn(
    items: list[Prepared], c: float, scale: float = 0.0
) -> tuple[float, dict[str, float], list]:
    """The two rounds: returns the bias, the weights and the selling runs (features, kind)."""
    units, labels = _units(items, None)
    bias, weights = _weights(*_fit(units, labels, c, scale))
    chosen = {}
    for index, item in enumerate(items):
        if item.row["salesy"] and _whole(item) is None:
            probabilities = _probabilities(bias, weights, item.features)
            chosen[index] = max(range(len(probabilities)), key=probabilities.__getitem__)
    units, labels = _units(items, chosen)
    bias, weights = _weights(*_fit(units, labels, c, scale))
    selling = []
    for index, item in enumerate(items):
        if item.row["salesy"]:
            window = _whole(item) if _whole(item) is not None else chosen[index]
            selling.append((item.features[window], item.row["kind"]))
    return bias, weights, selling


def learn_kinds(selling: list, scale: float = 0.0) -> dict:
    """Which kind of pitch a selling run is: over its words, and its embedding when the
    verdict reads one (``scale``), so the check reads the same features for both."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    words = [
        {n: v for n, v in sentence.items() if not n.startswith("rule") and (scale or not _dense(n))}
        for sentence, _ in selling
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


def writers(rows: list[dict]) -> list[int]:
    """Each row's fold by who wrote it: one fold a raw batch (``source``), so each is scored
    by a model that learned nothing of its writer, its industries or its shapes — the honest
    proxy for a new writer (docs/voice.md, "How it decides")."""
    names = sorted({row["source"] for row in rows})
    return [names.index(row["source"]) for row in rows]


def out_of_fold(
    items: list[Prepared], c: float, scale: float = 0.0, fold: list[int] | None = None
) -> list[list[float]]:
    """Every item's run probabilities from the model learned without its fold (``folds`` by
    default; ``writers`` for the writer-held-out folds)."""
    fold = fold if fold is not None else folds([item.row for item in items])
    found: list[list[float]] = [[] for _ in items]
    for held in sorted(set(fold)):
        kept = [item for item, f in zip(items, fold, strict=True) if f != held]
        bias, weights, _selling = learn(kept, c, scale)
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


def tune(items: list[Prepared], log=None, grid=None) -> dict:
    """Choose the regularisation, the embedding's scale and the cutoff on the writer-held-out
    folds: for recall, while precision stays at ``PRECISION_FLOOR`` or over on every item of
    ``items`` scored by the model learned without its writer's batch. Every setting's best
    line goes to ``log``. ``grid``: the (scale, C) pairs to try, all of them by default."""
    fold = writers([item.row for item in items])
    best, tried = None, []
    for scale, c in grid or [(scale, c) for scale in EMBED_SCALES for c in C_GRID]:
        probabilities = out_of_fold(items, c, scale, fold)
        mine = None
        for cutoff in [x / 100 for x in range(30, 96)]:
            flagged = at_cutoff(items, probabilities, cutoff)
            found = scores((row["salesy"], hit) for row, hit in flagged)
            if found.precision < PRECISION_FLOOR:
                continue
            key = (found.recall, found.precision, -scale, -c, cutoff)
            if mine is None or key > mine["key"]:
                mine = {"key": key, "c": c, "scale": scale, "cutoff": cutoff}
                mine["writers"], mine["flagged"] = report(flagged), flagged
        if mine is None:
            continue
        tried.append(mine)
        if log:
            log(
                f"C {c}, embedding x{scale}: cutoff {mine['cutoff']}, writer-held-out "
                + mine["writers"].overall.line()
            )
        if best is None or mine["key"] > best["key"]:
            best = mine
    if best is None:
        raise ValueError(f"No setting keeps writer-held-out precision at {PRECISION_FLOOR}")
    best["tried"] = [
        {
            "c": t["c"],
            "scale": t["scale"],
            "cutoff": t["cutoff"],
            "precision": round(t["writers"].overall.precision, 4),
            "recall": round(t["writers"].overall.recall, 4),
        }
        for t in tried
    ]
    return best


def _loaded(folder: Path = CORPUS) -> tuple[list[Prepared], list[Prepared]]:
    rows = [row for name in LEARN_FROM for row in read_split(name, folder)]
    return prepare(rows), prepare(read_split("dev", folder))


def build(
    items: list[Prepared], items_dev: list[Prepared], c: float, scale: float, cutoff: float
) -> tuple[dict, list[list[float]]]:
    """The model as ``model.json`` holds it (without the ``about`` figures) for chosen
    settings, and dev's run probabilities under it. Dev's non-selling runs also measure how
    rarely a run that does not sell crosses each probability (the long-text correction)."""
    bias, weights, selling = learn(items, c, scale)
    # The kinds a finding can name: a batch's own kind with no message of its own (batch q's
    # "brand-voice-pitch") teaches the verdict but not the kind learner.
    kinds = learn_kinds([pair for pair in selling if f"model-{pair[1]}" in _KINDS], scale)
    dev_probabilities = [_probabilities(bias, weights, item.features) for item in items_dev]
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
        for x in range(int(cutoff * 1000), 1000, 5)
    ]
    data = {
        "bias": bias,
        "cutoff": cutoff,
        "exceedance": exceedance,
        "negative_runs": len(negatives),
        "weights": dict(sorted(weights.items())),
        "kinds": kinds,
    }
    return data, dev_probabilities


def rebuild(committed: dict) -> dict:
    """What ``build`` gives for the settings ``committed`` (a model.json) records, with its
    ``about``: the reproducibility check, without the search over settings."""
    about = committed["about"]
    items, items_dev = _loaded()
    data, _dev = build(items, items_dev, about["c"], about["embedding_scale"], committed["cutoff"])
    return {**data, "about": about}


def _figures(name: str, found: Report) -> dict[str, float]:
    return {
        f"{name}_precision": round(found.overall.precision, 4),
        f"{name}_recall": round(found.overall.recall, 4),
        f"{name}_soft_recall": round(found.soft.recall, 4),
    }


def train(folder: Path = CORPUS, log=None, grid=None) -> tuple[dict, dict[str, Report]]:
    """The model as ``model.json`` holds it, and its scores out of sample: ``writers`` (each
    item of ``LEARN_FROM`` by the model learned without its writer's batch: what C, the
    embedding's scale and the cutoff are chosen on), ``cv`` (the same by ordinary stratified
    folds), ``dev`` (learned from by no model)."""
    items, items_dev = _loaded(folder)
    best = tune(items, log, grid)
    c, scale, cutoff = best["c"], best["scale"], best["cutoff"]
    data, dev_probabilities = build(items, items_dev, c, scale, cutoff)
    cv = report(at_cutoff(items, out_of_fold(items, c, scale), cutoff))
    dev = report(at_cutoff(items_dev, dev_probabilities, cutoff))
    per_writer: dict[str, list] = {}
    for row, hit in best["flagged"]:
        per_writer.setdefault(row["source"], []).append((row, hit))
    data["about"] = {
        "trained_on": len(items),
        "learned_from": list(LEARN_FROM),
        "sources": sorted({item.row["source"] for item in items}),
        "folds": FOLDS,
        "precision_floor": PRECISION_FLOOR,
        "c": c,
        "embedding_scale": scale,
        "seed": SEED,
        "tried": best["tried"],
        **_figures("writers", best["writers"]),
        **_figures("cv", cv),
        **_figures("dev", dev),
    }
    found = {"writers": best["writers"], "cv": cv, "dev": dev}
    for source, flagged in sorted(per_writer.items()):
        found[source] = report(flagged)
    return data, found


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
