import pytest

from syndication.testing.mastodon_server import MastodonTestServer


@pytest.fixture
def mastodon_server():
    """A Mastodon test server on 127.0.0.1 with one account, @storyloom; stopped after."""
    with MastodonTestServer() as server:
        yield server
