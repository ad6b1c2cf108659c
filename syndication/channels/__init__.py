"""Channel adapters, one module per network, all behind ``base.ChannelAdapter``."""

from importlib import import_module

ADAPTERS = {
    "mastodon": "syndication.channels.mastodon.MastodonAdapter",
    "bluesky": "syndication.channels.bluesky.BlueskyAdapter",
    "linkedin": "syndication.channels.linkedin.LinkedInAdapter",
    "x": "syndication.channels.x.XAdapter",
    "facebook": "syndication.channels.facebook.FacebookAdapter",
    "threads": "syndication.channels.threads.ThreadsAdapter",
}


def adapter_class(network: str):
    try:
        path = ADAPTERS[network]
    except KeyError:
        raise ValueError(f"No adapter for network {network!r}.") from None
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def adapter_for(account, **kwargs):
    return adapter_class(account.network)(account, **kwargs)
