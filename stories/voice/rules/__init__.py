"""The voice check's rules: what reads as selling, written as data.

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

Each rule family has a module here; ``base`` holds the rule type, the builder that reads
a pattern's first words (refusing a pattern whose first word cannot be read off) and the
shared vocabulary. What each kind of finding says is in ``stories.voice.messages``.
"""

from __future__ import annotations

from stories.voice.rules import calls_to_action, discount, hype, scarcity, superlative, urgency
from stories.voice.rules.base import _Rule

# Phrase rules, in the order they are tried.
_TABLE: list[_Rule] = [
    *urgency._PHRASES,
    *scarcity._PHRASES,
    *discount._PHRASES,
    *superlative._PHRASES,
    *hype._PHRASES,
    *calls_to_action._PHRASES,
]
# Imperative verbs, tried only where they open a clause.
_IMPERATIVES = calls_to_action._IMPERATIVES
