"""Channel tokens: encrypted at rest, rotatable, never lost to an empty refresh answer."""

from django.core.management import call_command
from django.db import connection
from django.test import override_settings

import pytest
from cryptography.fernet import Fernet

from syndication import crypto
from syndication.models import ChannelAccount, MastodonApp, Network

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_column(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_tokens FROM syndication_channelaccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def make_account(**tokens):
    account = ChannelAccount(
        network=Network.MASTODON,
        instance_url="https://social.example",
        remote_id="1",
        handle="@brand",
    )
    account.set_tokens(tokens)
    account.save()
    return account


def test_tokens_are_not_stored_in_clear():
    account = make_account(access_token="secret-access-token-123")
    column = stored_column(account)
    assert "secret-access-token-123" not in column
    assert ChannelAccount.objects.get(pk=account.pk).tokens == {
        "access_token": "secret-access-token-123"
    }


def test_a_refresh_without_a_refresh_token_keeps_the_stored_one():
    account = make_account(access_token="a1", refresh_token="r1")
    account.set_tokens({"access_token": "a2", "refresh_token": "", "expires_at": 1})
    assert account.tokens == {"access_token": "a2", "refresh_token": "r1", "expires_at": 1}
    account.set_tokens({"access_token": "a3", "refresh_token": None})
    assert account.tokens["refresh_token"] == "r1"


def test_keys_rotate_without_losing_tokens():
    with override_settings(SYNDICATION_TOKEN_KEYS=[OLD_KEY]):
        account = make_account(access_token="before-rotation")
        app = MastodonApp(
            instance_url="https://social.example",
            redirect_uri="https://x/cb",
            scopes="s",
            client_id="id",
        )
        app.client_secret = "app-secret"
        app.save()
        old_column = stored_column(account)
    with override_settings(SYNDICATION_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_channel_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert stored_column(account) != old_column
    with override_settings(SYNDICATION_TOKEN_KEYS=[NEW_KEY]):
        assert ChannelAccount.objects.get(pk=account.pk).tokens == {
            "access_token": "before-rotation"
        }
        assert MastodonApp.objects.get(pk=app.pk).client_secret == "app-secret"


def test_a_missing_key_is_a_clear_error_not_garbage():
    with override_settings(SYNDICATION_TOKEN_KEYS=[OLD_KEY]):
        account = make_account(access_token="t")
    with (
        override_settings(SYNDICATION_TOKEN_KEYS=[NEW_KEY]),
        pytest.raises(crypto.TokenDecryptionError, match="rotate_channel_keys"),
    ):
        ChannelAccount.objects.get(pk=account.pk).tokens  # noqa: B018


def test_account_str_never_shows_tokens():
    account = make_account(access_token="very-secret")
    assert "very-secret" not in str(account)
    assert "very-secret" not in repr(account)
