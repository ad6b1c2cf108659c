"""How often one client may do something: fixed windows counted in the shared cache.

A client is a keyed hash of its address (HMAC with ``SECRET_KEY``), and a counter lives
only as long as its window: no address is stored, and nothing outlives the window.
``hit`` answers 0 (go on) or the seconds until the window ends, which the view sends
as ``Retry-After`` with a 429.

Written here rather than taken from django-ratelimit: that library's system checks
refuse the caches of the embedded mode (file-based, local memory) as errors, and the
event collector counts in Redis inside the same round trip as its XADD
(``syndication.engagement.buffer``), so the two would still be separate mechanisms.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse


def client_ip(meta) -> str:
    """The client's address: the one our proxy appended to X-Forwarded-For, else the peer.

    Only ever hashed; a forged header changes nothing but the forger's own hash.
    """
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return meta.get("REMOTE_ADDR", "")


def client_key(meta, *more: str) -> str:
    """A keyed hash of the client's address (and ``more``, e.g. the address it names)."""
    message = "\n".join((client_ip(meta), *more)).encode("utf-8", "backslashreplace")
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def hit(scope: str, who: str, limit: int, window: int) -> int:
    """Count one more of ``scope`` for ``who``: 0 while within ``limit`` per ``window`` s.

    Past the limit, the seconds until the window ends (at least 1). ``limit`` 0: no limit.
    """
    if limit <= 0:
        return 0
    now = time.time()
    slot = int(now // window)
    key = f"storyloom:limit:{scope}:{who}:{slot}"
    cache.add(key, 0, window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.set(key, 1, window + 5)
        count = 1
    if count > limit:
        return max(1, int((slot + 1) * window - now) + 1)
    return 0


def too_many(retry_after: int, message: str = "too many requests, try again later"):
    """The 429 answer, with ``Retry-After`` (RFC 9110 §10.2.3)."""
    response = JsonResponse({"error": message}, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def limit_request(request, scope: str, setting: str, *more: str) -> JsonResponse | None:
    """``too_many`` when the client is over ``settings.<setting>`` (``(count, seconds)``)."""
    limit, window = getattr(settings, setting)
    wait = hit(scope, client_key(request.META, *more), limit, window)
    return too_many(wait) if wait else None
