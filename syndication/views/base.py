"""What several syndication screens share: who manages accounts, and how to say no."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden

ACCOUNTS_INDEX = "syndication_accounts:index"
ACCOUNTS_ONLY = "Only social managers connect and disconnect accounts."


def can_manage_accounts(user) -> bool:
    return user.has_perm("syndication.add_channelaccount")


def refuse(request, message):
    """Say no the Wagtail way for a page (back to the dashboard with a message), and
    with a plain 403 for a POST, which no button offered this person."""
    if request.method == "POST":
        return HttpResponseForbidden(message)
    raise PermissionDenied(message)
