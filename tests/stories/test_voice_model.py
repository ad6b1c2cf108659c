"""The voice check's learned layer: its corpus, its training, and how it joins the rules.

The corpus is split once by a hash of each text (``stories.voice.training.split_of``); these
tests hold the splits to that, the model to being rebuilt identically from them, and every
finding the model makes to naming its words and offering a rewrite. The test split's score
is not asserted here: it is read once and reported (docs/voice.md, "The corpus").
"""

import json
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
    """Reproducible: the same corpus and seed give the committed weights, cutoff and kinds."""
    pytest.importorskip("sklearn", reason="training needs scikit-learn (the test extra)")
    built, _dev = training.train()
    committed = json.loads(model.MODEL_PATH.read_text(encoding="utf-8"))
    assert built == committed


def test_the_model_keeps_precision_on_dev(splits):
    found, _per_kind = training.evaluate(splits["dev"])
    # What training reached on dev (precision 0.970, recall 0.787), less a little.
    assert found.precision >= 0.95, found.line()
    assert found.recall >= 0.75, found.line()


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
    """``RunScorer`` (prefix sums) and ``features`` (what training learns from) agree."""
    found_model = model.load()
    doc = engine._analyse(text, (), (), use_model=False)
    words = engine._sentence_words(doc)
    scorer = model.RunScorer(found_model, words)
    for first, last in engine._windows(len(doc.sentences)):
        found = engine._window_features(doc, first, last, words)
        signals = {n: v for n, (v, s, e) in found.items() if n.startswith("rule")}
        fast = scorer.probability(first, last, signals)
        assert fast == pytest.approx(found_model.probability(found), abs=1e-9)
