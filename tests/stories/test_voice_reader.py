"""The sentence reader beside the words (stories/voice/reader.py): a fine-tuned transformer,
run by onnxruntime from committed files, reads every text of up to five sentences, and the
mean of its probability and the word model's decides. It finds quiet pitches whose words are
ordinary, keeps plain stories clear, reads each passage once, leaves long texts to the words,
respects the brand's allowed phrases and never breaks on odd text."""

import json

from django.core.management import CommandError, call_command

import pytest

from stories import voice
from stories.voice import engine, reader, reader_training
from stories.voice_review import check_texts

#: Quiet pitches the word model alone lets through (measured when the reader was built; the
#: first assertion of the test below says so again).
QUIET = [
    "Recommended by the local taxi firms, who can't afford to have their cars off the road.",
]

#: Plain storytelling and advice: clear with the reader as without it.
CALM = [
    "The cat slept in the laundry basket until the dryer stopped.",
    "When the river rose in 2019, the bakery on Mill Lane was the first building to flood.",
    "If you smell gas, open the windows and call the emergency line from outside.",
    "She kept the small white loaf at the old price and raised everything else a little.",
    "Thank you, Alice! Part two is out next week.",
]


def test_the_reader_loads_from_the_committed_files():
    found = reader.load()
    assert found is not None, "onnxruntime, tokenizers or stories/voice/reader/ is missing"
    settings = json.loads(reader.SETTINGS_FILE.read_text())
    assert found.cutoff == settings["cutoff"] and 0.3 <= found.cutoff < 1
    assert found.max_tokens == 256
    assert 0.0 <= found.probability("A first passage.") <= 1.0


@pytest.mark.parametrize("text", QUIET)
def test_a_quiet_pitch_the_words_miss_is_found_and_explained(text):
    assert not voice.check(text, use_reader=False).is_salesy
    report = voice.check(text)
    assert report.is_salesy
    learned = [f for f in report.findings if f.rule == engine.LEARNED_RULE]
    assert learned, report.findings
    for finding in learned:
        assert text[finding.start : finding.end].strip()
        assert finding.message and finding.suggestion


@pytest.mark.parametrize("text", CALM)
def test_plain_stories_and_advice_stay_clear(text):
    assert not voice.check(text).is_salesy


def test_each_passage_is_read_once_and_kept(monkeypatch):
    found = reader.load()
    runs = []
    real = found._run
    monkeypatch.setattr(found, "_run", lambda texts: runs.append(list(texts)) or real(texts))
    text = "Our lanterns were hung along the harbour wall by the children of the sailing club."
    found._cache.pop(text, None)
    first = voice.check(text)
    second = voice.check(text)
    assert runs == [[text]]
    assert first.score == second.score


def test_a_long_text_is_read_by_the_words_alone(monkeypatch):
    found = reader.load()

    def refuse(texts):
        raise AssertionError(f"the reader read a long text: {texts}")

    monkeypatch.setattr(found, "probabilities", refuse)
    story = " ".join(CALM + CALM[:2])  # seven sentences
    assert len(engine._sentences(story)) > 5
    voice.check(story)


def test_without_the_reader_the_words_decide(monkeypatch):
    text = QUIET[0]
    monkeypatch.setattr(reader, "load", lambda *args: None)
    assert voice.check(text).score == voice.check(text, use_reader=False).score


def test_the_brands_allowed_phrase_is_not_read():
    text = "Talk to our team about the harvest festival. The orchard opens at nine."
    kept = "about the harvest festival. The orchard opens at nine."
    assert reader.readable(text, [(0, 16)]) == kept
    assert reader.readable("a\ud800b\x00 c\n\n d") == "a?b\x00 c d"
    whole = "Book a free tasting with our team today."
    assert not voice.check(whole, allow=[whole]).is_salesy


@pytest.mark.parametrize(
    "text",
    [
        "Trusted by families \ud800 across the county.",
        "Trusted by families\x00 across the county.",
        "موثوق به من قبل العائلات في جميع أنحاء المقاطعة.",
        "Book now 🎉🎉 " * 400,
        "Cafe\u0301 prices start at \u00a32 a cup" + "\u0301" * 50,
        "",
        "   ",
    ],
)
def test_odd_text_never_breaks_the_reader(text):
    report = voice.check(text)
    for finding in report.findings:
        assert 0 <= finding.start < finding.end <= len(text)


def test_a_quiet_pitch_in_one_block_holds_the_whole_story():
    calm = [(f"Paragraph {n}", text) for n, text in enumerate(CALM * 3, 1)]
    texts = [*calm, ("Paragraph 99", QUIET[0])]
    joined = "\n\n".join(text for _label, text in texts)
    assert not voice.check(joined).is_salesy  # the whole story, words alone, lets it through
    found = check_texts(texts, {})
    assert found.is_salesy
    assert [block.label for block in found.blocks] == ["Paragraph 99"]


def test_the_cutoff_is_the_lowest_that_keeps_the_precision_floor():
    # 20 selling items at 0.9, 10 at 0.6; 40 others at 0.2, one at 0.65 and one at 0.95.
    pairs = [(True, 0.9, False)] * 20 + [(True, 0.6, False)] * 10
    pairs += [(False, 0.2, False)] * 40 + [(False, 0.65, False), (False, 0.95, False)]
    chosen = reader_training.choose_cutoff(pairs, floor=0.95)
    assert chosen["cutoff"] == 0.66 and chosen["recall"] == pytest.approx(20 / 30)
    assert reader_training.choose_cutoff(pairs, floor=0.9)["cutoff"] == 0.3
    # A guard set that needs the cutoff at 0.7 or over moves it there, asked only until it passes.
    asked = []

    def keeps(cutoff):
        asked.append(cutoff)
        return cutoff >= 0.7

    chosen = reader_training.choose_cutoff(pairs, floor=0.95, keeps=keeps)
    assert chosen["cutoff"] == 0.7 and asked == [0.66, 0.67, 0.68, 0.69, 0.7]
    # The rules' sure findings flag an item whatever the cutoff.
    sure = [(False, 0.1, True)] * 5 + [(True, 0.9, False)] * 5
    with pytest.raises(ValueError, match="No cutoff keeps precision"):
        reader_training.choose_cutoff(sure, floor=0.97)


