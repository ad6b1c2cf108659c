"""What the tests of answering share: a published post on a Mastodon test server with a
reply to it collected, and the engine run in-process."""

import datetime

from django.utils import timezone

import requests

from syndication import publishing, states
from syndication.conversation.models import Answer, ConversationItem
from syndication.models import SyndicationPost
from tests.factories import ChannelAccountFactory, SyndicationPostFactory

THANKS = "Thank you, Alice! Part two is out next week."
PITCH = "Buy now! Limited time offer: 50% off everything, don't miss out!"


class Thread:
    """Our published post on a Mastodon test server, and Alice's reply to it collected."""

    def __init__(self, server, make_story):
        self.server = server
        remote_id, self.token = server.create_account("brand")
        self.account = ChannelAccountFactory(
            instance_url=server.url,
            remote_id=remote_id,
            handle="@brand",
            tokens={"access_token": self.token},
        )
        status = self.status("A story worth a read.")
        self.post = SyndicationPostFactory(
            story=make_story(),
            account=self.account,
            state=states.PUBLISHED,
            remote_id=status,
            published_at=timezone.now() - datetime.timedelta(hours=1),
        )
        self.reply_id = server.reply(status, "Lovely story! Is there a part two?", as_user="alice")
        self.item = self.item_for(self.reply_id)

    def status(self, text, reply_to=None):
        data = {"status": text, **({"in_reply_to_id": reply_to} if reply_to else {})}
        response = requests.post(
            f"{self.server.url}/api/v1/statuses",
            data=data,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["id"]

    def item_for(self, status_id, **fields):
        fields = {
            "kind": "reply",
            "author_handle": "@alice",
            "text": "Lovely story! Is there a part two?",
            "remote_ref": {"id": status_id},
            **fields,
        }
        return ConversationItem.objects.create(
            post=self.post,
            network="mastodon",
            remote_id=f"{self.server.domain}/{status_id}",
            **fields,
        )

    def answers_on_server(self):
        """Statuses by our account that reply to Alice's reply, as the server keeps them."""
        return [
            status
            for status in self.server.statuses
            if status["account"]["username"] == "brand"
            and status["in_reply_to_id"] == self.reply_id
        ]


def run_due(now=None) -> list[str]:
    """One beat tick with the worker in-process: dispatch, then run each claimed post."""
    claimed = []
    publishing.dispatch_due_posts(lambda post_id, claim: claimed.append((post_id, claim)), now)
    return [publishing.publish_post(post_id, claim) for post_id, claim in claimed]


def reload(post) -> SyndicationPost:
    return SyndicationPost.objects.get(pk=post.pk)


def nothing_stored():
    return (
        not Answer.objects.exists()
        and not SyndicationPost.objects.exclude(state=states.PUBLISHED).exists()
    )
