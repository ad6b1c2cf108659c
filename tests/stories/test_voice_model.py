"""The voice check's learned layer: its corpus, its training, and how it joins the rules.

The corpus is split once by a hash of each text (``stories.voice.training.split_of``); these
tests hold the splits to that, the model to being rebuilt identically from them, and every
finding the model makes to naming its words and offering a rewrite. The held-out set's
score is not asserted here, and no test reads ``stories/voice/heldout/``: it is scored once
and reported (docs/voice.md, "The corpus"); ``--evaluate heldout`` is tested on made-up
items in a temporary folder.
"""

import html
import io
import json
import re
from collections import Counter

import pytest

from stories.voice import check, engine, model, training

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def splits():
    return {name: training.read_split(name) for name in training.SPLITS}


def test_the_corpus_is_big_broad_and_split_once_by_item(splits):
    rows = [row for part in splits.values() for row in part]
    assert len(rows) >= 3000
    assert len({row["industry"] for row in rows}) >= 30
    assert {row["locale"] for row in rows} == {"en-GB", "en-US"}
    assert {row["form"] for row in rows} == set(training.FORMS)
    counts = Counter(row["salesy"] for row in rows)
    assert min(counts.values()) >= 0.35 * len(rows)
    for name, part in splits.items():
        for row in part:
            assert training.split_of(row["text"]) == name, row["text"]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "an item is in two splits"
    # The raw files and the splits hold the same items.
    assert sorted(ids) == sorted(row["id"] for row in training.read_raw())


def test_bad_corpus_lines_are_refused_with_where_they_are(tmp_path):
    (tmp_path / "x.jsonl").write_text(
        '{"text": "Fine.", "salesy": false, "kind": "story", "form": "sentence", '
        '"industry": "bakery", "locale": "en-GB"}\n'
        '{"text": "No label.", "kind": "story"}\n'
        "not json\n"
    )
    with pytest.raises(ValueError, match=r"x.jsonl:2: bad salesy") as error:
        training.read_raw(tmp_path)
    assert "x.jsonl:3" in str(error.value)


def test_the_committed_model_is_what_training_builds():
    """Reproducible: the same corpus, seed and settings give the committed weights, cutoff,
    long-text correction and kinds. The settings (C, the embedding's scale, the cutoff) are
    those ``train_voice`` chose on the writer-held-out folds and recorded in the file; the
    search over them takes minutes and is not repeated here."""
    pytest.importorskip("sklearn", reason="training needs scikit-learn (the test extra)")
    committed = json.loads(model.MODEL_PATH.read_text(encoding="utf-8"))
    assert training.rebuild(committed) == committed
    assert committed["about"]["embedding_scale"] in training.EMBED_SCALES
    assert committed["about"]["c"] in training.C_GRID


def test_writer_held_out_folds_are_the_raw_batches(splits):
    rows = [row for name in training.LEARN_FROM for row in splits[name]]
    fold = training.writers(rows)
    by_source = {}
    for f, row in zip(fold, rows, strict=True):
        by_source.setdefault(row["source"], set()).add(f)
    assert all(len(folds) == 1 for folds in by_source.values())
    assert len(set(fold)) == len(by_source) >= 6
    assert {"batch-f", "batch-a"} <= set(by_source)


def test_the_embedding_table_is_small_and_read_without_torch():
    import sys

    table = model.embeddings()
    assert table is not None and table.table.dtype.name == "float16"
    assert model.TABLE_PATH.stat().st_size <= 8 * 1024 * 1024
    assert 64 <= table.dims <= 128
    assert "torch" not in sys.modules
    # WordPiece as BERT splits lower-cased words.
    vocab = model.VOCAB_PATH.read_text(encoding="utf-8").splitlines()
    assert [vocab[i] for i in table.pieces("don't")] == ["don", "'", "t"]
    assert [vocab[i] for i in table.pieces("unaffordable")][0] == "una"
    # Meaning, not words: two soft calls to act sit closer than one and a story.
    low = [
        "talk to our friendly team about which plan suits your household.",
        "speak to one of our advisers to find the right policy for you.",
        "the river flooded the bakery on mill lane in the spring of 2019.",
    ]
    a, b, c = (model.unit(table.sums(t, [model.tokens(t)])[0]) for t in low)
    assert float(a @ b) > float(a @ c) + 0.2


