"""The one guarded client for outbound requests.

Every request the server makes to an address someone typed (a Mastodon server, a
Bluesky PDS) or a network's answer pointed to goes through a session made here:
``guard(requests.Session())``, or ``guard(OAuth2Session(...))`` for the OAuth dances.
A guarded session

* refuses URLs that are not http(s), carry a user name or password, or name a port
  outside ``SYNDICATION_OUTBOUND_ALLOWED_PORTS`` (80 and 443); plain http only where
  ``SYNDICATION_ALLOW_HTTP_INSTANCES`` allows it (development), so a redirect can never
  take an https request down to http in production;
* resolves the name itself when the connection opens, refuses it when *any* address
  it resolves to is not public (loopback, private, link-local, shared, multicast,
  reserved, unspecified, documentation, and IPv6 forms that embed an IPv4 address:
  mapped, compatible, 6to4, NAT64, Teredo), and connects to the very address it
  checked. The name stays the Host header, the TLS server name and the name the
  certificate must match, so there is no second lookup to rebind between check and
  connect. ``SYNDICATION_OUTBOUND_ALLOW_PRIVATE`` (CIDRs, empty by default) lets
  development and test servers on 127.0.0.1 through;
* checks every redirect hop again (each hop is a new request through the same
  adapter), follows at most ``MAX_REDIRECTS``, ignores proxy variables from the
  environment (a proxy would resolve the names beyond our check);
* reads at most ``SYNDICATION_OUTBOUND_MAX_BYTES`` of an answer, within the timeout,
  and puts a default timeout on any call made without one.

Refusals raise ``OutboundRefused`` (a ``requests.ConnectionError``), so callers treat
them as a connection that never opened, and people see ``UNREACHABLE`` for every
refused or failed connection alike: it must not tell a closed port from a filtered or
an internal one. The detail goes to the ``syndication.outbound`` log only.

Written here rather than taken from a library: requests-hardened (maintained, the
closest fit) pins the checked address the same way but has a fixed policy (loopback
on or off, no development ranges, no ports, the first address only, and Python's
``is_private`` of the running version, which on 3.11 lets multicast, site-local and
IPv4-compatible addresses through); advocate has not been released since 2020;
drawbridge and safehttpx wrap httpx, not the requests/requests-oauthlib sessions the
adapters use. See docs/syndication.md, "Outbound requests".
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util import connection as urllib3_connection

logger = logging.getLogger("syndication.outbound")

#: What a person sees for every refused or failed connection, whatever the reason.
UNREACHABLE = "Could not reach that server. Check the address."
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 15.0
_CHUNK = 64 * 1024

# Special-purpose ranges (IANA IPv4/IPv6 special-purpose address registries) that are
# never a public server. Listed rather than left to ``is_global``, whose answer depends
# on the Python version (3.11 calls multicast and fec0::/10 global).
_BLOCKED = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier NAT, cluster load balancers)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/96",  # unspecified, loopback and IPv4-compatible (::a.b.c.d)
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


class OutboundRefused(requests.ConnectionError):
    """The guard refused the address: it was never connected to."""


class ResponseTooLarge(requests.ConnectionError):
    """The answer was longer than ``SYNDICATION_OUTBOUND_MAX_BYTES``; it was cut off."""


class _Refused(NewConnectionError):
    """Raised inside urllib3's connect step; ``GuardedAdapter.send`` turns it into
    ``OutboundRefused``."""


# --- Policy ----------------------------------------------------------------------------
def allowed_ports() -> frozenset[int] | None:
    """The ports requests may go to; None when any port is allowed (``*``)."""
    return _ports(tuple(str(port) for port in _setting("SYNDICATION_OUTBOUND_ALLOWED_PORTS")))


def allowed_networks() -> tuple:
    return _networks(tuple(_setting("SYNDICATION_OUTBOUND_ALLOW_PRIVATE")))


def allow_http() -> bool:
    return bool(_setting("SYNDICATION_ALLOW_HTTP_INSTANCES"))


def max_bytes() -> int:
    return int(_setting("SYNDICATION_OUTBOUND_MAX_BYTES"))


def default_timeout() -> float:
    return float(_setting("SYNDICATION_HTTP_TIMEOUT"))


_DEFAULTS = {
    "SYNDICATION_OUTBOUND_ALLOWED_PORTS": ("80", "443"),
    "SYNDICATION_OUTBOUND_ALLOW_PRIVATE": (),
    "SYNDICATION_ALLOW_HTTP_INSTANCES": False,
    "SYNDICATION_OUTBOUND_MAX_BYTES": DEFAULT_MAX_BYTES,
    "SYNDICATION_HTTP_TIMEOUT": DEFAULT_TIMEOUT,
}


def _setting(name: str):
    # Read at every request, not at import: tests and reloaded settings take effect at once.
    if settings.configured:
        return getattr(settings, name, _DEFAULTS[name])
    return _DEFAULTS[name]


@functools.lru_cache(maxsize=16)
def _ports(raw: tuple[str, ...]) -> frozenset[int] | None:
    if "*" in raw:
        return None
    return frozenset(int(port) for port in raw)


@functools.lru_cache(maxsize=16)
def _networks(raw: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in raw)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True when ``address`` can only be a server on the public internet."""
    if address.version == 6 and address.scope_id:
        return False
    checks = (
        address.is_private,
        address.is_loopback,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
        address.version == 6 and address.is_site_local,
    )
    if any(checks):
        return False
    return not any(address in network for network in _BLOCKED)


