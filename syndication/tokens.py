"""Keeping OAuth2 tokens and Bluesky sessions fresh, one refresh at a time per account.

A refresh happens under a per-account row lock and re-reads the tokens inside it, so two
workers never both spend a single-use refresh token; the new tokens are stored before
anything else uses them, and a stored refresh token is never replaced by an empty one
(``ChannelAccount.set_tokens``). A refusal marks the account "needs reconnecting"; a 429
or 5xx during refresh is only a transient error.
"""

import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .channels.base import AuthExpired
from .models import ChannelAccount


def expires_at(new_tokens: dict):
    value = new_tokens.get("expires_at")
    if value in (None, ""):
        return None
    return datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)


def needs_refresh(account, now=None) -> bool:
    now = now or timezone.now()
    skew = datetime.timedelta(seconds=settings.SYNDICATION_REFRESH_SKEW)
    return account.token_expires_at is not None and account.token_expires_at <= now + skew


def ensure_fresh(account: ChannelAccount, adapter, now=None) -> bool:
    """Refresh ``account``'s tokens if they expire soon; True when a refresh happened.

    Also gives ``adapter`` the way to renew the session at once (``renew``) for when the
    network calls the tokens expired before their stated expiry.
    """
    if not adapter.refreshes_tokens:
        return False
    adapter.renew_session = partial(renew, account, adapter)
    if not needs_refresh(account, now):
        return False
    return _refresh(account, adapter, lambda locked: needs_refresh(locked, now))


def renew(account: ChannelAccount, adapter) -> bool:
    """Refresh now: the network refused ``account``'s tokens as expired.

    Under the lock, tokens that differ from the ones this worker used were refreshed by
    another worker meanwhile: those are taken instead of refreshing again.
    """
    used = account.encrypted_tokens
    return _refresh(account, adapter, lambda locked: locked.encrypted_tokens == used)


def _refresh(account: ChannelAccount, adapter, still_due) -> bool:
    refused = None
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        if not still_due(locked):
            # Another worker refreshed while we waited for the lock: use its tokens.
            _copy_tokens(locked, account)
            return False
        try:
            new = adapter.refresh(locked.tokens)
        except AuthExpired as error:
            refused = error
        else:
            locked.set_tokens(new)
            locked.token_expires_at = expires_at(new)
            locked.last_refreshed_at = timezone.now()
            locked.save(update_fields=["encrypted_tokens", "token_expires_at", "last_refreshed_at"])
    if refused is not None:
        # Outside the transaction, so raising does not roll the mark back.
        account.mark_needs_reconnect(refused.message)
        raise refused
    _copy_tokens(locked, account)
    return True


def _copy_tokens(source, target) -> None:
    target.encrypted_tokens = source.encrypted_tokens
    target.token_expires_at = source.token_expires_at
    target.last_refreshed_at = source.last_refreshed_at


def refresh_expiring(within=datetime.timedelta(hours=6), now=None) -> dict[str, int]:
    """Refresh every active account whose token ends within ``within`` (beat, via the sweep).

    Refreshing ahead of time keeps publishing off the token endpoint's critical path; a
    network hiccup here is only retried on the next sweep.
    """
    from .channels import adapter_for
    from .channels.base import ChannelError

    now = now or timezone.now()
    counts = {"refreshed": 0, "needs_reconnect": 0, "errors": 0}
    due = ChannelAccount.objects.filter(
        status=ChannelAccount.Status.ACTIVE, token_expires_at__lte=now + within
    )
    for account in due:
        adapter = adapter_for(account, timeout=settings.SYNDICATION_HTTP_TIMEOUT)
        if not adapter.refreshes_tokens or not adapter.refreshes_ahead:
            continue
        # Ask as if the token were about to lapse: ensure_fresh's own test uses the skew.
        try:
            refreshed = ensure_fresh(account, adapter, now=account.token_expires_at)
        except AuthExpired:
            counts["needs_reconnect"] += 1
        except ChannelError:
            counts["errors"] += 1
        else:
            counts["refreshed"] += int(refreshed)
    return counts