def test_the_guard_precision_is_the_whole_checks_at_the_cutoff_asked():
    rows = [{"text": CALM[0], "salesy": False}, {"text": QUIET[0], "salesy": True}]
    committed = reader.load().cutoff
    assert reader_training.guard_precision(rows, committed) == 1.0
    # At a cutoff of 1e-6 the calm sentence is flagged too: the cutoff asked is the one used,
    assert reader_training.guard_precision(rows, 1e-6) == 0.5
    # and the reader's own cutoff is back afterwards.
    assert reader.load().cutoff == committed and not voice.check(CALM[0]).is_salesy


def test_the_guard_sets_are_the_corpus_dev_split_and_the_projects_sentence_sets():
    found = reader_training.guard_sets()
    assert set(found) == {"dev", *reader_training.GUARDS}
    assert all(rows and {"text", "salesy"} <= set(rows[0]) for rows in found.values())


def test_building_the_reader_without_its_tools_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name in ("torch", "transformers"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(CommandError, match=r"voice-build"):
        call_command("train_voice_reader", "--hold", "batch-k")


def test_the_joins_and_the_one_the_reader_names():
    # The mean caps either model's say at a half; the log-odds let a near-certain model decide.
    assert reader.joint(0.033, 0.997) == pytest.approx(0.515)
    assert reader.joint(0.033, 0.997, "log-odds") == pytest.approx(0.771, abs=0.001)
    assert reader.joint(0.3, 0.3, "log-odds") == pytest.approx(0.3)
    assert reader.joint(0.0, 1.0, "log-odds") == pytest.approx(0.5)  # no infinities
    found = reader.load()
    assert found.join in reader.JOINS and found.join == found.settings.get("join", "mean")
    assert found.joint(0.033, 0.997) == reader.joint(0.033, 0.997, found.join)


def test_the_demo_texts_guard_flags_what_the_check_flags_and_puts_the_reader_back():
    texts = reader_training.demo_texts()
    assert len(texts) > 400 and len(set(texts)) == len(texts)
    # The living demo's edition and a quote's attribution, the short plain texts that name
    # a brand or a person, are among them.
    assert "Stories from Larkspur Mutual this month" in texts
    assert "Femi, A&E nurse" in texts
    found = reader.load()
    committed = found.cutoff, found.join
    # The installed reader, as chosen, flags none of the product's own copy;
    assert reader_training.guard_flags(texts, *committed) == []
    # at a cutoff of 1e-6 everything the reader reads is flagged (a calm text included),
    assert reader_training.guard_flags([CALM[0], *texts[:5]], 1e-6, "mean") == [
        CALM[0],
        *texts[:5],
    ]
    # and the reader's own cutoff and join are back afterwards.
    assert (found.cutoff, found.join) == committed and not voice.check(CALM[0]).is_salesy


def test_settling_keeps_the_join_whose_cutoff_finds_most(monkeypatch, tmp_path):
    for name in ("reader.onnx", "tokenizer.json", "reader.json"):
        (tmp_path / name).write_bytes((reader.FOLDER / name).read_bytes())
    # On these folds the log-odds find every pitch at precision 1; the mean finds half.
    pairs = {
        "mean": [(True, 0.9, False)] * 10 + [(True, 0.4, False)] * 10 + [(False, 0.5, False)] * 5,
        "log-odds": [(True, 0.9, False)] * 20 + [(False, 0.2, False)] * 5,
    }
    monkeypatch.setattr(reader_training, "fold_pairs", lambda folds, log, join: pairs[join])
    settings = reader_training.settle_cutoff(
        [{"hold": "batch-x"}], log=lambda _: None, folder=tmp_path
    )
    written = json.loads((tmp_path / "reader.json").read_text())
    assert settings == written
    assert written["join"] == "log-odds" and written["cutoff"] == 0.3
    assert written["folds"]["recall"] == 1.0 and written["folds"]["writers"] == ["batch-x"]
    assert written["folds"]["joins_tried"]["mean"]["cutoff"] == 0.51
    # With the same recall the mean is kept.
    pairs["mean"] = pairs["log-odds"]
    assert (
        reader_training.settle_cutoff([{"hold": "batch-x"}], lambda _: None, tmp_path)["join"]
        == "mean"
    )
    # The installed reader was not touched.
    assert json.loads((reader.FOLDER / "reader.json").read_text()) != written


def test_choosing_the_cutoff_again_reads_the_folds_files(monkeypatch, tmp_path, capsys):
    with pytest.raises(CommandError, match="--cutoff-from"):
        call_command("train_voice_reader", "--cutoff-only")
    fold = tmp_path / "fold-x.json"
    fold.write_text(json.dumps({"hold": "batch-x", "held": {"a": 0.9}, "dev": {}}))
    seen = []

    def settle(folds, log):
        seen.append(folds)
        return {"cutoff": 0.55, "folds": {"precision": 0.97, "recall": 0.9}}

    monkeypatch.setattr(reader_training, "settle_cutoff", settle)
    call_command("train_voice_reader", "--cutoff-only", "--cutoff-from", str(fold))
    assert seen == [[{"hold": "batch-x", "held": {"a": 0.9}, "dev": {}}]]
    assert "cutoff 0.55" in capsys.readouterr().out
