# The fixtures syndication's tests use (the admin's people, the Mastodon test server, the
# collector's stream), shared with this app's tests: pytest finds them by name here.
from tests.syndication.conftest import (  # noqa: F401
    client,
    editor,
    fresh_collector,
    make_user,
    mastodon_server,
    social_manager,
    stream,
)
