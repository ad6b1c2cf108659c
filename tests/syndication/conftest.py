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
