# The Mastodon test server fixture syndication's tests use, shared here by name.
from tests.syndication.conftest import client, editor, mastodon_server, social_manager  # noqa: F401
