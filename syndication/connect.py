"""Connecting channel accounts: the database side of the OAuth dances.

The admin views and ``manage.py connect_channel`` call these functions; the network
calls themselves live in the channel modules. Every failure a person can cause or fix
(a mistyped server, a denied consent, a revoked token) comes out as ``ConnectError``
with a message written for them, and leaves no account behind.

The server a person names is not trusted until it answers like the network it claims
to be: messages about it carry status codes and our own words, never what it sent, and
every failure to reach it reads the same (``outbound.UNREACHABLE``), so the form cannot
be used to learn what this server can reach.
"""

from __future__ import annotations

import dataclasses
import hmac
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from .channels import fediverse, mastodon
from .channels.base import AuthExpired, ChannelError, NotAChannel, NotSent, Profile
from .links import web_url
from .models import ChannelAccount, MastodonApp, Network
from .outbound import UNREACHABLE, guard

#: An OAuth error code (``invalid_grant``): the only words of a token endpoint we repeat.
_OAUTH_CODE = re.compile(r"[a-z_]{1,40}")


class ConnectError(Exception):
    """Connecting failed for a reason the person connecting should read."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class BroaderScopesNeeded(ConnectError):
    """The server refused the granular scopes Storyloom asked for: the person is sent
    back to approve the broad ones (``url``, with the new ``flow`` to remember)."""

    def __init__(self, message: str, url: str, flow: dict):
        super().__init__(message)
        self.url, self.flow = url, flow


def save_account(
    *,
    network: str,
    instance_url: str,
    profile: Profile,
    tokens: dict,
    scopes: str,
    user=None,
    token_expires_at=None,
    server_profile: dict | None = None,
) -> ChannelAccount:
    """Create the account, or bring an existing one back with fresh tokens.

    A reconnect finds the same row by (network, server, remote id), so the account
    keeps its posts and their history; it becomes usable again at once.
    """
    with transaction.atomic():
        account, _ = ChannelAccount.objects.select_for_update().get_or_create(
            network=network,
            instance_url=instance_url,
            remote_id=profile.remote_id,
            defaults={"handle": profile.handle},
        )
        account.handle = profile.handle
        account.display_name = profile.display_name[:255]
        account.profile_url = web_url(profile.url)  # a link someday: http(s) only
        account.scopes = scopes
        if profile.max_characters:
            account.max_characters = profile.max_characters
        account.token_expires_at = token_expires_at
        if server_profile is not None:
            # Detected afresh on every (re)connect: the server may have been upgraded.
            account.server_profile = server_profile
        account.status = ChannelAccount.Status.ACTIVE
        account.status_reason = ""
        account.connected_at = timezone.now()
        if user is not None and getattr(user, "is_authenticated", False):
            account.connected_by = user
        account.set_tokens(tokens)
        account.save()
    return account


# --- Mastodon -------------------------------------------------------------------------
def mastodon_app(
    instance_url: str, redirect_uri: str, *, scopes: str = mastodon.SCOPES
) -> MastodonApp:
    """Storyloom's registration on this instance, registering it the first time."""
    lookup = {"instance_url": instance_url, "redirect_uri": redirect_uri, "scopes": scopes}
    app = MastodonApp.objects.filter(**lookup).first()
    if app is not None:
        return app
    try:
        registered = mastodon.register_app(instance_url, redirect_uri, scopes)
    except ChannelError as exc:
        raise ConnectError(
            _failure(exc, f"{_host(instance_url)} would not register Storyloom")
        ) from exc
    app = MastodonApp(**lookup, client_id=registered["client_id"])
    app.client_secret = registered["client_secret"]
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        # Two people connected to the same new server at once; keep the first app.
        return MastodonApp.objects.get(**lookup)
    return app


def mastodon_start(instance_text: str, redirect_uri: str) -> tuple[str, dict]:
    """Where to send the person to approve Storyloom, and what to remember meanwhile.

    The returned ``flow`` is plain JSON for the session: the CSRF ``state``, the PKCE
    ``code_verifier``, which server and callback this attempt is about, and what the
    server was detected to be (``server_profile``), with the scopes that follow from it.
    """
    try:
        info = mastodon.instance_info(mastodon.normalise_instance_url(instance_text))
    except NotAChannel as exc:
        raise ConnectError(exc.message) from exc
    return _authorize(info.url, redirect_uri, info.profile)


