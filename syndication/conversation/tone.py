"""The tone of an incoming reply or quote: praise, question, complaint or other.

``classify(text)`` returns a ``Tone`` with the label, a score in [0, 1] (how clearly the
evidence points that way) and the words that decided it, each with its character offsets
into ``text`` so the inbox can highlight them (``text[word.start:word.end] == word.text``).

Why a library plus rules, and not a model trained here (issue 20, point 4):

* **VADER** (``vaderSentiment``, MIT, lexicon and emoji list shipped inside the wheel, no
  network: only its ``__main__`` demo imports ``requests``) was built and validated on
  social-media text (Hutto & Gilbert, ICWSM 2014) and handles what our replies are full
  of: negation, "but", intensifiers, capitals, "!!!", emoticons and emoji descriptions.
  A linear model trained on the ~400 replies we could label would know fewer words than
  VADER's 7,500 and would have to learn "not" from scratch.
* **Sentiment is not tone.** A complaint is often polite or even positive in words ("love
  it but the app crashes", "Great, another update that breaks everything 🙄",
  "Three emails, zero replies. Brilliant service 👏") and a question can be a complaint
  ("why is nobody answering?"). So a short list of *service-problem cues* (crashes,
  refund, still waiting, nobody answers, broken link, 🙄 …) outweighs the polarity, and
  a complaint cue beats a question mark. The cues are written in this module, plain and
  reviewable; each matched cue is shown as a deciding word.
* **Questions** are a question mark (or ``¿``) or a reply that opens with a question word
  ("do u deliver on weekends"), shown as the mark or the opening word.

Order of decision (one function, ``_decide``): complaint evidence at or over
``COMPLAINT_AT`` (and not far below the praise) → complaint; else a question → question;
else praise evidence at or over ``PRAISE_AT`` → praise; else other. ``PRAISE_AT`` and
VADER's weight were tuned on the labelled set's *dev* split only
(``python -m syndication.conversation.tone tune``); the cue lists were written while
reading *train* errors. The *test* split was scored once at the
end (``python -m syndication.conversation.tone evaluate --split test``); see
docs/conversation.md, "Tone".

Django-free: it is pure logic, fast to test, and a worker imports it without settings.
Only the first ``MAX_CHARS`` characters are read (a Mastodon post is 500 by default, a
Bluesky post 300 graphemes); offsets stay valid because the prefix is the text's own.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

LABELS = ("praise", "question", "complaint", "other")
#: Longer replies are read up to here: enough for any network's post, and bounded time.
MAX_CHARS = 5000
#: At most this many deciding words are returned (a long rant need not light up whole).
MAX_WORDS = 20
#: VADER reads only this much: its emoji handling grows with the square of the number of
#: emoji (2,000 emoji take seconds), and a post is 500 characters on a default Mastodon.
VADER_CHARS = 500
#: Complaint evidence at or over this is a complaint: the scale of the cue weights.
COMPLAINT_AT = 1.0
#: Praise evidence at or over this is praise (tuned on dev: ``tune``).
PRAISE_AT = 0.45
#: How much VADER's compound polarity (-1..1) counts beside one cue (tuned on dev), so
#: polarity alone is praise from a compound of 0.45 ("Love it!" 0.67; not "ok", 0.3).
VADER_WEIGHT = 1.0

DATA = Path(__file__).with_name("tone_data") / "replies.jsonl"


@dataclass(frozen=True)
class Word:
    """One word (or emoji, or question mark) that weighed in the decision."""

    text: str
    start: int
    end: int
    #: What it pushed towards: "complaint", "praise" or "question".
    towards: str
    weight: float


@dataclass(frozen=True)
class Tone:
    label: str
    score: float
    words: tuple[Word, ...]


# --- cues -------------------------------------------------------------------------------
# Each is a regular expression matched case-insensitively on the reply, and a weight. A
# weight of 1 is enough alone (COMPLAINT_AT); 0.5 needs company (another cue, or negative
# polarity). Word boundaries are explicit so "broke" does not match "brokerage".

_NOT = r"(?:\bnot|n'?t|n’t|\bnever|\bno longer)"
_COMPLAINT_CUES: tuple[tuple[str, float], ...] = (
    # Something does not work.
    (r"\bcrash(?:es|ed|ing)?\b", 1.0),
    (r"\b(?:broke|broken|breaks|breaking)\b", 1.0),
    (r"\bbroke af\b", 1.0),
    (r"\bbug(?:s|gy)?\b", 1.0),
    (r"\berror\b", 1.0),
    (r"\b(?:404|500)\b", 1.0),
    (r"\b(?:is |was )?down again\b", 1.0),
    (_NOT + r" (?:even )?(?:work|working|load|play|log ?in|login)\b", 1.0),
    (r"\bcan'?t (?:even )?(?:log ?in|login|get through|pay|load)\b", 1.0),
    (r"\bstopped working\b", 1.0),
    (r"\bfail(?:ed|s|ing)?\b", 1.0),
    (r"\binvalid\b", 1.0),
    (r"\bunusable\b", 1.0),
    (r"\buseless\b", 1.0),
    (r"\bunreadable\b", 1.0),
    (r"\b(?:keeps|kept) (?:crashing|logging me out|freezing)\b", 1.0),
    (r"\blogging me out\b", 1.0),
    (r"\bdrains? (?:my|the) battery\b", 1.0),
    (r"\b(?:is|are) wrong\b", 1.0),
    (r"\balways (?:late|broken|down|delayed|closed)\b", 1.0),
    (r"\btoo many (?:emails|texts|notifications|ads)\b", 1.0),
    (r"\bslow\b", 0.5),
    (r"\bout of sync\b", 1.0),
    (r"\bdoes nothing\b", 1.0),
    (r"\bfix (?:your|this|it)\b", 1.0),
    (r"\bsort it out\b", 1.0),
    (r"\bdo better\b", 1.0),
    (r"\bfell apart\b", 1.0),
    (r"\bsnapped\b", 1.0),
    (r"\bflimsy\b", 1.0),
    (r"\bdamaged\b", 1.0),
    (r"\bmissing\b", 0.5),
    (r"\bwrong (?:item|size|address|order|colou?r)\b", 1.0),
    (r"\bnothing like\b", 1.0),
    (r"\bdies\b", 0.5),
    # Nobody answers, nothing arrives.
    (r"\bno(?:body|one| one) (?:is )?(?:answer|answers|answering|picks up|contesta|told)\b", 1.0),
    (r"\bnadie contesta\b", 1.0),
    (r"\b(?:no|zero) (?:reply|replies|response|answer|apology|replacement|refund|update)\b", 1.0),
    # A "why" put to the brand is a grievance ("Why did you remove the dark mode?").
    (
        r"\bwhy (?:did|would|do|does|is|isn'?t|hasn'?t|haven'?t|are|can'?t|won'?t) "
        r"(?:you|your|it|there|nobody|no one|the|my|we)\b",
        1.0,
    ),
    (
        r"\bwait(?:ing|ed)? (?:for )?(?:\d+|two|three|four|five|six|a|an) "
        r"(?:hours?|days?|weeks?|months?)\b",
        1.0,
    ),
    (r"\bstill (?:waiting|no\b|not\b|broken|hasn'?t|haven'?t|nothing)", 1.0),
    (r"\bwaiting since\b", 1.0),
    (r"\bwarte seit\b", 1.0),
    (r"\b(?:hasn'?t|has not|never|not) (?:arrived|received|got|come)\b", 1.0),
    (r"\bon hold\b", 1.0),
    (r"\bhow (?:hard|many times|is this still)\b", 1.0),
    (r"\bwhat'?s the point\b", 1.0),
    (r"\bis (?:anyone|anybody) (?:actually|even|there)\b", 1.0),
    (r"\banyone there\b", 1.0),
    (r"\bactually (?:reading|help|answer|worked|work)\b", 0.5),
    (r"\b(?:late|delay|delayed|delays)\b", 0.5),
    (r"\bcancell?(?:ed)?\b", 0.5),
    (r"\bagain\b", 0.5),
    # Money.
    (r"\brefund(?:ed)?\b", 1.0),
    (r"\bmoney back\b", 1.0),
    (r"\bcharged (?:twice|but)\b", 1.0),
    (r"\brip ?off\b", 1.0),
    (r"\bscam\b", 1.0),
    (r"\boverpriced\b", 1.0),
    (r"\bwaste of\b", 1.0),
    (r"\bprice (?:went|goes|go) up\b", 1.0),
    (r"\bso expensive\b", 1.0),
    # Judgements the lexicon misses or rates too mildly.
    (r"\bunacceptable\b", 1.0),
    (r"\bridiculous\b", 1.0),
    (r"\bshambles\b", 1.0),
    (r"\ba joke\b", 1.0),
    (r"\bpathetic\b", 1.0),
    (r"\bshocking\b", 1.0),
    (r"\bawful\b", 1.0),
    (r"\bterrible\b", 1.0),
    (r"\bdreadful\b", 1.0),
    (r"\bworst\b", 1.0),
    (r"\brubbish\b", 1.0),
    (r"\bdisgusting\b", 1.0),
    (r"\bdisappoint(?:ed|ing|ment)?\b", 1.0),
    (r"\bgutted\b", 1.0),
    (r"\bannoyed\b", 1.0),
    (r"\brude\b", 1.0),
    (r"\bdirty\b", 1.0),
    (r"\bnot (?:good enough|impressed)\b", 1.0),
    (r"\bnever again\b", 1.0),
    (r"\bnever ordering\b", 1.0),
    (r"\bplus jamais\b", 1.0),
    (r"\bpésimo\b", 1.0),
    (r"\bschlecht(?:er|e)?\b", 1.0),
    (r"\bnul\b", 1.0),
    (r"\bmisleading\b", 1.0),
    (r"\bmisinformation\b", 1.0),
    (r"\bclickbait\b", 1.0),
    (r"\bfactually wrong\b", 1.0),
    (r"\bfull of errors\b", 1.0),
    (r"\bproofread\b", 1.0),
    (r"\btypo in\b", 0.5),
    (r"\bspamming\b", 1.0),
    (r"\bunsubscribed?\b", 0.5),
    (r"\bstop sending\b", 1.0),
    (r"\bsold my data\b", 1.0),
    (r"\bdata breach\b", 1.0),
    (r"\bruined\b", 1.0),
    (r"\bdiscontinue\b", 0.5),
    (r"\bremove(?:d)? the\b", 0.5),
    (r"\bbring back\b", 1.0),
    (r"\bsmh\b", 1.0),
    (r"\bugh\b", 1.0),
    (r"\bseriously\?", 1.0),
    (r"\breally\?", 1.0),
    (r"\byeah right\b", 1.0),
    (r"\bunbelievable\b", 1.0),
    (r"\bno (?:alt text|step free|signs|staff)\b", 1.0),
    (r"\brefused\b", 1.0),
    (r"\bfollowed me\b", 1.0),
    (r"\bhate\b", 1.0),
    (r"\bi want (?:my|a)\b", 0.5),
    (r"\bout of stock\b", 0.5),
    (r"\bsold out\b", 0.5),
    (r"\bqueue\b", 0.5),
    # Sarcasm and "nice, but": polite words wrapped round a grievance.
    (r"\b(?:shame|pity) (?:about|the|it)\b", 1.0),
    (r"\bif only\b", 1.0),
    (r"\bmeanwhile\b", 1.0),
    (r"\bnow (?:do|pay)\b", 1.0),
    (r"\bmaybe answer\b", 1.0),
    (r"\bif your\b", 1.0),
    (r"\bthis is how you treat\b", 1.0),
    (r"(?:\"|“)(?:sustainable|green|eco)(?:\"|”)", 1.0),
    (r"🙄|😡|😤|😠|🤬|👎|😞|😭|🤮|💩", 1.0),
)

_PRAISE_CUES: tuple[tuple[str, float], ...] = (
    (r"👍|👏|🙌|😍|🥰|🤩|🔥|🎉|💪|⭐|✨|👌|🙏|🥹|😋|❤️?|💕|💖|💙|💚|🧡|💜", 0.5),
    (r"\b10/10\b|\bten out of ten\b", 1.0),
    (r"\bchef'?s kiss\b", 1.0),
    (r"\bnailed it\b", 1.0),
    (r"\bspot on\b", 1.0),
    (r"\blegends?\b", 1.0),
    (r"\bclass act\b", 1.0),
    (r"\btop notch\b", 1.0),
    (r"\b(?:you guys|you lot|you) rock\b|\bthis rules\b", 1.0),
    (r"\bslaps\b|\bbanger\b", 1.0),
    (r"\bfab\b|\bcracking\b|\bsmashing\b|\bsuperb\b|\bstunning\b|\bgorgeous\b", 1.0),
    (r"\bta\b|\bcheers\b|\bthx\b|\bty\b(?= so)", 0.5),
    (r"\bbravo\b|\bmerci\b|\bgracias\b|\bdanke\b|\bwunderbar\b|\bmagnifique\b", 1.0),
    (r"\bbonito\b|\bencanta\b|\bsuper\b", 1.0),
    (r"\bya+y+\b|\by+e+s+s+\b|\bheck yes\b", 1.0),
    (r"\bobsessed\b|\bimpressed\b|\bdelicious\b|\bmm+\b", 1.0),
    (r"\babove and beyond\b|\bwell deserved\b|\brecommend\b|\bwell said\b", 1.0),
    (r"\bnever disappoints?\b|\bno notes\b|\bis gold\b|\bproper good\b", 1.0),
    (r"\bthis is (?:gold|exactly)\b|\bmade my (?:day|week)\b", 1.0),
    (r"\bbig fan\b|\bfavou?rite\b|\bbookmarked\b|\bso useful\b|\bvery cool\b", 1.0),
    (r"\bkeep (?:up|these|it)\b|\bmore of this\b|\bgood on you\b", 1.0),
    (r"\bcould(?: not|n'?t|n’t) (?:be happier|agree more|recommend)\b", 1.0),
    (r"\bcongrat(?:s|ulations)\b|\bthank(?:s| you| u)\b", 1.0),
)

#: A reply that opens with one of these asks something even without a question mark
#: ("do u deliver on weekends"); "could", "will", "who" … open statements too ("Could not
#: be happier", "Who knows"), so they count only with a question mark.
_QUESTION_OPENERS = (
    r"^\W*(?:how|what|whats|what's|when|whens|when's|wen|where|wheres|where's|which|"
    r"is|are|do|does|can|any|anyone|anybody|wat|quick question|just wondering|curious)\b"
)
_QUESTION_OPENERS_WITH_MARK = (
    r"^\W*(?:who|whom|whose|did|could|will|would|should|why|has|have|may|shall)\b"
)
_QUESTION_MARK = r"[?？¿]"

_FLAGS = re.IGNORECASE


@functools.cache
def _compiled() -> tuple[tuple[tuple[re.Pattern, float], ...], ...]:
    return tuple(
        tuple((re.compile(pattern, _FLAGS), weight) for pattern, weight in cues)
        for cues in (_COMPLAINT_CUES, _PRAISE_CUES)
    )


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loads the lexicon (about 7,500 words and 3,500 emoji) from inside the package, once.
    return SentimentIntensityAnalyzer()


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _cue_words(text: str, cues, towards: str) -> list[Word]:
    """Every cue match, longest first where two overlap (so a phrase wins over its part)."""
    found = []
    for pattern, weight in cues:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                found.append(Word(match.group(), match.start(), match.end(), towards, weight))
    found.sort(key=lambda w: (-(w.end - w.start), w.start))
    taken = bytearray(len(text))
    kept: list[Word] = []
    for word in found:
        if not any(taken[word.start : word.end]):
            taken[word.start : word.end] = b"\x01" * (word.end - word.start)
            kept.append(word)
    return sorted(kept, key=lambda w: w.start)


def _lexicon_words(text: str, sign: int) -> list[Word]:
    """The words VADER's lexicon rates in the direction ``sign`` (+1 praise, -1 complaint)."""
    lexicon = _analyzer().lexicon
    towards = "praise" if sign > 0 else "complaint"
    words = []
    for match in _TOKEN.finditer(text):
        valence = lexicon.get(match.group().lower().replace("’", "'"))
        if valence is not None and valence * sign >= 1.0:
            words.append(Word(match.group(), match.start(), match.end(), towards, valence / 4))
    return words