def test_without_the_embedding_table_a_model_that_reads_it_is_not_loaded(monkeypatch, tmp_path):
    """A model whose weights read the embedding is not used without its table: the rules
    work alone (a model of words alone needs no table)."""
    data = {
        "bias": -1.0,
        "weights": {"w:team": 1.0, "e:0": 0.5},
        "cutoff": 0.5,
        "kinds": {"labels": ["soft-cta"], "bias": [0.0], "weights": {}},
    }
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert model.load(path).dense is not None
    model.load.cache_clear()
    monkeypatch.setattr(model, "embeddings", lambda *a: None)
    try:
        assert model.load(path) is None
        words_only = tmp_path / "words.json"
        words_only.write_text(json.dumps({**data, "weights": {"w:team": 1.0}}), encoding="utf-8")
        assert model.load(words_only).dense is None
        monkeypatch.setattr(model, "load", lambda path=None: None)
        report = check("Book now and save 40% on every policy — this offer ends Friday!")
        assert report.is_salesy
        assert all(f.rule != "soft-pitch" for f in report.findings)
    finally:
        monkeypatch.undo()
        model.load.cache_clear()


def test_the_model_keeps_precision_on_dev(splits):
    found = training.evaluate(splits["dev"]).overall
    # What training reached on dev, learned from by no model (precision 0.972, recall 0.695
    # with the cutoff chosen on the writer-held-out folds at 0.98), less a little.
    assert found.precision >= 0.96, found.line()
    assert found.recall >= 0.68, found.line()


def test_every_model_finding_names_its_words_and_suggests_a_rewrite(splits):
    made = 0
    for row in splits["dev"]:
        text = row["text"]
        for finding in check(text).findings:
            if finding.rule != "soft-pitch":
                continue
            made += 1
            phrase = " ".join(text[finding.start : finding.end].split())
            assert phrase and finding.message.startswith(f'"{phrase}"'), finding
            assert "soft pitch" in finding.message
            assert finding.suggestion and finding.suggestion != finding.message
    assert made >= 10, "the model should explain some findings of its own on dev"


SOFT = "Talk to our friendly team about which plan suits your household."


def test_a_soft_pitch_the_rules_miss_is_found_by_the_model(monkeypatch):
    report = check(SOFT)
    assert report.is_salesy
    rules_only = engine._analyse(SOFT, (), (), use_model=False)
    assert max(engine._sentence_score(g) for g in rules_only.groups) < report.score


def test_without_a_model_file_the_rules_work_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(model, "load", lambda path=None: None)
    report = check("Book now and save 40% on every policy — this offer ends Friday!")
    assert report.is_salesy
    assert all(f.rule != "soft-pitch" for f in report.findings)


def test_a_brands_allowed_phrase_overrides_the_model():
    assert check(SOFT).is_salesy
    report = check(SOFT, allow=[SOFT.rstrip(".")])
    assert not report.is_salesy and report.findings == []


def test_a_brands_flagged_phrase_still_flags_a_sentence_the_model_passes():
    text = "The orchard was planted in 1911 by the Hollis family."
    assert not check(text).is_salesy
    report = check(text, flag=["Hollis family"])
    assert any(f.rule == "brand-term" for f in report.findings)


def test_story_sentences_and_safety_advice_stay_clear():
    for text in (
        "When the river rose in 2019, the bakery on Mill Lane was the first building to flood.",
        "Never leave a chip pan unattended; if it catches fire, turn off the heat and leave it.",
        "Rents in the town rose 8% last year, the steepest rise since 2007.",
        "'We sell out of sourdough by ten most Saturdays,' says Ana.",
        "Put the steps in order before you start, and deal with the wiring last.",
    ):
        assert not check(text).is_salesy, text


def test_features_read_words_numbers_and_skip_addresses():
    low = "call us on 0800 123 or visit https://example.com/offer today!"
    words = [t.norm for t in model.tokens(low)]
    assert words[:4] == ["call", "us", "on", "<num>"]
    assert "example" not in words and "https" not in words
    assert words[-2:] == ["today", "!"]
    for token in model.tokens(low):
        assert low[token.start : token.end].replace("’", "'") in (
            token.norm,
            low[token.start : token.end],
        )


