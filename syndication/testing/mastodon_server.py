"""The Mastodon test server, where tests, benchmarks and demos have always imported it
from. It lives in ``syndication/testing/mastodon/`` with the server families it plays."""

from .mastodon.profiles import PROFILES, ServerFamily
from .mastodon.server import (
    AFTER_KINDS,
    FAULT_KINDS,
    LATE_KINDS,
    FaultPlan,
    MastodonTestServer,
    countable_length,
    render_content,
)

__all__ = [
    "AFTER_KINDS",
    "FAULT_KINDS",
    "LATE_KINDS",
    "PROFILES",
    "FaultPlan",
    "MastodonTestServer",
    "ServerFamily",
    "countable_length",
    "render_content",
]
