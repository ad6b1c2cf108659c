"""The voice check's engine: find where the rules match a text, weigh the findings, score it.

Scoring
-------
Every finding carries an internal weight between 0 and 1: roughly, how likely a sentence with
only that phrase is sales copy. Within a sentence, findings of one rule add up with diminishing
returns (the strongest counts fully, the next half, then a quarter...), and the rules combine as
independent evidence, ``1 - prod(1 - rule_strength)``. That is the sentence score (see
``sentence_scores``).

The text score is driven by its worst passage: each sentence's score is combined with half of
each neighbour's, ``1 - (1 - s[i]) * (1 - s[i-1] / 2) * (1 - s[i+1] / 2)``, and the text takes
the maximum over sentences. So one strong call to action makes a text salesy wherever it sits,
and so does a dense run of milder claims, but a lone mild phrase (one hype word, one "save up
to £N" in a guide) stays below the threshold however long the story, because weights are never
summed across distant sentences.

``DEFAULT_THRESHOLD`` (0.5) sits between the mild single cues (0.3 to 0.45) and the strong ones
(0.55 and up). On the two labelled sets it gave the best balance (no false alarms, one miss in a
hundred); 0.45 catches a little more and starts flagging stories, 0.6 starts missing polite
calls to action.

Speed
-----
The text is lower-cased once and split into word tokens, and each rule is tried only where one
of its first words occurs (``pattern.match`` at that token), instead of scanning the whole text
with every pattern. First words are derived from the patterns themselves, and a pattern whose
first word cannot be read off is refused when the rules load. Rules that may begin with
optional words ("the very best") name their head word and look back a few characters from it.
No pattern nests unbounded quantifiers and no search runs to the end of a sentence, so the work
grows linearly with the text: 3,000 words take a few milliseconds and a megabyte of prose well
under a second (a megabyte built to be awkward, such as 300,000 one-word sentences that each
yield a finding, takes a few seconds).
"""

from __future__ import annotations

import bisect
import math
import numbers
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from heapq import merge

from stories.voice import model as learned
from stories.voice import reader as meaning
from stories.voice.messages import _KINDS
from stories.voice.rules import _IMPERATIVES, _TABLE
from stories.voice.rules.base import _Rule, _words
from stories.voice.rules.calls_to_action import (
    _CONTEXT,
    _CTA_TAIL,
    _FOLLOWER,
    _LOOSE_FOLLOWER,
    _OPENER_BEFORE,
    _SAFETY,
    _SUBORDINATE_START,
    _THIRD_PARTY,
)
from stories.voice.rules.shouting import _ACRONYMS, _COMMON_CAPS

DEFAULT_THRESHOLD = 0.5
#: The rule of the learned layer's findings (``model.py``).
LEARNED_RULE = "soft-pitch"


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    rule: str
    message: str
    suggestion: str


@dataclass(frozen=True)
class VoiceReport:
    score: float
    is_salesy: bool
    findings: list[Finding]
    threshold: float


