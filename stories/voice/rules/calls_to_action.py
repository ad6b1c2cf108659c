"""Calls to action: imperatives aimed at the reader's wallet, and the softer phrases
("you can book online", "let us take care of everything") that do the same."""

from __future__ import annotations

import re
from typing import NamedTuple

from stories.voice.rules.base import (
    _r,
    _Rule,
    _words,
)

# Softer calls to action: phrases that point at a purchase without an imperative verb.
_PHRASES: list[_Rule] = [
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

# Imperatives. Verbs that only ever sell; verbs of getting and joining (sell beside any
# commercial cue, including "now"); everyday verbs (sell only beside a price, an offer or the
# brand itself).
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
