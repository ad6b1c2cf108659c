"""Counting and finding things in post text the way each network does. No Django imports.

Networks disagree on what a "character" is: Bluesky counts graphemes (what a reader sees
as one character, so a family emoji or a flag is one), X weighs code points and counts
every link as 23, LinkedIn counts characters. Bluesky also needs the UTF-8 *byte*
offsets of every link, because its rich-text facets point into the encoded text.
"""

import unicodedata
from urllib.parse import quote

import regex

#: A web address as people write them in posts: scheme first, up to the next space.
#: Trailing punctuation is trimmed afterwards, so "see https://a.example/x." ends at x.
_URL = regex.compile(r"https?://[^\s<>\"'`]+", regex.IGNORECASE)
_TRAILING = ".,;:!?'\"…"
_PAIRS = {")": "(", "]": "[", "}": "{"}

#: A hashtag as Bluesky's own client recognises it: "#" after a space or the start, not
#: followed by a digit-only tag, up to the next space, without trailing punctuation.
_HASHTAG = regex.compile(r"(?:^|(?<=\s))[#＃]((?!\d+\b)[^\s#＃]+)")

#: twitter-text v3: code points in these ranges weigh 1, everything else weighs 2.
X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
X_URL_LENGTH = 23
#: Bluesky ignores longer tags (``app.bsky.richtext.facet#tag``: 64 graphemes).
MAX_TAG_GRAPHEMES = 64

_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every link in ``text`` as ``(start, end, url)``, offsets in code points."""
    found = []
    for match in _URL.finditer(text):
        url = _trim(match.group())
        if len(url) > len("https://"):
            found.append((match.start(), match.start() + len(url), url))
    return found


def _trim(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the address.

    A closing bracket stays when the address opened it, as in Wikipedia's
    ``Foo_(bar)`` pages.
    """
    while url:
        last = url[-1]
        unbalanced = last in _PAIRS and url.count(_PAIRS[last]) < url.count(last)
        if last not in _TRAILING and not unbalanced:
            return url
        url = url[:-1]
    return url


def find_hashtags(text: str) -> list[tuple[int, int, str]]:
    """Every hashtag as ``(start, end, tag)``: offsets cover the "#", ``tag`` does not."""
    found = []
    for match in _HASHTAG.finditer(text):
        tag = _trim(match.group(1))
        if tag and grapheme_count(tag) <= MAX_TAG_GRAPHEMES:
            start = match.start()
            found.append((start, start + 1 + len(tag), tag))
    return found


def byte_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Code point offsets ``start``/``end`` in ``text`` as UTF-8 byte offsets."""
    byte_start = len(text[:start].encode("utf-8"))
    return byte_start, byte_start + len(text[start:end].encode("utf-8"))


def grapheme_count(text: str) -> int:
    """Characters as a reader sees them (Unicode extended grapheme clusters)."""
    return len(regex.findall(r"\X", text))


def x_weighted_length(text: str) -> int:
    """The length X checks against 280, after twitter-text's v3 configuration.

    Every link counts 23 (X wraps it in t.co). Outside links, an emoji sequence (a
    grapheme holding a pictograph, a flag's regional indicators or a keycap) counts 2
    however many code points it joins; any other code point counts 1 in the Latin,
    Greek, Cyrillic and general-punctuation ranges and 2 elsewhere (CJK, for example).
    twitter-text recognises emoji with its own list and also counts bare domains such
    as "example.com" as links; grapheme clusters and scheme-led links are a close
    approximation that never undercounts our own posts, whose links carry a scheme.
    """
    text = unicodedata.normalize("NFC", text)
    length = 0
    position = 0
    for start, end, _url in find_urls(text):
        length += _weigh(text[position:start]) + X_URL_LENGTH
        position = end
    return length + _weigh(text[position:])


def _weigh(text: str) -> int:
    weight = 0
    for cluster in regex.findall(r"\X", text):
        if _EMOJI.search(cluster):
            weight += 2
            continue
        weight += sum(1 if _light(ord(char)) else 2 for char in cluster)
    return weight


def _light(code_point: int) -> bool:
    return any(low <= code_point <= high for low, high in X_LIGHT_RANGES)


def contains_marker(text: str, marker: str) -> bool:
    """True when ``marker`` appears in ``text`` as a whole, not as the start of more.

    Markers end in a post number (``utm_content=4``), so ``utm_content=42`` must not
    count as post 4. The marker may also appear percent-encoded inside a link.
    """
    if not marker or not text:
        return False
    forms = {marker, quote(marker, safe="")}
    return any(
        regex.search(r"(?<![\w-])" + regex.escape(form) + r"(?![\w-])", text) for form in forms
    )
