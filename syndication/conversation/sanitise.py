"""Remote text made safe to keep and to show: an allowlist of inline HTML, http(s) links.

Pure functions, no Django: the network's HTML goes through nh3 (the Ammonia sanitiser)
with a short allowlist; everything else (scripts, styles, event handlers, images,
iframes, ``javascript:`` and ``data:`` links) is dropped, and every kept link is marked
``nofollow ugc noopener noreferrer``. https://nh3.readthedocs.io/
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

#: Inline tags a reply may keep (Mastodon sends <p>, <br>, <a>, <span> and a few more).
TAGS = frozenset({"a", "p", "br", "span", "em", "strong", "b", "i", "del", "code", "blockquote"})
ATTRIBUTES = {"a": {"href"}}
SCHEMES = frozenset({"http", "https"})
#: Source HTML kept at most (characters); a longer answer is cut first and says so.
MAX_SOURCE = 20_000
#: Plain text kept at most.
MAX_TEXT = 5_000
MAX_URL = 500

_BLOCK_END = re.compile(r"</p\s*>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def clean_html(source) -> tuple[str, bool]:
    """``(safe HTML, was cut)`` from whatever the network sent as a status's content."""
    text = source if isinstance(source, str) else ""
    cut = len(text) > MAX_SOURCE
    text = text[:MAX_SOURCE].replace("\x00", "")
    safe = nh3.clean(
        text,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(SCHEMES),
        link_rel="nofollow ugc noopener noreferrer",
        strip_comments=True,
    )
    return safe, cut


def plain_text(safe_html: str) -> str:
    """The words of sanitised HTML, paragraphs and line breaks kept as newlines."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", safe_html))
    lines = [_SPACES.sub(" ", line).strip() for line in html.unescape(text).split("\n")]
    text = "\n".join(line for line in lines if line)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def web_url(value) -> str:
    """``value`` when it is an http(s) address with a host, short enough to keep; else ""."""
    if not isinstance(value, str) or len(value) > MAX_URL:
        return ""
    if any(c.isspace() or not c.isprintable() for c in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return ""
    return value


def short_text(value, length: int) -> str:
    """A name or handle as one line of plain text: no markup, no control characters."""
    if not isinstance(value, str):
        return ""
    text = "".join(c if c.isprintable() else " " for c in html.unescape(_TAG.sub("", value)))
    return _SPACES.sub(" ", text).strip()[:length]
