"""The guarded client: no request of the server's may reach an address inside.

Real HTTP servers on 127.0.0.1 (and ::1) play the internal service; the guard's
development allowance, which the test settings turn on for the channel test servers,
is switched off here. Each test checks what the internal server saw: nothing at all,
not even a connection.
"""

import json
import socket
import threading
import time
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests

from syndication.outbound import (
    MAX_REDIRECTS,
    UNREACHABLE,
    OutboundRefused,
    ResponseTooLarge,
    check_url,
    guard,
    is_public,
)
from tests.syndication.conftest import make_user

SECRET = b'{"secret": "internal-only-answer-0123456789"}'
CONNECT = "/admin/syndication/connect/"


# --- Servers -----------------------------------------------------------------------------
class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            SimpleNamespace(
                method=self.command, path=self.path, headers=dict(self.headers), body=body
            )
        )
        answer = self.server.answer(self)
        if answer is None:  # The answer wrote itself.
            return
        status, headers, content = answer
        self.send_response(status)
        for name, value in {"Content-Length": str(len(content)), **headers}.items():
            if value is not None:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_HEAD = _handle

    def log_message(self, *args):
        pass


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host, port=0, answer=None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Recorder)
        self.requests = []
        self.connections = 0
        self.answer = answer or (
            lambda handler: (200, {"Content-Type": "application/json"}, SECRET)
        )

    def get_request(self):
        accepted = super().get_request()
        self.connections += 1
        return accepted

    @property
    def port(self):
        return self.server_address[1]


@contextmanager
def serving(host, port=0, answer=None):
    server = RecordingServer(host, port, answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def internal():
    """The service inside: one port on 127.0.0.1 and, where there is IPv6, on ::1 too."""
    with ExitStack() as stack:
        v4 = stack.enter_context(serving("127.0.0.1"))
        servers = [v4]
        if has_ipv6_loopback():
            servers.append(stack.enter_context(serving("::1", v4.port)))
        yield SimpleNamespace(
            port=v4.port,
            url=f"http://127.0.0.1:{v4.port}",
            servers=servers,
            saw=lambda: [r for s in servers for r in s.requests],
            connections=lambda: sum(s.connections for s in servers),
        )


@pytest.fixture
def outside():
    """A server the guard lets through: 127.0.0.2, the one range allowed in these tests."""
    with serving("127.0.0.2") as server:
        server.url = f"http://127.0.0.2:{server.port}"
        yield server


@pytest.fixture
def guarded(settings):
    """The guard as in production, except for 127.0.0.2 (the "outside" server) and any port,
    so each test shows the rule it is about on its own."""
    settings.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.2/32"]
    settings.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.SYNDICATION_ALLOW_HTTP_INSTANCES = True
    return settings


@pytest.fixture
def dns(monkeypatch):
    """Names that resolve to what a test says; each call takes the next answer (the last
    one repeats), as a rebinding DNS server would give them."""
    answers, calls = {}, []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        calls.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        found = []
        for address in addresses:
            if ":" in address:
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return found

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(answers=answers, calls=calls)


def redirecting(location, status=302):
    return lambda handler: (status, {"Location": location}, b"")


def refused(call):
    with pytest.raises(OutboundRefused) as raised:
        call()
    assert str(raised.value) == UNREACHABLE
    return raised.value


# --- Which addresses are public -------------------------------------------------------
@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_public(address):
    import ipaddress

    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.5",
        "172.16.4.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "192.0.0.8",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:7f00:1::",
        "2001::1",
        "2001:db8::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
    ],
)
def test_internal_special_and_embedding_addresses_are_not_public(address):
    import ipaddress

    assert not is_public(ipaddress.ip_address(address))


# --- Direct requests ------------------------------------------------------------------
def test_a_direct_request_to_loopback_is_refused_and_reaches_nothing(guarded, internal):
    refused(lambda: guard().get(f"{internal.url}/admin", timeout=2))
    assert internal.connections() == 0
    assert internal.saw() == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[::]",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "2130706433",
        "127.1",
        "0x7f000001",
        "localhost",
    ],
)
def test_ip_literals_in_every_form_are_refused(guarded, internal, host):
    refused(lambda: guard().get(f"http://{host}:{internal.port}/", timeout=2))
    assert internal.connections() == 0


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["fd00::1"],
        ["93.184.215.14", "127.0.0.1"],  # one inside is enough to refuse the name
    ],
)
def test_a_name_that_resolves_inside_is_refused_before_connecting(guarded, internal, dns, answer):
    dns.answers["intranet.example"] = [answer]
    started = time.monotonic()
    refused(lambda: guard().get(f"http://intranet.example:{internal.port}/", timeout=5))
    assert time.monotonic() - started < 2  # refused, not left to time out
    assert dns.calls == ["intranet.example"]
    assert internal.connections() == 0