def _authorize(instance_url: str, redirect_uri: str, profile) -> tuple[str, dict]:
    scopes = profile.scopes
    app = mastodon_app(instance_url, redirect_uri, scopes=scopes)
    oauth = guard(
        OAuth2Session(app.client_id, redirect_uri=redirect_uri, scope=scopes, pkce="S256")
    )
    authorization_url, state = oauth.authorization_url(f"{instance_url}/oauth/authorize")
    flow = {
        "network": Network.MASTODON.value,
        "state": state,
        "code_verifier": oauth._code_verifier,
        "instance_url": instance_url,
        "redirect_uri": redirect_uri,
        "scopes": scopes,
        "max_characters": profile.max_characters,
        "server_profile": profile.as_dict(),
    }
    return authorization_url, flow


def _broader_scopes(flow: dict, why: str) -> BroaderScopesNeeded:
    """Ask again with the broad scopes, or say plainly that even those were refused."""
    host = _host(flow.get("instance_url", ""))
    profile = fediverse.ServerProfile.from_dict(flow.get("server_profile"))
    profile = profile or fediverse.CONSERVATIVE
    if flow.get("scopes") == fediverse.BROAD_SCOPES:
        return ConnectError(
            f"{host} refused the permissions Storyloom needs ({why}), even the broad "
            f"“{fediverse.BROAD_SCOPES}”; nothing was connected."
        )
    note = (
        f"Refused the granular scopes “{flow.get('scopes')}” ({why}); connected with the "
        f"broad scopes “{fediverse.BROAD_SCOPES}”."
    )
    profile = profile.learned(note, scopes=fediverse.BROAD_SCOPES, granular_scopes=False)
    try:
        url, new_flow = _authorize(flow["instance_url"], flow["redirect_uri"], profile)
    except ConnectError as exc:
        return exc
    return BroaderScopesNeeded(
        f"{host} refused the narrower permissions Storyloom asks for first ({why}); approve "
        f"Storyloom once more with the broad permissions “{fediverse.BROAD_SCOPES}”.",
        url,
        new_flow,
    )


def mastodon_finish(flow: dict, params: dict, user=None) -> ChannelAccount:
    """Turn the callback's query (``code`` and ``state``) into a connected account."""
    flow = flow or {}
    host = _host(flow.get("instance_url", "")) or "the Mastodon server"
    # An error needs no state check: it only ends the attempt, it cannot connect anything.
    if params.get("error"):
        if params["error"] == "invalid_scope":
            raise _broader_scopes(flow, "invalid_scope at authorisation")
        if params["error"] == "access_denied":
            raise ConnectError(f"Access was not granted on {host}, so nothing was connected.")
        reason = params.get("error_description") or params["error"]
        raise ConnectError(f"{host} refused the connection: {reason}.")
    state = str(params.get("state") or "")
    if not state or not hmac.compare_digest(state, str(flow.get("state") or "")):
        raise ConnectError(
            "This answer from Mastodon does not belong to the connection you started "
            "(its state does not match); start again."
        )
    if not params.get("code"):
        raise ConnectError(f"{host} sent no authorisation code; start again.")
    instance_url, scopes = flow["instance_url"], flow.get("scopes", mastodon.SCOPES)
    lookup = {"instance_url": instance_url, "redirect_uri": flow["redirect_uri"], "scopes": scopes}
    app = MastodonApp.objects.filter(**lookup).first()
    if app is None:
        raise ConnectError(f"Storyloom's registration on {host} is gone; start again.")
    oauth = guard(
        OAuth2Session(app.client_id, redirect_uri=flow["redirect_uri"], scope=scopes, pkce="S256")
    )
    # A new session for the callback: give it the verifier the authorisation URL was made with.
    oauth._code_verifier = flow["code_verifier"]
    try:
        token = oauth.fetch_token(
            f"{instance_url}/oauth/token",
            code=params["code"],
            client_secret=app.client_secret,
            timeout=mastodon._timeout(),
        )
    except OAuth2Error as exc:
        if exc.error == "invalid_scope":
            raise _broader_scopes(flow, "invalid_scope from the token endpoint") from exc
        if exc.error == "invalid_client":
            # The server forgot the app (reinstalled?): register afresh next time.
            app.delete()
        code = exc.error if _OAUTH_CODE.fullmatch(str(exc.error or "")) else "refused"
        raise ConnectError(f"{host} would not hand over access ({code}).") from exc
    except requests.RequestException as exc:
        raise ConnectError(UNREACHABLE) from exc
    except Warning as exc:  # oauthlib's way of saying fewer scopes were granted
        raise ConnectError(f"{host} granted less access than Storyloom needs ({exc}).") from exc
    granted = token.get("scope") or scopes
    granted = " ".join(granted) if isinstance(granted, list | tuple) else str(granted)
    profile = fediverse.ServerProfile.from_dict(flow.get("server_profile"))
    try:
        return _save_mastodon(instance_url, token["access_token"], granted, profile, user)
    except mastodon.ScopeRefused as exc:
        raise _broader_scopes(flow, f"HTTP 403 on verify_credentials: {exc.message}") from exc