def _question_words(text: str) -> list[Word]:
    words = [
        Word(m.group(), m.start(), m.end(), "question", 1.0)
        for m in re.finditer(_QUESTION_MARK, text)
    ]
    opener = re.search(_QUESTION_OPENERS, text, _FLAGS)
    if opener is None and words:
        opener = re.search(_QUESTION_OPENERS_WITH_MARK, text, _FLAGS)
    if opener:
        word = opener.group().lstrip()
        start = opener.end() - len(word)
        # The opening word itself, without leading punctuation or spaces.
        lead = re.match(r"\W*", word)
        start += lead.end() if lead else 0
        words.insert(0, Word(text[start : opener.end()], start, opener.end(), "question", 1.0))
    return words


_URL_OR_HANDLE = re.compile(r"\bhttps?://\S+|\bwww\.\S+|@[\w.-]+(?:@[\w.-]+)?")


def _masked(text: str) -> str:
    """``text`` with links and @handles blanked, same length so offsets hold.

    "https://scam.example/claim" or "@brokenbiscuit" say nothing about tone.
    """
    return _URL_OR_HANDLE.sub(lambda m: " " * len(m.group()), text)


_REPEATS = re.compile(r"(\S)\1{3,}")


def _polarity(text: str) -> float:
    """VADER's compound polarity of the first ``VADER_CHARS``, a run of one character cut
    to three ("😍😍😍😍😍" reads as "😍😍😍", "!!!!!!" as "!!!": VADER caps both anyway)."""
    text = _REPEATS.sub(r"\1\1\1", text[:VADER_CHARS])
    return _analyzer().polarity_scores(text)["compound"] if text.strip() else 0.0