@pytest.mark.parametrize(
    "text",
    [
        "Talk to our team. Talk to our team today! Plans start at £9 — you'll love it.",
        "When the river rose, the bakery flooded.\n\n'You saved us!' she said. We rebuilt it. "
        "Book your table now at https://example.com/x and join 5,000 happy members.",
        "One.",
        "",
    ],
)
def test_the_fast_scorer_gives_what_the_features_give(text):
    """``RunScorer`` (prefix sums) and ``features`` (what training learns from) agree, for
    the committed model and for one that reads the embedding."""
    _agree(model.load(), text)
    _agree(_meaning_model(), text)


def _meaning_model(**extra) -> model.Model:
    """A made-up model that reads mostly the embedding: selling is what lies near a soft
    call to act."""
    table = model.embeddings()
    low = SOFT.lower()
    direction = model.unit(table.sums(low, [model.tokens(low)])[0])
    weights = {f"e:{j}": round(float(w) * 12, 4) for j, w in enumerate(direction)}
    weights.update({"w:the": -0.2, "b:our team": 0.3}, **extra)
    return model.Model(
        {
            "bias": -8.0,
            "weights": weights,
            "cutoff": 0.5,
            "kinds": {"labels": ["soft-cta"], "bias": [0.0], "weights": {}},
        }
    )


def test_a_finding_the_embedding_makes_names_words_and_suggests_a_rewrite(monkeypatch):
    found_model = _meaning_model()
    monkeypatch.setattr(model, "load", lambda path=None: found_model)
    text = "The ferry was late again. Speak to one of our advisers about the right policy for you."
    report = check(text)
    assert report.is_salesy
    (finding,) = [f for f in report.findings if f.rule == "soft-pitch"]
    phrase = text[finding.start : finding.end]
    assert phrase.strip() and text.index("Speak") <= finding.start
    assert finding.message.startswith(f'"{phrase}"') and finding.suggestion
    # The shares of the embedding's push add up to its part of the run's score.
    doc = engine._analyse(text, (), (), use_model=False)
    words = engine._sentence_words(doc)
    shares = found_model.contributions(doc.low, words[1])
    scorer = model.RunScorer(found_model, words, doc.low)
    assert sum(shares.values()) == pytest.approx(
        float(scorer.vector(1, 1) @ found_model.dense), abs=1e-4
    )
    assert not check("The ferry was late again; the harbour master blamed the fog.").is_salesy


def _agree(found_model, text):
    doc = engine._analyse(text, (), (), use_model=False)
    words = engine._sentence_words(doc)
    scorer = model.RunScorer(found_model, words, doc.low)
    inputs = engine.model_inputs(text)
    assert [(first, last) for first, last, _f in inputs] == list(
        engine._windows(len(doc.sentences))
    )
    for first, last, found in inputs:
        signals = {n: v for n, (v, s, e) in found.items() if n.startswith("rule")}
        fast = scorer.probability(first, last, signals)
        # The embedding is summed in float32 at run time: the same to a few millionths.
        assert fast == pytest.approx(found_model.probability(found), abs=1e-5)


# --- The held-out set: read by the command, never by a test -----------------------------------

MADE_UP = [
    {
        "text": "Book your spring clean with us today and save 20%!",
        "salesy": True,
        "kind": "blatant",
    },
    {
        "text": "Talk to our friendly team about which plan suits your household.",
        "salesy": True,
        "kind": "soft-cta",
    },
    {
        "text": "The ferry to the island was cancelled twice in March.",
        "salesy": False,
        "kind": "story",
    },
    {
        "text": "Turn off the water at the stopcock before you lift the floorboards.",
        "salesy": False,
        "kind": "safety",
        "form": "sentence",
    },
]


def _write(folder, name, rows):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_evaluate_heldout_reads_every_file_and_reports_as_evaluate_does(tmp_path, monkeypatch):
    from django.core.management import call_command

    folder = tmp_path / "heldout"
    _write(folder, "batch-f1.jsonl", MADE_UP[:2])
    _write(folder, "batch-f2.jsonl", [*MADE_UP[2:], MADE_UP[0]])  # a repeat counts once
    (folder / "notes.txt").write_text("not items")
    out = io.StringIO()
    call_command("train_voice", evaluate="heldout", folder=folder, stdout=out)
    printed = out.getvalue().splitlines()
    expected = training.evaluate(MADE_UP).lines(f"heldout ({len(MADE_UP)} items)")
    assert printed == expected
    assert printed[0].startswith("heldout (4 items): precision ")
    assert printed[1].startswith("  soft pitches: precision ")
    assert any(line.split()[:2] == ["soft-cta", "1"] for line in printed)
    assert any("(fp)" in line and line.split()[0] == "safety" for line in printed)
    # Without --folder it reads ``training.HELDOUT``: here pointed at the made-up items.
    monkeypatch.setattr(training, "HELDOUT", folder)
    again = io.StringIO()
    call_command("train_voice", evaluate="heldout", stdout=again)
    assert again.getvalue().splitlines() == expected