def mastodon_connect_with_token(instance_text: str, access_token: str, user=None) -> ChannelAccount:
    """Connect with a token made by hand (Preferences → Development on the server)."""
    try:
        info = mastodon.instance_info(mastodon.normalise_instance_url(instance_text))
    except NotAChannel as exc:
        raise ConnectError(exc.message) from exc
    # Mastodon cannot tell which scopes a hand-made token has: leave them unrecorded.
    try:
        return _save_mastodon(info.url, access_token.strip(), "", info.profile, user)
    except mastodon.ScopeRefused as exc:
        raise ConnectError(
            f"{_host(info.url)} accepts this token but not for reading the account "
            f"(HTTP 403: {exc.message}); make a token with the scopes "
            f"“{fediverse.BROAD_SCOPES}” and try again."
        ) from exc


def _save_mastodon(instance_url, access_token, scopes, server, user) -> ChannelAccount:
    """Check the token with ``verify_credentials`` and keep the account; ScopeRefused
    (the token is valid, its scopes are not enough) is left to the caller."""
    host = _host(instance_url)
    try:
        profile = mastodon.verify_credentials(instance_url, access_token)
    except mastodon.ScopeRefused:
        raise
    except AuthExpired as exc:
        raise ConnectError(
            f"{host} does not accept this access token (HTTP {exc.status or 401}); it may "
            "have been revoked or mistyped."
        ) from exc
    except ChannelError as exc:
        raise ConnectError(_failure(exc, f"Could not check the account on {host}")) from exc
    # Without a detected profile (a flow started before detection) the adapter detects
    # the server at its first call.
    limit = server.max_characters if server else None
    return save_account(
        network=Network.MASTODON,
        instance_url=instance_url,
        profile=dataclasses.replace(profile, max_characters=limit),
        tokens={"access_token": access_token, "token_type": "Bearer"},
        scopes=scopes,
        user=user,
        server_profile=server.as_dict() if server else {},
    )


def _failure(exc: ChannelError, what: str) -> str:
    """``what`` failed, said without the server's own words.

    A request that never got an answer is ``UNREACHABLE`` whatever the reason; an
    answer is named by its status code only.
    """
    if isinstance(exc, NotSent) and exc.status is None:
        return UNREACHABLE
    if exc.status is not None:
        return f"{what} (HTTP {exc.status})."
    return f"{what}: {exc.message}"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


# --- Bluesky, LinkedIn and X ----------------------------------------------------------
def bluesky_connect(
    handle: str, app_password: str, service_url: str = "", user=None
) -> ChannelAccount:
    """Connect with an app password (Bluesky's OAuth needs DPoP: see docs/syndication.md).

    The account's server is found from its handle unless ``service_url`` names one.
    """
    from .channels import bluesky
    from .tokens import expires_at

    try:
        profile, tokens, service = bluesky.connect(handle, app_password, service_url)
    except NotAChannel as exc:
        raise ConnectError(exc.message) from exc
    except AuthExpired as exc:
        raise ConnectError(
            f"Bluesky did not accept that handle and app password (HTTP {exc.status})."
            if exc.status
            else "Bluesky did not accept that handle and app password."
        ) from exc
    except ChannelError as exc:
        raise ConnectError(_failure(exc, "Could not connect to Bluesky")) from exc
    # A DID is the account wherever it lives: one that moved to another server (or was
    # saved before addresses were normalised) is the same row, keeping its posts.
    same = ChannelAccount.objects.filter(network=Network.BLUESKY, remote_id=profile.remote_id)
    moved = same.order_by("pk").first()
    if moved is not None and not same.filter(instance_url=service).exists():
        same.filter(pk=moved.pk).update(instance_url=service)
    return save_account(
        network=Network.BLUESKY,
        instance_url=service,
        profile=profile,
        tokens=tokens,
        scopes="app password",
        user=user,
        token_expires_at=expires_at(tokens),
    )


def oauth_start(network: str, redirect_uri: str) -> tuple[str, dict]:
    """Start LinkedIn's (OAuth 2) or X's (OAuth 1.0a) sign-in; return its address and flow."""
    from django.core.exceptions import ImproperlyConfigured

    from .channels import linkedin, x

    try:
        if network == Network.THREADS:
            from .channels import threads

            url, state = threads.authorization(redirect_uri)
            return url, {"network": network, "state": state, "redirect_uri": redirect_uri}
        if network == Network.LINKEDIN:
            url, state = linkedin.authorization(redirect_uri)
            return url, {"network": network, "state": state, "redirect_uri": redirect_uri}
        if network == Network.X:
            url, flow = x.request_token(redirect_uri)
            return url, {"network": network, **flow}
        if network == Network.FACEBOOK:
            from .channels import facebook

            url, state = facebook.authorization(redirect_uri)
            return url, {"network": network, "state": state, "redirect_uri": redirect_uri}
    except ImproperlyConfigured as exc:
        raise ConnectError(str(exc)) from exc
    except ChannelError as exc:
        raise ConnectError(f"Could not start connecting: {exc.message}") from exc
    raise ConnectError(f"{network} accounts are not connected through OAuth here.")