def permitted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public, or inside a range the development setting lets through."""
    if any(address in network for network in allowed_networks()):
        return True
    return is_public(address)


def check_url(url: str) -> None:
    """Refuse a URL the guard will not request (before any connection or lookup)."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError as error:
        raise _refusal(url, "not a valid URL") from error
    schemes = ("https", "http") if allow_http() else ("https",)
    if parts.scheme not in schemes:
        raise _refusal(url, f"scheme {parts.scheme!r} not allowed")
    if "@" in parts.netloc:
        raise _refusal(url, "user name or password in the address")
    if not host:
        raise _refusal(url, "no host")
    port = port or (443 if parts.scheme == "https" else 80)
    ports = allowed_ports()
    if ports is not None and port not in ports:
        raise _refusal(url, f"port {port} not allowed")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    if not permitted(literal):
        raise _refusal(url, f"address {literal} is not public")


def _refusal(url: str, reason: str) -> OutboundRefused:
    logger.warning("Outbound request refused (%s): %s", reason, _where(url))
    return OutboundRefused(UNREACHABLE)


def _where(url: str) -> str:
    """Scheme, host and port of ``url`` for the log: never its path, query or userinfo."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
    except ValueError:
        return "(unparseable URL)"


# --- The connection: resolve, check, connect to what was checked ----------------------
class _GuardedConnectionMixin:
    def _new_conn(self):
        host, port = self._dns_host, self.port
        ports = allowed_ports()
        if ports is not None and port not in ports:
            logger.warning("Outbound connection refused (port %s): %s", port, host)
            raise _Refused(self, UNREACHABLE)
        try:
            answers = socket.getaddrinfo(
                host, port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM
            )
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        addresses = [(ipaddress.ip_address(answer[4][0]), answer) for answer in answers]
        refused = [str(address) for address, _answer in addresses if not permitted(address)]
        if refused or not addresses:
            logger.warning(
                "Outbound connection refused (not public: %s): %s:%s",
                ", ".join(refused) or "no address",
                host,
                port,
            )
            raise _Refused(self, UNREACHABLE)
        error = None
        for address, (family, socktype, proto, _name, sockaddr) in addresses:
            sock = None
            try:
                sock = socket.socket(family, socktype, proto)
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if isinstance(self.timeout, int | float):
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
                logger.debug("Outbound connection to %s:%s at %s", host, port, address)
                return sock
            except TimeoutError as caught:
                error = ConnectTimeoutError(self, f"Connection to {host} timed out.")
                error.__cause__ = caught
            except OSError as caught:
                error = NewConnectionError(self, f"Failed to establish a new connection: {caught}")
                error.__cause__ = caught
            if sock is not None:
                sock.close()
        raise error


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedPoolMixin:
    """A connection taken from the pool again is checked again: still allowed where it
    leads (the policy as it is now, against the address it is connected to) and not
    idle past ``KEEP_IDLE_SECONDS``; otherwise it is closed, and the request opens a new
    one through ``_new_conn`` and its checks."""

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)
        if conn is not None and getattr(conn, "sock", None) is not None and not _reusable(conn):
            conn.close()
        return conn

    def _put_conn(self, conn) -> None:
        if conn is not None:
            conn.guard_idle_since = time.monotonic()
        super()._put_conn(conn)


def _reusable(conn) -> bool:
    idle_since = getattr(conn, "guard_idle_since", None)
    if idle_since is None or time.monotonic() - idle_since > KEEP_IDLE_SECONDS:
        return False
    try:
        address = ipaddress.ip_address(conn.sock.getpeername()[0].split("%", 1)[0])
    except (OSError, ValueError, IndexError):
        return False
    ports = allowed_ports()
    if ports is not None and conn.port not in ports:
        logger.warning("Kept connection closed (port %s no longer allowed)", conn.port)
        return False
    if not permitted(address):
        logger.warning("Kept connection closed (%s no longer allowed)", address)
        return False
    return True


class _GuardedHTTPPool(_GuardedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_GuardedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose every request, redirect hops included, is checked."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # A proxy resolves and connects beyond the check: never through one.
        raise OutboundRefused(UNREACHABLE)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        check_url(request.url)
        timeout = default_timeout() if timeout is None else timeout
        try:
            response = super().send(
                request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=None
            )
        except requests.ConnectionError as error:
            if isinstance(_reason(error), _Refused):
                raise OutboundRefused(UNREACHABLE, request=request) from error
            raise
        _read_bounded(response, timeout)
        return response


def _reason(error: requests.ConnectionError):
    cause = error.args[0] if error.args else None
    return getattr(cause, "reason", cause)


def _read_bounded(response: requests.Response, timeout) -> None:
    """Read the whole answer into ``response.content``, refusing more than the limit."""
    limit = max_bytes()
    declared = response.headers.get("Content-Length", "")
    if response.request.method != "HEAD" and declared.isdigit() and int(declared) > limit:
        response.close()
        logger.warning("Outbound answer refused: %s bytes declared", declared)
        raise ResponseTooLarge(UNREACHABLE, response=response)
    budget = timeout[-1] if isinstance(timeout, tuple) else timeout
    deadline = time.monotonic() + float(budget or DEFAULT_TIMEOUT)
    chunks, size = [], 0
    try:
        # read1, not read: it returns what has arrived, so a trickle meets the deadline.
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                logger.warning("Outbound answer cut off past %s bytes", limit)
                raise ResponseTooLarge(UNREACHABLE, response=response)
            if time.monotonic() > deadline:
                logger.warning("Outbound answer cut off after %s s", budget)
                raise requests.ReadTimeout(UNREACHABLE, response=response)
            chunks.append(chunk)
    except (ResponseTooLarge, requests.ReadTimeout):
        response.close()
        raise
    except (ReadTimeoutError, TimeoutError) as error:
        response.close()
        raise requests.ReadTimeout(UNREACHABLE, response=response) from error
    except (HTTPError, OSError) as error:
        # A body broken off halfway: what requests raises for it, without its detail.
        response.close()
        raise requests.ConnectionError(UNREACHABLE, response=response) from error
    response._content = b"".join(chunks)
    response._content_consumed = True


# --- Sessions --------------------------------------------------------------------------
#: A kept connection idle longer than this is closed instead of reused: shorter than
#: common servers' keep-alive timeouts (Apache's is 5 s, nginx's 75 s), so a request
#: seldom meets a connection the server is closing at that moment.
KEEP_IDLE_SECONDS = 4.0
#: Servers (scheme, host, port) whose connections one process keeps, and connections
#: kept per server.
KEEP_SERVERS = 32
KEEP_PER_SERVER = 4
#: Per process (a forked child makes its own): the transport ``keep_connections`` mounts.
_kept: dict[int, GuardedAdapter] = {}


def guard(session: requests.Session | None = None) -> requests.Session:
    """``session`` (a plain ``requests.Session`` by default, or an OAuth session) with
    every request going through the guard. Returns the same object."""
    session = requests.Session() if session is None else session
    if isinstance(session.get_adapter("https://"), GuardedAdapter):
        return session
    adapter = GuardedAdapter(max_retries=0)
    # Longer prefixes win in requests: no other adapter may stay mounted beside ours.
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    return session


def keep_connections(session: requests.Session) -> requests.Session:
    """``guard(session)``, with the process's shared transport: its connections stay
    open after a request, for the next request to the same server from any session in
    this process (one TCP and TLS handshake per server and worker process, not one per
    post). Used by publishing, where one process sends post after post to the same few
    servers.

    Nothing about the guard changes: every request is checked (``check_url``), every
    new connection resolves, checks and connects to the checked address, and a kept
    connection is checked again each time it is taken (``_GuardedPoolMixin``). A
    connection carries nothing of an account: tokens are headers of each request and
    cookies stay in the caller's session. Returns the same session.
    """
    guard(session)
    pid = os.getpid()
    adapter = _kept.get(pid)
    if adapter is None:
        _kept.clear()  # a parent's transport: its sockets are the parent's to use
        adapter = _kept[pid] = GuardedAdapter(
            max_retries=0, pool_connections=KEEP_SERVERS, pool_maxsize=KEEP_PER_SERVER
        )
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