def test_evaluate_prints_the_same_report_for_a_split():
    from django.core.management import call_command

    out = io.StringIO()
    call_command("train_voice", evaluate="dev", stdout=out)
    rows = training.read_split("dev")
    assert out.getvalue().splitlines() == training.evaluate(rows).lines(f"dev ({len(rows)} items)")


def test_heldout_soft_pitch_recall_leaves_out_blatant_and_counts_per_kind():
    found = training.report([(MADE_UP[0], True), (MADE_UP[1], False), (MADE_UP[2], True)])
    assert (found.overall.true_pos, found.overall.false_neg, found.overall.false_pos) == (1, 1, 1)
    assert (found.soft.true_pos, found.soft.false_neg, found.soft.false_pos) == (0, 1, 1)
    assert found.per_kind == {
        ("blatant", True): (1, 1),
        ("soft-cta", True): (1, 0),
        ("story", False): (1, 1),
    }
    # A kind labelled both ways (a held-out writer's choice) gets a line for each label.
    mixed = training.report([(MADE_UP[2], True), ({**MADE_UP[2], "salesy": True}, False)])
    assert mixed.per_kind == {("story", False): (1, 1), ("story", True): (1, 0)}
    lines = mixed.lines("mixed")
    assert "1 flagged (fp)" in lines[2] and "1 missed (fn)" in lines[3]


def test_bad_heldout_lines_and_corpus_items_are_told(tmp_path):
    from django.core.management import CommandError, call_command

    _write(tmp_path, "a.jsonl", [MADE_UP[0], {"text": "No label", "kind": "story"}])
    with pytest.raises(CommandError, match=r"a.jsonl:2: needs text, salesy"):
        call_command("train_voice", evaluate="heldout", folder=tmp_path, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No items"):
        call_command(
            "train_voice", evaluate="heldout", folder=tmp_path / "empty", stdout=io.StringIO()
        )
    known = training.read_split("dev")[0]
    _write(tmp_path, "a.jsonl", [MADE_UP[2], {**known, "text": known["text"].upper()}])
    out = io.StringIO()
    call_command("train_voice", evaluate="heldout", folder=tmp_path, stdout=out)
    assert out.getvalue().startswith("warning: 1 held-out items are also in the corpus")


def test_folds_are_stratified_by_kind_and_fixed(splits):
    rows = [row for name in training.LEARN_FROM for row in splits[name]]
    fold = training.folds(rows)
    assert fold == training.folds(list(rows))
    for kind in {row["kind"] for row in rows}:
        sizes = Counter(f for f, row in zip(fold, rows, strict=True) if row["kind"] == kind)
        assert len(sizes) == training.FOLDS and max(sizes.values()) - min(sizes.values()) <= 1
    assert "dev" not in training.LEARN_FROM


# --- The demo's stories ------------------------------------------------------------------------


def _demo_texts(story: dict) -> list[str]:
    """A demo story's reader-visible texts, as ``stories.voice_review.story_texts`` reads them
    (the loader leaves story links without a note)."""
    texts = [story["title"], story["intro"]]
    for kind, value in story["body"]:
        if kind == "paragraph":
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", value.replace("</p>", "</p>\n"))))
        elif kind == "heading":
            texts.append(value)
        elif kind == "quote":
            texts += [value["quote"], value["attribution"]]
        elif kind == "image":
            texts += [value.get("alt") or "", value.get("caption") or ""]
    return [text.strip() for text in texts if text and text.strip()]


def test_no_demo_story_reads_as_selling():
    """The long-text correction keeps real stories clear: none of the demo's stories, read
    whole as the publishing gate reads them, is held."""
    from stories.demo import content

    held = [
        story["slug"]
        for story in content.STORIES
        if check("\n\n".join(_demo_texts(story))).is_salesy
    ]
    assert held == []
