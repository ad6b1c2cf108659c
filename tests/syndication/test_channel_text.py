import pytest

from syndication.channels.text import (
    byte_range,
    contains_marker,
    find_hashtags,
    find_urls,
    grapheme_count,
    x_weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man, ZWJ, woman, ZWJ, girl
FLAG = "\U0001f1ec\U0001f1e7"  # regional indicators G and B
THUMBS_TONE = "\U0001f44d\U0001f3fd"  # thumbs up with a skin-tone modifier
KEYCAP = "1\ufe0f\u20e3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        (FAMILY, 1),
        (FLAG, 1),
        (FLAG + FLAG, 2),
        (THUMBS_TONE, 1),
        ("e\u0301", 1),  # e plus a combining acute accent
        ("Café " + FAMILY + "!", 7),
        ("", 0),
    ],
)
def test_grapheme_count_counts_what_a_reader_sees(text, expected):
    assert grapheme_count(text) == expected


def test_a_zwj_family_is_many_code_points_but_one_grapheme():
    assert len(FAMILY) == 5
    assert grapheme_count(FAMILY * 300) == 300


def test_find_urls_trims_sentence_punctuation():
    text = "Read https://example.com/story?a=1. Or https://example.org/x, https://e.net/y!"
    assert [url for _start, _end, url in find_urls(text)] == [
        "https://example.com/story?a=1",
        "https://example.org/x",
        "https://e.net/y",
    ]


def test_find_urls_keeps_brackets_the_address_opened():
    text = "(see https://en.wikipedia.org/wiki/Fox_(animal)) and (https://example.com/a)"
    assert [url for _start, _end, url in find_urls(text)] == [
        "https://en.wikipedia.org/wiki/Fox_(animal)",
        "https://example.com/a",
    ]


def test_find_urls_gives_code_point_offsets():
    text = "Ünïcode → http://example.com/x"
    [(start, end, url)] = find_urls(text)
    assert text[start:end] == url == "http://example.com/x"


def test_find_urls_ignores_text_without_a_scheme():
    assert find_urls("example.com and ftp://example.com and https://") == []


def test_byte_range_counts_utf8_bytes_not_characters():
    text = "Café ☕ " + FAMILY + " https://example.com/s"
    [(start, end, url)] = find_urls(text)
    encoded = text.encode("utf-8")
    byte_start, byte_end = byte_range(text, start, end)
    # Found independently: where the URL's bytes sit in the encoded text.
    assert byte_start == encoded.index(url.encode("utf-8"))
    assert byte_end == byte_start + len(url)
    # "Café " is 6 bytes, the cup 3, the family 18, and two spaces.
    assert byte_start == 6 + 3 + 1 + 18 + 1
    assert byte_start != start


def test_byte_range_of_non_ascii_span():
    text = "a ñandú b"
    assert byte_range(text, 2, 7) == (2, 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 280, 280),
        ("日本語", 6),
        ("Ελληνικά", 8),  # Greek is in the light range
        ("–—‘’“”", 6),  # general punctuation 8208-8223 is light
        ("…", 2),  # U+2026 is 8230, just outside the light 8208-8223
        (FAMILY, 2),
        (FLAG, 2),
        (THUMBS_TONE, 2),
        (KEYCAP, 2),
        ("e\u0301", 1),  # NFC makes it é, one light code point
        ("https://example.com/" + "x" * 200, 23),
        ("Go https://a.example 日", 3 + 23 + 1 + 2),
    ],
)
def test_x_weighted_length(text, expected):
    assert x_weighted_length(text) == expected


def test_every_link_counts_23_however_long_or_short():
    short = "see https://a.co"
    long = "see https://example.com/" + "story/" * 30
    assert x_weighted_length(short) == x_weighted_length(long) == 4 + 23


def test_find_hashtags():
    text = "#Pets, dogs #CatsAndDogs. a#b #123 #1st"
    assert [tag for _start, _end, tag in find_hashtags(text)] == ["Pets", "CatsAndDogs", "1st"]
    start, end, _tag = find_hashtags(text)[1]
    assert text[start:end] == "#CatsAndDogs"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("https://e.com/s?utm_source=x&utm_content=4", True),
        ("https://e.com/s?utm_content=4&utm_medium=social", True),
        ("https://e.com/s?utm_content=4.", True),
        ("https://e.com/s?utm_content=42", False),
        ("https://e.com/s?utm_content=4-b", False),
        ("https://e.com/s?xutm_content=4", False),
        ("https://e.com/s?q=utm_content%3D4", True),
        ("nothing here", False),
    ],
)
def test_contains_marker_matches_whole_markers_only(text, found):
    assert contains_marker(text, "utm_content=4") is found


def test_an_empty_marker_matches_nothing():
    assert contains_marker("anything", "") is False
