"""Hostile values for fuzz tests (hypothesis), in one place.

What a client can put in a request that a form or a model may not expect: NUL bytes,
lone surrogates, numbers beyond any column, very long strings, look-alike numbers,
invalid UTF-8, and JSON of every shape. ``tests/test_public_fuzz.py`` drives every
public URL with them; ``tests/engagement/test_collector_fuzz.py`` goes deeper into
the collector's own validation with bodies built from its event schema.

Values that travel as text over HTTP (paths, query strings, form bodies, headers) are
bytes in the end: ``as_bytes`` keeps a lone surrogate as the three bytes a careless
client would send (``%ED%A0%80``), and ``percent`` encodes any bytes for a URL.
"""

import json
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st


def fuzz(examples: int) -> settings:
    """Hypothesis settings for a fuzz run inside one test: reproducible, no example file."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same examples on every run, in CI and locally
        database=None,  # nothing written to .hypothesis/
        # No shrinking: a failure is reported as found, which keeps the run short.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


#: Integers no column holds: past 32 and 64 bits, both signs, and the awkward ones.
HUGE_INTEGERS = st.sampled_from(
    [
        0,
        -1,
        2**31,
        -(2**31) - 1,
        2**63 - 1,
        2**63,
        -(2**63) - 1,
        10**20,
        99999999999999999999,
        -(10**30),
        2**128,
    ]
) | st.integers(min_value=-(2**80), max_value=2**80)

#: Strings that mean something to a parser, a database or a browser.
TRICKY_STRINGS = (
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\udc80\ud800",
    "%00",
    "%ED%A0%80",
    "%",
    "%zz",
    " ",
    "\t\r\n",
    "0",
    "-1",
    "01",
    "1.5",
    "1e400",
    "NaN",
    "Infinity",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999",
    "null",
    "true",
    "[]",
    "{}",
    '{"a":',
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\u200b\ufeff",
    "\U0001f4a5",
    "é" * 300,
    "javascript:alert(1)",
    "http://a\x00b.example/",
    "https://" + "a" * 300 + ".example/",
    "*",
    "-",
    "__proto__",
)

#: Any code point, surrogates and NUL included (hypothesis leaves surrogates out by default).
ANY_CHARACTER = st.characters(exclude_categories=())

VERY_LONG_STRINGS = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "1", "é", "\x00", "\ud800", "%"]),
    st.integers(min_value=1_000, max_value=12_000),
)

HOSTILE_TEXT = st.one_of(
    st.sampled_from(TRICKY_STRINGS),
    st.text(ANY_CHARACTER, max_size=40),
    HUGE_INTEGERS.map(str),
    VERY_LONG_STRINGS,
    # A plausible value spiked with a NUL or a lone surrogate.
    st.builds(
        lambda word, spike: word + spike + word,
        st.text(st.characters(codec="ascii"), max_size=12),
        st.sampled_from(["\x00", "\ud800", "\udfff"]),
    ),
)

#: Bytes that are not UTF-8 (overlong forms, encoded surrogates, stray continuation bytes).
INVALID_UTF8 = st.sampled_from(
    [b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\x80", b"\xe2\x82", b"a\xffb"]
) | st.binary(min_size=1, max_size=40)


def as_bytes(text: str) -> bytes:
    """``text`` as a client would send it, a lone surrogate as its three UTF-8 bytes."""
    return text.encode("utf-8", "surrogatepass")


HOSTILE_BYTES = st.one_of(HOSTILE_TEXT.map(as_bytes), INVALID_UTF8)


def percent(value: bytes | str) -> str:
    """Percent-encode every byte but the unreserved ones (the URL stays ASCII)."""
    return quote(as_bytes(value) if isinstance(value, str) else value, safe="")


def header_value(text: str) -> str:
    """A header as a WSGI server hands it to Django: the bytes, read as Latin-1."""
    return as_bytes(text).decode("latin-1")


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    HUGE_INTEGERS,
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=6,
)


def json_bytes(value) -> bytes:
    """JSON as a client may send it: lone surrogates as ``\\ud800`` escapes, NaN allowed."""
    return json.dumps(value).encode()


def hostile(plausible: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """A value for a field: often a plausible one (to get past the first check), else hostile."""
    if plausible is None:
        return HOSTILE_TEXT
    return st.one_of(plausible, plausible, HOSTILE_TEXT)
