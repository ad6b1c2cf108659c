"""Sign-in throttling (django-axes, https://django-axes.readthedocs.io/): where a failed
sign-in came from, as the rest of Storyloom reads it behind the proxy."""


def client_ip(request) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the address our proxy appended to X-Forwarded-For,
    else the peer. A forged header only moves the forger's own count, since the proxy
    appends the address it saw last."""
    from syndication.engagement.buffer import client_ip as address_of

    return address_of(request.META)