# ---------------------------------------------------------------------------------------------
# Text structure: sentences, speech, capitals.
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z]+|[#£$€¥₹]")
_NUMBER_TOKEN = re.compile(r"\d+")
_WORD_START = re.compile(r"(?<![a-z0-9])[a-z0-9#£$€¥₹]")
_PAST_BEFORE = re.compile(r"\b(?:was|were|had|been|used\s+to|would|did|sold|went)\b")
_SENT_END = re.compile(r"[.!?…؟۔。！？]+[\"'”’)\]»]*(?=\s|$)|\n\s*\n|\n(?=\s*[-•*])")
# Inside single quotes only an apostrophe between letters ("I've") continues the quote, so
# each opening mark scans no further than the next quote mark.
_QUOTES = re.compile(
    r"\"[^\"\n]{1,500}\"|“[^“”\n]{1,500}”|«[^«»\n]{1,500}»"
    r"|‘(?:[^‘’\n]|(?<=\w)’(?=\w)){1,300}’(?!\w)|'(?<!\w')(?:[^'\n]|(?<=\w)'(?=\w)){1,300}'(?!\w)"
)
# "Enjoy it while it lasts, my neighbour said": the clause before a speech tag is speech.
_SPEECH_VERBS = frozenset(
    _words(
        "said says told shouted warned added replied laughed recalled explained insisted "
        "whispered called yelled asked joked admitted remembers remembered sighed tells writes "
        "wrote promised grumbled muttered cried reminded advised"
    )
)
_SPEECH_LEAD = re.compile(r",\s+(?:(?:my|our|his|her|their|the|a|an)\s+)?(?:[\w'’-]+\s+){0,2}?$")
_SELF = re.compile(r"\bour\b")
_READER = re.compile(r"\b(?:you|your|you[’']re|you[’']ll)\b")
_PRESSURE = re.compile(r"!{2,}|\?!+|!\?+")
_CAPS = re.compile(r"[A-Z][A-Z'’]{3,}")
_VOWEL = re.compile(r"[AEIOUY]")
_CODE_CHARS = re.compile(r"[A-Z0-9]+")
_QUOTED_FACTOR = 1 / 3
_MILD_RULES = ("shouting", "pressure-punctuation")
_ALL_HEADS = frozenset().union(
    *(rule.heads for rule in _TABLE), *(imp.heads for imp in _IMPERATIVES), _SPEECH_VERBS
)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    weight: float

    @property
    def rule(self) -> str:
        return _KINDS[self.kind][0]


class _Spans:
    """Sorted spans with a fast "is this range inside one of them" test."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        merged: list[tuple[int, int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self._starts = [s for s, _ in merged]
        self._spans = merged

    def contains(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and end <= self._spans[i][1]


def _lower(text: str) -> str:
    """Lower-case without moving any character, so offsets stay valid."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters ("İ") grow when lower-cased; keep those as they are.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans without surrounding space; a lower-case next word keeps the sentence."""
    spans = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end()
        nxt = end
        while nxt < len(text) and text[nxt].isspace():
            nxt += 1
        # "'Encore!' the audience roared" -- a dialogue tag continues the sentence.
        if nxt < len(text) and text[nxt].islower() and "\n" not in text[end:nxt]:
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.I)


def _phrases(value: Iterable[str], name: str) -> list[re.Pattern[str]]:
    # A bare string is one phrase, not a list of one-letter phrases.
    items = [value] if isinstance(value, str) else value
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"{name} must be an iterable of str, got {type(value).__name__}") from None
    patterns = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must contain only str, got {type(item).__name__}")
        pattern = _phrase_pattern(item)
        if pattern is not None:
            patterns.append(pattern)
    return patterns


class _Doc:
    """One text prepared for the rules: lower-cased copy, sentences, token index, speech."""

    def __init__(self, text: str, allowed: _Spans):
        self.text = text
        self.low = _lower(text)
        self.allowed = allowed
        self.sentences = _sentences(text)
        self.starts = [s for s, _ in self.sentences]
        self.index: dict[str, list[int]] = defaultdict(list)
        for m in _TOKEN.finditer(self.low):
            token = m.group()
            if token in _ALL_HEADS:
                self.index[token].append(m.start())
        self.index["<num>"] = [m.start() for m in _NUMBER_TOKEN.finditer(self.low)]
        spoken = [m.span() for m in _QUOTES.finditer(text)]
        seen = set()
        for verb in _SPEECH_VERBS.intersection(self.index):
            for pos in self.index[verb]:
                i = self.sentence_of(pos)
                s = self.sentences[i][0]
                if i in seen:
                    continue
                lead = _SPEECH_LEAD.search(self.low, max(s, pos - 40), pos)
                if lead:
                    seen.add(i)
                    spoken.append((s, lead.start()))
        self.quoted = _Spans(spoken)
        self.groups: list[list[_Hit]] = [[] for _ in self.sentences]
        #: Each sentence's score from the learned layer (0 without a model).
        self.learned: list[float] = [0.0] * len(self.sentences)
        #: The words that weighed most where the learned layer made a finding.
        self.evidence: dict[int, list[str]] = {}
        self.modelled = False  # scored by the learned layer

    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def positions(self, heads: frozenset[str]) -> Iterable[int]:
        lists = [self.index[h] for h in heads if h in self.index]
        if len(lists) == 1:
            return lists[0]
        return merge(*lists)

    def add(self, start: int, end: int, kind: str, weight: float) -> None:
        i = self.sentence_of(start)
        if i < 0 or self.allowed.contains(start, end):
            return
        if kind != "brand-term" and self.quoted.contains(start, end):
            weight *= _QUOTED_FACTOR
        self.groups[i].append(_Hit(start, end, kind, weight))


