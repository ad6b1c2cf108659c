"""An edition's email: Django templates rendered once per edition, a join per reader.

Rendering each reader's email with the template engine costs about a millisecond; a
send of a thousand emails a second cannot afford it. So the templates are rendered
*once*, with markers where per-reader values go, and split into literal pieces:

* ``email/edition.html`` / ``.txt``: the frame (title, intro, footer), with markers for
  the reader's stories and their preferences and unsubscribe links;
* ``email/edition_story.html`` / ``.txt``: one story's card (title, intro, picture,
  series), rendered once per story, with markers for the reader's click link and the
  reason the story was picked for them.

A reader's email is then a join of those pieces with their escaped values. The markers
carry a random nonce, so nothing an editor types can be mistaken for one.

The MIME message is assembled here too, from parts the standard library encodes in C
(``binascii.b2a_qp``): building it with ``email.mime`` costs more than everything else
per email put together. ``Email.django_message()`` gives the same email as a Django
``EmailMultiAlternatives`` for backends that want one (the console in development,
locmem in tests); tests check both forms carry the same headers and bodies.
"""

import binascii
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formatdate
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.template.loader import render_to_string
from django.utils.html import escape

TEMPLATES = "newsletter/email"
#: A URL with nothing HTML would need escaped (no ``&``, quotes or angle brackets).
_PLAIN_URL = re.compile(r"[A-Za-z0-9:/._~%?=+-]*")


@dataclass(frozen=True)
class StoryCard:
    """What an email shows of one story (the same for every reader)."""

    story_id: int
    title: str
    intro: str = ""
    url: str = ""  # the story's own address (previews; emails link through clicks)
    image_url: str = ""
    series_name: str = ""
    series_part: int | None = None


class Slot(NamedTuple):
    """One story in one reader's email: which, where the link goes, why it was picked."""

    story_id: int
    url: str
    reason: str


class Compiled:
    """A rendered template with named holes, kept as a ``str.format`` pattern: filling
    it is one call into C, no template engine and no Python loop."""

    __slots__ = ("names", "pattern")

    def __init__(self, rendered: str, hole: re.Pattern):
        parts = hole.split(rendered)
        literals = [part.replace("{", "{{").replace("}", "}}") for part in parts[0::2]]
        self.names = tuple(parts[1::2])
        pattern = [literals[0]]
        for name, literal in zip(self.names, literals[1:], strict=True):
            pattern += ("{", name, "}", literal)
        self.pattern = "".join(pattern)

    def fill(self, values: Mapping[str, str] | None = None, /, **named: str) -> str:
        return self.pattern.format_map(values if values is not None else named)


class EditionRenderer:
    """Renders every reader's email of one edition. Cards are rendered on first use."""

    def __init__(
        self,
        edition,
        stories: Mapping[int, StoryCard],
        *,
        root_url: str,
        site_name: str | None = None,
    ):
        self.edition = edition
        self.stories = stories
        self.root_url = root_url.rstrip("/")
        self.site_name = site_name or settings.WAGTAIL_SITE_NAME
        nonce = secrets.token_hex(8)
        self._marker = lambda name: f"@@{nonce}:{name}@@"
        self._hole = re.compile(rf"@@{nonce}:(\w+)@@")
        context = {
            "edition": edition,
            "site_name": self.site_name,
            "site_url": f"{self.root_url}/",
            "stories": self._marker("stories"),
            "preferences_url": self._marker("preferences_url"),
            "unsubscribe_url": self._marker("unsubscribe_url"),
        }
        self.html_frame = self._compile("edition.html", context)
        self.text_frame = self._compile("edition.txt", context)
        self._cards: dict[int, tuple[Compiled, Compiled]] = {}
        self._escaped: dict[str, str] = {}

    def _compile(self, name: str, context: dict) -> Compiled:
        return Compiled(render_to_string(f"{TEMPLATES}/{name}", context), self._hole)

    def card(self, story_id: int) -> tuple[Compiled, Compiled]:
        compiled = self._cards.get(story_id)
        if compiled is None:
            context = {
                "story": self.stories[story_id],
                "url": self._marker("url"),
                "reason": self._marker("reason"),
            }
            compiled = self._cards[story_id] = (
                self._compile("edition_story.html", context),
                self._compile("edition_story.txt", context),
            )
        return compiled

    def _escape(self, text: str) -> str:
        # Reasons repeat across readers ("Because you follow Home"): escape each once.
        escaped = self._escaped.get(text)
        if escaped is None:
            escaped = self._escaped[text] = str(escape(text))
        return escaped

    def _url(self, url: str) -> str:
        # Our links are the site's root and a signed token: nothing to escape, and
        # checking is cheaper than escaping twelve times per email.
        return url if _PLAIN_URL.fullmatch(url) else str(escape(url))

    def render(
        self, slots: Sequence[Slot], *, preferences_url: str, unsubscribe_url: str
    ) -> tuple[str, str]:
        """The (text, html) bodies of one reader's email."""
        html_cards, text_cards = [], []
        card = self._cards.get
        for story_id, url, reason in slots:
            html_card, text_card = card(story_id) or self.card(story_id)
            html_cards.append(html_card.fill(url=self._url(url), reason=self._escape(reason)))
            text_cards.append(text_card.fill(url=url, reason=reason))
        html = self.html_frame.fill(
            stories="".join(html_cards),
            preferences_url=self._url(preferences_url),
            unsubscribe_url=self._url(unsubscribe_url),
        )
        text = self.text_frame.fill(
            stories="".join(text_cards),
            preferences_url=preferences_url,
            unsubscribe_url=unsubscribe_url,
        )
        return text, html


