"""What a Mastodon-API server says about itself, turned into what Storyloom may assume:
the pure logic of syndication/channels/fediverse.py, no network and no database."""

import pytest

from syndication.channels import fediverse
from syndication.channels.fediverse import ServerProfile, profile_for

NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def test_the_nodeinfo_link_stays_on_the_instance_and_its_scheme():
    links = {
        "links": [
            {"rel": NODEINFO_20, "href": "https://social.example/nodeinfo/2.0"},
            {"rel": NODEINFO_21, "href": "https://social.example/nodeinfo/2.1"},
        ]
    }
    # 2.1 preferred; written https:// but the instance is reached over http here.
    assert (
        fediverse.nodeinfo_href(links, "http://social.example:8080")
        == "http://social.example:8080/nodeinfo/2.1"
    )
    elsewhere = {"links": [{"rel": NODEINFO_20, "href": "https://169.254.169.254/nodeinfo"}]}
    assert fediverse.nodeinfo_href(elsewhere, "https://social.example") is None
    assert fediverse.nodeinfo_href({"links": "nope"}, "https://social.example") is None
    assert fediverse.nodeinfo_href(["not", "a", "dict"], "https://social.example") is None


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.5.3 (compatible; GoToSocial 0.16.0)", ("gotosocial", "0.16.0")),
        ("2.7.2 (compatible; Akkoma 3.16.0)", ("akkoma", "3.16.0")),
        ("takahe/0.11.0", ("takahe", "0.11.0")),
        ("4.2.1 (compatible; Iceshrimp.NET/2024.1)", ("iceshrimp.net", "2024.1")),
        ("4.3.0", ("", "4.3.0")),
    ],
)
def test_software_from_the_instance_version_when_there_is_no_nodeinfo(version, expected):
    assert fediverse.software_from_instance({"version": version}) == expected


def test_a_mastodon_fork_is_judged_by_api_versions_not_its_version_string():
    fork = profile_for("mastodon", "4.4+hometown-1", {"api_versions": {"mastodon": 6}})
    assert fork.batch_reads and fork.scopes == fediverse.SCOPES_PROFILE
    old = profile_for("mastodon", "4.2.10", {})
    assert not old.batch_reads and old.scopes == fediverse.SCOPES_READ_ACCOUNTS
    assert old.honours_idempotency_key and old.idempotency_seconds == 3600


def test_unknown_software_gets_the_conservative_profile():
    unknown = profile_for("pixelfed", "0.11.13", {})
    assert unknown.family == "unknown"
    assert unknown.scopes == fediverse.BROAD_SCOPES
    assert not unknown.honours_idempotency_key and not unknown.batch_reads
    assert unknown.token_invalid_statuses == (400, 401, 403)


def test_limits_come_from_v2_then_v1_configuration_then_max_toot_chars():
    v2 = {
        "configuration": {"statuses": {"max_characters": 1000, "characters_reserved_per_url": 25}}
    }
    assert fediverse.instance_limits(v2) == (1000, 25)
    assert fediverse.instance_limits({"max_toot_chars": 5000}) == (5000, 23)
    assert fediverse.instance_limits({}) == (500, 23)


@pytest.mark.parametrize(
    ("counting", "expected"),
    [
        # "👩‍👩‍👧" is one grapheme of five code points; the URL is 49 characters.
        (fediverse.GRAPHEMES_URLS_23, 1 + 1 + 23),
        (fediverse.GRAPHEMES, 1 + 1 + 49),
        (fediverse.CODE_POINTS, 5 + 1 + 49),
        (fediverse.STRICTEST, 5 + 1 + 49),
    ],
)
def test_length_is_counted_the_servers_way(counting, expected):
    text = "👩‍👩‍👧 https://stories.example/a/long/address/of/a/story"
    assert len("https://stories.example/a/long/address/of/a/story") == 49
    assert fediverse.countable_length(text, ServerProfile(counting=counting)) == expected


def test_a_profile_survives_the_database_and_keeps_what_was_learned():
    learned = profile_for("gotosocial", "0.20.0", {}).learned("Batch refused.", batch_reads=False)
    again = ServerProfile.from_dict(learned.as_dict())
    assert again == learned and again.notes == ("Batch refused.",)
    assert again.learned("Batch refused.").notes == ("Batch refused.",)  # said once
    assert ServerProfile.from_dict({}) is None
    assert ServerProfile.from_dict({"family": "mastodon", "unknown_key": 1}).family == "mastodon"


def test_scope_refusals_and_answers_that_are_not_status_lists():
    assert fediverse.means_scope_refusal(403, "out_of_scope_for_token")
    assert fediverse.means_scope_refusal(403, "Insufficient permissions: read:accounts.")
    assert not fediverse.means_scope_refusal(403, "Invalid credentials.")
    assert fediverse.looks_like_status_list([{"id": "1"}])
    assert not fediverse.looks_like_status_list({"statuses": []})
    assert not fediverse.looks_like_status_list(None)
