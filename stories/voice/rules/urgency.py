"""Urgency: deadlines attached to an offer, "today only", "don't miss out"."""

from __future__ import annotations

from stories.voice.rules.base import (
    _OFFER_NOUNS,
    _WEEKDAY,
    _r,
    _Rule,
)

_PHRASES: list[_Rule] = [
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
]
