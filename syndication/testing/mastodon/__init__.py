"""The Mastodon test server (``server``) and the server families it can play (``profiles``)."""

from .profiles import PROFILES, ServerFamily
from .server import FAULT_KINDS, FaultPlan, MastodonTestServer, countable_length

__all__ = [
    "FAULT_KINDS",
    "PROFILES",
    "FaultPlan",
    "MastodonTestServer",
    "ServerFamily",
    "countable_length",
]
