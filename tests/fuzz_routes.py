"""The public routes and how each is fuzzed: ``ENDPOINTS`` has a row per route of
``cms.urls`` (everything but the two admins, ``EXCLUDED_PREFIXES``) saying the methods
it answers, the query parameters and body fields it reads and a valid body for it, and
builds hypothesis strategies for whole requests (paths, query strings, bodies, headers)
and the sweeps of every hostile value, one place at a time, from ``tests.fuzzing``.
"""

import dataclasses
import itertools
from collections.abc import Callable

from django.urls import URLPattern, URLResolver, get_resolver

from hypothesis import strategies as st

from syndication.engagement import events
from syndication.newsletter.views import for_you
from tests.fuzzing import (
    HOSTILE_BYTES,
    HOSTILE_TEXT,
    HUGE_INTEGERS,
    INVALID_UTF8,
    JSON_VALUES,
    as_bytes,
    header_value,
    hostile,
    json_bytes,
    percent,
)

READER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
HOST = "localhost"

#: Route prefixes left out, and why.
EXCLUDED_PREFIXES = {
    "admin/": "Wagtail's admin: behind a login, covered by the role matrix",
    "django-admin/": "Django's admin: behind a login, covered by the role matrix",
}


@dataclasses.dataclass
class Site:
    story_ids: list[int]
    story_paths: list[str]
    interest_slugs: list[str]
    interest_ids: list[int]
    image_id: int
    document_id: int
    confirm_token: str
    preferences_token: str
    unsubscribe_token: str
    click_token: str
    share_token: str


# --- Requests ------------------------------------------------------------------------


@dataclasses.dataclass
class Request:
    method: str
    path: str  # percent-encoded, ASCII
    query: str = ""  # percent-encoded, ASCII
    body: bytes = b""
    content_type: str | None = None
    headers: dict = dataclasses.field(default_factory=dict)  # request.META names

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def __repr__(self):
        shown = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        query = self.query[:300] + ("..." if len(self.query) > 300 else "")
        headers = {k: v[:120] for k, v in self.headers.items()}
        return (
            f"{self.method} {self.path[:300]}?{query} content_type={self.content_type!r} "
            f"body={shown!r} headers={headers!r}"
        )


#: Headers the code reads somewhere (the collector, For you, the page cache, Django).
HEADERS = {
    "HTTP_REFERER": st.sampled_from(["http://localhost/", "https://news.example.org/a?b=c"]),
    "HTTP_USER_AGENT": st.sampled_from([READER, "Googlebot/2.1", ""]),
    "HTTP_HOST": st.sampled_from([HOST, f"{HOST}:8000", "www.example.org", "LOCALHOST"]),
    "HTTP_X_FORWARDED_FOR": st.sampled_from(["192.0.2.1", "192.0.2.1, 198.51.100.7", "::1"]),
    "HTTP_X_FORWARDED_PROTO": st.sampled_from(["https", "http"]),
    "HTTP_DNT": st.sampled_from(["1", "0"]),
    "HTTP_SEC_GPC": st.sampled_from(["1"]),
    "HTTP_ACCEPT_LANGUAGE": st.sampled_from(["en-GB,en;q=0.8", "*", "fr-CA;q=0.5"]),
    "HTTP_IF_NONE_MATCH": st.sampled_from(['"abc"', "*", 'W/"x", "y"']),
    "HTTP_IF_MODIFIED_SINCE": st.sampled_from(["Sat, 29 Oct 1994 19:43:31 GMT", "yesterday"]),
    "HTTP_ORIGIN": st.sampled_from(["http://localhost", "null"]),
    "HTTP_SEC_FETCH_SITE": st.sampled_from(["same-origin", "cross-site"]),
    "HTTP_ACCEPT": st.sampled_from(["text/html", "application/json", "*/*"]),
    "HTTP_COOKIE": st.sampled_from(["storyloom_reader=1", "sessionid=x; csrftoken=y"]),
}