def _rule_matches(doc: _Doc, rule: _Rule) -> Iterable[re.Match[str]]:
    """Matches of ``rule`` that begin at (or, with ``back``, around) one of its head words."""
    low = doc.low
    last_end = -1
    tried = -1  # token starts up to here already failed for this rule
    for pos in doc.positions(rule.heads):
        if pos < last_end:
            continue
        i = doc.sentence_of(pos)
        s, e = doc.sentences[i]
        if pos >= e:
            continue
        if rule.back:
            # Try the word starts shortly before the head, each at most once per rule: a
            # search to the sentence end would make a long sentence quadratic.
            m = None
            lo = max(s, last_end, tried + 1, pos - rule.back)
            for start in _WORD_START.finditer(low, lo, pos + 1):
                m = rule.regex.match(low, start.start(), e)
                if m and m.end() > pos:
                    break
                m = None
            tried = pos
            if m is None:
                continue
        else:
            m = rule.regex.match(low, pos, e)
            if m is None:
                continue
        if rule.opening and low[s : m.start()].strip(" \"'“‘([«"):
            continue
        last_end = m.end()
        yield m


def _phrase_hits(doc: _Doc) -> None:
    voices: dict[int, float] = {}
    for rule in _TABLE:
        for m in _rule_matches(doc, rule):
            start, end = m.span()
            if rule.caps and not _CODE_CHARS.fullmatch(doc.text, m.start(1), m.end(1)):
                continue
            if rule.proper and not doc.text[m.start(1)].isupper():
                continue
            i = doc.sentence_of(start)
            s, e = doc.sentences[i]
            if rule.past and _PAST_BEFORE.search(doc.low, max(s, start - 30), start):
                continue
            weight = rule.weight
            if rule.kind.startswith("superlative"):
                # Praise weighs more when the brand speaks or the reader is addressed.
                if i not in voices:
                    voices[i] = (
                        0.15
                        if _SELF.search(doc.low, s, e)
                        else 0.1
                        if _READER.search(doc.low, s, e)
                        else 0.0
                    )
                weight += voices[i]
            doc.add(start, end, rule.kind, weight)


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Mn")


def _clause_start(low: str, pos: int, sent_start: int) -> bool:
    """True when ``pos`` opens a clause, so a bare verb there is an imperative."""
    k = pos
    skipped_opener = False
    while True:
        while k > sent_start and _invisible(low[k - 1]):
            k -= 1
        if k <= sent_start:
            return True
        m = _OPENER_BEFORE.search(low, max(sent_start, k - 24), k)
        if m is None:
            break
        k = m.start()
        skipped_opener = True
    ch = low[k - 1]
    if ch in ":;—–…•|(\"'“‘«.!?؟":
        return True
    if ch in "-*" and (k - 1 == sent_start or low[k - 2].isspace()):
        return True
    # An emoji, or a word in another script (Arabic, Hebrew...), ends the clause before it.
    if unicodedata.category(ch) in ("So", "Sk") or (ch.isalpha() and ord(ch) > 0x24F):
        return True
    if ch == ",":
        # "..., so come down early" or "If you are ready, call us".
        return skipped_opener or _SUBORDINATE_START.match(low, sent_start, k) is not None
    return False


class _Context:
    """Commercial cues of one sentence, gathered once however many verbs ask about them."""

    def __init__(self, doc: _Doc, i: int):
        s, e = doc.sentences[i]
        self.findings = any(h.rule not in _MILD_RULES for h in doc.groups[i])
        self.any_starts: list[int] = []
        self.commercial_starts: list[int] = []
        for m in _CONTEXT.finditer(doc.low, s, e):
            if doc.allowed.contains(*m.span()) or doc.quoted.contains(*m.span()):
                continue
            self.any_starts.append(m.start())
            if m.lastgroup != "time":
                self.commercial_starts.append(m.start())

    def present(self, skip: tuple[int, int], commercial_only: bool) -> bool:
        if self.findings:
            return True
        starts = self.commercial_starts if commercial_only else self.any_starts
        inside = bisect.bisect_left(starts, skip[1]) - bisect.bisect_left(starts, skip[0])
        return len(starts) > inside


