# The Mastodon test server fixture syndication's tests use, shared here by name.
from tests.syndication.conftest import mastodon_server  # noqa: F401