def headers(plausible: dict) -> st.SearchStrategy[dict]:
    """A few headers, each plausible or hostile (as a server decodes it: Latin-1)."""
    values = {
        name: hostile(plausible.get(name, strategy)).map(header_value)
        for name, strategy in HEADERS.items()
    }
    values["HTTP_COOKIE"] = st.one_of(
        values["HTTP_COOKIE"],
        HOSTILE_TEXT.map(lambda text: f"storyloom_reader={header_value(text)}"),
        HOSTILE_TEXT.map(lambda text: f"sessionid={header_value(text)}; messages=x"),
    )
    return st.fixed_dictionaries({}, optional=values)


def query(params: dict) -> st.SearchStrategy[str]:
    """A query string of the endpoint's parameters (and others), percent-encoded."""
    names = list(params) or ["page"]
    pair = st.one_of(
        st.sampled_from(names).flatmap(
            lambda name: st.tuples(
                st.just(name.encode()), hostile(params.get(name)).map(_bytes) | HOSTILE_BYTES
            )
        ),
        st.tuples(HOSTILE_BYTES, HOSTILE_BYTES),
    )
    encoded = st.lists(pair, max_size=4).map(
        lambda pairs: "&".join(f"{percent(name)}={percent(value)}" for name, value in pairs)
    )
    broken = st.sampled_from(["%", "a=%zz", "=", "&&;&", "a", "a=1&a=2&a=3", "%00=%00"])
    return st.one_of(encoded, encoded, broken)


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return as_bytes(value if isinstance(value, str) else str(value))


CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "text/plain;charset=UTF-8",
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=fuzz",
    "application/xml",
    "image/png",
    "text/plain; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/json; charset=nonsense",
    "\x00",
)


def bodies(fields: dict, *, required=()) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """A POST body with its content type: the endpoint's fields, plausible or hostile."""
    names = list(fields) or ["value"]
    values = {name: hostile(fields.get(name)) for name in names}
    json_values = {name: st.one_of(values[name], JSON_VALUES) for name in names}
    form = st.fixed_dictionaries(
        {name: values[name] for name in required},
        optional={name: values[name] for name in names if name not in required},
    )
    json_object = st.fixed_dictionaries(
        {name: json_values[name] for name in required},
        optional={name: json_values[name] for name in names if name not in required},
    )

    def multipart(data: dict) -> bytes:
        parts = [
            b'--fuzz\r\nContent-Disposition: form-data; name="%b"\r\n\r\n%b\r\n'
            % (as_bytes(k), _bytes(v))
            for k, v in data.items()
        ]
        return b"".join(parts) + b"--fuzz--\r\n"

    content_type = st.sampled_from(CONTENT_TYPES)
    return st.one_of(
        st.tuples(form.map(form_encoded), st.just("application/x-www-form-urlencoded")),
        st.tuples(form.map(multipart), st.just("multipart/form-data; boundary=fuzz")),
        st.tuples(json_object.map(json_bytes), st.sampled_from(["application/json", "text/plain"])),
        st.tuples(json_object.map(json_bytes), st.sampled_from(["application/json", "text/plain"])),
        st.tuples(JSON_VALUES.map(json_bytes), content_type),
        st.tuples(INVALID_UTF8 | HOSTILE_BYTES, content_type),
        st.tuples(st.just(b""), st.none() | content_type),
    )


