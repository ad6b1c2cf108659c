"""Follower, fan and subscriber counts appear nowhere: not stored, not fetched, not shown."""

import dataclasses
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

import pytest

from syndication.channels import base
from syndication.engagement.models import EngagementRollup

#: A count of people attached to an account: followers, following, fans, subscribers.
COUNT_OF_PEOPLE = re.compile(
    r"follower|following|(^|[^a-z])fans?([^a-z]|$)|fan_?count|subscribers?_?(count|total)"
    r"|(num|number)_?(of_)?subscribers|audience_?size",
    re.IGNORECASE,
)


def offending(names) -> list[str]:
    return sorted({name for name in names if COUNT_OF_PEOPLE.search(name)})


def test_the_pattern_catches_what_it_should_and_nothing_we_measure():
    assert offending(
        ["followers_count", "followerCount", "fans", "fan_count", "subscriber_count", "following"]
    ) == sorted(
        ["followers_count", "followerCount", "fans", "fan_count", "subscriber_count", "following"]
    )
    assert (
        offending(["link_follows", "next_follows", "fancy", "infant", "subscriber", "likes"]) == []
    )


def project_models():
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        where = Path(config.path).resolve()
        # The project's own apps: under the checkout, not an installed package.
        if root in where.parents and "site-packages" not in where.parts:
            yield from config.get_models()


def test_no_model_in_the_projects_apps_has_a_follower_field():
    models = list(project_models())
    labels = {model._meta.app_label for model in models}
    assert labels >= {"stories", "syndication", "engagement", "newsletter"}
    assert "wagtailcore" not in labels
    assert {model._meta.label for model in models} >= {
        "stories.StoryPage",
        "syndication.ChannelAccount",
        "engagement.ChannelMetricSnapshot",
        "engagement.EngagementRollup",
    }
    names = []
    for model in models:
        names.append(model.__name__)
        for field in model._meta.get_fields():
            names.append(field.name)
            names.append(getattr(field, "column", None) or "")
    assert offending(names) == []


def test_the_adapters_values_have_no_place_for_followers():
    for value in (base.PostMetrics, base.Profile, base.RemotePost):
        assert offending(f.name for f in dataclasses.fields(value)) == []
    assert {f.name for f in dataclasses.fields(base.PostMetrics)} == {
        "reposts",
        "replies",
        "likes",
        "quotes",
        "clicks",
    }


def keys_of(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from keys_of(value)
    elif isinstance(data, list):
        for item in data:
            yield from keys_of(item)


@pytest.mark.django_db
def test_the_pages_api_says_nothing_about_followers(client, make_story):
    story = make_story(title="A story worth passing on")
    detail = client.get(f"/api/v2/pages/{story.pk}/", HTTP_HOST="localhost")
    listing = client.get(
        "/api/v2/pages/", {"type": "stories.StoryPage", "fields": "*"}, HTTP_HOST="localhost"
    )
    assert detail.status_code == listing.status_code == 200
    for response in (detail, listing):
        data = json.loads(response.content)
        keys = list(keys_of(data))
        assert "intro" in keys
        assert offending(keys) == []
        assert not COUNT_OF_PEOPLE.search(response.content.decode())


@pytest.mark.django_db
def test_the_engagement_report_csv_has_no_follower_column(client, django_user_model, make_story):
    story = make_story()
    EngagementRollup.objects.create(
        day=timezone.localdate(),
        story=story,
        event="view",
        count=3,
    )
    user = django_user_model.objects.create_user(username="sam", password="pw")
    user.groups.add(Group.objects.get(name="Social managers"))
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="engagement", codename="view_engagementrollup"
        )
    )
    client.force_login(user)
    for group in ("story", "interest", "channel", "purpose"):
        response = client.get(
            "/admin/reports/engagement/", {"export": "csv", "group": group}, HTTP_HOST="localhost"
        )
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        heading = body.splitlines()[0].split(",")
        assert "Views" in heading
        assert offending(heading) == []


@pytest.mark.django_db
def test_the_threads_adapter_asks_for_and_hears_no_follower_count(settings):
    """Every request the Threads adapter sends while connecting, publishing, reading back,
    measuring and refreshing, and every answer it reads: no count of people in them."""
    import time
    from types import SimpleNamespace

    import requests

    from syndication.channels import threads
    from syndication.testing.threads import ThreadsTestServer

    with ThreadsTestServer() as server:
        settings.THREADS_GRAPH_URL = server.url
        settings.THREADS_AUTHORIZE_URL = server.authorize_url
        settings.THREADS_APP_ID, settings.THREADS_APP_SECRET = server.app_id, server.app_secret
        server.auto_approve = True
        url, _state = threads.authorization("http://localhost/back/", state="s")
        back = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        code = parse_qs(urlsplit(back).query)["code"][0]
        profile, tokens = threads.finish("http://localhost/back/", code)
        account = SimpleNamespace(
            remote_id=profile.remote_id, handle=profile.handle, max_characters=None, tokens=tokens
        )
        adapter = threads.ThreadsAdapter(account, timeout=2)
        link = "https://s.example/?utm_content=1"
        request = base.PublishRequest(
            post_id=1, text=f"Hi {link}", link=link, idempotency_key="k", marker="utm_content=1"
        )
        posted = adapter.publish(request)
        adapter.find_published(request)
        adapter.fetch_metrics([posted.id])
        server.clock = lambda: time.time() + 2 * 86400
        adapter.refresh(tokens)
        assert len(server.log) >= 9
        for _method, path, params, answer in server.log:
            asked = [path, *params, *(v for values in params.values() for v in values)]
            assert offending(word for item in asked for word in re.split(r"[,/&=?]", item)) == []
            if answer.startswith(b"{"):
                assert offending(keys_of(json.loads(answer))) == []


def _code_strings(module) -> list[str]:
    """Every string literal of ``module``'s source that is not a docstring: the field
    names, parameters and paths it can send to a network."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_adapter_or_conversation_reader_asks_a_network_for_followers():
    """Every network's adapter and reader, new ones included as they are registered:
    no field, parameter or path they can send names a count of people (Facebook's
    ``fan_count``/``followers_count``/``page_follows``, Threads' ``followers_count``…)."""
    import importlib
    import importlib.util

    from syndication.channels import ADAPTERS
    from syndication.conversation.collect import READERS

    # A network registered before its module lands is another test's failure.
    paths = {path.rsplit(".", 1)[0] for path in ADAPTERS.values()}
    modules = {importlib.import_module(p) for p in paths if importlib.util.find_spec(p)}
    modules |= {importlib.import_module(reader.__module__) for reader in READERS.values()}
    names = {module.__name__ for module in modules}
    assert {"syndication.channels.facebook", "syndication.conversation.facebook"} <= names
    for module in modules:
        asked = _code_strings(module)
        assert asked, module.__name__
        assert [text for text in asked if COUNT_OF_PEOPLE.search(text)] == [], module.__name__
