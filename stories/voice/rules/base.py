"""How a phrase rule is written: the ``_Rule`` type, the ``_r`` builder that reads each
pattern's first words, and the vocabulary (numbers, money, superlatives...) the rule
families share. Patterns are lower-case and run on the lower-cased text."""

from __future__ import annotations

import re
from typing import NamedTuple


def _words(text: str) -> list[str]:
    return text.split()


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