def _contains(outer: Word, inner: Word) -> bool:
    longer = outer.end - outer.start > inner.end - inner.start
    return longer and outer.start <= inner.start and inner.end <= outer.end


def _evidence(text: str) -> dict:
    text = _masked(text)
    complaint_cues, praise_cues = _compiled()
    complaints = _cue_words(text, complaint_cues, "complaint")
    praises = _cue_words(text, praise_cues, "praise")
    # A praise phrase that holds a complaint word wins ("never disappoints"); any other
    # overlap goes to the complaint.
    if praises:
        complaints = [c for c in complaints if not any(_contains(p, c) for p in praises)]
    taken = bytearray(len(text))
    for c in complaints:
        taken[c.start : c.end] = b"\x01" * (c.end - c.start)
    praises = [p for p in praises if not any(taken[p.start : p.end])]
    compound = _polarity(text)
    return {
        "complaint_cues": complaints,
        "praise_cues": praises,
        "compound": compound,
        "questions": _question_words(text),
    }


def _decide(ev: dict, complaint_at: float, praise_at: float, vader_weight: float):
    """(label, score, deciding words) from the evidence; the one place the order lives."""
    compound = ev["compound"]
    complaint = sum(w.weight for w in ev["complaint_cues"]) + vader_weight * max(0.0, -compound)
    praise = sum(w.weight for w in ev["praise_cues"]) + vader_weight * max(0.0, compound)
    if complaint >= complaint_at and complaint >= praise - 1.0:
        return "complaint", complaint / (complaint + praise + 1.0), "complaint"
    if ev["questions"]:
        return "question", 1.0 - 1.0 / (2.0 + complaint + len(ev["questions"])), "question"
    if praise >= praise_at:
        return "praise", praise / (praise + complaint + 1.0), "praise"
    return "other", 1.0 / (1.0 + complaint + praise), None


