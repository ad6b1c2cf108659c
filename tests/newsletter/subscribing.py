"""What the subscriber tests share: the forms' addresses, posting them as a reader does
(their task run once the request commits), the links found in an email, and signed
links made, tampered with or made long ago."""

import re
import time
from unittest import mock

from django.test import TestCase

from syndication.newsletter import subscriptions
from syndication.newsletter.models import Subscriber

Status = Subscriber.Status
SIGNUP = "/newsletter/"
ASK_FOR_LINK = "/newsletter/preferences/"
ADMIN = "/admin/newsletter/subscribers/"
DAY = 24 * 60 * 60


def links_in(message) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", message.body)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def only_link(message, kind: str) -> str:
    found = {path_of(url) for url in links_in(message) if f"/newsletter/{kind}/" in url}
    assert len(found) == 1, links_in(message)
    return found.pop()


def sign_up(client, email, *interests):
    """Post the sign-up form; its task (eager in tests) runs once the request commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(SIGNUP, {"email": email, "interests": [i.pk for i in interests]})


def ask_for_link(client, email):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(ASK_FOR_LINK, {"link-email": email})


def made_at(seconds_ago: float, make, *args):
    """A token signed ``seconds_ago`` (signing reads the clock through time.time)."""
    with mock.patch("time.time", return_value=time.time() - seconds_ago):
        return make(*args)


def tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def reload(subscriber):
    subscriber.refresh_from_db()
    return subscriber


def confirm_path(subscriber):
    return f"/newsletter/confirm/{subscriptions.confirm_token(subscriber)}/"


def preferences_path(subscriber, token=None):
    return f"/newsletter/preferences/{token or subscriptions.preferences_token(subscriber)}/"


def unsubscribe_path(subscriber, token=None):
    return f"/newsletter/unsubscribe/{token or subscriptions.unsubscribe_token(subscriber)}/"
