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
