"""Superlative: the brand praising itself ("award-winning", "#1 choice", "trusted by 2 million")."""

from __future__ import annotations

from stories.voice.rules.base import (
    _NUMBER,
    _NUMBER_HEADS,
    _SUPER,
    _SUPER_HEADS,
    _SUPER_OR_ONLY,
    _r,
    _Rule,
    _words,
)

_PHRASES: list[_Rule] = [
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
]
