"""A newsletter reader on the site: their click, and "For you" (docs/newsletter.md, "On the site").

* ``click`` (``/newsletter/c/<token>/``): every story link in a newsletter. It checks
  the signed click token, notes the pick's first click and sends the reader on to the
  story, tagged for the collector (``utm_medium=email``) and carrying the token as
  ``nl`` so their engaged reads count as that subscriber's (``SubscriberRead``).
* ``for_you`` (``/newsletter/for-you/?story=ID&shown=ID,ID``): the "For you" section
  that ``for-you.js`` puts into story pages and the home page. Those pages are cached
  and the same for everyone; this fragment is the only personal part, never cached.
  At the end of a story its picks take the place of the page's own "More on…" block
  (a stranger keeps the page's block), and never offer a story the page already
  shows (``shown``: its links, "Continue the story").
* ``consent`` and ``forget``: the reader's yes (which sets the one cookie) and their
  "Forget me" (which deletes it). Nothing sets a cookie but ``consent``.

Why no Django CSRF token here: it needs a cookie of its own, and no cookie may be set
before the reader consents. The forms carry a signed, short-lived nonce instead, and
the request must come from this site (``Sec-Fetch-Site``, else ``Origin``/``Referer``).
The worst a forged request could do is choose someone's interests for them.
"""

import datetime
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from stories import reading, selection
from stories.models import StoryIndexPage, StoryPage

from ...engagement import buffer, events
from .. import clicks, profiles
from ..models import DeliveryPick

FOR_YOU_PICKS = 4
#: At most this many ids in ``shown``: a story page links a dozen stories at most.
MAX_SHOWN = 50
NONCE_SALT = "storyloom.newsletter.for-you"
NONCE_MAX_AGE = datetime.timedelta(hours=12)
FRAGMENT = "newsletter/for_you.html"


# --- Newsletter links ------------------------------------------------------------------


def _not_for_robots(response):
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"
    return response


def _link_problem(request, heading: str, message: str, status: int):
    story_index = StoryIndexPage.objects.live().first()
    response = render(
        request,
        "newsletter/click_problem.html",
        {"heading": heading, "message": message, "story_index": story_index},
        status=status,
    )
    return _not_for_robots(response)


def story_link(story_url: str, edition_id: int, token: str) -> str:
    """The story's address as a newsletter link lands on it: tagged, with the click token."""
    query = urlencode(
        {
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": f"edition-{edition_id}",
            "nl": token,
        }
    )
    return f"{story_url}{'&' if '?' in story_url else '?'}{query}"


@require_http_methods(["GET", "HEAD"])
def click(request, token):
    """Send a newsletter reader on to the story; note the pick's first click.

    A tampered, expired or unknown token gets a page saying so (400) and changes
    nothing. Link scanners (HEAD requests, known bots) are sent on without a click
    being noted.
    """
    try:
        found = clicks.read_token(token)
    except clicks.BadClickToken as problem:
        return _link_problem(request, "This link is not valid or has expired", str(problem), 400)
    pick = (
        DeliveryPick.objects.filter(delivery_id=found.delivery_id, slot=found.slot)
        .values_list("pk", "story_id", "delivery__edition_id")
        .first()
    )
    if pick is None:
        return _link_problem(
            request,
            "This link is not valid or has expired",
            "This link does not lead to a story any more.",
            400,
        )
    pick_id, story_id, edition_id = pick
    if request.method == "GET" and not events.is_bot(request.headers.get("User-Agent", "")):
        # One conditional UPDATE: the first click stays the first.
        DeliveryPick.objects.filter(pk=pick_id, clicked_at__isnull=True).update(
            clicked_at=timezone.now()
        )
    story = StoryPage.objects.live().filter(pk=story_id).first()
    story_url = story.get_url(request) if story is not None else None
    if story_url is None:  # taken down, or no longer under any site
        return _link_problem(
            request,
            "This story is no longer here",
            "The story this link pointed to has been taken down.",
            410,
        )
    return _not_for_robots(HttpResponseRedirect(story_link(story_url, edition_id, token)))


