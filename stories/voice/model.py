"""The voice check's learned layer: a linear model over a sentence's words and the rules' signals.

The rules (``rules/``) catch what examples taught them; soft pitches come in more shapes than
any list of phrases ("talk to our team", "trusted by 20,000 families", "from less than a coffee
a week"). This layer reads each sentence as a bag of features and gives the probability that
it sells, learned from the labelled corpus in ``corpus/`` by ``training.py``
(``manage.py train_voice``). The engine turns that probability into a sentence score beside
the rules' own (``engine._model_hits``), so a sentence sells when either says so.

Features of one sentence (``features``): its words, pairs and triples of words (numbers read
as ``<num>``), its first word, whether it speaks to "you" or as "we", its currency, numbers
and exclamation marks, and the rules' signals: the strongest finding of each rule in the
sentence and the sentence's rule score. A feature is present or not (1.0), except the rules'
signals, which carry their weight, and the sentence embedding (``e:0``…): the run's words'
rows in a static table distilled from all-MiniLM-L6-v2 (``distil.py``), summed and scaled to
length one (``Embeddings``), read only when the chosen model weighs it.

The weights are plain data (``model.json``), read once, and applied with dictionary look-ups
(and, for the embedding, a numpy dot product): only training needs more. Each flagged
sentence names why: the words that weighed most, found again in the text by their offsets
(``evidence``; each word's share of the embedding's push counts with its own weight,
``contributions``), and what kind of pitch it reads as (``kind_of``), which picks the
suggestion.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("model.json")
#: The static sentence-embedding table distilled from all-MiniLM-L6-v2 (``distil.py``) and the
#: WordPiece vocabulary its rows follow.
TABLE_PATH = Path(__file__).with_name("embeddings.npy")
VOCAB_PATH = Path(__file__).with_name("vocab.txt")
#: The embedding's features are named ``e:0``, ``e:1``… in the weights.
EMBEDDING = "e:"
#: Runs of sentences in the corpus's longest items (five sentences, up to three at a time).
ITEM_RUNS = 12
#: The cutoff of a text so long that the dev split cannot measure how rarely a run that
#: does not sell would cross it.
BEYOND_MEASURE = 0.95
#: A share of dev's non-selling runs is measured when at least this many runs make it: one
#: or two runs over a probability say little about how rare crossing it is.
MEASURED_RUNS = 5

# Words, numbers, currency signs and the punctuation that carries tone. The text is already
# lower-cased without moving any character (``engine._lower``), so offsets stay valid.
_TOKEN = re.compile(r"[a-z]+(?:['’][a-z]+)*|\d+(?:[.,]\d+)*|[£$€¥₹%!?]")
_CURRENCY = frozenset("£$€¥₹")
# Addresses say nothing about the voice (and the corpus's links cluster in its pitches).
_URL = re.compile(r"(?:https?://|www\.)\S+")
_YOU = frozenset({"you", "your", "you're", "you'll", "yours", "you've", "yourself"})
_WE = frozenset({"we", "our", "us", "we're", "we'll", "we've", "ours"})
#: Words too common, or signs too small, to show an editor as the reason.
_NOT_EVIDENCE = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it"),
        *("of", "on", "or", "so", "that", "the", "this", "to", "with"),
        *("!", "?", "%", "<num>", "<quote>"),
    }
)
#: Features that say something about a sentence but name no words in it.
_SHAPE_PREFIXES = ("rule:", "rules", "has:", "first:", EMBEDDING)


@dataclass(frozen=True)
class Token:
    norm: str
    start: int
    end: int


def tokens(low: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of ``low[start:end]`` with their offsets; numbers read as ``<num>``, web
    addresses skipped."""
    end = len(low) if end is None else end
    urls = [m.span() for m in _URL.finditer(low, start, end)]
    found = []
    for m in _TOKEN.finditer(low, start, end):
        if urls and any(a <= m.start() < b for a, b in urls):
            continue
        word = m.group().replace("’", "'")
        if word[0].isdigit():
            word = "<num>"
        found.append(Token(word, m.start(), m.end()))
    return found


