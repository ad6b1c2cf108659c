"""Voice check: find sales speak in story copy, say why it sells, suggest a storyteller's line.

Storyloom stories earn attention by telling something true and specific; copy that pushes the
reader to buy, hurry or admire the brand breaks that contract. ``check()`` reads a text the way
a sub-editor would and returns a ``VoiceReport`` with a score, a verdict and one ``Finding`` per
flagged phrase, each with its character span, why it reads as selling and what to write instead.

Plain Python, no Django. Where things are:

* ``rules/`` -- what reads as selling, as data: one module per rule family (``urgency``,
  ``scarcity``, ``discount``, ``superlative``, ``hype``, ``calls_to_action``, ``shouting``) and
  ``base`` with the rule type and shared vocabulary. Its docstring explains the approach.
* ``messages`` -- the rule names and, for each kind of finding, why it sells and what to write.
* ``engine`` -- matching, weighing and scoring; its docstring explains the scoring and speed.
"""

# The public API, and (as redundant aliases) the internals the matcher's own tests reach
# through ``stories.voice`` (tests/stories/test_voice.py), as when the check was one module.
from stories.voice.engine import (
    DEFAULT_THRESHOLD,
    Finding,
    VoiceReport,
    check,
    check_many,
    sentence_scores,
)
from stories.voice.engine import _Doc as _Doc
from stories.voice.engine import _rule_matches as _rule_matches
from stories.voice.engine import _Spans as _Spans
from stories.voice.messages import _KINDS as _KINDS
from stories.voice.messages import RULES
from stories.voice.rules import _IMPERATIVES as _IMPERATIVES
from stories.voice.rules import _TABLE as _TABLE
from stories.voice.rules.base import _r as _r

__all__ = [
    "DEFAULT_THRESHOLD",
    "RULES",
    "Finding",
    "VoiceReport",
    "check",
    "check_many",
    "sentence_scores",
]