# --- For you -----------------------------------------------------------------------------


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    patch_vary_headers(response, ["Cookie"])
    return response


def _nonce() -> str:
    return signing.TimestampSigner(salt=NONCE_SALT).sign("for-you")


def _nonce_ok(value: str) -> bool:
    try:
        return signing.TimestampSigner(salt=NONCE_SALT).unsign(value, max_age=NONCE_MAX_AGE) == (
            "for-you"
        )
    except signing.BadSignature:
        return False


def _from_this_site(request) -> bool:
    """Whether the browser says the request came from one of this site's pages."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc == request.get_host()


def _story_id(value) -> int | None:
    if value and len(value) <= 10 and value.isascii() and value.isdigit():
        return int(value)
    return None


def _shown(value) -> frozenset[int]:
    """The stories the page around the fragment shows already (``shown=3,17,42``):
    what is not an id is left out, and anything past ``MAX_SHOWN`` ids."""
    parts = (value or "").split(",", MAX_SHOWN)[:MAX_SHOWN]
    return frozenset(i for i in map(_story_id, parts) if i is not None)


def _set_cookie(response, request, profile: profiles.Profile):
    response.set_cookie(
        profiles.COOKIE_NAME,
        profiles.cookie_value(profile),
        max_age=int(profiles.COOKIE_MAX_AGE.total_seconds()),
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
    )


def _cards(ids) -> list:
    """Story cards for ``ids`` in that order: two queries (the stories, their pictures)."""
    if not ids:
        return []
    found = {
        story.pk: story
        for story in reading.story_cards(
            StoryPage.objects.live().filter(pk__in=ids), with_interests=False
        )
    }
    reading.attach_renditions(reading.card_images(found.values()))
    return [found[i] for i in ids if i in found]


def _fragment(
    request,
    catalogue: profiles.Catalogue,
    profile: profiles.Profile | None,
    story_id: int | None,
    *,
    shown: frozenset[int] = frozenset(),
    nl: str = "",
    ask: bool = True,
    error: str = "",
    status: int = 200,
):
    """Render "For you" for this reader: their picks, none of them ``story_id`` or a
    story in ``shown``.

    Only picks are stories here: a reader without any keeps the page's own "More on…"
    block, so a story never ends with two lists of the same stories. A newsletter reader
    is asked whether to keep picks on this device; a reader we know nothing about may
    pick interests; a reader with the cookie may forget it. Readers who ask not to be
    tracked (DNT, GPC) are never asked anything.
    """
    quiet = buffer.opted_out(request.META)
    names = catalogue.interest_names
    slugs = catalogue.interest_slugs
    picks = []
    if profile is not None:
        left_out = {story_id, *shown}
        candidates = [c for c in catalogue.candidates if c.story_id not in left_out]
        picks = selection.select(
            profile.reader(),
            candidates,
            k=FOR_YOU_PICKS,
            now=timezone.now(),
            interest_names=names,
            # Nothing on the site logs propensities for offline evaluation, so no
            # random slot: every pick is the best the reader's interests allow.
            explore=False,
        )
    cards = _cards([pick.story_id for pick in picks])
    reasons = {pick.story_id: pick.reason for pick in picks}
    picked = [{"story": story, "reason": reasons[story.pk]} for story in cards]

    known = profile.known_interests() if profile else []
    context = {
        "picked": picked,
        "source": profile.source if profile else "",
        "ask_to_keep": (
            ask and bool(picked) and profile.source == profile.NEWSLETTER and not quiet
        ),
        "offer_interests": profile is None and not quiet,
        "can_forget": profile is not None and profile.source == profile.COOKIE,
        "interests": catalogue.interests,
        "reader_interest_slugs": [slugs[i] for i in known if i in slugs],
        "story_id": story_id or "",
        "shown": ",".join(map(str, sorted(shown))),
        "nl": nl,
        "nonce": _nonce(),
        "error": error,
        # Only on story pages does engage.js count which link a reader followed.
        "follow": "for_you" if story_id else "",
    }
    return _private(render(request, FRAGMENT, context, status=status))


@require_http_methods(["GET"])
def for_you(request):
    """The "For you" fragment: ``?story=`` the story it ends, ``shown`` the stories that
    page shows already, ``nl`` a click token."""
    story_id = _story_id(request.GET.get("story"))
    shown = _shown(request.GET.get("shown"))
    catalogue = profiles.catalogue()
    profile = profiles.from_cookie(request.COOKIES.get(profiles.COOKIE_NAME))
    nl = ""
    if profile is None and not buffer.opted_out(request.META):
        nl = request.GET.get("nl", "")
        profile = profiles.from_click_token(nl, catalogue)
        if profile is None:
            nl = ""
    # ``ask=0``: the reader said "No thanks" in this tab; picks yes, the question no.
    ask = request.GET.get("ask") != "0"
    response = _fragment(request, catalogue, profile, story_id, shown=shown, nl=nl, ask=ask)
    # The reader said yes to picks on this device: a story they open is not offered
    # back to them. Only stories the catalogue knows are kept.
    if (
        profile is not None
        and profile.source == profile.COOKIE
        and story_id in catalogue.story_interests
        and profile.read[:1] != (story_id,)
    ):
        _set_cookie(response, request, profile.with_read(story_id))
    return response


def _refused(request, catalogue, story_id, shown):
    return _fragment(
        request,
        catalogue,
        profiles.from_cookie(request.COOKIES.get(profiles.COOKIE_NAME)),
        story_id,
        shown=shown,
        error="This form has gone stale. Reload the page and try again.",
        status=403,
    )


@csrf_exempt  # see the module docstring: a nonce and the request's origin instead
@require_POST
def consent(request):
    """The reader's yes: keep picks on this device (after a newsletter link), or these
    interests. Sets the cookie and answers with their "For you"."""
    story_id = _story_id(request.POST.get("story"))
    shown = _shown(request.POST.get("shown"))
    catalogue = profiles.catalogue()
    if not (_nonce_ok(request.POST.get("nonce", "")) and _from_this_site(request)):
        return _refused(request, catalogue, story_id, shown)
    earlier = profiles.from_cookie(request.COOKIES.get(profiles.COOKIE_NAME))
    if "nl" in request.POST:
        profile = profiles.from_click_token(request.POST["nl"], catalogue)
        if profile is None:
            return _fragment(
                request,
                catalogue,
                earlier,
                story_id,
                shown=shown,
                error="That newsletter link has expired, so we cannot pick stories from it. "
                "You can pick your interests instead.",
                status=400,
            )
    else:
        known = {interest.id for interest in catalogue.interests}
        chosen = [_story_id(value) for value in request.POST.getlist("interest")]
        chosen = list(dict.fromkeys(i for i in chosen if i in known))
        if not chosen:
            return _fragment(
                request,
                catalogue,
                earlier,
                story_id,
                shown=shown,
                error="Pick at least one interest.",
                status=400,
            )
        profile = profiles.Profile(
            profiles.Profile.COOKIE, followed=tuple(chosen), read=earlier.read if earlier else ()
        )
    profile = profile.for_cookie()
    if story_id in catalogue.story_interests:
        profile = profile.with_read(story_id)
    response = _fragment(request, catalogue, profile, story_id, shown=shown)
    _set_cookie(response, request, profile)
    return response


@csrf_exempt  # see the module docstring
@require_POST
def forget(request):
    """Forget me: delete the cookie and answer with the "For you" of a stranger."""
    story_id = _story_id(request.POST.get("story"))
    shown = _shown(request.POST.get("shown"))
    catalogue = profiles.catalogue()
    if not (_nonce_ok(request.POST.get("nonce", "")) and _from_this_site(request)):
        return _refused(request, catalogue, story_id, shown)
    response = _fragment(request, catalogue, None, story_id, shown=shown)
    response.delete_cookie(profiles.COOKIE_NAME, samesite="Lax")
    return response