def features(
    toks: list[Token], rule_signals: dict[str, float] | None = None, vector=None
) -> dict[str, tuple[float, int, int]]:
    """``{feature: (value, start, end)}`` of a run of tokens: words and phrases count each time
    they occur; the span is the feature's first occurrence (``-1, -1`` for features that are
    not words). ``RunScorer`` gives the same probability without building this."""
    found: dict[str, tuple[float, int, int]] = {}
    words = [t.norm for t in toks]
    for n, prefix in ((1, "w:"), (2, "b:"), (3, "t:")):
        for i in range(len(toks) - n + 1):
            name = prefix + " ".join(words[i : i + n])
            if name in found:
                count, start, end = found[name]
                found[name] = (count + 1.0, start, end)
            else:
                found[name] = (1.0, toks[i].start, toks[i + n - 1].end)
    if toks:
        found["first:" + words[0]] = (1.0, -1, -1)
    for name in _shapes(set(words)):
        found[name] = (1.0, -1, -1)
    for name, value in (rule_signals or {}).items():
        if value:
            found[name] = (float(value), -1, -1)
    if vector is not None:
        for j, value in enumerate(vector.tolist()):
            found[f"{EMBEDDING}{j}"] = (value, -1, -1)
    return found


# WordPiece as BERT's tokenizer does it for lower-cased text: split at punctuation, then the
# longest piece of the vocabulary from the left, the rest as ``##`` pieces.
_BASIC = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class Embeddings:
    """The static embedding table: a token's row is what all-MiniLM-L6-v2 made of it alone,
    reduced and weighed by rarity (``distil.py``). A run of sentences is the sum of its words'
    rows scaled to length one (``unit``): a dictionary look-up and a few numpy additions."""

    def __init__(self, table, vocab: list[str]):
        import numpy as np

        self.table = table  # float16: summed in float32 (``word``)
        self.dims = self.table.shape[1]
        self.index = {piece: i for i, piece in enumerate(vocab)}
        self.unknown = self.index.get("[UNK]", 0)
        self.zero = np.zeros(self.dims, dtype=np.float32)
        self._words: dict[str, object] = {}

    def pieces(self, word: str) -> list[int]:
        found = []
        for part in _BASIC.findall(word):
            start = 0
            while start < len(part):
                end = len(part)
                while end > start:
                    piece = part[start:end] if start == 0 else "##" + part[start:end]
                    if piece in self.index:
                        found.append(self.index[piece])
                        break
                    end -= 1
                else:
                    found.append(self.unknown)
                    break
                start = end
        return found

    def word(self, word: str):
        """The sum of ``word``'s pieces' rows (cached: a text repeats its words)."""
        import numpy as np

        row = self._words.get(word)
        if row is None:
            pieces = self.pieces(word)
            row = self.table[pieces].sum(axis=0, dtype=np.float32) if pieces else self.zero
            if len(self._words) < 200_000:
                self._words[word] = row
        return row

    def sums(self, low: str, sentences: list[list[Token]]):
        """Each sentence's sum of rows, as a matrix (one row a sentence). Tokens that stand
        for what is not read (``<quote>``) have no text and add nothing."""
        import numpy as np

        sums = np.zeros((len(sentences), self.dims), dtype=np.float32)
        for i, sentence in enumerate(sentences):
            rows = [self.word(low[t.start : t.end]) for t in sentence if t.end > t.start]
            if rows:
                sums[i] = np.sum(rows, axis=0)
        return sums


def unit(vector):
    """``vector`` scaled to length one (a zero vector stays zero)."""
    import numpy as np

    norm = float(np.sqrt(vector @ vector))
    return vector / norm if norm > 0 else vector


@functools.cache
def embeddings(table_path: Path = TABLE_PATH, vocab_path: Path = VOCAB_PATH) -> Embeddings | None:
    """The embedding table, or None when its files are missing."""
    import numpy as np

    try:
        table = np.load(table_path)
        vocab = vocab_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    return Embeddings(table, vocab)


def _shapes(present: set[str]) -> list[str]:
    """The ``has:`` features of a run whose tokens are ``present``."""
    return [
        name
        for name, test in (
            ("has:you", bool(present & _YOU)),
            ("has:we", bool(present & _WE)),
            ("has:!", "!" in present),
            ("has:?", "?" in present),
            ("has:<num>", "<num>" in present),
            ("has:currency", bool(present & _CURRENCY)),
        )
        if test
    ]


