"""Sign-in throttling (django-axes, https://django-axes.readthedocs.io/): where a failed
sign-in came from, as the rest of Storyloom reads it behind the proxy, and the username
it tried, as the failure record can hold it."""

from django.conf import settings

from .ratelimit import client_ip as address_of

#: A username longer than any account's can only be a wrong one: kept this long in the
#: failure record (its column holds 255; Django's login forms do not check the length).
USERNAME_LENGTH = 150


def client_ip(request) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the address our proxy appended to X-Forwarded-For,
    else the peer. A forged header only moves the forger's own count, since the proxy
    appends the address it saw last."""
    return address_of(request.META)


def username(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username tried, cut to ``USERNAME_LENGTH`` and
    without NUL, so a failure with any typed name is recorded (and counted)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials else getattr(request, "data", request.POST)
    value = source.get(field) if source else None
    if value is None:
        return None
    return str(value).replace("\x00", "")[:USERNAME_LENGTH]
