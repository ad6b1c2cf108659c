import uuid

from django.contrib.auth.models import Group

import pytest

from syndication.testing.mastodon_server import MastodonTestServer


@pytest.fixture
def mastodon_server():
    """A Mastodon test server on 127.0.0.1 with one account, @storyloom; stopped after."""
    with MastodonTestServer() as server:
        yield server


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def make_user(django_user_model, username, *groups):
    user = django_user_model.objects.create_user(username=username, password="pw")
    user.groups.add(*Group.objects.filter(name__in=groups))
    assert user.groups.count() == len(groups)
    return user


@pytest.fixture
def social_manager(django_user_model):
    # Moderators too, so they can open stories in the page editor.
    return make_user(django_user_model, "sam", "Social managers", "Moderators")


@pytest.fixture
def editor(django_user_model):
    return make_user(django_user_model, "eddie", "Editors")


@pytest.fixture
def fresh_collector():
    """Empty the collector's in-process caches (live stories, salt) around a test."""
    from syndication.engagement import buffer

    buffer.forget_caches()
    yield
    buffer.forget_caches()


@pytest.fixture
def stream(settings):
    """A real Redis stream of this test's own for the collector; deleted afterwards."""
    from syndication.engagement import buffer
    from tests.conftest import require_service
    from tests.integration.conftest import redis_is_up, redis_url

    url = redis_url()
    require_service(redis_is_up(url), f"Redis at {url}")
    name = f"storyloom:test-events:{uuid.uuid4().hex[:10]}"
    settings.ENGAGEMENT_REDIS_URL = url
    settings.ENGAGEMENT_STREAM = name
    client = buffer.redis_client(url)
    yield client
    client.delete(name, *client.keys(f"{name}:*"))
