"""``load_demo --site-address``: full links open the site ``make run`` serves."""

from django.core.management import CommandError, call_command

from wagtail.models import Site

import pytest

from stories.management.commands.load_demo import point_default_site
from stories.models import StoryPage

pytestmark = pytest.mark.django_db


def test_the_first_address_becomes_the_served_one_and_full_links_follow(make_story):
    story = make_story(title="Where the river bends")
    assert story.get_full_url().startswith("http://localhost/")
    assert point_default_site("127.0.0.1:8000") is True
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("127.0.0.1", 8000)
    story = StoryPage.objects.get(pk=story.pk)  # a page keeps the site paths it read
    assert story.get_full_url() == f"http://127.0.0.1:8000{story.url_path[len('/home') :]}"
    # Once set, the address is the owner's: a later run on another port leaves it.
    assert point_default_site("127.0.0.1:9000") is False
    assert Site.objects.get(is_default_site=True).port == 8000


def test_an_address_the_owner_set_is_left_alone(tree):
    Site.objects.filter(is_default_site=True).update(hostname="stories.example.org", port=443)
    assert point_default_site("127.0.0.1:8000") is False
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("stories.example.org", 443)


def test_load_demo_takes_the_address_and_refuses_a_bad_one_before_loading(tree):
    with pytest.raises(CommandError, match="host:port"):
        call_command("load_demo", "--site-address", "localhost", verbosity=0)
    assert not StoryPage.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "",
        "localhost",
        "127.0.0.1:",
        ":8000",
        "host:0",
        "host:65536",
        "host:99999999999999999999",
        "host:80\x00",
        "exa mple:80",
        "-host:80",
        "host:８０００",
        "\ud800:80",
    ],
)
def test_a_bad_address_is_refused_and_changes_nothing(tree, address):
    with pytest.raises(CommandError, match="host:port"):
        point_default_site(address)
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("localhost", 80)