class RunScorer:
    """The model's probability for any run of a text's sentences, in constant time a run.

    Each word, pair and triple of the whole text is looked up once and summed into running
    totals, so a run's words weigh ``totals[end] - totals[start]``; what ``features`` would
    build for the run is never built (only for a run that sells, to explain it).
    """

    def __init__(self, model: Model, words: list[list[Token]], low: str = ""):
        self.model = model
        weights = model.weights
        self.vectors = None
        if model.dense is not None:
            import numpy as np

            sums = model.embeddings.sums(low, words)
            self.vectors = np.vstack([np.zeros((1, sums.shape[1]), sums.dtype), sums]).cumsum(0)
        self.offsets = [0]
        norms: list[str] = []
        self.present: list[set[str]] = []
        for sentence in words:
            norms += [t.norm for t in sentence]
            self.offsets.append(len(norms))
            self.present.append({t.norm for t in sentence})
        self.norms = norms
        self.sums = []
        for n, prefix in ((1, "w:"), (2, "b:"), (3, "t:")):
            total, running = 0.0, [0.0]
            for i in range(len(norms) - n + 1):
                total += weights.get(prefix + " ".join(norms[i : i + n]), 0.0)
                running.append(total)
            self.sums.append(running)

    def probability(self, first: int, last: int, signals: dict[str, float]) -> float:
        a, b = self.offsets[first], self.offsets[last + 1]
        weights = self.model.weights
        z = self.model.bias
        for n, running in enumerate(self.sums, 1):
            if b - a >= n:
                z += running[b - n + 1] - running[a]
        if b > a:
            z += weights.get("first:" + self.norms[a], 0.0)
        present = set().union(*self.present[first : last + 1])
        for name in _shapes(present):
            z += weights.get(name, 0.0)
        for name, value in signals.items():
            if value:
                z += weights.get(name, 0.0) * float(value)
        if self.vectors is not None:
            z += float(unit(self.vectors[last + 1] - self.vectors[first]) @ self.model.dense)
        return _sigmoid(z)

    def vector(self, first: int, last: int):
        """The run's embedding (length one), or None without one."""
        if self.vectors is None:
            return None
        return unit(self.vectors[last + 1] - self.vectors[first])


def _sigmoid(z: float) -> float:
    # Clamped: a long run of heavy words must not overflow exp().
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def rule_signals(hits, rule_score: float) -> dict[str, float]:
    """The rules' evidence about one sentence, as features: each rule's strongest finding and
    the sentence's rule score. ``hits`` are the engine's findings (``rule``, ``weight``)."""
    signals: dict[str, float] = {}
    for hit in hits:
        name = "rule:" + hit.rule
        signals[name] = max(signals.get(name, 0.0), round(hit.weight, 4))
    if rule_score:
        signals["rules"] = round(rule_score, 4)
    return signals


