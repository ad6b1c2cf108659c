"""API v2: whatever a query string holds, the answer is a 4xx, never a database error."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from tests.conftest import require_service
from tests.factories import AudienceInterestFactory, link

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v2/pages/", "/api/v2/images/", "/api/v2/pages/find/"]
HUGE = "99999999999999999999"


@pytest.fixture
def on_postgresql():
    """SQLite takes NUL and big numbers; PostgreSQL is where they fail."""
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "query",
    [
        f"offset={HUGE}",
        f"offset=000{HUGE}",
        f"offset={'9' * 5000}",
        f"limit={HUGE}",
        f"id={HUGE}",
        f"id=-{HUGE}",
        f"child_of={HUGE}",
        f"descendant_of={HUGE}",
        f"translation_of={HUGE}",
        f"type=stories.StoryPage&first_published_at={HUGE}",
        "search=%00",
        "search=a%00b&search_operator=or",
        "title=%00",
        "locale=%00",
        "html_path=%00",
        "slug=x%00",
        "%00=1",
        "fields=%00",
    ],
)
def test_unusable_query_values_are_a_400_not_a_500(
    client, make_story, on_postgresql, endpoint, query
):
    make_story()
    client.raise_request_exception = False
    response = client.get(f"{endpoint}?{query}")
    assert 400 <= response.status_code < 500, response.content[:200]
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("endpoint", ["/api/v2/pages/", "/api/v2/images/"])
def test_the_edges_of_bigint_are_checked_exactly(client, make_story, on_postgresql, endpoint):
    make_story()
    largest, smallest = 2**63 - 1, -(2**63)
    assert client.get(f"{endpoint}?id={largest}").status_code == 200
    assert client.get(f"{endpoint}?id={smallest}").status_code == 200
    too_big = client.get(f"{endpoint}?id={largest + 1}")
    assert too_big.status_code == 400
    assert too_big.json() == {"message": "id is out of range"}
    assert client.get(f"{endpoint}?id={smallest - 1}").status_code == 400


def test_ordinary_queries_still_work(client, make_story, on_postgresql):
    story = make_story(title="A dog called Biscuit")
    found = client.get("/api/v2/pages/?type=stories.StoryPage&search=Biscuit&offset=0&limit=5")
    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [story.pk]
    # A lone surrogate, UTF-8-encoded, arrives as U+FFFD (Django decodes with "replace").
    assert client.get("/api/v2/pages/?search=%ED%A0%80").json()["items"] == []
    refused = client.get("/api/v2/pages/?search=Bis%00cuit")
    assert refused.status_code == 400
    assert refused.json() == {"message": "search contains a character that is not allowed"}


def test_lone_surrogates_are_refused_wherever_they_come_from():
    from django.http import QueryDict

    from wagtail.api.v2.utils import BadRequestError

    from cms.api import check_query

    query = QueryDict(mutable=True)
    query["search"] = "a\ud800b"
    with pytest.raises(BadRequestError, match="search contains a character"):
        check_query(query)


def api_queries(client, limit):
    url = f"/api/v2/pages/?type=stories.StoryPage&fields=interests,story_links&limit={limit}"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == limit
    assert all(item["interests"] for item in items)
    assert sum(bool(item["story_links"]) for item in items) >= limit - 1  # all but the target
    return len(queries)


def test_a_listing_of_interests_and_links_costs_the_same_queries_for_10_or_50(client, make_story):
    interests = [AudienceInterestFactory(name=f"Interest {n}") for n in range(3)]
    target = make_story()
    for n in range(50):
        link(make_story(interests=interests[: n % 3 + 1]), target, "background")

    client.get("/api/v2/pages/?limit=1")  # warm: the site and its root paths
    assert api_queries(client, 10) == api_queries(client, 50)