def classify(text: str) -> Tone:
    """The tone of one reply; never raises on any ``str`` and gives the same answer twice."""
    text = text[:MAX_CHARS]
    ev = _evidence(text)
    label, score, towards = _decide(ev, COMPLAINT_AT, PRAISE_AT, VADER_WEIGHT)
    words: list[Word] = []
    if towards == "complaint":
        words = ev["complaint_cues"] + _lexicon_words(_masked(text), -1)
    elif towards == "praise":
        words = ev["praise_cues"] + _lexicon_words(_masked(text), +1)
    elif towards == "question":
        words = ev["questions"]
    unique = {(w.start, w.end): w for w in sorted(words, key=lambda w: -w.weight)}
    # The weightiest MAX_WORDS (the first of equals), shown in reading order.
    strongest = sorted(unique.values(), key=lambda w: (-w.weight, w.start))[:MAX_WORDS]
    ordered = tuple(sorted(strongest, key=lambda w: (w.start, w.end)))
    return Tone(label, round(min(max(score, 0.0), 1.0), 3), ordered)


# --- the labelled set and its evaluation ------------------------------------------------


def split_of(text: str) -> str:
    """The split a text belongs to, assigned once by a hash of the text (60/20/20)."""
    bucket = int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 60 else "dev" if bucket < 80 else "test"


