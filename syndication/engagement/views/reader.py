"""The collector: ``POST /e/`` (an event) and ``POST /e/share/`` (mint a share token).

Both are CSRF-exempt and set no cookie: they carry no credentials and change no
one's data, only counts. In production ``syndication.engagement.wsgi`` answers
``POST /e/`` before Django's middleware runs; this view is the same collector for
``runserver``, embedded mode and tests (both call ``buffer.receive``).
"""

import secrets
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cms import ratelimit
from stories.models import StoryPage

from .. import buffer, events, privacy
from ..models import ShareToken

TOKEN_BYTES = 12  # 16 URL-safe characters


def answer(outcome: buffer.Outcome) -> HttpResponse:
    if outcome.error:
        response = JsonResponse({"error": outcome.error}, status=outcome.status)
    else:
        response = HttpResponse(status=outcome.status)
    if outcome.retry_after:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def read_body(request) -> bytes:
    # One byte past the limit is enough to know the body is too long.
    return request.read(events.MAX_BODY + 1)


@csrf_exempt
@never_cache
@require_POST
def collect(request):
    outcome = buffer.receive_request(request.META, read_body(request), request.get_host())
    return answer(outcome)


def share_url(story_url: str, network: str, campaign: str, token: str | None) -> str:
    query = {"utm_source": network, "utm_medium": "share", "utm_campaign": campaign}
    if token:
        query["sh"] = token
    separator = "&" if "?" in story_url else "?"
    return f"{story_url}{separator}{urlencode(query)}"


def mint(story: StoryPage, network: str, parent: ShareToken | None) -> ShareToken:
    depth = parent.depth + 1 if parent else 0
    for _ in range(3):
        try:
            with transaction.atomic():
                return ShareToken.objects.create(
                    token=secrets.token_urlsafe(TOKEN_BYTES),
                    story=story,
                    network=network,
                    parent=parent,
                    depth=depth,
                )
        except IntegrityError:  # a token drawn twice: draw again
            continue
    raise RuntimeError("could not draw a fresh share token")


@csrf_exempt
@never_cache
@require_POST
def share(request):
    """Mint a share token for a story and hand back the URL to share; count the share.

    201 ``{"token", "url"}``. A reader who opted out (or a bot) gets the tagged URL
    without a token, and nothing is recorded; an address that made more than
    ``ENGAGEMENT_SHARES_PER_ADDRESS`` tokens this hour gets a 429 with Retry-After.
    """
    meta = request.META
    if not buffer.content_type_ok(meta.get("CONTENT_TYPE", "")):
        return JsonResponse(
            {"error": "content-type: must be text/plain or application/json"}, status=400
        )
    try:
        data = events.validate_share(events.decode(read_body(request)))
    except events.ValidationProblem as problem:
        return JsonResponse({"error": str(problem)}, status=400)
    story = StoryPage.objects.live().filter(pk=data["s"]).first()
    if story is None:
        return JsonResponse({"error": "s: not a live story"}, status=400)
    network = data["n"]
    story_url = story.get_full_url(request)
    user_agent = meta.get("HTTP_USER_AGENT", "")
    if buffer.opted_out(meta) or events.is_bot(user_agent):
        return JsonResponse(
            {"token": None, "url": share_url(story_url, network, story.slug, None)}, status=201
        )

    too_many = ratelimit.limit_request(request, "shares", "ENGAGEMENT_SHARES_PER_ADDRESS")
    if too_many:
        return too_many  # the script falls back on the plain URL

    parent = None
    if "parent" in data:
        # A re-share: the sharer arrived through someone else's share (of any age).
        parent = ShareToken.objects.filter(token=data["parent"]).first()
    token = mint(story, network, parent)

    host = request.get_host()
    arrived_by = buffer.ShareRow(parent.id, parent.created_at) if parent else None
    came_from = events.attribution(
        data.get("u"), data.get("r"), arrived_by, host, {"t": "share", "n": network}
    )
    visitor = privacy.visitor_hash(buffer.client_ip(meta), user_agent, events.bare_host(host))
    outcome = buffer.record("share", story.pk, came_from, visitor)
    if outcome.error:
        return answer(outcome)
    body = {"token": token.token, "url": share_url(story_url, network, story.slug, token.token)}
    return JsonResponse(body, status=201)