WRONG_METHODS = ("HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def segment(*plausible: str) -> st.SearchStrategy[str]:
    """One path segment: a real one, one spoiled, a huge number, or hostile bytes."""
    if not plausible:
        return HOSTILE_BYTES.filter(bool).map(percent)
    real = st.sampled_from(plausible)
    spoiled = real.flatmap(
        lambda value: st.sampled_from(
            [value[:-1] + "A", value + "\x00", value.replace(":", "\ud800", 1), value * 40]
        )
    )
    return st.one_of(
        real,
        real,
        spoiled.map(percent),
        HUGE_INTEGERS.map(str),
        HOSTILE_BYTES.filter(bool).map(percent),
    )


@dataclasses.dataclass(frozen=True)
class Paths:
    """A route's paths: ``template`` with ``{name}`` segments taken from the site."""

    template: str
    segments: dict = dataclasses.field(default_factory=dict)  # name: site -> real values

    def real(self, site: Site) -> str:
        return self.template.format(
            **{name: str(values(site)[0]) for name, values in self.segments.items()}
        )

    def strategy(self, site: Site) -> st.SearchStrategy[str]:
        drawn = {
            name: segment(*(str(v) for v in values(site))) for name, values in self.segments.items()
        }
        return st.fixed_dictionaries(drawn).map(lambda found: self.template.format(**found))

    def spoiled(self, site: Site, value: str) -> list[str]:
        """The real path with each segment in turn replaced by ``value``."""
        real = {name: str(values(site)[0]) for name, values in self.segments.items()}
        return [self.template.format(**{**real, name: value}) for name in self.segments]


class ReadingPaths(Paths):
    """Reading pages (home, the index, stories, interest hubs) and made-up paths under them."""

    def __init__(self):
        super().__init__("/stories/{slug}/", {"slug": lambda site: ["interest"]})

    def real(self, site: Site) -> str:
        return site.story_paths[0]

    def strategy(self, site: Site) -> st.SearchStrategy[str]:
        real = st.sampled_from(
            ["/", "/stories/", *site.story_paths]
            + [f"/stories/interest/{slug}/" for slug in site.interest_slugs]
        )
        made_up = st.lists(
            segment("stories", "interest", *site.interest_slugs), min_size=1, max_size=4
        )
        return real | real | made_up.map(lambda parts: "/" + "/".join(parts) + "/")


def token_paths(prefix: str, suffix: str, token: Callable[[Site], str]) -> Paths:
    """A newsletter link: its real token, the token spoiled, or hostile bytes."""
    return Paths(prefix + "{token}/" + suffix, {"token": lambda site: [token(site)]})


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """How to fuzz one route: its paths, what it reads, a valid body for it."""

    paths: Paths
    methods: tuple = ("GET",)
    params: Callable[[Site], dict] = lambda site: {}
    fields: Callable[[Site], dict] = lambda site: {}
    required: tuple = ()
    valid: Callable[[Site], dict] = lambda site: {}  # a body it takes, for the sweep
    plausible_headers: Callable[[Site], dict] = lambda site: {}
    flushes: bool = False  # accepted POSTs buffer events that are flushed and read back

    def requests(self, site: Site) -> st.SearchStrategy[Request]:
        method = st.sampled_from(list(self.methods) * 6 + list(WRONG_METHODS))
        return st.builds(
            self._request,
            method,
            self.paths.strategy(site),
            query(self.params(site)),
            bodies(self.fields(site), required=self.required),
            headers(self.plausible_headers(site)),
        )

    @staticmethod
    def _request(method, path, query_string, body, header_values):
        data, content_type = body if method in ("POST", "PUT", "PATCH") else (b"", None)
        return Request(method, path, query_string, data, content_type, header_values)

    def sweep(self, site: Site, part: str) -> list[Request]:
        """Every hostile value in every place of ``part``, one at a time, the rest valid."""
        posts = "POST" in self.methods
        method = "POST" if posts and "GET" not in self.methods else "GET"
        real = self.paths.real(site)
        valid = self.valid(site)
        body, content_type = (json_bytes(valid), "application/json") if posts else (b"", None)
        if method == "GET":
            body, content_type = b"", None
        base = Request(method, real, "", body, content_type, dict(SWEEP_HEADERS))
        if part == "query":
            names = list(self.params(site)) or ["page"]
            return [
                dataclasses.replace(base, query=f"{percent(name)}={percent(value)}")
                for name in names
                for value in SWEEP_BYTES
            ]
        if part == "headers":
            return [
                dataclasses.replace(base, headers={**base.headers, name: value})
                for name in HEADERS
                for value in (
                    SWEEP_COOKIES
                    if name == "HTTP_COOKIE"
                    else [header_value(text) for text in SWEEP_HEADER_TEXT]
                )
            ]
        if part == "path":
            return [
                dataclasses.replace(base, path=spoiled)
                for value in SWEEP_BYTES
                if value
                for spoiled in self.paths.spoiled(site, percent(value))
            ]
        if not posts:  # part == "body"
            return []
        post = dataclasses.replace(base, method="POST")
        form = "application/x-www-form-urlencoded"
        requests = [
            dataclasses.replace(post, body=form_encoded({**valid, name: value}), content_type=form)
            for name in self.fields(site)
            for value in SWEEP_BYTES
        ]
        requests += [
            dataclasses.replace(post, body=json_bytes({**valid, name: value}), content_type=kind)
            for name in self.fields(site)
            for value, kind in zip(
                SWEEP_JSON, itertools.cycle(["application/json", "text/plain"]), strict=False
            )
        ]
        requests += [
            dataclasses.replace(post, body=raw, content_type=kind)
            for raw in [*SWEEP_BYTES, json_bytes(valid)]
            for kind in (form, "text/plain", "multipart/form-data", "image/png", "")
            if raw
        ]
        return requests


PARTS = ("query", "body", "headers", "path")
SWEEP_TEXT = (
    "\x00",
    "\ud800",
    "99999999999999999999",
    "-1",
    "",
    "x" * 5000,
    "9" * 5000,  # past int()'s 4,300 digits
    "\xb2",  # a digit to str.isdigit(), not to int()
    "%",
)
SWEEP_BYTES = [as_bytes(text) for text in SWEEP_TEXT] + [b"\xff\xfe"]
SWEEP_JSON = [*SWEEP_TEXT, 2**70, -(2**63) - 1, 1e308, None, [], {"a": "\x00"}]
SWEEP_HEADER_TEXT = ("a\x00b", "x\udfffy", "x" * 5000)
#: Cookies are read by name: the session's, "For you"'s, and the messages'.
SWEEP_COOKIES = tuple(
    f"{name}={header_value(value)}"
    for name in ("sessionid", "storyloom_reader", "messages")
    for value in SWEEP_HEADER_TEXT
)
SWEEP_HEADERS = {
    "HTTP_USER_AGENT": READER,
    "HTTP_ORIGIN": "http://localhost",
    "HTTP_SEC_FETCH_SITE": "same-origin",
}


def form_encoded(data: dict) -> bytes:
    return "&".join(f"{percent(k)}={percent(_bytes(v))}" for k, v in data.items()).encode()


def collector_events(site: Site) -> dict:
    utm = st.fixed_dictionaries(
        {}, optional={key: hostile(st.just("newsletter")) for key in events.UTM_KEYS}
    )
    return {
        "t": st.sampled_from(sorted(events.EVENT_TYPES)),
        "s": st.sampled_from(site.story_ids) | HUGE_INTEGERS,
        "r": st.sampled_from(["https://news.example.org/a", "http://localhost/"]),
        "u": utm,
        "sh": st.just(site.share_token),
        "nl": st.just(site.click_token),
        "n": st.sampled_from(sorted(events.SHARE_NETWORKS)),
        "to": st.sampled_from(site.story_ids) | HUGE_INTEGERS,
        "k": st.sampled_from(events.LINK_KINDS),
        "f": st.sampled_from(sorted(events.FEELINGS)),
        "ms": st.integers(0, 200_000) | HUGE_INTEGERS,
        "sd": st.integers(0, 100) | HUGE_INTEGERS,
    }


def shares(site: Site) -> dict:
    return {
        "s": st.sampled_from(site.story_ids) | HUGE_INTEGERS,
        "n": st.sampled_from(sorted(events.SHARE_NETWORKS)),
        "parent": st.just(site.share_token),
        "r": st.just("https://news.example.org/a"),
        "u": st.fixed_dictionaries({"source": st.just("x")}),
    }


def newsletter_form(site: Site) -> dict:
    return {
        "email": st.sampled_from(["reader@example.org", "someone.new@example.org"]),
        "interests": st.sampled_from(site.interest_ids) | HUGE_INTEGERS,
        "link-email": st.sampled_from(["reader@example.org", "nobody@example.org"]),
        "action": st.sampled_from(["interests", "pause", "resume", "leave"]),
    }


def for_you_form(site: Site) -> dict:
    return {
        "nonce": st.just(for_you._nonce()),
        "story": st.sampled_from(site.story_ids).map(str),
        "interest": st.sampled_from(site.interest_ids).map(str),
        "nl": st.just(site.click_token),
    }


SAME_SITE = {
    "HTTP_ORIGIN": st.just("http://localhost"),
    "HTTP_SEC_FETCH_SITE": st.just("same-origin"),
    "HTTP_USER_AGENT": st.just(READER),
}
COLLECTOR_HEADERS = {"HTTP_USER_AGENT": st.just(READER), "HTTP_HOST": st.just(HOST)}


def api_page_params(site: Site) -> dict:
    some_id = st.sampled_from(site.story_ids).map(str) | HUGE_INTEGERS.map(str)
    return {
        "type": st.sampled_from(["stories.StoryPage", "stories.HomePage", "wagtailcore.Page"]),
        "fields": st.sampled_from(["*", "-title", "intro,body", "_,id", "interests(slug)"]),
        "child_of": some_id,
        "descendant_of": some_id,
        "ancestor_of": some_id,
        "translation_of": some_id,
        "id": some_id,
        "search": st.sampled_from(["cat", "soup dog", ""]),
        "search_operator": st.sampled_from(["and", "or"]),
        "order": st.sampled_from(["title", "-id", "random", "first_published_at"]),
        "limit": st.sampled_from(["1", "20", "0"]),
        "offset": st.sampled_from(["0", "2", "99999999999999999999"]),
        "locale": st.sampled_from(["en", "fr"]),
        "site": st.sampled_from(["localhost", "localhost:80"]),
        "html_path": st.sampled_from(["/", "/stories/", *site.story_paths]),
        "title": st.sampled_from(["Soup for a cold week"]),
        "slug": st.sampled_from(["stories"]),
        "show_in_menus": st.sampled_from(["true", "false", "maybe"]),
        "purpose": st.sampled_from(["solve", "smile"]),
        "reading_time": st.sampled_from(["1", "2"]),
        "word_count": st.sampled_from(["0", "12"]),
        "first_published_at": st.sampled_from(["2024-01-01"]),
        "format": st.sampled_from(["json", "api", "xml"]),
    }


def api_image_params(site: Site) -> dict:
    return {
        "fields": st.sampled_from(["*", "-title", "width,height", "tags"]),
        "search": st.sampled_from(["picture", ""]),
        "search_operator": st.sampled_from(["and", "or"]),
        "order": st.sampled_from(["title", "-id", "random"]),
        "limit": st.sampled_from(["1", "20"]),
        "offset": st.sampled_from(["0", "99999999999999999999"]),
        "title": st.sampled_from(["Picture 0"]),
        "id": st.just(str(site.image_id)),
        "width": st.just("1600"),
        "tags": st.just("x"),
        "format": st.sampled_from(["json", "api"]),
    }


PAGE_PARAMS = {
    "page": st.sampled_from(["1", "2", "0", "-1", "²", "١"]),
    "utm_source": st.just("newsletter"),
    "sh": st.just("AbCdEfGh12345678"),
    "nl": st.just("x"),
}
FEED_PARAMS = {"limit": st.sampled_from(["1", "10", "50", "0", "²", "١"])}

#: Every public route (as the resolver spells it) and how it is fuzzed.
ENDPOINTS: dict[str, Endpoint] = {
    "healthz": Endpoint(Paths("/healthz")),
    "readyz": Endpoint(Paths("/readyz")),
    "sitemap.xml": Endpoint(Paths("/sitemap.xml"), params=lambda site: {"p": st.just("1")}),
    "e/": Endpoint(
        Paths("/e/"),
        methods=("POST",),
        fields=collector_events,
        required=("t", "s"),
        valid=lambda site: {"t": "view", "s": site.story_ids[0], "r": "https://a.example/"},
        plausible_headers=lambda site: COLLECTOR_HEADERS,
        flushes=True,
    ),
    "e/share/": Endpoint(
        Paths("/e/share/"),
        methods=("POST",),
        fields=shares,
        required=("s", "n"),
        valid=lambda site: {"s": site.story_ids[0], "n": "x"},
        plausible_headers=lambda site: COLLECTOR_HEADERS,
        flushes=True,
    ),
    "newsletter/": Endpoint(
        Paths("/newsletter/"),
        methods=("GET", "POST"),
        fields=newsletter_form,
        valid=lambda site: {"email": "new.reader@example.org", "interests": site.interest_ids[0]},
    ),
    "newsletter/preferences/": Endpoint(
        Paths("/newsletter/preferences/"),
        methods=("GET", "POST"),
        fields=newsletter_form,
        valid=lambda site: {"link-email": "reader@example.org"},
    ),
    "newsletter/confirm/<str:token>/": Endpoint(
        token_paths("/newsletter/confirm/", "", lambda site: site.confirm_token),
        methods=("GET", "POST"),
        fields=newsletter_form,
    ),
    "newsletter/preferences/<str:token>/": Endpoint(
        token_paths("/newsletter/preferences/", "", lambda site: site.preferences_token),
        methods=("GET", "POST"),
        params=lambda site: {"done": st.sampled_from(["interests", "pause"])},
        fields=newsletter_form,
        valid=lambda site: {"action": "interests", "interests": site.interest_ids[1]},
    ),
    "newsletter/preferences/<str:token>/data/": Endpoint(
        token_paths("/newsletter/preferences/", "data/", lambda site: site.preferences_token),
        methods=("GET", "POST"),
    ),
    "newsletter/preferences/<str:token>/delete/": Endpoint(
        token_paths("/newsletter/preferences/", "delete/", lambda site: site.preferences_token),
        methods=("GET", "POST"),
    ),
    "newsletter/unsubscribe/<str:token>/": Endpoint(
        token_paths("/newsletter/unsubscribe/", "", lambda site: site.unsubscribe_token),
        methods=("GET", "POST"),
        params=lambda site: {"List-Unsubscribe": st.just("One-Click")},
        fields=lambda site: {"List-Unsubscribe": st.just("One-Click")},
        valid=lambda site: {"List-Unsubscribe": "One-Click"},
    ),
    "newsletter/c/<str:token>/": Endpoint(
        token_paths("/newsletter/c/", "", lambda site: site.click_token),
        plausible_headers=lambda site: {"HTTP_USER_AGENT": st.just(READER)},
    ),
    "newsletter/for-you/": Endpoint(
        Paths("/newsletter/for-you/"),
        params=lambda site: {
            "story": st.sampled_from(site.story_ids).map(str),
            "nl": st.just(site.click_token),
            "ask": st.just("0"),
        },
    ),
    "newsletter/for-you/consent/": Endpoint(
        Paths("/newsletter/for-you/consent/"),
        methods=("POST",),
        fields=for_you_form,
        required=("nonce",),
        valid=lambda site: {
            "nonce": for_you._nonce(),
            "story": str(site.story_ids[0]),
            "interest": str(site.interest_ids[0]),
        },
        plausible_headers=lambda site: SAME_SITE,
    ),
    "newsletter/for-you/forget/": Endpoint(
        Paths("/newsletter/for-you/forget/"),
        methods=("POST",),
        fields=for_you_form,
        required=("nonce",),
        valid=lambda site: {"nonce": for_you._nonce(), "story": str(site.story_ids[0])},
        plausible_headers=lambda site: SAME_SITE,
    ),
    "feeds/stories/rss/": Endpoint(Paths("/feeds/stories/rss/"), params=lambda s: FEED_PARAMS),
    "feeds/stories/atom/": Endpoint(Paths("/feeds/stories/atom/"), params=lambda s: FEED_PARAMS),
    "feeds/interest/<slug:slug>/rss/": Endpoint(
        Paths("/feeds/interest/{slug}/rss/", {"slug": lambda site: site.interest_slugs}),
        params=lambda site: FEED_PARAMS,
    ),
    "feeds/interest/<slug:slug>/atom/": Endpoint(
        Paths("/feeds/interest/{slug}/atom/", {"slug": lambda site: site.interest_slugs}),
        params=lambda site: FEED_PARAMS,
    ),
    "api/v2/^pages/": Endpoint(Paths("/api/v2/pages/"), params=api_page_params),
    "api/v2/^pages/<int:pk>/": Endpoint(
        Paths("/api/v2/pages/{pk}/", {"pk": lambda site: site.story_ids}),
        params=api_page_params,
    ),
    "api/v2/^pages/find/": Endpoint(Paths("/api/v2/pages/find/"), params=api_page_params),
    "api/v2/^images/": Endpoint(Paths("/api/v2/images/"), params=api_image_params),
    "api/v2/^images/<int:pk>/": Endpoint(
        Paths("/api/v2/images/{pk}/", {"pk": lambda site: [site.image_id]}),
        params=api_image_params,
    ),
    "api/v2/^images/find/": Endpoint(Paths("/api/v2/images/find/"), params=api_image_params),
    "documents/^(\\d+)/(.*)$": Endpoint(
        Paths(
            "/documents/{pk}/{name}",
            {"pk": lambda site: [site.document_id], "name": lambda site: ["leaflet.txt"]},
        )
    ),
    "^documents/\\d{20,}/": Endpoint(
        Paths("/documents/{pk}/leaflet.txt", {"pk": lambda site: ["1" * 20, "9" * 5000]})
    ),
    "documents/authenticate_with_password/<int:restriction_id>/": Endpoint(
        Paths("/documents/authenticate_with_password/{pk}/", {"pk": lambda site: [1]}),
        methods=("GET", "POST"),
        fields=lambda site: {"password": st.just("x"), "return_url": st.just("/")},
        valid=lambda site: {"password": "x", "return_url": "/"},
    ),
    "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/": Endpoint(
        Paths(
            "/_util/authenticate_with_password/{restriction}/{pk}/",
            {"restriction": lambda site: [1], "pk": lambda site: site.story_ids},
        ),
        methods=("GET", "POST"),
        fields=lambda site: {"password": st.just("x"), "return_url": st.just("/")},
        valid=lambda site: {"password": "x", "return_url": "/"},
    ),
    "_util/login/": Endpoint(
        Paths("/_util/login/"),
        methods=("GET", "POST"),
        params=lambda site: {"next": st.just("/stories/")},
        fields=lambda site: {
            "username": st.just("admin"),
            "password": st.just("pw"),
            "next": st.just("/"),
        },
        valid=lambda site: {"username": "admin", "password": "pw", "next": "/"},
    ),
    "^((?:[\\w\\-]+/)*)$": Endpoint(ReadingPaths(), params=lambda site: PAGE_PARAMS),
}


def public_routes() -> set[str]:
    """Every route of the URL configuration, but those under an excluded prefix."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    return {
        route
        for route in walk(get_resolver().url_patterns)
        if not route.startswith(tuple(EXCLUDED_PREFIXES))
    }
