"""Outbound links: UTM tags and the post text's placeholders. No Django imports."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PLACEHOLDERS = ("{story_url}", "{related_url}", "{related_url_2}")
WEB_SCHEMES = frozenset({"http", "https"})
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")


def with_utm(url: str, *, network: str, campaign: str, content: str | int) -> str:
    """``url`` with the four UTM tags that attribute an arrival to one post.

    Existing query parameters stay; existing UTM tags are replaced, so a link built
    twice is the same link.
    """
    parts = urlsplit(url)
    kept = parse_qsl(parts.query, keep_blank_values=True)
    query = [(key, value) for key, value in kept if not key.startswith("utm_")]
    query += [
        ("utm_source", network),
        ("utm_medium", "social"),
        ("utm_campaign", campaign),
        ("utm_content", str(content)),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def web_url(url) -> str:
    """``url`` if it is an absolute http(s) address, else ``""``.

    For addresses a network hands us (a post's URL, a profile's): they become links on
    the public site and in the admin, so a ``javascript:`` or ``data:`` one must never
    be stored or shown. Control characters and spaces are refused too: browsers drop
    some of them before reading the scheme.
    """
    if not isinstance(url, str) or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unbalanced IPv6 bracket
        return ""
    return url if parts.scheme.lower() in WEB_SCHEMES and host else ""


def unknown_placeholders(template: str) -> list[str]:
    return sorted({found for found in _PLACEHOLDER.findall(template) if found not in PLACEHOLDERS})


def render_text(template: str, story_url: str, related_urls: list[str] = ()) -> str:
    """Fill ``{story_url}``, ``{related_url}`` and ``{related_url_2}`` in a post's text.

    Plain replacement rather than ``str.format``: people write braces in posts.
    """
    text = template.replace("{story_url}", story_url)
    related = list(related_urls) + ["", ""]
    text = text.replace("{related_url_2}", related[1]).replace("{related_url}", related[0])
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def hashtag(name: str) -> str:
    """``Pets & animals`` → ``#PetsAnimals``: CamelCase, which screen readers can read."""
    words = re.findall(r"[^\W_]+", name)
    return "#" + "".join(word[:1].upper() + word[1:] for word in words) if words else ""
