"""An account's audience, set by social managers from the account listing's row menu:
posts to it start with the story's picture for that interest (issue 21, point 2)."""

import pytest
from bs4 import BeautifulSoup

from syndication.models import ChannelAccount
from tests.factories import AudienceInterestFactory, ChannelAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return ChannelAccountFactory(remote_id="1", handle="@cats")


@pytest.fixture
def cats(db):
    return AudienceInterestFactory(name="Cat owners", slug="cat-owners")


def audience_url(account):
    return f"/admin/syndication/accounts/{account.pk}/audience/"


def test_the_listing_shows_the_audience_and_offers_to_change_it(
    client, social_manager, account, cats
):
    ChannelAccount.objects.filter(pk=account.pk).update(audience_interest=cats)
    client.force_login(social_manager)
    html = client.get("/admin/syndication/accounts/").content.decode()
    page = BeautifulSoup(html, "html.parser")
    assert "Cat owners" in page.select_one("table").get_text()
    assert page.select_one(f'a[href="{audience_url(account)}"]') is not None


def test_a_social_manager_sets_and_clears_the_audience(client, social_manager, account, cats):
    client.force_login(social_manager)
    form = client.get(audience_url(account)).context["form"]
    assert form["audience_interest"].value() is None
    response = client.post(audience_url(account), {"audience_interest": cats.pk})
    assert response.status_code == 302 and response["Location"] == "/admin/syndication/accounts/"
    account.refresh_from_db()
    assert account.audience_interest == cats
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("start with the picture for Cat owners" in m for m in messages)

    assert client.post(audience_url(account), {"audience_interest": ""}).status_code == 302
    account.refresh_from_db()
    assert account.audience_interest is None


@pytest.mark.parametrize("value", ["987654", "abc", "1\x00", "99999999999999999999"])
def test_an_interest_that_is_not_there_is_a_form_error_and_changes_nothing(
    client, social_manager, account, cats, value
):
    ChannelAccount.objects.filter(pk=account.pk).update(audience_interest=cats)
    client.force_login(social_manager)
    response = client.post(audience_url(account), {"audience_interest": value})
    assert response.status_code == 200
    assert response.context["form"].errors["audience_interest"]
    account.refresh_from_db()
    assert account.audience_interest == cats


def test_editors_cannot_set_an_audience(client, editor, account, cats):
    client.force_login(editor)
    assert client.post(audience_url(account), {"audience_interest": cats.pk}).status_code in (
        302,
        403,
    )
    account.refresh_from_db()
    assert account.audience_interest is None