def _imperative_hits(doc: _Doc) -> None:
    low, text = doc.low, doc.text
    candidates = []
    for imp in _IMPERATIVES:
        last_end = -1
        for pos in doc.positions(imp.heads):
            i = doc.sentence_of(pos)
            s, e = doc.sentences[i]
            if pos < last_end or pos >= e or not _clause_start(low, pos, s):
                continue
            m = imp.regex.match(low, pos, e)
            if m is None:
                continue
            last_end = m.end()
            if _THIRD_PARTY.match(low, m.end(), e):
                continue
            if imp.kind == "cta-act" and _SAFETY.search(low, s, e):
                continue
            loose = False
            if imp.needs_follower and not _FOLLOWER.match(text, m.end(), e):
                if not _LOOSE_FOLLOWER.match(text, m.end(), e):
                    continue
                loose = True
            candidates.append((i, m.start(), m.end(), imp, loose))
    # Judged after the phrase rules, so another finding in the sentence counts as context.
    contexts: dict[int, _Context] = {}
    for i, start, end, imp, loose in candidates:
        tail = _CTA_TAIL.match(low, end, doc.sentences[i][1])
        # The verb's own object ("Join us in wishing...") is not context; "now" after it is.
        own = tail.end() if tail and tail.group().split()[0] in ("us", "it", "them") else end
        end = tail.end() if tail else end
        alone = 0.0 if loose else imp.alone
        if i not in contexts:
            contexts[i] = _Context(doc, i)
        if contexts[i].present((start, own), imp.commercial_only):
            weight = imp.with_context
        elif alone:
            weight = alone
        else:
            continue
        doc.add(start, end, imp.kind, weight)


def _punctuation_and_caps(doc: _Doc) -> None:
    text = doc.text
    selling = [any(h.weight >= 0.3 and h.rule not in _MILD_RULES for h in g) for g in doc.groups]
    for m in _PRESSURE.finditer(text):
        if not doc.quoted.contains(*m.span()):
            doc.add(m.start(), m.end(), "pressure-punctuation", 0.45)
    pos = text.find("!")
    while pos != -1:
        # A lone "!" in a sentence that already sells; runs like "!!" were flagged above.
        i = doc.sentence_of(pos)
        lone = text[pos - 1 : pos] not in ("!", "?") and text[pos + 1 : pos + 2] not in ("!", "?")
        if i >= 0 and selling[i] and lone and not doc.quoted.contains(pos, pos + 1):
            doc.add(pos, pos + 1, "pressure-punctuation", 0.3)
        pos = text.find("!", pos + 1)
    caps: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for m in _CAPS.finditer(text):
        a, b = m.span()
        if (a and (text[a - 1].isalnum() or text[a - 1] in "'’_")) or (
            b < len(text) and (text[b].isalnum() or text[b] == "_")
        ):
            continue
        word = m.group().rstrip("'’")
        if word not in _ACRONYMS and _VOWEL.search(word):
            caps[doc.sentence_of(a)].append((a, a + len(word), word))
    for words in caps.values():
        shouted = words if len(words) >= 2 else [w for w in words if w[2] in _COMMON_CAPS]
        for a, b, _ in shouted:
            doc.add(a, b, "shouting", 0.3)


def _drop_nested(hits: list[_Hit]) -> list[_Hit]:
    """One finding per phrase: a span inside a longer one of the same rule folds into it."""
    if len(hits) < 2:
        return hits
    kept: list[_Hit] = []
    widest: dict[str, int] = {}  # rule -> index in ``kept`` of its span reaching furthest
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        j = widest.get(hit.rule)
        outer = kept[j] if j is not None else None
        if outer is not None and hit.end <= outer.end:
            if hit.weight > outer.weight:
                kept[j] = _Hit(outer.start, outer.end, outer.kind, hit.weight)
            continue
        widest[hit.rule] = len(kept)
        kept.append(hit)
    return kept


def _brand_hits(doc: _Doc, flags: list[re.Pattern[str]]) -> None:
    for pattern in flags:
        for m in pattern.finditer(doc.text):
            doc.add(m.start(), m.end(), "brand-term", 0.6)