# --- The message ---------------------------------------------------------------------------
@dataclass
class Email:
    """One newsletter email, ready to become MIME (``as_bytes``) or a Django message."""

    subject: str
    from_email: str
    to: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    def django_message(self, connection=None) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            self.subject,
            self.text,
            self.from_email,
            [self.to],
            headers=dict(self.headers),
            connection=connection,
        )
        message.attach_alternative(self.html, "text/html")
        return message


class MessageFrame:
    """The parts of the MIME message every email of an edition shares, encoded once."""

    def __init__(self, subject: str, from_email: str):
        # Editors type the subject: a line break in it must not start a new header.
        subject = " ".join(subject.split())
        self.from_email = from_email
        self.envelope_from = sanitize_address(from_email, "utf-8")
        self.boundary = f"=_storyloom_{secrets.token_hex(12)}"  # "=_" never occurs in QP
        self.head = (
            f"From: {_header(self.envelope_from)}\r\nSubject: {_header(subject)}\r\n"
        ).encode("ascii")
        self.part_heads = {
            (kind, encoding): (
                f'\r\n--{self.boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
                f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
            ).encode("ascii")
            for kind in ("plain", "html")
            for encoding in ("7bit", "8bit", "quoted-printable")
        }
        self.tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self.content_type = (
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n"
            f' boundary="{self.boundary}"\r\n\r\n'
        ).encode("ascii")

    def as_bytes(self, email: Email, *, date: str | None = None) -> bytes:
        """The RFC 5322 message, CRLF line ends. Bodies go as they are (7bit, or 8bit
        UTF-8, as Django sends them) unless a line is too long for SMTP (998 octets);
        then quoted-printable."""
        head = [
            self.head,
            f"To: {_header(address(email.to))}\r\n".encode("ascii"),
            f"Date: {date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n".encode(),
        ]
        for name, value in email.headers.items():
            if "\n" in value or "\r" in value:
                raise ValueError(f"header {name} holds a line break")
            head.append(f"{name}: {_header(value)}\r\n".encode("ascii"))
        text_encoding, text = _body(email.text)
        html_encoding, html = _body(email.html)
        return b"".join(
            (
                *head,
                self.content_type,
                self.part_heads["plain", text_encoding],
                text,
                self.part_heads["html", html_encoding],
                html,
                self.tail,
            )
        )


def address(value: str) -> str:
    """An address as it goes into To and RCPT TO. Django's ``sanitize_address`` (IDNA
    domain, encoded display name) where it can change anything; a plain ASCII address
    as it is, since sanitizing costs more than the rest of the message."""
    if value.isascii() and not any(c in value for c in '<>"\r\n,;() '):
        return value
    return sanitize_address(value, "utf-8")


#: SMTP's limit on a line, without its CRLF (RFC 5321 §4.5.3.1.6).
MAX_LINE = 998


def _body(text: str) -> tuple[str, bytes]:
    """``(Content-Transfer-Encoding, CRLF bytes)`` for one body."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode("utf-8")
    if len(data) <= MAX_LINE or max(map(len, data.split(b"\n"))) <= MAX_LINE:
        return ("7bit" if data.isascii() else "8bit"), data.replace(b"\n", b"\r\n")
    return "quoted-printable", binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


def _header(value: str) -> str:
    """A header value in ASCII: RFC 2047 encoded words when it holds anything else."""
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")
