"""Scarcity: "only 3 left", "places are filling fast", "while stocks last"."""

from __future__ import annotations

from stories.voice.rules.base import (
    _NUMBER,
    _NUMBER_HEADS,
    _PLACES,
    _r,
    _Rule,
    _words,
)

_PHRASES: list[_Rule] = [
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
]
