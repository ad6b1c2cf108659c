"""The admin shows what Storyloom knows of a Mastodon-API account's server and whether
its metrics are being read: a failing collection is visible, not only a log line."""

import datetime

from django.urls import reverse
from django.utils import timezone

import pytest

from syndication import states
from syndication.channels import fediverse
from syndication.engagement import collect
from syndication.models import ChannelAccount
from syndication.testing.mastodon import profiles
from syndication.testing.mastodon_server import MastodonTestServer
from tests.factories import ChannelAccountFactory, SyndicationPostFactory

pytestmark = pytest.mark.django_db


def test_the_server_screen_shows_the_detected_profile_and_what_was_learned(client, social_manager):
    profile = fediverse.profile_for("takahe", "0.11.0", {}).learned(
        "Batch status reads refused (HTTP 405 with a web page); statuses are read one at a time."
    )
    account = ChannelAccountFactory()
    account.remember_server(profile)
    client.force_login(social_manager)

    listing = client.get(reverse("syndication_accounts:index"))
    assert "takahe 0.11.0" in listing.content.decode()
    page = client.get(reverse("syndication_accounts:server", args=[account.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "takahe 0.11.0" in text
    assert "a lost post is resent only after a read-back has missed it" in text
    assert "HTTP 400, HTTP 401" in text
    assert "Batch status reads refused (HTTP 405 with a web page)" in text


def test_the_server_screen_is_for_social_managers_only(client, editor):
    account = ChannelAccountFactory()
    client.force_login(editor)
    answer = client.get(reverse("syndication_accounts:server", args=[account.pk]))
    assert answer.status_code in (302, 403)


def test_a_failing_metrics_collection_shows_on_the_account(
    client, social_manager, make_story, settings
):
    """Collection against a server that fails every read: the listing and the server
    screen say so; once reads work again the warning goes."""
    settings.SYNDICATION_HTTP_TIMEOUT = 2
    with MastodonTestServer(profile=profiles.GOTOSOCIAL) as server:
        remote_id, token = server.create_account("brand")
        account = ChannelAccountFactory(
            instance_url=server.url, remote_id=remote_id, tokens={"access_token": token}
        )
        SyndicationPostFactory(
            story=make_story(),
            account=account,
            state=states.PUBLISHED,
            remote_id="113000000000000999",
            published_at=timezone.now() - datetime.timedelta(days=1),
        )
        server.fail_next("500", route="status")

        summary = collect.collect_channel_metrics()

        assert summary["failed"] == [account.pk]
        account.refresh_from_db()
        assert account.status == ChannelAccount.Status.ACTIVE
        assert "server error" in account.metrics_error
        client.force_login(social_manager)
        listing = client.get(reverse("syndication_accounts:index")).content.decode()
        assert "metrics not read" in listing
        screen = client.get(reverse("syndication_accounts:server", args=[account.pk]))
        assert "server error" in screen.content.decode()

        collect.collect_channel_metrics()
        account.refresh_from_db()
        assert account.metrics_error == ""
        assert (
            "metrics not read"
            not in client.get(reverse("syndication_accounts:index")).content.decode()
        )


def test_the_admin_connect_flow_asks_again_when_granular_scopes_are_refused(client, social_manager):
    """Through the screens: the callback with ``error=invalid_scope`` sends the person
    back to the server for the broad scopes, says why, and the second approval connects."""
    import dataclasses
    from urllib.parse import urlsplit

    import requests

    refusing = dataclasses.replace(
        profiles.GOTOSOCIAL, authorize_scopes=frozenset({"read", "write"})
    )
    client.force_login(social_manager)
    with MastodonTestServer(profile=refusing) as server:
        server.auto_approve = True
        started = client.post(
            "/admin/syndication/connect/mastodon/", {"mastodon-instance": server.url}
        )
        first = requests.get(started["Location"], allow_redirects=False, timeout=5)
        callback = urlsplit(first.headers["Location"])
        assert "error=invalid_scope" in callback.query

        again = client.get(f"{callback.path}?{callback.query}")

        assert again.status_code == 302
        assert again["Location"].startswith(f"{server.url}/oauth/authorize?")
        assert "scope=read+write" in again["Location"]
        second = requests.get(again["Location"], allow_redirects=False, timeout=5)
        callback = urlsplit(second.headers["Location"])
        done = client.get(f"{callback.path}?{callback.query}", follow=True)
    shown = [str(message) for message in done.context["messages"]]
    assert any("refused the narrower permissions" in message for message in shown)
    assert any(message.startswith("Connected @storyloom") for message in shown)
    account = ChannelAccount.objects.get()
    assert account.scopes == "read write"
