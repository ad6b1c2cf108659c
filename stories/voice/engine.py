"""Voice check: find sales speak in story copy, say why it sells, suggest a storyteller's line.

Storyloom stories earn attention by telling something true and specific; copy that pushes the
reader to buy, hurry or admire the brand breaks that contract. ``check()`` reads a text the way
a sub-editor would and returns a ``VoiceReport`` with a score, a verdict and one ``Finding`` per
flagged phrase, each with its character span, why it reads as selling and what to write instead.

Approach
--------
The rules describe the grammar of selling rather than listing known slogans:

* call-to-action -- an imperative aimed at the reader's wallet. A verb counts only when it opens
  a clause (sentence start, after ``:``/``;``/a dash, after "so", "simply", "why not"..., or
  after a fronted "If ..., " clause) and is followed by what an imperative takes (a determiner,
  a pronoun, "now", a preposition...), so "Order was restored" and "Shop owners say" pass.
  Verbs that only ever sell ("buy", "subscribe", "reserve") fire on their own; verbs of getting
  and joining ("get", "start", "switch") need a commercial cue in the same sentence ("now",
  "today", a price, "free", "our"/"us", another finding); everyday verbs ("bring", "enjoy",
  "treat") need a commercial cue other than time. Advice that sends the reader to a third party
  ("Call your provider", "see your GP") is skipped. "Move your account to us", "let us take care
  of everything" and "you can book online" are softer calls to action.
* urgency and scarcity -- deadlines attached to an offer ("the sale ends tonight"), "today
  only", "last chance", "don't miss out", "only 3 left", "places are filling fast", "while
  stocks last". When past-tense narration comes just before ("tickets were almost gone") the
  phrase is history and is skipped.
* discount -- prices framed as offers: "N% off", "half price", "first month free", promo codes,
  "from just £N", "no obligation", "when you spend £N". A bare price ("bread costs £2") is fact.
* superlative -- self-praise: "award-winning", "#1 choice", "best ... you'll ever find",
  "lowest fees in the industry", "more rewards than any other", "trusted by 2 million".
  Personal superlatives ("the best day of my life") are left alone; claims weigh more when the
  sentence speaks as the brand ("our") or to the reader ("you").
* hype -- empty excitement: "revolutionary", "game-changing", "exclusive", "unlock".
* pressure-punctuation -- "!!", "?!", or a single "!" in a sentence that is already selling.
* shouting -- words of four or more capitals that are not acronyms (a known list such as HMRC
  and NHS, plus any caps word without a vowel); a common word in caps counts on its own, other
  caps words only when two or more share a sentence.
* brand-term -- the phrases an admin passed in ``flag``.

Words inside quotation marks, or before a speech tag ("Save the receipt, she told me"), are a
character speaking: their findings weigh a third as much and their exclamation marks are never
flagged. Phrases passed in ``allow`` drop any finding lying inside them and stop counting as
commercial context for calls to action.

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
first word cannot be read off is refused when the module loads. Rules that may begin with
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
from typing import NamedTuple

__all__ = [
    "DEFAULT_THRESHOLD",
    "RULES",
    "Finding",
    "VoiceReport",
    "check",
    "check_many",
    "sentence_scores",
]

RULES = (
    "call-to-action",
    "urgency",
    "scarcity",
    "discount",
    "superlative",
    "hype",
    "pressure-punctuation",
    "shouting",
    "brand-term",
)
DEFAULT_THRESHOLD = 0.5


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
# Explanations. Each kind belongs to one rule; "{p}" is the flagged phrase.
# ---------------------------------------------------------------------------------------------

_KINDS: dict[str, tuple[str, str, str]] = {
    "cta-buy": (
        "call-to-action",
        '"{p}" tells the reader to spend money, which turns the story into an advert.',
        "Let someone in the story make the choice instead, e.g. 'Ana booked the Friday class "
        "after her second visit', and leave the buying to the page's link.",
    ),
    "cta-act": (
        "call-to-action",
        '"{p}" is an instruction to act on an offer, the voice of a flyer rather than a '
        "storyteller.",
        "Describe what a real customer did and what happened next, e.g. 'Tom switched in "
        "March and his first bill came in £12 lower'.",
    ),
    "cta-modal": (
        "call-to-action",
        '"{p}" points the reader at a purchase instead of telling them something.',
        "Say who did it and why, e.g. 'Most families book the Sunday slot because the kids "
        "are fresh', and let the reader draw the conclusion.",
    ),
    "urgency-now": (
        "urgency",
        '"{p}" pushes the reader to hurry, which is sales pressure, not part of the story.',
        "Drop the rush and give the reader a reason to care, e.g. what changed for the people "
        "in the story once they did it.",
    ),
    "urgency-deadline": (
        "urgency",
        '"{p}" sets a deadline on an offer to make the reader act before thinking.',
        "If the date matters, state it once as a plain fact, e.g. 'The autumn menu runs until "
        "3 November', without telling the reader to beat it.",
    ),
    "urgency-fomo": (
        "urgency",
        '"{p}" plays on the fear of missing out, a classic sales lever.',
        "Show what someone gained from it in a specific scene instead, e.g. 'Maya still "
        "talks about the first night she went'.",
    ),
    "scarcity": (
        "scarcity",
        '"{p}" uses scarcity to pressure the reader into acting before it is gone.',
        "If supply is part of the story, explain it as a fact with its cause, e.g. 'The potter "
        "fires forty mugs a month, and the kiln sets the pace'.",
    ),
    "discount-percent": (
        "discount",
        '"{p}" advertises a price cut, the language of a shop window rather than a story.',
        "Leave offers to the promotions area; in the story, say what the cost meant to a "
        "person, e.g. 'For Jo, the £40 fee decided whether she went at all'.",
    ),
    "discount-free": (
        "discount",
        '"{p}" dangles something free as bait, which readers recognise as an advert.',
        "Describe what people actually get and use, e.g. 'Every new member spends their first "
        "session with a coach who asks about their knees'.",
    ),
    "discount-terms": (
        "discount",
        '"{p}" is small-print offer language (codes, guarantees, sign-up terms).',
        "Cut it from the story and keep the terms on the offer page; tell what happened to a "
        "real person instead.",
    ),
    "discount-price": (
        "discount",
        '"{p}" frames a price as a bargain to tempt the reader.',
        "Give the price as a plain fact in context, e.g. 'A week's food for the dogs costs "
        "about £9', without 'just' or 'only'.",
    ),
    "superlative-rank": (
        "superlative",
        '"{p}" is the brand ranking itself, a claim readers have learned to ignore.',
        "Show one concrete detail that earns the praise, e.g. 'Ravi has taken his van to the "
        "same mechanic for eleven years'.",
    ),
    "superlative-ever": (
        "superlative",
        '"{p}" promises the best the reader will ever find, which only an advert says.',
        "Replace the claim with a specific comparison a person made, e.g. 'It was the first "
        "mortgage letter Sam understood without a dictionary'.",
    ),
    "superlative-proof": (
        "superlative",
        '"{p}" leans on crowd numbers to sell instead of telling one person\'s story.',
        "Pick one of those customers and tell what happened to them, in their own words.",
    ),
    "hype": (
        "hype",
        '"{p}" is a hype word that promises excitement without showing any.',
        "Replace it with the concrete thing that changed: what it does, for whom, and what "
        "happened when they used it.",
    ),
    "pressure-punctuation": (
        "pressure-punctuation",
        '"{p}" raises the volume of a sentence that is already selling.',
        "End on a full stop and let the detail carry the feeling; keep exclamation marks for "
        "people speaking in quotes.",
    ),
    "shouting": (
        "shouting",
        '"{p}" is written in capitals, which reads as shouting at the reader.',
        "Write it in ordinary case and let the sentence around it do the work.",
    ),
    "brand-term": (
        "brand-term",
        '"{p}" is on your brand\'s list of campaign phrases to keep out of stories.',
        "Describe what the product did for a real person instead of using the campaign phrase.",
    ),
}


def _words(text: str) -> list[str]:
    return text.split()


# ---------------------------------------------------------------------------------------------
# Rule table. Patterns are lower-case and run on the lower-cased text.
# ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty fifty"
)
_NUMBER = r"(?:\d[\d,.]*|" + _NUMBER_WORDS.replace(" ", "|") + r")"
_NUMBER_HEADS = [r"\d[\d,.]*", *_NUMBER_WORDS.split()]
_MONEY = r"(?:[£$€¥₹]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:pounds|dollars|euros|quid)\b)"
_PERCENT = r"(?:\d+(?:\.\d+)?\s?(?:%|per\s?cent\b|percent\b))"
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_SUPERLATIVES = _words(
    "best finest greatest cheapest lowest highest fastest biggest largest easiest simplest "
    "smartest safest healthiest strongest leading top"
)
# "Most" before an adjective ranks ("the most trusted"); before a plural noun it counts
# ("most countries", "most people"), which is no claim at all.
_MOST_ADJECTIVE = (
    r"most\s+(?!(?:people|of|days|nights|weeks|months|years|times|folk|families|households)\b)"
    r"(?![a-z]+(?:ies|[^sui]s)\b)[a-z]+"
)
_SUPER = r"(?:" + "|".join(_SUPERLATIVES) + r"|" + _MOST_ADJECTIVE + r")"
_SUPER_OR_ONLY = r"(?:only|" + "|".join(_SUPERLATIVES) + r"|" + _MOST_ADJECTIVE + r")"
_OFFER_NOUNS = _words(
    r"offers? deals? sale discounts? prices? pricing rates? promotions? promo bonus savings? "
    r"vouchers? codes? trials? tickets? bookings? applications? registrations? enrolments? "
    r"enrollments? entries membership window orders"
)
_PLACES = (
    r"(?:spots|places|seats|spaces|tickets|rooms|tables|units|slots|pieces|items|copies|pairs"
    r"|bottles|boxes|bags|plots|pitches|cabins|berths|dates|sessions|appointments)"
)
_SYMBOL_HEADS = "#£$€¥₹"
_FIRST_WORD = re.compile(r"([a-z]+)(\?)?")


class _Rule(NamedTuple):
    kind: str
    weight: float
    regex: re.Pattern[str]
    heads: frozenset[str]
    past: bool  # skip when past-tense narration comes just before
    back: int  # the match may start up to this many characters before its head word
    opening: bool  # only at the start of a sentence
    caps: bool  # group 1 must be in capitals or digits in the original text
    proper: bool  # group 1 must be a capitalised name in the original text


def _heads_of(fragment: str) -> set[str]:
    """The tokens a fragment can start with; refuse fragments whose first token is unclear."""
    lookbehind = re.match(r"\(\?<[=!][^()]*\)", fragment)
    if lookbehind:
        # Zero-width: the first token is whatever follows it.
        return _heads_of(fragment[lookbehind.end() :])
    if fragment.startswith(r"\d") or fragment[:1].isdigit():
        return {"<num>"}
    if fragment.startswith("[") and set(fragment[1 : fragment.index("]")]) <= set(_SYMBOL_HEADS):
        return set(fragment[1 : fragment.index("]")])
    if fragment[:1] in _SYMBOL_HEADS:
        return {fragment[0]}
    m = _FIRST_WORD.match(fragment)
    rest = fragment[m.end() :] if m else ""
    # The first token must end where the literal word ends, at something that is always there
    # (a space, a hyphen, an apostrophe, a boundary); otherwise "slashed" or "dont" would hide
    # behind the head "slash" or "don".
    delimiter = re.match(r"\\[sbd]|\\[^\w]|\[[-\\s’']*\]|[-’' ),/]", rest)
    if not m or (rest and (not delimiter or rest[delimiter.end() :][:1] in ("?", "*", "{"))):
        raise ValueError(f"cannot tell the first word of {fragment!r}")
    word = m.group(1)
    return {word, word[:-1]} if m.group(2) else {word}


def _r(
    kind: str,
    weight: float,
    fragments: list[str] | str,
    tail: str = "",
    *,
    heads: str = "",
    past: bool = False,
    back: int = 0,
    opening: bool = False,
    caps: bool = False,
    proper: bool = False,
) -> _Rule:
    """A rule matching any of ``fragments`` followed by ``tail``.

    Its head words come from the fragments unless ``heads`` names them, in which case the
    match is searched for from ``back`` characters before each head.
    """
    fragments = [fragments] if isinstance(fragments, str) else fragments
    head_set = set(heads.split()) if heads else set().union(*(_heads_of(f) for f in fragments))
    body = "|".join(sorted(fragments, key=len, reverse=True))
    regex = re.compile(r"(?:" + body + r")" + tail)
    return _Rule(kind, weight, regex, frozenset(head_set), past, back, opening, caps, proper)


_SUPER_HEADS = " ".join(_SUPERLATIVES) + " most"

_TABLE: list[_Rule] = [
    # --- urgency -------------------------------------------------------------------------
    _r("urgency-now", 0.55, r"act\s+(?:now|today|immediately)\b"),
    _r(
        "urgency-deadline",
        0.7,
        r"(?:today|tonight|this\s+week(?:end)?|this\s+month|(?:for\s+)?one\s+day|\d+\s+hours"
        r"|(?:this|that)\s+" + _WEEKDAY + r")\s+only\b",
        heads="only",
        back=25,
    ),
    _r("urgency-deadline", 0.7, r"limited[-\s]time", r"(?:\s+only|\s+offers?)?\b"),
    _r("urgency-deadline", 0.55, r"only\s+(?:until|till|til)\s+\w+", past=True),
    _r(
        "urgency-deadline",
        0.6,
        _OFFER_NOUNS,
        r"(?:\s+[\w'-]+){0,2}?\s+(?:ends?|expires?|closes?|finish(?:es)?|runs?\s+out"
        r"|(?:is\s+|are\s+)?valid\s+until)\s+(?:soon|tonight|today|tomorrow|at\s+midnight"
        r"|midnight|this\s+\w+|next\s+\w+|on\s+\w+|at\s+\d|in\s+\d+\s+\w+|by\s+\w+|"
        + _WEEKDAY
        + r"|\d)",
        past=True,
    ),
    _r(
        "urgency-deadline",
        0.45,
        _OFFER_NOUNS,
        r"(?:\s+[\w'-]+){0,4}?\s+(?:starts?|begins?|launch(?:es)?)\s+(?:today|tonight"
        r"|tomorrow|now|at\s+midnight|on\s+" + _WEEKDAY + r")",
        past=True,
    ),
    _r(
        "urgency-deadline",
        0.6,
        r"before\s+(?:it(?:[’']s|\s+is)\s+too\s+late|(?:it|they|the\s+offer|this\s+offer"
        r"|the\s+deal|the\s+sale|the\s+price|prices)\s+(?:expires?|ends?|goes\s+up|go\s+up"
        r"|rises?))",
    ),
    # "Last chance to book" sells; "the last chance saloon" is an idiom.
    _r("urgency-deadline", 0.55, [r"last", r"final"], r"\s+chance\s+(?:to|for)\b", past=True),
    _r("urgency-deadline", 0.35, [r"last", r"final"], r"\s+chance\b", past=True),
    _r("urgency-deadline", 0.4, [r"time\s+is\s+running\s+out\b", r"clock\s+is\s+ticking\b"]),
    _r(
        "urgency-fomo",
        0.6,
        [r"don[’']t", r"dont", r"do\s+not"],
        r"\s+(?:miss\s+out|miss\s+(?:this|it|the\s+chance|your\s+chance|our)|let\s+(?:this|it"
        r"|the|your)(?:\s+[\w'-]+){0,3}?\s+(?:pass\s+you\s+by|slip(?:\s+away)?|get\s+away))\b",
    ),
    _r(
        "urgency-fomo",
        0.45,
        [r"don[’']t", r"dont", r"do\s+not"],
        r"\s+(?:wait|delay|hesitate|settle\s+for\s+(?:less|second))\b",
    ),
    _r("urgency-fomo", 0.45, r"why\s+settle\s+for\b"),
    _r("urgency-fomo", 0.45, r"there[’']s\s+still\s+time\s+to\b", heads="still", back=10),
    _r(
        "urgency-fomo",
        0.6,
        [
            r"why\s+wait\b",
            r"what\s+are\s+you\s+waiting\s+for\b",
            r"now\s+or\s+never\b",
            r"no\s+time\s+like\s+the\s+present\b",
        ],
    ),
    _r(
        "urgency-fomo",
        0.45,
        [r"won[’']t", r"wont", r"will\s+not"],
        r"\s+last(?:\s+long)?\b",
        past=True,
    ),
    _r("urgency-fomo", 0.4, r"while\s+you\s+(?:still\s+)?can\b", past=True),
    _r(
        "urgency-fomo",
        0.4,
        r"be\s+(?:the\s+first|among\s+the\s+first)\s+to\b",
        heads="first",
        back=20,
    ),
    _r(
        "urgency-fomo",
        0.5,
        r"(?:there[’']s|there\s+has|it[’']s|it\s+has)\s+never\s+been\s+a\s+better\s+time\b",
        heads="never",
        back=12,
    ),
    _r(
        "urgency-fomo",
        0.5,
        [
            r"now\s+is\s+the\s+(?:perfect\s+|best\s+|right\s+)?time\s+to\b",
            r"what[’']s\s+stopping\s+you\b",
        ],
    ),
    _r(
        "urgency-now",
        0.45,
        r"(?:available|in\s+stores?|on\s+sale)\s+(?:now|today)\b",
        heads="available stores store sale",
        back=3,
        past=True,
    ),
    # --- scarcity ------------------------------------------------------------------------
    _r(
        "scarcity",
        0.65,
        [r"only", r"just"],
        r"\s+(?:" + _NUMBER + r"|a\s+(?:few|handful|couple)|few)(?:\s+[\w'-]+){0,3}?\s+"
        r"(?:left|remain|remaining|available|to\s+go|in\s+stock)\b",
        past=True,
    ),
    _r(
        "scarcity",
        0.55,
        [r"few", r"limited", r"last\s+(?:few|remaining)", *_NUMBER_HEADS],
        r"\s+" + _PLACES + r"\s+(?:left|remaining|available|remain)\b",
        past=True,
    ),
    _r(
        "scarcity",
        0.65,
        _words(
            r"places spots seats spaces tickets stocks? supplies sizes tables rooms dates numbers "
            r"slots plots units they"
        ),
        r"\b(?:\s+[\w'’-]+){0,4}?\s+(?:are\s+|is\s+|[’']re\s+)?(?:(?:filling|going|selling"
        r"|running|booking|flying|disappearing)\s+(?:up\s+)?(?:fast|quickly|rapidly|out|low"
        r"|off\s+the\s+shelves)|(?:filling|booking)\s+up)\b",
        past=True,
    ),
    _r(
        "scarcity",
        0.5,
        [r"sells?", r"selling"],
        r"\s+(?:out|fast|quickly|like\s+hot\s+cakes)\b",
        past=True,
    ),
    _r(
        "scarcity",
        0.6,
        [r"almost", r"nearly", r"practically"],
        r"\s+(?:gone|sold\s+out|fully\s+booked|booked\s+up)\b",
        past=True,
    ),
    _r("scarcity", 0.65, r"while\s+(?:stocks?|supplies)\s+lasts?\b"),
    _r("scarcity", 0.45, r"while\s+(?:they|it)\s+lasts?\b", past=True),
    _r("scarcity", 0.6, r"once\s+(?:they|it)(?:[’']re|\s+are|[’']s|\s+is)\s+gone\b", past=True),
    _r(
        "scarcity",
        0.45,
        [r"only\s+(?:at|from|in)\s+(?:our|your\s+local)\b", r"exclusively\s+(?:at|from|in)\b"],
    ),
    _r(
        "scarcity",
        0.55,
        r"before\s+(?:the\s+|it\s+|they\s+|we\s+)?(?:[\w'-]+\s+)?(?:fills?\s+up|sells?\s+out"
        r"|books?\s+up|runs?\s+out|(?:is|are)\s+fully\s+booked)\b",
    ),
    _r("scarcity", 0.65, r"before\s+(?:they|it)(?:[’']re|\s+are|[’']s|\s+is)\s+(?:all\s+)?gone\b"),
    _r(
        "scarcity",
        0.55,
        r"limited[-\s](?:edition|stock|availability|run|release|numbers|supply|capacity|spaces"
        r"|places|seats|spots|tickets|tables|rooms)\b",
        past=True,
    ),
    _r(
        "scarcity",
        0.6,
        _words(r"spaces places spots seats tickets numbers stock availability supplies capacity"),
        r"\s+(?:are|is)\s+(?:strictly\s+|very\s+|extremely\s+)?limited\b",
        past=True,
    ),
    # --- discount ------------------------------------------------------------------------
    _r(
        "discount-percent",
        0.65,
        r"(?:up\s+to\s+|an?\s+extra\s+|extra\s+)?" + _PERCENT + r"\s*(?:off|discount|cashback"
        r"|back|savings?)\b",
        heads="<num>",
        back=12,
        past=True,
    ),
    _r(
        "discount-percent",
        0.65,
        [r"now", r"only", r"just"],
        r"\s+" + _PERCENT + r"\s*(?:cheaper|less|lower)\b",
        past=True,
    ),
    _r("discount-percent", 0.55, r"save\s+(?:up\s+to\s+)?" + _PERCENT, past=True),
    _r(
        "discount-percent",
        0.45,
        r"save\s+(?:up\s+to\s+|over\s+|more\s+than\s+|around\s+|as\s+much\s+as\s+"
        r"|(?:an\s+)?average\s+(?:of\s+)?)?" + _MONEY,
        past=True,
    ),
    _r("discount-percent", 0.45, r"save\s+(?:big|more|a\s+fortune|hundreds|money)\b", past=True),
    _r(
        "discount-percent",
        0.6,
        [r"half[-\s]price\b", r"half\s+off\b", r"1/2[-\s]price\b"],
        past=True,
    ),
    _r(
        "discount-percent",
        0.6,
        [
            r"buy\s+one,?\s+get\s+one(?:\s+free|\s+half\s+price)?\b",
            r"bogof\b",
            r"two[-\s]+for[-\s]+one\b",
            r"three[-\s]+for[-\s]+two\b",
            r"\d[-\s]+for[-\s]+\d\b",
        ],
        past=True,
    ),
    _r(
        "discount-percent",
        0.6,
        r"for\s+the\s+price\s+of\s+(?:one|two|1|2)\b",
        heads="price",
        back=9,
    ),
    _r(
        "discount-percent",
        0.5,
        [
            r"slash\b",
            r"slashed\b",
            r"slashing\b",
            r"prices?\s+(?:reduced|cut|down)\s+(?:by|on|across|in)\b",
        ],
        past=True,
    ),
    _r(
        "discount-percent",
        0.5,
        [r"we[’']ve", r"we\s+have", r"we[’']re", r"we\s+are"],
        r"\s+(?:\w+\s+)?(?:cut|cutting|reduced|reducing|lowered|lowering|dropped|dropping)\s+"
        r"(?:\w+\s+)?(?:prices|rates|fees)\b",
    ),
    _r(
        "discount-free",
        0.55,
        r"free\s+(?:shipping|delivery|postage|returns|gifts?|trials?|quotes?|consultations?"
        r"|installation|fitting|upgrades?|samples?|bonus|estimates?|valuations?|p&p|next[-\s]day"
        r"|month|months|week|weeks|class|lessons?|sessions?|taster|bottle)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.65,
        [r"first", r"1st"],
        r"\s+(?:" + _NUMBER + r"\s+)?(?:months?|weeks?|years?|lessons?|class|classes|sessions?"
        r"|box|boxes|delivery|order|visit)\s+(?:is\s+|are\s+)?(?:free|on\s+us|on\s+the\s+house"
        r"|half[-\s]price)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.6,
        _NUMBER_HEADS,
        r"\s+(?:days?|weeks?|months?)\s+(?:free|on\s+us)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.6,
        r"free\s+for\s+(?:the\s+first\s+)?" + _NUMBER + r"\s+(?:days?|weeks?|months?)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        _words(r"eats? stays? go goes travels? rides? fly flies"),
        r"\s+free\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        [
            r"zero\s+(?:upfront|up-front|up\s+front)\b",
            r"nothing\s+(?:upfront|up-front|up\s+front)\b",
            r"no\s+(?:upfront|up-front|up\s+front)\b",
            r"pay\s+nothing\b",
            r"interest[-\s]free\b",
            r"0\s?%\s+(?:finance|apr|interest)\b",
        ],
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        r"(?:\bis|\bare|[’']s|[’']re)\s+on\s+us\b",
        heads="us",
        back=8,
        past=True,
    ),
    _r("discount-free", 0.5, r"on\s+the\s+house\b", heads="house", back=8, past=True),
    _r("discount-free", 0.4, r"complimentary\b", past=True),
    _r(
        "discount-free",
        0.45,
        [
            r"costs?\s+(?:you\s+)?nothing\b",
            r"pay\s+(?:you\s+)?nothing\b",
            r"for\s+free\b",
            r"free\s+of\s+charge\b",
        ],
        past=True,
    ),
    _r(
        "discount-free",
        0.45,
        r"at\s+no\s+(?:extra\s+|additional\s+)?(?:cost|charge)\b",
        heads="cost charge",
        back=20,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        [r"sale\s+now\s+on\b", r"offers?\s+now\s+on\b", r"deals?\s+now\s+on\b"],
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        r"(?:everything|it\s+all|all\s+stock)(?:\s+[\w'-]+){0,3}?\s+must\s+go\b",
        heads="must",
        back=40,
        past=True,
    ),
    _r(
        "discount-terms",
        0.45,
        [
            r"(?<=,)guaranteed\b",
            r"(?<=,\s)guaranteed\b",
            r"guaranteed\s+or\s+your\s+money\s+back\b",
        ],
    ),
    _r(
        "discount-terms",
        0.45,
        _words(
            r"satisfaction results quality prices? rates? savings delivery approval returns value"
        ),
        r"\s+guaranteed\b",
    ),
    _r(
        "discount-terms",
        0.4,
        [
            r"prize\s+draw\b",
            r"giveaway\b",
            r"competition\s+closes\b",
            r"win\s+(?:a|an)\s+\w+\s+worth\b",
        ],
        past=True,
    ),
    _r(
        "discount-terms",
        0.6,
        _words(r"promo discount voucher coupon offer referral"),
        r"\s+codes?\b",
    ),
    # Codes are upper-case in the original text; the match is checked against it.
    _r(
        "discount-terms",
        0.6,
        r"(?:use|enter|with|quote)\s+(?:the\s+)?code\s+([a-z0-9]{3,})\b",
        heads="code",
        back=12,
        caps=True,
    ),
    _r(
        "discount-terms",
        0.5,
        [
            r"no[-\s]obligation\b",
            r"no[-\s]risk\b",
            r"risk[-\s]free\b",
            r"money[-\s]back\s+guarantee\b",
            r"guaranteed\s+(?:savings|results|lowest|returns?|approval)\b",
            r"price[-\s]match\b",
            r"no\s+hidden\s+(?:fees|costs|charges)\b",
            r"cancel\s+(?:at\s+)?any\s?time\b",
            r"no\s+credit\s+card\s+(?:required|needed)\b",
            r"no\s+strings\s+attached\b",
        ],
    ),
    _r(
        "discount-terms",
        0.55,
        _words(
            r"special introductory exclusive limited welcome sign-up signup joining launch "
            r"seasonal loyalty"
        ),
        r"\s+(?:offers?|discounts?|deals?|pricing|rates?|bonus(?:es)?|gifts?)\b",
        past=True,
    ),
    _r(
        "discount-terms",
        0.5,
        r"when\s+you\s+(?:spend|sign\s+up|join|switch|open|order|buy|book|refer|subscribe"
        r"|upgrade|register|apply|shop)\b",
    ),
    _r(
        "discount-terms",
        0.5,
        r"with\s+(?:every|each|any|all)\s+(?:purchase|order|booking|subscription|spend)s?\b",
        past=True,
    ),
    _r(
        "discount-terms",
        0.45,
        _words(r"orders? purchases? spend spending baskets?"),
        r"\s+(?:over|above|of\s+over)\s+" + _MONEY,
        past=True,
    ),
    _r("discount-terms", 0.45, [r"we[’']re", r"we\s+are"], r"\s+giving\s+away\b"),
    _r("discount-terms", 0.4, r"cashback\b", past=True),
    _r(
        "discount-terms",
        0.5,
        [r"double", r"triple", r"bonus", r"extra"],
        r"\s+(?:points|miles|stamps|rewards|cashback)\b",
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [
            r"clearance\b",
            r"closing[-\s]down\s+sale\b",
            r"bargains?\b",
            r"flash\s+sale\b",
            r"mega\s+sale\b",
        ],
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        r"(?:(?:from|for|at)\s+)?(?:just|only)\s+" + _MONEY,
        heads="just only",
        back=5,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [r"prices?"],
        r"\s+(?:start|starts|starting)\s+(?:at|from)\s+" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        _words(
            r"tickets? rooms? flights? fares? plans? packages? memberships? holidays? breaks? "
            r"seats? menus? lessons? classes tours? cruises? stays? nights? rates? deals? bundles?"
        ),
        r"\s+(?:start\s+|starting\s+)?(?:from|at)\s+" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        r"from\s+" + _MONEY + r"\s+(?:each\s+way|a\s+night|per\s+night|per\s+person|pp|a\s+head"
        r"|per\s+head|a\s+month|per\s+month|a\s+week|per\s+week|a\s+year|per\s+year|a\s+day"
        r"|per\s+day|a\s+visit|per\s+visit|a\s+session|per\s+session)\b",
        past=True,
    ),
    _r(
        "discount-percent",
        0.55,
        _words(r"cut reduce slash lower halve trim save"),
        r"\s+(?:your\s+)?(?:[\w'’-]+\s+){0,3}?by\s+(?:up\s+to\s+|as\s+much\s+as\s+|over\s+)?"
        + _PERCENT,
        past=True,
    ),
    _r(
        "hype",
        0.35,
        r"in\s+(?:just|under|less\s+than|as\s+little\s+as)\s+(?:\d+|a\s+few|few|two|three|five"
        r"|ten|fifteen|twenty|thirty|sixty)\s+(?:seconds|minutes|clicks|taps)\b",
        heads="seconds minutes clicks taps",
        back=40,
    ),
    _r(
        "discount-price",
        0.45,
        _words(r"get earn receive enjoy claim bag"),
        r"\s+(?:up\s+to\s+)?(?:an?\s+extra\s+)?" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        [r"vouchers?", r"gift\s+cards?", r"credit", r"bonus", r"rewards?"],
        r"\s+(?:worth|of)\s+" + _MONEY,
        past=True,
    ),
    _r("discount-price", 0.45, [r"why\s+pay\s+more\b", r"pay\s+less\b"]),
    _r("discount-price", 0.35, r"for\s+less\b", past=True),
    _r(
        "discount-price",
        0.45,
        r"(?:at|for)\s+(?:one|a|an|our|this|the)\s+(?:(?:very|super|incredibly)\s+)?(?:low|great"
        r"|amazing|fantastic|special|bargain|reduced|discounted|affordable|competitive|sensible)"
        r"\s+(?:monthly\s+|fixed\s+)?prices?\b",
        heads="price prices",
        back=45,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [r"prices?"],
        r"\s+(?:you[’']ll|you\s+will|you\s+can|to)\s+(?:love|afford|like|suit)\b",
    ),
    # --- superlative ---------------------------------------------------------------------
    _r(
        "superlative-rank",
        0.65,
        [r"#\s?1", r"no\.\s?1", r"number[-\s]one"],
        r"\s+(?:choice|brand|provider|seller|supplier|bank|insurer|retailer|app|destination"
        r"|platform|name|pick|rated|for|in)\b",
    ),
    _r("superlative-rank", 0.5, r"#\s?1\b"),
    _r(
        "superlative-rank",
        0.45,
        [
            r"award[-\s]winning",
            r"market[-\s]leading",
            r"industry[-\s]leading",
            r"world[-\s]class",
            r"world[-\s]leading",
            r"best[-\s]in[-\s]class",
            r"best[-\s]selling",
            r"bestselling",
            r"top[-\s]rated",
            r"highest[-\s]rated",
            r"top[-\s]selling",
            r"best[-\s]loved",
            r"best[-\s]value",
            r"unbeatable",
            r"unbeaten",
            r"unrivalled",
            r"unrivaled",
            r"unmatched",
            r"unparalleled",
            r"unparalled",
            r"second\s+to\s+none",
            r"like\s+no\s+other",
            r"leading\s+provider",
            r"five[-\s]star",
            r"5[-\s]star",
        ],
        r"\b",
    ),
    _r(
        "superlative-ever",
        0.7,
        r"(?:the\s+)?(?:very\s+)?" + _SUPER_OR_ONLY + r"\b(?:\s+[\w'’-]+){0,4}?\s+"
        r"(?:you(?:[’']ll|\s+will|\s+can|\s+could|[’']d|\s+would)?\s+ever|you\s+can\s+"
        r"(?:buy|get|find)|money\s+can\s+buy|on\s+the\s+market|in\s+the\s+(?:industry"
        r"|market|business|sector|trade))\b",
        heads=_SUPER_HEADS + " only",
        back=10,
    ),
    _r(
        "superlative-rank",
        0.4,
        r"(?:the\s+)?(?:very\s+)?" + _SUPER + r"\b(?:\s+[\w'’-]+){0,4}?\s+(?:in|on)\s+"
        r"(?:the\s+)?(?:country|city|county|town|region|world|uk|britain|land|area"
        r"|high\s+street|planet)\b",
        heads=_SUPER_HEADS,
        back=10,
    ),
    _r(
        "superlative-rank",
        0.4,
        r"(?:the\s+)?(?:very\s+)?" + _SUPER + r"\b(?:\s+[\w'’-]+){0,4}?\s+in\s+(?:the\s+)?"
        r"([a-z][\w-]*)",
        heads=_SUPER_HEADS,
        back=10,
        proper=True,
    ),
    _r(
        "superlative-rank",
        0.45,
        r"(?:uk|britain|england|scotland|wales|ireland|london|country|nation|region|world|city"
        r"|county|town|village|area|north|south|east|west|midlands)[’']s\s+most\s+[a-z]+",
        heads="most",
        back=25,
        past=True,
    ),
    _r(
        "superlative-rank",
        0.45,
        r"the\s+(?:best|smartest|healthiest|safest|cleverest|top|preferred|favourite|favorite"
        r"|trusted)\s+choice\b",
        heads="best smartest healthiest safest cleverest top preferred favourite favorite trusted",
        back=5,
    ),
    _r(
        "superlative-rank",
        0.45,
        _words(r"more better faster cheaper lower higher bigger"),
        r"\b(?:\s+[\w'’-]+){0,3}?\s+than\s+(?:any(?:one|body|where)?\s+(?:other|else)|any\s+other"
        r"|the\s+(?:rest|competition|big\s+(?:banks|brands|names)|high\s+street|supermarkets"
        r"|others)|other\s+(?:banks|brands|providers|insurers|gyms|networks|stores|shops"
        r"|retailers|companies))\b",
        past=True,
    ),
    _r(
        "superlative-rank",
        0.55,
        [
            r"we\s+beat\b",
            r"we[’']ll\s+beat\b",
            r"we\s+will\s+beat\b",
            r"our\s+(?:\w+\s+)?prices?\s+beats?\b",
            r"my\s+(?:\w+\s+)?prices?\s+beats?\b",
            r"beat\s+any\s+(?:price|quote|valuation|deal|offer)\b",
        ],
    ),
    _r(
        "superlative-rank",
        0.4,
        r"our\s+(?:very\s+)?(?:best|biggest|lowest|cheapest|greatest|finest|best-ever"
        r"|most\s+popular)\b",
        past=True,
    ),
    _r("superlative-rank", 0.3, r"the\s+very\s+best\b", heads="very", back=5, past=True),
    _r(
        "superlative-rank",
        0.4,
        _words(r"best lowest cheapest keenest unbeatable sharpest"),
        r"\s+(?:prices?|rates?|fees|value)\b(?!\s+(?:in|for)\s+(?:years|decades|a\s+decade|months))",
        past=True,
    ),
    _r("superlative-rank", 0.5, r"why\s+(?:choose|pick|trust)\s+(?:us|our)\b"),
    _r(
        "superlative-rank",
        0.45,
        r"(?:[a-z]+[’']s|the\s+(?:uk|country|nation|region|world|city|county|town)[’']s)\s+"
        r"(?:leading|favourite|favorite|number[-\s]one|best-loved|most\s+trusted|top)\s+[a-z]+",
        heads="leading favourite favorite number best most top",
        back=40,
        past=True,
    ),
    _r(
        "superlative-ever",
        0.6,
        [r"won[’']t", r"wont", r"will\s+not", r"can[’']t", r"cannot", r"couldn[’']t"],
        r"\s+(?:find|get|buy|beat)\s+(?:a\s+|any\s+)?(?:better|cheaper|lower|faster|bigger"
        r"|nicer|fairer)\b",
    ),
    _r(
        "superlative-ever",
        0.6,
        _words(r"better cheaper lower faster bigger"),
        r"\s+(?:\w+\s+)?(?:rate|price|deal|value|offer)s?\s+anywhere\s+else\b",
    ),
    _r(
        "superlative-rank",
        0.45,
        r"the\s+(?:best|highest|lowest|biggest|fastest)\s+(?:\w+\s+){0,2}?(?:for|on|of)\s+your\b",
        heads="best highest lowest biggest fastest",
        back=5,
    ),
    _r(
        "superlative-proof",
        0.6,
        _words(r"trusted loved chosen used rated recommended preferred"),
        r"\s+by\s+(?:over\s+|more\s+than\s+|nearly\s+|almost\s+)?(?:" + _NUMBER + r"(?:\s+"
        r"(?:million|thousand|k|m))?|thousands|millions|hundreds)\b",
        past=True,
    ),
    _r(
        "superlative-proof",
        0.5,
        [r"rated\s+" + _NUMBER + r"[-\s]stars?\b", r"five[-\s]star\s+(?:rated|reviews?)\b"],
        past=True,
    ),
    _r(
        "superlative-proof",
        0.5,
        [*_NUMBER_HEADS, "thousands", "millions", "hundreds"],
        r"\s+(?:of\s+)?(?:happy|satisfied|delighted|loyal)\s+[a-z]+",
        past=True,
    ),
    _r(
        "superlative-proof",
        0.45,
        _words(r"vets experts doctors dentists chefs critics professionals mechanics"),
        r"\s+(?:agree|recommend|swear\s+by)\b",
        past=True,
    ),
    _r(
        "superlative-proof",
        0.45,
        [r"\d+", r"nine"],
        r"\s+out\s+of\s+(?:10|ten)\s+\w+\s+(?:recommend|prefer|agree)\b",
    ),
    # --- hype ----------------------------------------------------------------------------
    _r(
        "hype",
        0.35,
        [
            r"revolutionary",
            r"revolutionise",
            r"revolutionize",
            r"game[-\s]changing",
            r"game[-\s]changer",
            r"groundbreaking",
            r"ground[-\s]breaking",
            r"cutting[-\s]edge",
            r"state[-\s]of[-\s]the[-\s]art",
            r"next[-\s]level",
            r"life[-\s]changing",
            r"must[-\s]have",
            r"must[-\s]see",
            r"exclusive",
            r"exclusively",
            r"unlock",
            r"amazing",
            r"incredible",
            r"unbelievable",
            r"jaw[-\s]dropping",
            r"sensational",
            r"ultimate",
            r"unforgettable",
            r"all[-\s]new",
            r"supercharge",
            r"turbocharge",
            r"effortless",
            r"effortlessly",
            r"hassle[-\s]free",
            r"seamless",
            r"seamlessly",
            r"world[-\s]famous",
            r"once[-\s]in[-\s]a[-\s]lifetime",
            r"best[-\s]kept\s+secret",
            r"members?[-\s]only",
            r"paradise",
            r"high[-\s]yield",
        ],
        r"\b",
    ),
    _r(
        "hype",
        0.35,
        [
            r"your\s+dream",
            r"their\s+dream",
            r"our\s+dream",
        ],
        r"\s+(?:car|home|holiday|wedding|kitchen|garden|job|cruise|getaway|body|trip|house"
        r"|break)\b",
    ),
    _r(
        "hype",
        0.35,
        [
            r"you\s+deserve\b",
            r"treat\s+yourself\b",
            r"indulge\s+(?:in|yourself)\b",
            r"pamper\s+yourself\b",
            r"reward\s+yourself\b",
            r"spoil\s+yourself\b",
            r"say\s+(?:goodbye|hello)\s+to\b",
            r"look\s+no\s+further\b",
            r"like\s+never\s+before\b",
            r"take\s+(?:it|your\s+\w+)\s+to\s+the\s+next\s+level\b",
            r"love\s+us\b",
            r"loves\s+us\b",
            r"adore\s+us\b",
            r"see\s+(?:real\s+|the\s+|instant\s+|visible\s+)?(?:results|the\s+difference)\b",
            r"get\s+(?:real\s+|the\s+|instant\s+|visible\s+)?(?:results|the\s+difference)\b",
            r"feel\s+(?:real\s+|the\s+|instant\s+|visible\s+)?(?:results|the\s+difference)\b",
            r"notice\s+(?:real\s+|the\s+|instant\s+|visible\s+)?(?:results|the\s+difference)\b",
            r"your\s+perfect\s+[a-z]+",
        ],
    ),
    _r("hype", 0.35, r"the\s+wait\s+is\s+over\b", heads="wait", back=5),
    _r("hype", 0.35, r"the\s+perfect\s+(?:gift|present|treat|way\s+to)\b", heads="perfect", back=5),
    _r(
        "hype",
        0.45,
        r"(?:it[’']s\s+)?never\s+been\s+(?:easier|better|cheaper|simpler)\b",
        heads="never",
        back=6,
    ),
    _r("hype", 0.3, r"you[’']ll\s+(?:love|adore)\b"),
    _r("hype", 0.35, r"now\s+with\s+(?:even\s+)?(?:more|better|faster|extra|added)\b"),
    _r(
        "hype",
        0.4,
        _words(r"amazing incredible unbeatable fantastic huge massive hot top best"),
        r"\s+deals?\b",
    ),
    # "A great deal" is mostly the idiom for "a lot" ("changed a great deal", "a great deal
    # of patience"); only a great deal *on* something, or great deals, is an offer.
    _r(
        "hype",
        0.4,
        [r"great\s+deals\b", r"great\s+deal(?=\s+(?:on|for\s+(?:you|new|all|every)))"],
    ),
    _r(
        "hype",
        0.4,
        _words(r"deal bargain offer festival event party sale show"),
        r"\s+of\s+the\s+(?:year|season|century|summer|decade|week|month)\b",
    ),
    # "Tired of slow Wi-Fi?" -- a problem posed as a question to set up the pitch.
    _r(
        "hype",
        0.3,
        [
            r"tired\s+of",
            r"sick\s+of",
            r"fed\s+up\s+(?:of|with)",
            r"looking\s+for",
            r"struggling\s+(?:with|to)",
            r"want\s+(?:a|to)",
            r"need\s+(?:a|an|to|some)",
            r"ready\s+(?:to|for)",
            r"thinking\s+(?:of|about)",
        ],
        r"\b[^.?!\n]{1,80}\?",
        opening=True,
    ),
    # --- softer calls to action ----------------------------------------------------------
    # "Great news Buy now": a buying verb with "now" sells wherever it stands.
    _r(
        "cta-buy",
        0.6,
        [r"buy", r"order", r"shop", r"book", r"reserve", r"subscribe", r"sign\s+up", r"donate"],
        r"\s+(?:now|today|tonight)\b",
        past=True,
    ),
    _r(
        "cta-modal",
        0.45,
        r"you\s+can\s+(?:now\s+)?(?:book|order|buy|shop|reserve|join|sign\s+up|subscribe|claim"
        r"|upgrade|apply|register|pre-?order)\b",
    ),
    _r(
        "cta-modal",
        0.5,
        _words(r"move moving switch switching come coming transfer transferring bring bringing"),
        r"(?:\s+[\w'’-]+){0,3}?\s+(?:over\s+)?to\s+us\b",
        past=True,
    ),
    _r(
        "cta-modal",
        0.45,
        r"let\s+us\s+(?:take\s+care|help|handle|do|find|show|sort|plan|look\s+after)\b",
        past=True,
    ),
    _r(
        "cta-modal",
        0.45,
        _words(
            r"book fly travel bank stay save holiday shop insure switch grow learn train invest "
            r"build move"
        ),
        r"\s+with\s+us\b",
        past=True,
    ),
    _r(
        "cta-modal",
        0.4,
        r"every\s+(?:purchase|order|sale|booking)\s+(?:supports|helps|funds|plants|gives)\b",
    ),
]

# ---------------------------------------------------------------------------------------------
# Imperatives.
# ---------------------------------------------------------------------------------------------

# Verbs that only ever sell; verbs of getting and joining (sell beside any commercial cue,
# including "now"); everyday verbs (sell only beside a price, an offer or the brand itself).
_CORE_VERBS = [
    r"buy",
    r"purchase",
    r"shop",
    r"order",
    r"pre-order",
    r"preorder",
    r"subscribe",
    r"sign\s+up",
    r"sign\s+(?:(?:your|the|a)\s+)?[\w-]+\s+up",
    r"book",
    r"reserve",
    r"claim",
    r"donate",
    r"sponsor",
    r"upgrade",
    r"enrol",
    r"enroll",
    r"snap\s+up",
    r"redeem",
    r"renew",
]
_TRANSACTIONAL_VERBS = [
    *_words(
        r"get start try open visit call phone ring text email contact join switch download "
        r"install secure apply register grab bag unlock invest refer save earn request enter win "
        r"adopt"
    ),
    r"e-mail",
    r"message",
    r"trade\s+in",
    r"test[-\s]drive",
    r"lock\s+in",
    r"stock\s+up",
    r"find\s+out",
    r"learn\s+more",
    r"follow\s+us",
    r"ask\s+(?:us|about\s+our|in\s+store)",
    r"go\s+(?:online|to\s+our)",
    r"make\s+the\s+switch",
]
_EVERYDAY_VERBS = [
    *_words(
        r"choose enjoy discover explore experience treat escape protect boost move give bring "
        r"indulge spoil celebrate taste feel plan click tap"
    ),
    r"pick",
    r"pick\s+up",
    r"come",
    r"come\s+(?:in|down|along|and\s+see)",
    r"head\s+(?:down|over|in)",
    r"pop\s+(?:in|into|along|down|by|over|round)",
    r"stop\s+by",
    r"drop\s+by",
    r"swing\s+by",
    r"fill\s+(?:in|out)",
    r"fill\s+(?:up\s+)?your\s+(?:basket|cart|trolley|freezer|wardrobe|boots)",
    r"take\s+advantage",
    r"check\s+out",
    r"see\s+why",
    r"see\s+for\s+yourself",
]


class _Imperative(NamedTuple):
    kind: str
    alone: float  # weight without commercial context (0: needs context)
    with_context: float
    commercial_only: bool  # time words ("now", "today") are not context enough
    needs_follower: bool
    regex: re.Pattern[str]
    heads: frozenset[str]


def _imperative(kind, alone, with_context, fragments, *, commercial_only=False, follower=True):
    rule = _r(kind, with_context, fragments, r"\b")
    return _Imperative(kind, alone, with_context, commercial_only, follower, rule.regex, rule.heads)


_IMPERATIVES = [
    _imperative("cta-buy", 0.55, 0.8, _CORE_VERBS),
    _imperative("cta-act", 0.0, 0.7, _TRANSACTIONAL_VERBS),
    _imperative("cta-act", 0.0, 0.7, _EVERYDAY_VERBS, commercial_only=True),
    _imperative(
        "urgency-now", 0.7, 0.7, r"act\s+(?:now|fast|quickly|today|immediately)", follower=False
    ),
    _imperative(
        "urgency-now",
        0.65,
        0.65,
        [r"hurry", r"hurry\s+(?:in|up|down|along|over|now)"],
        follower=False,
    ),
]

# What may follow an imperative verb; anything else ("Order was", "Shop owners") is a noun.
# A hyphen straight after the verb makes a compound ("Buy-to-let"), not an imperative.
_FOLLOWER = re.compile(
    r"(?!-\w)\s*(?:$|[!.,;:—–\-?)]|(?i:a|an|the|your|our|my|this|these|that|those|some|any|every"
    r"|all|it|them|us|yours|yourself|yourselves|one|now|today|tonight|online|here|early|ahead"
    r"|direct|instantly|immediately|fast|quickly|big|more|up|in|down|out|over|back|for|with|by"
    r"|before|at|from|on|to|into|via|through|and|while|two|three|four|five|six|ten|who|what"
    r"|whatever|everything|everyone|someone|something|somebody)\b"
    r"|\d|[£$€]|[A-Z]{2,}\b|(?i:[a-z]+ing)\b)"
)
_FINITE = (
    r"is|are|was|were|has|have|had|says?|said|will|would|can|could|may|might|must|should|does"
    r"|did|do|rose|fell|grew|went|came|became|remains?|matters?|seems?|tends?|costs?|closed"
    r"|opened|began|started|ended|sold|made|took|gave|got|kept|left|felt|told|knew|saw|showed"
    r"|asked|ran|runs|meet|meets|met|need|needs|needed|look|looks|looked|work|works|worked"
    r"|mean|means|meant|get|gets|take|takes|make|makes|know|knows|go|goes|come|comes|stay|stays"
)
# One plain word that is not itself the sentence's verb ("Enjoy unlimited calls"); such an
# imperative always needs context.
_LOOSE_FOLLOWER = re.compile(
    r"\s+(?!(?:" + _FINITE + r")\b)[A-Za-z][\w'’-]*(?!\s+(?:" + _FINITE + r")\b)(?=[\s,.;:!?]|$)"
)
# "Call your GP", "visit the council": advice that sends the reader to someone else.
_THIRD_PARTY = re.compile(
    r"\s+(?:your|a|an|the)\s+(?:local\s+|own\s+)?(?:doctor|gp|vet|dentist|pharmacist|provider"
    r"|bank|lender|insurer|landlord|council|school|teacher|employer|accountant|adviser|advisor"
    r"|solicitor|lawyer|midwife|nurse|police|helpline|mechanic|plumber|electrician|supplier"
    r"|energy\s+supplier|airline|agent|optician|physio|therapist|library|embassy|consulate)\b"
)
# Safety instructions ("open the windows and ring the gas emergency line") are imperatives
# aimed at keeping someone safe; a sentence naming an emergency line is never a sales pitch.
_SAFETY = re.compile(
    r"\b(?:emergency|emergencies|999|112|911|ambulance|fire\s+brigade|fire\s+service"
    r"|coastguard|mountain\s+rescue|carbon\s+monoxide|gas\s+leak|smell\s+of\s+gas)\b"
)
_OPENER_BEFORE = re.compile(
    r"\b(?:so|simply|just|now|please|then|also|go\s+ahead\s+and|why\s+not|come\s+on(?:\s+and)?"
    r"|and\s+then|or|and|today|tonight)\s*$"
)
_SUBORDINATE_START = re.compile(
    r"\s*[\"'“‘(]?\s*(?:if|when|whether|once|before|after|to|for|while|until|whenever|as|since"
    r"|ready|looking|want|need|planning|thinking|wherever|whatever|this|in)\b"
)
# Commercial context that turns an everyday verb into a sales instruction.
_CONTEXT = re.compile(
    r"\b(?P<time>now|today|tonight|this\s+week(?:end)?|instantly|immediately|right\s+away"
    r"|straight\s+away|in\s+(?:just\s+)?(?:\d+|a\s+few|few)?\s*(?:seconds|minutes|clicks))\b"
    r"|\b(?:us|our|ours|we[’']ll|we\s+will|free|price|prices|pricing|deals?|offers?|discounts?"
    r"|codes?|vouchers?|trials?|bonus|sale|cashback|bargains?|membership|subscription|yours"
    r"|online|tickets?|demo|brochure|callback|consultation|competition|prize|gift\s+cards?"
    r"|gift\s+vouchers?|points|basket|cart|checkout|to\s+(?:buy|shop|order|book|claim"
    r"|subscribe|join|sign\s+up|register|apply|save|reserve))\b"
    r"|[£$€]\s?\d|\d\s?%|\b0[38]00\b|\bwww\.|https?://"
)
_CTA_TAIL = re.compile(r"\s+(?:now|today|tonight|yours|online|here|it|them|us)\b")

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
_ACRONYMS = frozenset(
    _words(
        "HMRC NATO NASA UNICEF UNESCO UEFA FIFA OPEC NHS ISA AER APR PIN HTML JSON HTTP HTTPS "
        "GDPR FTSE NASDAQ IKEA LEGO RSVP OFSTED GCSE GCSES PAYE COVID AIDS SARS LASER RADAR SCUBA "
        "WIFI ASAP FAQS TESCO ASDA BUPA AVIVA DVLA DEFRA OFCOM OFGEM OFWAT ACAS IELTS TOEFL SATS "
        "NSPCC RSPCA RSPB UNHCR OXFAM ISBN IBAN SWIFT CHAPS BACS IPHONE NCAA NYSE MIDI JPEG USB "
        "ASCII UNIX LINUX IEEE ANSI EMEA APAC MENA OECD"
    )
)
_COMMON_CAPS = frozenset(
    _words(
        "FREE SALE SAVE LAST ONLY DEAL DEALS HURRY OFFER OFFERS LIMITED EXCLUSIVE BONUS CLEARANCE "
        "ORDER SHOP BOOK CALL GIVE JOIN CLICK CHANCE NEVER EVER MUST GONE STOCK PRICE PRICES CODE "
        "EXTRA DISCOUNT WEEKEND TONIGHT TODAY ENDS FINAL YOUR THIS THAT WITH MORE BEST HUGE MEGA "
        "MASSIVE EVERYTHING AMAZING INCREDIBLE BIGGEST LOWEST CHEAPEST GUARANTEED WINNER PRIZE "
        "URGENT IMPORTANT REALLY VERY WILL JUST HERE NEXT WEEK DAYS HOURS WHILE STOCKS SUPER GREAT "
        "LOVE WANT NEED MISS SPECIAL BRAND INSTANT INSTANTLY ONLINE SIGN SUBSCRIBE UPGRADE WINS "
        "CASH MONEY EASY QUICK FAST LAUNCH DON'T DON’T CLAIM GRAB SAVINGS HALF OPEN"
    )
)
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
    if not hits:
        return 0.0
    by_rule: dict[str, list[float]] = defaultdict(list)
    for h in hits:
        by_rule[h.rule].append(h.weight)
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


def _analyse(text: object, flag: Iterable[str], allow: Iterable[str]) -> _Doc:
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
    return doc


def _finding(text: str, hit: _Hit) -> Finding:
    rule, message, suggestion = _KINDS[hit.kind]
    phrase = " ".join(text[hit.start : hit.end].split())
    return Finding(hit.start, hit.end, rule, message.format(p=phrase), suggestion)


def _check_threshold(threshold: object) -> float:
    # Any real number will do (a Decimal from a settings form, say); bool and str will not.
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real | Decimal):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    value = float(threshold)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return value


def sentence_scores(
    text: str, *, flag: Iterable[str] = (), allow: Iterable[str] = ()
) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` for each sentence of ``text``, in order."""
    doc = _analyse(text, flag, allow)
    return [
        (s, e, round(_sentence_score(g), 4))
        for (s, e), g in zip(doc.sentences, doc.groups, strict=True)
    ]


def check(
    text: str,
    *,
    flag: Iterable[str] = (),
    allow: Iterable[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> VoiceReport:
    """Score ``text`` for sales speak and explain every flagged phrase."""
    if not isinstance(text, str):
        raise TypeError(f"voice check expects text as str, got {type(text).__name__}")
    threshold = _check_threshold(threshold)
    doc = _analyse(text, flag, allow)
    score = round(_text_score([_sentence_score(g) for g in doc.groups]), 4)
    findings = []
    seen = set()
    for hit in sorted((h for g in doc.groups for h in g), key=lambda h: (h.start, h.end, h.rule)):
        key = (hit.start, hit.end, hit.rule)
        if key not in seen:
            seen.add(key)
            findings.append(_finding(text, hit))
    return VoiceReport(
        score=score, is_salesy=score >= threshold, findings=findings, threshold=threshold
    )


def check_many(texts: Iterable[str], **same_kwargs) -> list[VoiceReport]:
    """``check()`` each text with the same keyword options."""
    if isinstance(texts, str):
        raise TypeError("check_many expects an iterable of texts, not a single str")
    return [check(t, **same_kwargs) for t in texts]