def test_the_connection_goes_to_the_address_that_was_checked(guarded, internal, outside, dns):
    """Rebinding: the name is resolved once per connection and that answer is used; a
    second lookup that now says 127.0.0.1 is never made for this connection."""
    with serving("127.0.0.2", internal.port) as public:
        dns.answers["rebind.example"] = [["127.0.0.2"], ["127.0.0.1"]]
        url = f"http://rebind.example:{internal.port}/hello"
        answer = guard().get(url, timeout=2)
        assert answer.status_code == 200
        assert dns.calls == ["rebind.example"]
        assert [(r.path, r.headers["Host"]) for r in public.requests] == [
            ("/hello", f"rebind.example:{internal.port}")
        ]
        # The next connection resolves again, gets 127.0.0.1, and is refused.
        refused(lambda: guard().get(url, timeout=2))
        assert dns.calls == ["rebind.example"] * 2
        assert len(public.requests) == 1
    assert internal.connections() == 0


def test_a_user_name_and_password_in_the_address_are_refused(guarded, outside):
    host = outside.url.removeprefix("http://")
    refused(lambda: guard().get(f"http://storyloom:secret@{host}/", timeout=2))
    assert outside.connections == 0


def test_only_ports_80_and_443_unless_allowed(guarded, outside):
    guarded.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["80", "443"]
    refused(lambda: guard().get(f"{outside.url}/", timeout=2))
    refused(lambda: check_url("https://example.org:8443/"))
    refused(lambda: check_url("https://example.org:22/"))
    check_url("https://example.org/")
    check_url("https://example.org:443/")
    assert outside.connections == 0
    guarded.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["80", "443", str(outside.port)]
    assert guard().get(f"{outside.url}/", timeout=2).status_code == 200


def test_plain_http_only_where_the_development_setting_allows_it(guarded, outside):
    guarded.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    refused(lambda: guard().get(f"{outside.url}/", timeout=2))
    refused(lambda: check_url("ftp://example.org/"))
    refused(lambda: check_url("file:///etc/passwd"))
    assert outside.connections == 0


# --- Redirects ------------------------------------------------------------------------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_into_the_inside_is_refused(guarded, internal, outside, status):
    outside.answer = redirecting(f"{internal.url}/latest/meta-data/", status)
    refused(lambda: guard().post(f"{outside.url}/xrpc/login", json={"password": "pw"}, timeout=2))
    assert len(outside.requests) == 1
    assert internal.connections() == 0


@pytest.mark.parametrize(
    "location",
    [
        "http://intranet.example:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://[::1]:{port}/",
        "http://storyloom:pw@127.0.0.2:{outside}/",
        "//127.0.0.1:{port}/",
    ],
)
def test_every_redirect_hop_is_checked_again(guarded, internal, outside, dns, location):
    dns.answers["intranet.example"] = [["127.0.0.1"]]
    outside.answer = redirecting(location.format(port=internal.port, outside=outside.port))
    refused(lambda: guard().get(f"{outside.url}/", timeout=2))
    assert len(outside.requests) == 1
    assert internal.connections() == 0


def test_a_redirect_to_a_port_that_is_not_allowed_is_refused(guarded, internal, outside):
    guarded.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8", "::1/128"]
    guarded.SYNDICATION_OUTBOUND_ALLOWED_PORTS = [str(outside.port)]
    outside.answer = redirecting(f"{internal.url}/")
    refused(lambda: guard().get(f"{outside.url}/", timeout=2))
    assert internal.connections() == 0


def test_redirects_are_followed_a_few_times_only(guarded, outside):
    outside.answer = redirecting(f"{outside.url}/again")
    with pytest.raises(requests.TooManyRedirects):
        guard().get(f"{outside.url}/", timeout=2)
    assert len(outside.requests) == MAX_REDIRECTS + 1


def test_an_allowed_redirect_is_followed(guarded, outside):
    def answer(handler):
        if handler.path == "/moved":
            return 301, {"Location": "/here"}, b""
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    outside.answer = answer
    response = guard().get(f"{outside.url}/moved", timeout=2)
    assert response.json() == {"ok": True}
    assert [r.path for r in outside.requests] == ["/moved", "/here"]


# --- Size and time --------------------------------------------------------------------
@pytest.mark.parametrize("declared", [True, False])
def test_an_answer_past_the_size_limit_is_cut_off(guarded, outside, declared):
    guarded.SYNDICATION_OUTBOUND_MAX_BYTES = 1000

    def answer(handler):
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", "50000")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"x" * 50000)
        handler.close_connection = True

    outside.answer = answer
    with pytest.raises(ResponseTooLarge):
        guard().get(f"{outside.url}/big", timeout=2)
    outside.answer = lambda handler: (200, {}, b"y" * 900)
    assert guard().get(f"{outside.url}/small", timeout=2).content == b"y" * 900


