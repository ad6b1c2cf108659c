"""Handle → DID → PDS, each way the AT Protocol allows, and each way it can go wrong.

HTTP answers are recorded shapes (``responses``); DNS is the resolver's answer object
replaced at ``dns.resolver.resolve``. The whole path against the reference network is in
tests/syndication/atproto/.
"""

import dns.resolver
import pytest
import responses

from syndication.channels import bluesky_identity
from syndication.channels.base import NotAChannel
from syndication.channels.bluesky_identity import normalise_handle, resolve

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
HANDLE = "stories.example.org"
PDS = "https://morel.us-east.host.bsky.network"


def did_document(did=DID, handle=HANDLE, endpoint=PDS):
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "alsoKnownAs": [f"at://{handle}"],
        "verificationMethod": [],
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": endpoint,
            }
        ],
    }


class TXT:
    def __init__(self, text):
        self.strings = [text.encode()]


@pytest.fixture
def dns_records(monkeypatch):
    """TXT records by name; any other name does not exist."""
    records = {}

    def resolve_txt(name, kind, lifetime=None):
        assert kind == "TXT" and lifetime
        if name not in records:
            raise dns.resolver.NXDOMAIN()
        return [TXT(text) for text in records[name]]

    monkeypatch.setattr(dns.resolver, "resolve", resolve_txt)
    return records


@pytest.fixture
def web():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_handle_is_resolved_by_dns_then_its_did_document(dns_records, web):
    dns_records[f"_atproto.{HANDLE}"] = [f"did={DID}"]
    web.get(f"https://plc.directory/{DID}", json=did_document())
    identity = resolve(f"@{HANDLE.upper()}")
    assert identity == bluesky_identity.Identity(did=DID, handle=HANDLE, service_url=PDS)


def test_a_handle_is_resolved_over_https_when_dns_has_nothing(dns_records, web):
    well_known = web.get(f"https://{HANDLE}/.well-known/atproto-did", body=f"{DID}\n")
    web.get(f"https://plc.directory/{DID}", json=did_document())
    assert resolve(HANDLE).service_url == PDS
    assert len(well_known.calls) == 1


def test_the_plc_directory_is_a_setting(dns_records, web, settings):
    settings.BLUESKY_PLC_URL = "https://plc.example/"
    dns_records[f"_atproto.{HANDLE}"] = [f"did={DID}"]
    web.get(f"https://plc.example/{DID}", json=did_document())
    assert resolve(HANDLE).did == DID


def test_a_did_web_document_is_read_from_its_host(dns_records, web):
    did = "did:web:stories.example.org"
    dns_records[f"_atproto.{HANDLE}"] = [f"did={did}"]
    web.get(
        "https://stories.example.org/.well-known/did.json",
        json=did_document(did=did, endpoint="https://pds.stories.example.org/"),
    )
    assert resolve(HANDLE).service_url == "https://pds.stories.example.org"


def test_the_resolver_setting_is_asked_last(dns_records, web, settings):
    settings.BLUESKY_HANDLE_RESOLVER = "https://pds.test.example"
    asked = web.get(
        "https://pds.test.example/xrpc/com.atproto.identity.resolveHandle",
        match=[responses.matchers.query_param_matcher({"handle": "alice.test"})],
        json={"did": DID},
    )
    web.get(f"https://plc.directory/{DID}", json=did_document(handle="alice.test"))
    assert resolve("alice.test").did == DID
    assert len(asked.calls) == 1


def test_an_unknown_handle_says_so(dns_records, web):
    web.get(f"https://{HANDLE}/.well-known/atproto-did", status=404)
    with pytest.raises(NotAChannel, match=f"No Bluesky account has the handle {HANDLE}"):
        resolve(HANDLE)


def test_a_handle_its_did_does_not_claim_is_refused(dns_records, web):
    dns_records[f"_atproto.{HANDLE}"] = [f"did={DID}"]
    web.get(f"https://plc.directory/{DID}", json=did_document(handle="someone.else.org"))
    with pytest.raises(NotAChannel, match="does not name stories.example.org"):
        resolve(HANDLE)


def test_two_dids_in_dns_are_no_answer(dns_records, web):
    dns_records[f"_atproto.{HANDLE}"] = [f"did={DID}", "did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"]
    web.get(f"https://{HANDLE}/.well-known/atproto-did", status=404)
    with pytest.raises(NotAChannel, match="No Bluesky account"):
        resolve(HANDLE)


def test_a_document_without_a_pds_is_refused(dns_records, web):
    dns_records[f"_atproto.{HANDLE}"] = [f"did={DID}"]
    document = did_document()
    document["service"] = []
    web.get(f"https://plc.directory/{DID}", json=document)
    with pytest.raises(NotAChannel, match="names no Bluesky server"):
        resolve(HANDLE)


def test_a_did_can_be_given_instead_of_a_handle(dns_records, web):
    web.get(f"https://plc.directory/{DID}", json=did_document())
    identity = resolve(DID)
    assert identity.handle == HANDLE and identity.service_url == PDS


@pytest.mark.parametrize(
    "typed", ["", "storyloom", "https://bsky.app", "name..bsky.social", "printer.local", "a b.org"]
)
def test_what_cannot_be_a_handle_is_refused_before_any_lookup(typed, dns_records, web):
    with pytest.raises(NotAChannel, match="not a Bluesky handle"):
        normalise_handle(typed)
    assert not web.calls