def oauth_finish(network: str, flow: dict, params: dict, user=None) -> ChannelAccount:
    """Finish LinkedIn's or X's sign-in from the callback's query and save the account."""
    from .channels import linkedin, x
    from .tokens import expires_at

    if params.get("error") or params.get("denied"):
        raise ConnectError("Access was not granted, so nothing was connected.")
    try:
        if network == Network.LINKEDIN:
            state = str(params.get("state") or "")
            if not state or not hmac.compare_digest(state, str(flow.get("state") or "")):
                raise ConnectError("This answer does not belong to the connection you started.")
            profile, tokens = linkedin.finish(flow["redirect_uri"], params.get("code", ""))
            scopes = " ".join(linkedin.MEMBER_SCOPES)
        elif network == Network.X:
            if params.get("oauth_token") != flow.get("resource_owner_key"):
                raise ConnectError("This answer does not belong to the connection you started.")
            profile, tokens = x.finish(flow, params.get("oauth_verifier", ""))
            scopes = "oauth1"
        elif network == Network.THREADS:
            from .channels import threads

            state = str(params.get("state") or "")
            if not state or not hmac.compare_digest(state, str(flow.get("state") or "")):
                raise ConnectError("This answer does not belong to the connection you started.")
            if not params.get("code"):
                raise ConnectError("Threads sent no authorisation code; start again.")
            profile, tokens = threads.finish(flow["redirect_uri"], str(params["code"]))
            scopes = " ".join(threads.SCOPES)
        else:
            raise ConnectError(f"{network} accounts are not connected through OAuth here.")
    except ChannelError as exc:
        raise ConnectError(f"Could not finish connecting: {exc.message}") from exc
    return save_account(
        network=network,
        instance_url="",
        profile=profile,
        tokens=tokens,
        scopes=scopes,
        user=user,
        token_expires_at=expires_at(tokens),
    )


# --- Facebook Pages ---------------------------------------------------------------------
def facebook_pages(flow: dict, params: dict) -> list:
    """The Pages the person granted in Facebook's dialog, each with its Page token
    (``channels.facebook.PageGrant``), from the callback's query; none is saved yet."""
    from .channels import facebook

    if params.get("error"):
        raise ConnectError("Access was not granted on Facebook, so nothing was connected.")
    state = str(params.get("state") or "")
    if not state or not hmac.compare_digest(state, str(flow.get("state") or "")):
        raise ConnectError("This answer does not belong to the connection you started.")
    if not params.get("code"):
        raise ConnectError("Facebook sent no authorisation code; start again.")
    try:
        grants = facebook.finish(flow["redirect_uri"], str(params["code"]))
    except ChannelError as exc:
        raise ConnectError(f"Could not finish connecting: {exc.message}") from exc
    if not grants:
        raise ConnectError(
            "Facebook gave Storyloom no Page: choose at least one Page in Facebook's dialog "
            "(you must be able to create content on it) and connect again."
        )
    return grants


def facebook_connect_pages(grants: list, chosen, user=None) -> list[ChannelAccount]:
    """Save the ``chosen`` Pages (ids) of ``grants`` as accounts, each with its own
    Page token, encrypted; its expiry is what ``/debug_token`` said (none: never)."""
    from .tokens import expires_at

    wanted = {str(page_id) for page_id in chosen}
    picked = [grant for grant in grants if grant.profile.remote_id in wanted]
    if not picked or len(picked) != len(wanted):
        raise ConnectError("Choose one or more of the Pages Facebook listed.")
    refused = [grant.profile.display_name for grant in picked if not grant.can_post]
    if refused:
        raise ConnectError(
            f"Storyloom cannot post to {', '.join(refused)}: Facebook says you may not "
            "create content there, or the posting permission was not granted."
        )
    with transaction.atomic():
        return [
            save_account(
                network=Network.FACEBOOK,
                instance_url="",
                profile=grant.profile,
                tokens=grant.tokens,
                scopes=" ".join(grant.scopes),
                user=user,
                token_expires_at=expires_at(grant.tokens),
            )
            for grant in picked
        ]
