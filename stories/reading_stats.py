"""Word count and reading time, computed from a story's text (no Django imports)."""

import math
import re
from collections.abc import Iterable

WORDS_PER_MINUTE = 230
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[\w'’-]+")


def count_words(texts: Iterable[str]) -> int:
    return sum(len(_WORD.findall(_TAG.sub(" ", text or ""))) for text in texts)


def reading_minutes(words: int) -> int:
    """Whole minutes, rounded up, never below one."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
