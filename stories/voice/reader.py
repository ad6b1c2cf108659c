"""The voice check's sentence reader: a small fine-tuned transformer that reads what a passage does.

The word model (``model.py``) counts words and phrases; it finds a pitch by its vocabulary and
misses the quiet ones whose words are ordinary ("Recommended by the local taxi firms, who
can't afford to have their cars off the road."). This reader is the first three layers of
all-MiniLM-L6-v2, fine-tuned on the corpus to say whether a passage sells
(``reader_training.py``, ``manage.py train_voice_reader``), exported to ONNX with its weights
quantised to eight bits (``reader/reader.onnx``) and run by onnxruntime on the CPU, with the
WordPiece tokenizer of the ``tokenizers`` package (``reader/tokenizer.json``). Nothing is
downloaded at run time.

The engine reads it beside the words on short texts — up to five sentences, the longest items
the corpus measures: a social post, an answer, a title, a caption, a paragraph block — and
joins the two probabilities (``JOINS``, ``engine._model_hits``); ``reader/reader.json`` names
the join and holds the cutoff of the joint probability, both chosen on writer-held-out folds
and guard sets (docs/voice.md, "seventh round").

A passage costs a few milliseconds, so each passage's probability is kept by its text
(``Reader.probability``, a bounded cache): an editor's re-check pays only for what changed.
Without onnxruntime, tokenizers or the files, ``load()`` answers None and the check reads the
words alone, as before.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections import OrderedDict
from pathlib import Path

FOLDER = Path(__file__).with_name("reader")
MODEL_FILE = FOLDER / "reader.onnx"
TOKENIZER_FILE = FOLDER / "tokenizer.json"
SETTINGS_FILE = FOLDER / "reader.json"
#: The reader reads no more than this many characters of a text (its 256 tokens are fewer).
READ_CHARS = 2000
#: Passages whose probability is kept (by text). A story holds a few dozen blocks; a worker
#: checks many stories and posts.
CACHE_SIZE = 4096


def readable(text: str, allowed: list[tuple[int, int]] = ()) -> str:
    """What the reader reads of ``text``: not the brand's ``allowed`` spans (sorted, apart),
    at most ``READ_CHARS`` characters, runs of white space as one space, valid UTF-8 (a lone
    surrogate becomes "?")."""
    kept, at = [], 0
    for start, end in allowed:
        if start >= at:
            kept.append(text[at:start])
            at = end
    kept.append(text[at:])
    joined = " ".join(" ".join(kept)[:READ_CHARS].split())
    return joined.encode("utf-8", "replace").decode("utf-8")


class Reader:
    """Scores passages with the ONNX model; thread-safe (onnxruntime's ``run`` is)."""

    def __init__(self, session, tokenizer, settings: dict):
        self.session = session
        self.tokenizer = tokenizer
        self.settings = settings
        self.cutoff = float(settings["cutoff"])
        self.join = settings.get("join", "mean")
        self.max_tokens = int(settings["max_tokens"])
        self._names = {i.name for i in session.get_inputs()}
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _run(self, texts: list[str]) -> list[float]:
        import numpy as np

        encoded = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (logits,) = self.session.run(None, {k: v for k, v in feeds.items() if k in self._names})
        return [float(1.0 / (1.0 + np.exp(-float(z)))) for z in np.ravel(logits)]

    def probabilities(self, texts: list[str]) -> list[float]:
        """The probability that each passage sells; repeated passages are read once."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for t in found:
                self._cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        # Passages of like length together: padding costs as much as text.
        missing.sort(key=len)
        for start in range(0, len(missing), 16):
            batch = missing[start : start + 16]
            for text, p in zip(batch, self._run(batch), strict=True):
                found[text] = p
        with self._lock:
            for text in missing:
                self._cache[text] = found[text]
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def probability(self, text: str) -> float:
        return self.probabilities([text])[0]

    def joint(self, words: float, read: float) -> float:
        """The word model's probability ``words`` joined with this reader's ``read``."""
        return joint(words, read, self.join)


def _mean(words: float, read: float) -> float:
    return (words + read) / 2


def _log_odds(words: float, read: float) -> float:
    def logit(p: float) -> float:
        p = min(max(p, 1e-6), 1 - 1e-6)
        return math.log(p / (1 - p))

    return 1 / (1 + math.exp(-(logit(words) + logit(read)) / 2))


#: How the word model's and the reader's probabilities are joined. The mean caps either
#: model's say at a half; the mean of their log-odds lets a model that is nearly sure decide
#: alone. ``reader.json`` names the one its cutoff was chosen for (``join``); the build tries
#: both on the folds and the guards and keeps the one that finds more (docs/voice.md,
#: "seventh round").
JOINS = {"mean": _mean, "log-odds": _log_odds}


def joint(words: float, read: float, join: str = "mean") -> float:
    """The word model's and the reader's probabilities joined by ``join`` (``JOINS``)."""
    return JOINS[join](words, read)


@functools.cache
def load(folder: Path = FOLDER) -> Reader | None:
    """The reader, loaded once; None when onnxruntime, tokenizers or the files are missing."""
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError:
        return None
    model, vocab, settings = (folder / p.name for p in (MODEL_FILE, TOKENIZER_FILE, SETTINGS_FILE))
    if not (model.exists() and vocab.exists() and settings.exists()):
        return None
    found = json.loads(settings.read_text(encoding="utf-8"))
    options = onnxruntime.SessionOptions()
    # One thread a check: web and worker processes run many checks side by side.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(vocab))
    tokenizer.enable_truncation(max_length=int(found["max_tokens"]))
    tokenizer.no_padding()
    return Reader(session, tokenizer, found)
