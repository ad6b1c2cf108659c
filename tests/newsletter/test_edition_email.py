"""The email of an edition: signed click links naming only the delivery and slot, the
unsubscribe headers, Message-ID, reasons and footer, and the fast MIME message that
says what Django's would, with its wire form for SMTP."""

import email
import email.policy
import re
from urllib.parse import urlsplit

from django.core import mail

import pytest

from syndication.newsletter import clicks, smtp, subscriptions
from syndication.newsletter.models import Delivery, Edition
from syndication.newsletter.rendering import Email, MessageFrame
from tests.newsletter import editions
from tests.newsletter.editions import CLICK, edition, picks_of, send_all, start

# The stories and subscribers an edition is sent to (the SMTP recorder is the conftest's).
interests = editions.interests
stories = editions.stories
subscribers = editions.subscribers

pytestmark = pytest.mark.django_db

State = Delivery.State
Status = Edition.Status


def test_click_links_carry_only_a_signed_token_that_names_the_delivery_and_slot(
    stories, subscribers
):
    made = edition()
    start(made)
    send_all(made)
    for message in mail.outbox:
        delivery = Delivery.objects.get(subscriber__email=message.to[0])
        stored = {slot: story for slot, story, *_ in picks_of(made)[delivery.subscriber_id]}
        html = message.alternatives[0][0]
        tokens = CLICK.findall(html)
        assert tokens
        seen = {}
        for token in tokens:
            click = clicks.read_token(token)
            assert click.delivery_id == delivery.pk
            seen[click.slot] = token
        assert set(seen) == set(stored)
        # Text and HTML carry the same links; none carries the address.
        assert set(CLICK.findall(message.body)) == set(tokens)
        for url in re.findall(r'href="([^"]+)"', html):
            assert message.to[0] not in url
            assert "@" not in urlsplit(url).path


def test_the_email_has_unsubscribe_headers_a_message_id_titles_reasons_and_a_footer(
    stories, subscribers
):
    made = edition()
    start(made)
    send_all(made)
    message = next(m for m in mail.outbox if m.to[0] == subscribers[0].email)
    delivery = Delivery.objects.get(subscriber=subscribers[0])
    assert message.subject == made.title
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<{subscriptions.unsubscribe_url(subscribers[0])}>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == delivery.message_id
    assert delivery.message_id == f"<edition-{made.pk}.delivery-{delivery.pk}@127.0.0.1>"
    html = message.alternatives[0][0]
    assert "Story &lt;0&gt; &amp; friends" in html or "Story &lt;3&gt; &amp; friends" in html
    assert "<0>" not in html
    assert "Change your interests" in html and "Unsubscribe" in html
    assert subscriptions.preferences_url(subscribers[0]).split("/preferences/")[0] in html
    for _, _, reason, *_ in picks_of(made)[subscribers[0].pk]:
        assert reason in message.body
    assert "This week's stories." in message.body


def test_the_fast_mime_message_says_what_djangos_would(stories, subscribers):
    made = Edition(title="Ça va? Grandes nouvelles — week 4", pk=1)
    mail_item = Email(
        subject=made.title,
        from_email="Storyloom Café <stories@example.com>",
        to="reader@example.com",
        text="Hello\n.leading dot\nünïcödé " + "long line " * 40 + "\n",
        html="<p>Hello</p>\n<p>" + "x" * 2000 + "</p>\n",
        headers={
            "Message-ID": "<edition-1.delivery-2@example.com>",
            "List-Unsubscribe": "<https://example.com/u/abc/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    ours = email.message_from_bytes(
        MessageFrame(made.title, mail_item.from_email).as_bytes(mail_item),
        policy=email.policy.default,
    )
    django = email.message_from_bytes(
        mail_item.django_message().message().as_bytes(linesep="\r\n"),
        policy=email.policy.default,
    )
    for header in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "MIME-Version"):
        assert str(ours[header]) == str(django[header]), header
    assert ours.get_content_type() == django.get_content_type() == "multipart/alternative"
    # Line ends are the transport's business (SMTP sends CRLF): compare the text.
    assert [p.get_content().replace("\r\n", "\n") for p in ours.iter_parts()] == [
        p.get_content().replace("\r\n", "\n") for p in django.iter_parts()
    ]
    assert [p.get_content_type() for p in ours.iter_parts()] == ["text/plain", "text/html"]
    # UTF-8 text goes as 8bit (as Django sends it); a line too long for SMTP makes its
    # part quoted-printable; headers are ASCII and every line fits.
    assert [p["Content-Transfer-Encoding"] for p in ours.iter_parts()] == [
        "8bit",
        "quoted-printable",
    ]
    raw = MessageFrame(made.title, mail_item.from_email).as_bytes(mail_item)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw.split(b"\r\n\r\n")[0].isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_wire_body_ends_lines_with_crlf_doubles_leading_dots_and_keeps_the_dot_back():
    assert smtp.wire_body(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
    assert not smtp.wire_body(b"x\r\n").endswith(b".\r\n")
