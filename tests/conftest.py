import os

import pytest

from tests.factories import AudienceInterestFactory, StoryPageFactory, site_tree

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(reachable: bool, what: str):
    """Skip when a server is missing on a developer's machine; fail in CI."""
    if reachable:
        return
    message = f"{what} is not reachable"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; start it (see README) to run this test")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rendered pages are cached by content version; each test starts with none. So are
    Wagtail's renditions, keyed by image id: SQLite hands a rolled-back test's ids out
    again, and a stale rendition of another test's image would be served."""
    from django.core.cache import caches

    for name in ("default", "renditions"):
        caches[name].clear()
    yield
    for name in ("default", "renditions"):
        caches[name].clear()


@pytest.fixture
def tree(db):
    return site_tree()


@pytest.fixture
def home(tree):
    return tree[0]


@pytest.fixture
def story_index(tree):
    return tree[1]


@pytest.fixture
def make_story(story_index):
    def make(**kwargs):
        kwargs.setdefault("parent", story_index)
        kwargs.setdefault("interests", [AudienceInterestFactory(name="Home")])
        return StoryPageFactory(**kwargs)

    return make