class Model:
    """Weights read from ``model.json``: the verdict (sells or not) and the kind of pitch."""

    def __init__(self, data: dict):
        self.bias = float(data["bias"])
        self.weights: dict[str, float] = data["weights"]
        #: The probability at and over which a sentence reads as selling (tuned on the dev
        #: split for precision first); the engine maps it onto its own threshold.
        self.cutoff = float(data["cutoff"])
        self.kinds: list[str] = data["kinds"]["labels"]
        self.kind_bias: list[float] = data["kinds"]["bias"]
        self.kind_weights: dict[str, list[float]] = data["kinds"]["weights"]
        self.about: dict = data.get("about", {})
        #: ``[probability, share of runs of non-selling dev items at or over it]``, rising.
        self.exceedance: list[list[float]] = data.get("exceedance", [])
        self.negative_runs: int = data.get("negative_runs", 1)
        #: The embedding's weights (``e:0``…) as a vector, and its table; None when the model
        #: reads no embedding.
        self.dense = None
        self.embeddings: Embeddings | None = None
        if any(name.startswith(EMBEDDING) for name in self.weights):
            import numpy as np

            self.embeddings = embeddings()
            self.dense = np.array(
                [self.weights.get(f"{EMBEDDING}{j}", 0.0) for j in range(self.embeddings.dims)]
                if self.embeddings is not None
                else [],
                dtype=np.float32,
            )

    def cutoff_for(self, runs: int) -> float:
        """The cutoff for a text read in ``runs`` runs of sentences.

        The cutoff was chosen on items of up to five sentences (``ITEM_RUNS`` runs). A
        story of a hundred sentences gives the model twenty times the chances to be wrong,
        so its cutoff rises until a run that does not sell is that much rarer to cross it
        (a Bonferroni-style correction, from the dev split's non-selling runs): a long story
        is flagged by the model only where a passage sells clearly. Past what dev measures
        (fewer than ``MEASURED_RUNS`` of its runs), the model alone does not decide."""
        if runs <= ITEM_RUNS or not self.exceedance:
            return self.cutoff
        target = self.exceedance[0][1] * ITEM_RUNS / runs
        if target * self.negative_runs < MEASURED_RUNS:
            # Rarer than the dev split can show: only a clear pitch.
            return max(self.cutoff, BEYOND_MEASURE)
        for probability, share in self.exceedance:
            if share <= target:
                return max(self.cutoff, probability)
        return max(self.cutoff, BEYOND_MEASURE)

    def probability(self, found: dict[str, tuple[float, int, int]]) -> float:
        z = self.bias
        weights = self.weights
        for name, (value, _start, _end) in found.items():
            w = weights.get(name)
            if w is not None:
                z += w * value
        return _sigmoid(z)

    def evidence(
        self,
        found: dict[str, tuple[float, int, int]],
        limit: int = 3,
        meaning: dict[tuple[int, int], float] | None = None,
    ):
        """The phrases that pushed hardest towards selling: ``[(weight, start, end)]``,
        heaviest first (a phrase of several words counts a little more than its weight, a
        lone function word or sign not at all), overlapping spans folded into the heavier.

        ``meaning``: each word's share of the embedding's push (``contributions``), added to
        the word's own weight, so a run the embedding finds selling is explained by the words
        that carried its meaning there."""
        scored = []
        meaning = dict(meaning or {})
        for name, (_value, start, end) in found.items():
            weight = self.weights.get(name, 0.0)
            if name.startswith("w:"):
                weight += meaning.pop((start, end), 0.0)
            if end <= start or weight <= 0.0 or name[2:] in _NOT_EVIDENCE:
                continue
            words = name.count(" ") + 1
            scored.append((weight * (1 + 0.75 * (words - 1)), start, end))
        chosen: list[tuple[float, int, int]] = []
        for weight, start, end in sorted(scored, reverse=True):
            if any(start < e and s < end for _w, s, e in chosen):
                continue
            chosen.append((weight, start, end))
            if len(chosen) == limit:
                break
        return chosen

    def contributions(self, low: str, toks: list[Token]) -> dict[tuple[int, int], float]:
        """Each token's share of the embedding's push towards selling in a run of ``toks``: its
        row's weight along the model's direction, over the length of the run's sum (so the
        shares add up to what the embedding gives the run). Empty without an embedding."""
        if self.dense is None or self.embeddings is None:
            return {}
        import numpy as np

        read = [t for t in toks if t.end > t.start]
        if not read:
            return {}
        rows = np.array([self.embeddings.word(low[t.start : t.end]) for t in read])
        norm = float(np.sqrt((rows.sum(axis=0) ** 2).sum())) or 1.0
        shares: dict[tuple[int, int], float] = {}
        for t, share in zip(read, (rows @ self.dense / norm).tolist(), strict=True):
            shares[(t.start, t.end)] = shares.get((t.start, t.end), 0.0) + share
        return shares

    def kind_of(self, found: dict[str, tuple[float, int, int]]) -> str:
        """The kind of pitch a selling sentence reads as (``soft-cta``, ``social-proof``…)."""
        scores = list(self.kind_bias)
        for name, (value, _start, _end) in found.items():
            row = self.kind_weights.get(name)
            if row is not None:
                for k, w in enumerate(row):
                    scores[k] += w * value
        return self.kinds[max(range(len(scores)), key=scores.__getitem__)]


@functools.cache
def load(path: Path = MODEL_PATH) -> Model | None:
    """The trained model, or None when ``model.json`` is missing, or the embedding table it
    reads is (the rules work alone)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    found = Model(data)
    if found.dense is not None and found.embeddings is None:
        return None
    return found


def is_word_feature(name: str) -> bool:
    return not name.startswith(_SHAPE_PREFIXES)