def load(split: str | None = None, path: Path = DATA) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]


def scores(rows: list[dict], predict=None) -> dict[str, dict[str, float]]:
    """Precision and recall per label of ``predict`` (default: ``classify``) on ``rows``."""
    predict = predict or (lambda text: classify(text).label)
    pairs = [(row["tone"], predict(row["text"])) for row in rows]
    out = {}
    for label in LABELS:
        tp = sum(1 for gold, got in pairs if gold == label == got)
        predicted = sum(1 for _, got in pairs if got == label)
        actual = sum(1 for gold, _ in pairs if gold == label)
        out[label] = {
            "precision": round(tp / predicted, 3) if predicted else 0.0,
            "recall": round(tp / actual, 3) if actual else 0.0,
            "support": actual,
        }
    out["accuracy"] = round(sum(1 for g, p in pairs if g == p) / len(pairs), 3)
    return out


def tune(rows: list[dict]) -> tuple[float, float, float]:
    """``PRAISE_AT`` and ``VADER_WEIGHT`` with the best macro-F1 on ``rows`` (the dev split).

    ``COMPLAINT_AT`` is not searched: it is what the cue weights mean (a cue of weight 1
    is a complaint alone, one of 0.5 needs company). Ties go to the first in grid order.
    """
    evidence = [(row["tone"], _evidence(row["text"][:MAX_CHARS])) for row in rows]
    best = (-1.0, 0.0, 0.0)
    for praise_at in (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.75, 1.0):
        for vader_weight in (0.5, 0.75, 1.0, 1.5, 2.0):
            pairs = [
                (gold, _decide(ev, COMPLAINT_AT, praise_at, vader_weight)[0])
                for gold, ev in evidence
            ]
            f1s = []
            for label in LABELS:
                tp = sum(1 for g, p in pairs if g == label == p)
                wrong = sum(1 for g, p in pairs if (g == label) != (p == label))
                f1s.append(2 * tp / (2 * tp + wrong) if tp else 0.0)
            macro = sum(f1s) / len(f1s)
            if macro > best[0] + 1e-9:
                best = (macro, praise_at, vader_weight)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syndication.conversation.tone")
    command = parser.add_subparsers(dest="command", required=True)
    evaluate = command.add_parser("evaluate", help="precision and recall per tone on a split")
    evaluate.add_argument("--split", choices=("train", "dev", "test"), default="dev")
    evaluate.add_argument("--errors", action="store_true", help="list the misclassified")
    command.add_parser("tune", help="grid-search the thresholds on the dev split")
    args = parser.parse_args(argv)
    if args.command == "tune":
        macro, praise_at, vader_weight = tune(load("dev"))
        print(  # noqa: T201
            f"dev macro-F1 {macro:.3f}: PRAISE_AT = {praise_at}, VADER_WEIGHT = {vader_weight}"
        )
        return
    rows = load(args.split)
    result = scores(rows)
    confusion = Counter((row["tone"], classify(row["text"]).label) for row in rows)
    print(f"{args.split}: {len(rows)} replies, accuracy {result['accuracy']}")  # noqa: T201
    for label in LABELS:
        r = result[label]
        print(  # noqa: T201
            f"  {label:<10} precision {r['precision']:.3f}  recall {r['recall']:.3f}"
            f"  (n={r['support']})  predicted as: "
            + ", ".join(f"{p} {confusion[(label, p)]}" for p in LABELS if confusion[(label, p)])
        )
    if args.errors:
        for row in rows:
            got = classify(row["text"])
            if got.label != row["tone"]:
                print(f"  {row['tone']:>9} → {got.label:<9} {row['text']!r}")  # noqa: T201


if __name__ == "__main__":
    main()