def _combine(weights: Iterable[float]) -> float:
    """Independent evidence: 1 - prod(1 - w)."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - min(max(w, 0.0), 1.0)
    return 1.0 - miss


def _sentence_score(hits: list[_Hit]) -> float:
    """The rules' score of one sentence (the learned layer's finding is not counted again)."""
    by_rule: dict[str, list[float]] = defaultdict(list)
    for h in hits:
        if h.rule != LEARNED_RULE:
            by_rule[h.rule].append(h.weight)
    if not by_rule:
        return 0.0
    strengths = []
    for weights in by_rule.values():
        weights.sort(reverse=True)
        # Repeating one trick adds less than using a new one.
        strengths.append(_combine(w * 0.5**k for k, w in enumerate(weights)))
    return _combine(strengths)


def _text_score(scores: list[float]) -> float:
    best = 0.0
    for i, own in enumerate(scores):
        before = scores[i - 1] if i > 0 else 0.0
        after = scores[i + 1] if i + 1 < len(scores) else 0.0
        best = max(best, _combine((own, before / 2, after / 2)))
    return best


def _brand_score(hits: list[_Hit]) -> float:
    return _sentence_score([h for h in hits if h.rule == "brand-term"])


#: Where the learned layer decides, the rules alone reach at most just under the default
#: threshold (they still make a text salesy for a brand that sets a stricter threshold)...
RULES_ALONE = DEFAULT_THRESHOLD - 0.01
#: ...unless they are sure: 3 of the 1,260 items of the corpus's train split that are not
#: selling score this high by the rules, 196 of the 1,019 selling items do.
RULES_SURE = 0.8


def _rules_part(score: float) -> float:
    return score if score >= RULES_SURE else min(score, RULES_ALONE)


def _combined_score(doc: _Doc) -> float:
    """The text's score. With the learned layer: the run of sentences it finds most selling
    (the rules' signals are among what it weighs, so it can overrule them: "Act now if you
    smell gas"), a brand's own flagged phrase, or the rules' worst passage (up to
    ``RULES_ALONE`` unless ``RULES_SURE``), whichever is highest. Without it, the rules'
    worst passage: a sentence with half its neighbours."""
    rules = _text_score([_sentence_score(g) for g in doc.groups])
    if doc.modelled:
        brand = _text_score([_brand_score(g) for g in doc.groups])
        return max(max(doc.learned, default=0.0), brand, _rules_part(rules))
    return rules


def _analyse(
    text: object,
    flag: Iterable[str],
    allow: Iterable[str],
    *,
    use_model: bool = True,
    use_reader: bool = True,
) -> _Doc:
    if not isinstance(text, str):
        raise TypeError(f"voice check expects text as str, got {type(text).__name__}")
    flags = _phrases(flag, "flag")
    allowed = _Spans(m.span() for p in _phrases(allow, "allow") for m in p.finditer(text))
    doc = _Doc(text, allowed)
    _phrase_hits(doc)
    _brand_hits(doc, flags)
    _imperative_hits(doc)
    _punctuation_and_caps(doc)
    doc.groups = [_drop_nested(g) for g in doc.groups]
    if use_model:
        _model_hits(doc, use_reader)
    return doc


#: The learned layer reads runs of up to this many sentences: a pitch often needs its
#: neighbour to show ("Office party coming up? We do boxes of a dozen.").
WINDOW = 3


def _windows(count: int) -> Iterable[tuple[int, int]]:
    for first in range(count):
        for last in range(first, min(count, first + WINDOW)):
            yield first, last


def _window_features(
    doc: _Doc, first: int, last: int, words: list[list], vector=None
) -> dict[str, tuple[float, int, int]]:
    """What the learned layer reads of sentences ``first``..``last``: their words outside the
    brand's allowed phrases (``words``, per sentence), and the rules' signals in them
    (computed before the layer adds anything)."""
    toks = [t for i in range(first, last + 1) for t in words[i]]
    hits = [h for i in range(first, last + 1) for h in doc.groups[i]]
    rules = max(_sentence_score(doc.groups[i]) for i in range(first, last + 1))
    return learned.features(toks, learned.rule_signals(hits, rules), vector)


def _sentence_words(doc: _Doc) -> list[list]:
    """Each sentence's tokens for the learned layer: not the brand's allowed phrases, and not
    what people say in quotes (a quoted customer is the story's voice, not the brand's), which
    leaves one ``<quote>`` token in their place."""
    words = []
    for s, e in doc.sentences:
        kept, quoted = [], False
        for t in learned.tokens(doc.low, s, e):
            if doc.allowed.contains(t.start, t.end):
                continue
            if doc.quoted.contains(t.start, t.end):
                if not quoted:
                    kept.append(learned.Token("<quote>", t.start, t.start))
                quoted = True
                continue
            quoted = False
            kept.append(t)
        words.append(kept)
    return words


def model_inputs(text: str) -> list[tuple[int, int, dict[str, tuple[float, int, int]]]]:
    """``(first sentence, last sentence, features)`` for each run of sentences of ``text``
    the learned layer reads; ``training`` learns from exactly these."""
    doc = _analyse(text, (), (), use_model=False)
    words = _sentence_words(doc)
    table = learned.embeddings()
    if table is None:
        return [
            (first, last, _window_features(doc, first, last, words))
            for first, last in _windows(len(doc.sentences))
        ]
    sums = table.sums(doc.low, words)
    return [
        (
            first,
            last,
            _window_features(
                doc, first, last, words, learned.unit(sums[first : last + 1].sum(axis=0))
            ),
        )
        for first, last in _windows(len(doc.sentences))
    ]


def _learned_score(probability: float, cutoff: float) -> float:
    """The model's probability on the engine's scale: its cutoff lands on ``DEFAULT_THRESHOLD``."""
    if probability >= cutoff:
        return DEFAULT_THRESHOLD + (1 - DEFAULT_THRESHOLD) * (probability - cutoff) / (1 - cutoff)
    return DEFAULT_THRESHOLD * probability / cutoff


def _stacked(doc: _Doc, words: float, runs: int) -> float | None:
    """The word model's and the sentence reader's probabilities joined (``Reader.joint``), on
    the engine's scale; None for a text longer than the corpus's items
    (``learned.ITEM_RUNS`` runs, five sentences), without a letter, or with no reader."""
    found = meaning.load() if runs <= learned.ITEM_RUNS else None
    text = meaning.readable(doc.text, doc.allowed._spans) if found else ""
    if not any(ch.isalpha() for ch in text):
        return None
    return _learned_score(found.joint(words, found.probability(text)), found.cutoff)


def _model_hits(doc: _Doc, use_reader: bool = True) -> None:
    """Score every run of sentences with the learned layer; each sentence takes the score of
    the most selling run it is in. Where a run sells and no rule already says so, add a
    finding on the words that weighed most.

    A short text (up to five sentences) is also read by the sentence reader (``reader.py``),
    and then its probability joined with the most selling run's decides instead: that run
    takes the joint score and every other run stays under the threshold."""
    found_model = learned.load()
    if found_model is None:
        return
    doc.modelled = True
    words = _sentence_words(doc)
    scorer = learned.RunScorer(found_model, words, doc.low)
    signals = [learned.rule_signals(g, _sentence_score(g)) for g in doc.groups]
    flagged = []
    windows = list(_windows(len(doc.sentences)))
    cutoff = found_model.cutoff_for(len(windows))
    beyond_measure = cutoff >= learned.BEYOND_MEASURE
    best = (-1.0, 0, 0)  # the most selling run: its probability, first and last sentence
    for first, last in windows:
        combined: dict[str, float] = {}
        for i in range(first, last + 1):
            for name, value in signals[i].items():
                combined[name] = max(combined.get(name, 0.0), value)
        probability = scorer.probability(first, last, combined)
        if probability > best[0]:
            best = (probability, first, last)
        score = _learned_score(probability, cutoff)
        verdict = score
        if beyond_measure and not any(
            name.startswith("rule:") and name[5:] not in _MILD_RULES for name in combined
        ):
            # A story this long: the model alone may point at a passage (its finding is
            # listed) but does not make the story selling; a rule must agree.
            verdict = min(score, RULES_ALONE)
        for i in range(first, last + 1):
            doc.learned[i] = max(doc.learned[i], verdict)
        if score >= DEFAULT_THRESHOLD:
            flagged.append((score, first, last))
    stacked = _stacked(doc, best[0], len(windows)) if use_reader and windows else None
    if stacked is not None:
        _probability, first, last = best
        doc.learned = [min(value, RULES_ALONE) for value in doc.learned]
        for i in range(first, last + 1):
            doc.learned[i] = max(doc.learned[i], stacked)
        flagged = [(stacked, first, last)] if stacked >= DEFAULT_THRESHOLD else []
    explained = set()
    for score, first, last in sorted(flagged, key=lambda f: -f[0]):
        if any(i in explained for i in range(first, last + 1)):
            continue
        if any(h.rule not in _MILD_RULES for i in range(first, last + 1) for h in doc.groups[i]):
            explained.update(range(first, last + 1))  # a rule's finding says why already
            continue
        found = _window_features(doc, first, last, words, scorer.vector(first, last))
        toks = [t for i in range(first, last + 1) for t in words[i]]
        evidence = found_model.evidence(found, meaning=found_model.contributions(doc.low, toks))
        if not evidence and stacked is not None and toks:
            # The reader found it where no word weighs much: point at the run's last words.
            evidence = [(0.0, toks[max(0, len(toks) - 4)].start, toks[-1].end)]
        if not evidence:
            continue
        _weight, start, end = evidence[0]
        i = doc.sentence_of(start)
        kind = "model-" + found_model.kind_of(found)
        doc.groups[i].append(_Hit(start, end, kind if kind in _KINDS else "model-other", score))
        doc.evidence[i] = [doc.text[s:e] for _w, s, e in evidence]
        explained.update(range(first, last + 1))


def _finding(doc: _Doc, hit: _Hit) -> Finding:
    rule, message, suggestion = _KINDS[hit.kind]
    text = doc.text
    phrase = " ".join(text[hit.start : hit.end].split())
    if rule == LEARNED_RULE:
        others = doc.evidence.get(doc.sentence_of(hit.start), [])[1:]
        also = ", ".join(f'"{" ".join(w.split())}"' for w in others)
        message = message.format(p=phrase, also=f" (with {also})" if also else "")
    else:
        message = message.format(p=phrase)
    return Finding(hit.start, hit.end, rule, message, suggestion)


def _check_threshold(threshold: object) -> float:
    # Any real number will do (a Decimal from a settings form, say); bool and str will not.
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real | Decimal):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    value = float(threshold)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return value


def _sentence_verdict(doc: _Doc, hits: list[_Hit], learned_score: float) -> float:
    if doc.modelled:
        return max(learned_score, _brand_score(hits), _rules_part(_sentence_score(hits)))
    return _sentence_score(hits)


def sentence_scores(
    text: str, *, flag: Iterable[str] = (), allow: Iterable[str] = ()
) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` for each sentence of ``text``, in order."""
    doc = _analyse(text, flag, allow)
    return [
        (s, e, round(_sentence_verdict(doc, g, learned), 4))
        for (s, e), g, learned in zip(doc.sentences, doc.groups, doc.learned, strict=True)
    ]


def check(
    text: str,
    *,
    flag: Iterable[str] = (),
    allow: Iterable[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    use_reader: bool = True,
) -> VoiceReport:
    """Score ``text`` for sales speak and explain every flagged phrase. ``use_reader=False``
    reads short texts with the words alone, as long ones are (for comparison)."""
    if not isinstance(text, str):
        raise TypeError(f"voice check expects text as str, got {type(text).__name__}")
    threshold = _check_threshold(threshold)
    doc = _analyse(text, flag, allow, use_reader=use_reader)
    score = round(_combined_score(doc), 4)
    findings = []
    seen = set()
    for hit in sorted((h for g in doc.groups for h in g), key=lambda h: (h.start, h.end, h.rule)):
        key = (hit.start, hit.end, hit.rule)
        if key not in seen:
            seen.add(key)
            findings.append(_finding(doc, hit))
    return VoiceReport(
        score=score, is_salesy=score >= threshold, findings=findings, threshold=threshold
    )


def check_many(texts: Iterable[str], **same_kwargs) -> list[VoiceReport]:
    """``check()`` each text with the same keyword options."""
    if isinstance(texts, str):
        raise TypeError("check_many expects an iterable of texts, not a single str")
    return [check(t, **same_kwargs) for t in texts]