def test_a_slow_trickle_ends_at_the_timeout(guarded, outside):
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"z")
            handler.wfile.flush()
            time.sleep(0.05)

    outside.answer = answer
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        guard().get(f"{outside.url}/slow", timeout=0.5)
    assert time.monotonic() - started < 3


def test_proxy_variables_are_ignored(guarded, outside, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert guard().get(f"{outside.url}/", timeout=2).status_code == 200


# --- The connect forms ----------------------------------------------------------------
@pytest.fixture
def manager_client(client, django_user_model):
    client.force_login(make_user(django_user_model, "ssrf-sam", "Social managers"))
    return client


def mastodon_error(client, instance):
    response = client.post(f"{CONNECT}mastodon/", {"mastodon-instance": instance})
    assert response.status_code == 200, response.get("Location")
    return response.context["mastodon_form"].errors["instance"][0]


def bluesky_error(client, service_url):
    response = client.post(
        f"{CONNECT}bluesky/",
        {
            "bluesky-handle": "storyloom.bsky.social",
            "bluesky-app_password": "abcd-efgh-ijkl-mnop",
            "bluesky-service_url": service_url,
        },
    )
    assert response.status_code == 200, response.get("Location")
    return response.context["bluesky_form"].non_field_errors()[0]


@pytest.mark.parametrize(
    "instance",
    [
        "http://127.0.0.1:{port}",
        "127.0.0.1:{port}",
        "localhost:{port}",
        "http://localhost:{port}",
        "http://[::1]:{port}",
        "http://[::ffff:127.0.0.1]:{port}",
        "http://intranet.example:{port}",
        "@someone@intranet.example:{port}",
    ],
)
def test_mastodon_connect_cannot_reach_inside(guarded, manager_client, internal, dns, instance):
    dns.answers["intranet.example"] = [["127.0.0.1"]]
    message = mastodon_error(manager_client, instance.format(port=internal.port))
    assert message == UNREACHABLE
    assert internal.connections() == 0


def test_mastodon_connect_does_not_follow_a_redirect_inside(
    guarded, manager_client, internal, outside
):
    outside.answer = redirecting(f"{internal.url}/api/v2/instance")
    assert mastodon_error(manager_client, outside.url) == UNREACHABLE
    assert [r.path for r in outside.requests] == ["/api/v2/instance"]
    assert internal.connections() == 0


@pytest.mark.parametrize(
    "service_url",
    [
        "http://127.0.0.1:{port}",
        "http://[::1]:{port}",
        "http://intranet.example:{port}",
        "http://user:pass@127.0.0.2:{outside}",
    ],
)
def test_bluesky_connect_cannot_reach_inside(
    guarded, manager_client, internal, outside, dns, service_url
):
    dns.answers["intranet.example"] = [["127.0.0.1"]]
    url = service_url.format(port=internal.port, outside=outside.port)
    message = bluesky_error(manager_client, url)
    assert message == UNREACHABLE
    assert internal.connections() == 0
    assert outside.connections == 0


@pytest.mark.parametrize("status", [302, 307, 308])
def test_bluesky_connect_never_posts_the_password_inside(
    guarded, manager_client, internal, outside, status
):
    """The finding: a PDS that redirects into 127.0.0.1 received the handle and password
    there and its answer came back in the error."""
    outside.answer = redirecting(f"{internal.url}/xrpc/com.atproto.server.createSession", status)
    message = bluesky_error(manager_client, outside.url)
    assert message == UNREACHABLE
    assert "internal-only" not in message
    assert len(outside.requests) == 1
    assert internal.connections() == 0
    assert internal.saw() == []


def test_an_error_never_repeats_what_a_server_said(guarded, manager_client, outside):
    outside.answer = lambda handler: (
        403,
        {"Content-Type": "text/html"},
        b"<html>internal-only-answer-0123456789</html>",
    )
    message = bluesky_error(manager_client, outside.url)
    assert "internal-only" not in message
    assert "HTTP 403" in message
    outside.answer = lambda handler: (
        403,
        {"Content-Type": "application/json"},
        json.dumps({"error": "Forbidden", "message": "internal-only-answer"}).encode(),
    )
    message = bluesky_error(manager_client, outside.url)
    assert "internal-only" not in message
    assert "HTTP 403" in message


# --- One message, whatever is on the other side ---------------------------------------
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def hanging_up():
    """A port that is open but speaks no HTTP: it accepts and hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@contextmanager
def silent():
    """A port that accepts and never answers (what a filtering firewall looks like)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.parametrize("form", ["mastodon", "bluesky"])
def test_closed_open_silent_and_internal_ports_read_the_same(
    settings, manager_client, internal, form
):
    settings.SYNDICATION_HTTP_TIMEOUT = 1
    error = mastodon_error if form == "mastodon" else bluesky_error
    messages = {}
    # The development allowance on: these are real connection failures.
    settings.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8"]
    settings.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["*"]
    messages["closed"] = error(manager_client, f"http://127.0.0.1:{closed_port()}")
    with hanging_up() as port:
        messages["not http"] = error(manager_client, f"http://127.0.0.1:{port}")
    if form == "mastodon":  # Bluesky's connect keeps the adapter's own 10 s timeout.
        with silent() as port:
            messages["silent"] = error(manager_client, f"http://127.0.0.1:{port}")
    # And off: an open internal server, refused by the guard.
    settings.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = []
    messages["internal"] = error(manager_client, internal.url)
    settings.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["80", "443"]
    messages["other port"] = error(manager_client, internal.url)
    assert set(messages.values()) == {UNREACHABLE}, messages
    assert internal.connections() == 0


def test_malformed_guard_settings_stop_start_up(settings):
    from syndication.checks import outbound_settings

    assert outbound_settings(None) == []
    settings.SYNDICATION_OUTBOUND_ALLOWED_PORTS = ["443", "https"]
    settings.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["10.0.0.0/8", "intranet"]
    assert [error.id for error in outbound_settings(None)] == [
        "syndication.E004",
        "syndication.E005",
    ]


# --- TLS: the address is pinned, the name is still what is verified --------------------
@pytest.fixture
def tls_outside(tmp_path):
    """An HTTPS server on 127.0.0.2 with a certificate for pds.example only; it records
    the TLS server name (SNI) each connection asked for."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pds.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pds.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    server_names = []
    context.sni_callback = lambda sock, server_name, ctx: server_names.append(server_name)
    with serving("127.0.0.2") as server:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.ca = str(cert_path)
        server.server_names = server_names
        yield server


def test_tls_is_verified_against_the_name_not_the_pinned_address(guarded, tls_outside, dns):
    dns.answers["pds.example"] = [["127.0.0.2"]]
    dns.answers["impostor.example"] = [["127.0.0.2"]]
    url = f"https://pds.example:{tls_outside.port}/xrpc/describeServer"
    answer = guard().get(url, timeout=2, verify=tls_outside.ca)
    assert answer.status_code == 200
    assert tls_outside.server_names == ["pds.example"]
    assert tls_outside.requests[0].headers["Host"] == f"pds.example:{tls_outside.port}"
    # The same address under a name the certificate does not carry: refused by TLS.
    with pytest.raises(requests.exceptions.SSLError):
        guard().get(
            f"https://impostor.example:{tls_outside.port}/", timeout=2, verify=tls_outside.ca
        )
    assert len(tls_outside.requests) == 1


def test_https_is_never_redirected_down_to_http_in_production(guarded, tls_outside, dns, internal):
    guarded.SYNDICATION_ALLOW_HTTP_INSTANCES = False
    guarded.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8"]
    dns.answers["pds.example"] = [["127.0.0.2"]]
    tls_outside.answer = redirecting(f"{internal.url}/")
    url = f"https://pds.example:{tls_outside.port}/"
    refused(lambda: guard().get(url, timeout=2, verify=tls_outside.ca))
    assert len(tls_outside.requests) == 1
    assert internal.connections() == 0


# --- Connections kept between requests (publishing) -----------------------------------
def kept_session():
    from syndication.outbound import keep_connections

    return keep_connections(requests.Session())


def test_kept_connections_serve_the_next_session_and_are_checked_again(guarded, outside, dns):
    """Publishing keeps its connections open across posts; each reuse is checked against
    the policy as it is now, so a connection the policy no longer allows is never used."""
    dns.answers["social.example"] = [["127.0.0.2"]]
    url = f"http://social.example:{outside.port}/api/v1/statuses"
    for _ in range(3):
        assert kept_session().get(url, timeout=5).content == SECRET
    assert (len(outside.requests), outside.connections) == (3, 1)
    guarded.SYNDICATION_OUTBOUND_ALLOW_PRIVATE = []
    refused(lambda: kept_session().get(url, timeout=5))
    assert (len(outside.requests), outside.connections) == (3, 1)


def test_a_kept_connection_idle_too_long_is_not_reused(guarded, outside, monkeypatch):
    from syndication import outbound

    monkeypatch.setattr(outbound, "KEEP_IDLE_SECONDS", 0.0)
    for _ in range(2):
        assert kept_session().get(outside.url, timeout=5).content == SECRET
    assert (len(outside.requests), outside.connections) == (2, 2)


def test_a_guarded_session_alone_keeps_nothing_between_sessions(guarded, outside):
    for _ in range(2):
        assert guard(requests.Session()).get(outside.url, timeout=5).content == SECRET
    assert outside.connections == 2
