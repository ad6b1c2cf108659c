"""Who a Bluesky handle is and where its posts live: handle → DID → PDS.

The AT Protocol's identity steps (https://atproto.com/specs/handle,
https://atproto.com/specs/did):

1. A handle names a DID, said either in a DNS TXT record ``_atproto.<handle>``
   (``did=did:plc:…``) or at ``https://<handle>/.well-known/atproto-did`` (the DID as
   plain text). Either way is valid; DNS is asked first because it costs no connection.
2. The DID's document says where the repository is: for ``did:plc`` the PLC directory
   serves it (``BLUESKY_PLC_URL``, https://plc.directory by default), for ``did:web`` the
   host itself at ``/.well-known/did.json``. The service ``#atproto_pds`` is the PDS.
3. The document must claim the handle back (``alsoKnownAs: at://<handle>``): a handle
   that only points at a DID, without the DID pointing back, is not that account's.

Test networks (the reference implementation's ``.test`` handles) resolve in none of the
public ways: ``BLUESKY_HANDLE_RESOLVER``, when set, names a server whose
``com.atproto.identity.resolveHandle`` is asked last. Every HTTP request goes through
the guarded client (``syndication.outbound``); a DNS TXT query connects to nothing.

Messages are ours, never a server's text: the handle is typed by whoever connects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

import requests

from syndication.outbound import UNREACHABLE, guard

from .base import DEFAULT_TIMEOUT, NotAChannel

DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_PLC = "https://plc.directory"
DNS_TIMEOUT = 5.0

#: A handle is a domain name (atproto.com/specs/handle): labels of letters, digits and
#: hyphens, at least two, the last not starting with a digit.
_HANDLE = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?"
)
_DID = re.compile(r"did:(plc:[a-z2-7]{24}|web:[a-zA-Z0-9.%-]+)")
#: Top-level names the handle spec says never resolve (atproto.com/specs/handle).
_NEVER_RESOLVED = (".local", ".arpa", ".invalid", ".localhost", ".internal", ".onion", ".alt")


@dataclass(frozen=True)
class Identity:
    did: str
    handle: str
    service_url: str


# --- Addresses ---------------------------------------------------------------------------
def normalise_service_url(text: str, *, strict: bool = True) -> str:
    """The one form of a PDS address Storyloom keeps and calls: ``scheme://host[:port]``.

    The scheme defaults to https. A PDS answers XRPC at the host's root, so a path of
    ``/`` or ``/xrpc…`` is dropped; any other path (``https://bsky.app/profile/…``)
    means the address is not a server's, and ``strict`` refuses it rather than guess.
    Query, fragment and user names are refused too. Not strict (for addresses stored
    before this rule), every path is dropped.
    """
    raw = (text or "").strip() or DEFAULT_SERVICE
    url = raw if "://" in raw else f"https://{raw}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise NotAChannel(f"{raw} is not a web address.") from None
    allow_http = getattr(settings, "SYNDICATION_ALLOW_HTTP_INSTANCES", False)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise NotAChannel(f"{raw} is not an https address of a Bluesky server.")
    if "@" in parts.netloc:
        # Credentials in an address are refused like any address the guard will not
        # request, in the same words, and never repeated back.
        raise NotAChannel(UNREACHABLE)
    host = (parts.hostname or "").lower()
    if not host or " " in host:
        raise NotAChannel(f"{raw} does not name a server; use an address like {DEFAULT_SERVICE}.")
    path = parts.path.rstrip("/")
    if strict and (parts.query or parts.fragment or (path and not path.startswith("/xrpc"))):
        raise NotAChannel(
            f"{raw} is a page, not a server: give only the server's address, like "
            f"{parts.scheme}://{host}."
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{f':{port}' if port else ''}"


def normalise_handle(text: str) -> str:
    """``@Name.bsky.social `` → ``name.bsky.social``; refuses what cannot be a handle."""
    handle = (text or "").strip().lstrip("@").lower()
    if handle.startswith("at://"):
        handle = handle[5:]
    if _DID.fullmatch(handle):
        return handle
    if not _HANDLE.fullmatch(handle) or handle.endswith(_NEVER_RESOLVED):
        raise NotAChannel(
            f"{text.strip() or 'An empty handle'} is not a Bluesky handle; "
            "a handle looks like name.bsky.social."
        )
    return handle


# --- Handle → DID → PDS ----------------------------------------------------------------
def resolve(handle_text: str, *, session=None, timeout=DEFAULT_TIMEOUT) -> Identity:
    """The DID and PDS of ``handle_text`` (a handle, or a DID), checked both ways."""
    handle = normalise_handle(handle_text)
    session = guard(session or requests.Session())
    if handle.startswith("did:"):
        did, handle = handle, ""
    else:
        did = resolve_handle(handle, session=session, timeout=timeout)
    document = did_document(did, session=session, timeout=timeout)
    if handle and f"at://{handle}" not in (document.get("alsoKnownAs") or []):
        raise NotAChannel(
            f"{handle} points at {did}, but that account does not name {handle} as its "
            "handle, so it cannot be trusted to be the same account."
        )
    if not handle:
        handle = next(
            (aka[5:] for aka in document.get("alsoKnownAs") or [] if aka.startswith("at://")),
            did,
        )
    return Identity(did=did, handle=handle, service_url=pds_endpoint(did, document))


def resolve_handle(handle: str, *, session, timeout=DEFAULT_TIMEOUT) -> str:
    did = dns_did(handle) or well_known_did(handle, session=session, timeout=timeout)
    resolver = getattr(settings, "BLUESKY_HANDLE_RESOLVER", "")
    if not did and resolver:
        did = resolver_did(handle, resolver, session=session, timeout=timeout)
    if not did:
        raise NotAChannel(
            f"No Bluesky account has the handle {handle}: neither its DNS (_atproto.{handle}) "
            f"nor https://{handle}/.well-known/atproto-did names one. Check the spelling."
        )
    return did


def dns_did(handle: str) -> str:
    """The DID in ``_atproto.<handle>``'s TXT record, or "" (none, or DNS failing)."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(f"_atproto.{handle}", "TXT", lifetime=DNS_TIMEOUT)
    except dns.exception.DNSException:
        return ""
    found = set()
    for record in answer:
        text = b"".join(record.strings).decode("ascii", "replace")
        if text.startswith("did="):
            found.add(text[4:].strip())
    # More than one DID is a broken record (the spec says to treat it as none).
    return _valid_did(found.pop()) if len(found) == 1 else ""


def well_known_did(handle: str, *, session, timeout=DEFAULT_TIMEOUT) -> str:
    try:
        response = session.get(
            f"https://{handle}/.well-known/atproto-did",
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException:
        return ""
    if response.status_code != 200:
        return ""
    return _valid_did(response.text.strip().splitlines()[0] if response.text.strip() else "")


def resolver_did(handle: str, resolver: str, *, session, timeout=DEFAULT_TIMEOUT) -> str:
    url = f"{normalise_service_url(resolver, strict=False)}/xrpc/com.atproto.identity.resolveHandle"
    try:
        response = session.get(url, params={"handle": handle}, timeout=timeout)
        data = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return ""
    return _valid_did(data.get("did", "")) if isinstance(data, dict) else ""


def did_document(did: str, *, session, timeout=DEFAULT_TIMEOUT) -> dict:
    if did.startswith("did:plc:"):
        plc = normalise_service_url(getattr(settings, "BLUESKY_PLC_URL", DEFAULT_PLC), strict=False)
        url = f"{plc}/{quote(did, safe=':')}"
    else:
        host = did.removeprefix("did:web:").replace("%3A", ":").replace("%3a", ":")
        url = f"https://{host}/.well-known/did.json"
    try:
        response = session.get(url, timeout=timeout)
        document = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        document = None
    if not isinstance(document, dict) or document.get("id") != did:
        raise NotAChannel(f"The identity document of {did} could not be read; try again later.")
    return document


def pds_endpoint(did: str, document: dict) -> str:
    """The ``#atproto_pds`` service of a DID document, as a normalised address."""
    for service in document.get("service") or []:
        if not isinstance(service, dict):
            continue
        if service.get("id") in ("#atproto_pds", f"{did}#atproto_pds") and isinstance(
            service.get("serviceEndpoint"), str
        ):
            return normalise_service_url(service["serviceEndpoint"], strict=False)
    raise NotAChannel(f"{did} names no Bluesky server (PDS) in its identity document.")


def _valid_did(text: str) -> str:
    return text if _DID.fullmatch(text) else ""
