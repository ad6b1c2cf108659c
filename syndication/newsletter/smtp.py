"""Exactly once over SMTP: the message's end is sent only after the database says so.

SMTP has no idempotency key. If a worker dies after the server accepted a message but
before the database recorded it, a resume sends a second copy; if the database says
"sent" first and the worker dies before sending, someone is skipped. The server only
accepts a message when it reads the line holding a single dot that ends the DATA
(RFC 5321 §4.1.1.4); until then it discards whatever it got when the connection drops.
So ``CommittedSMTPBackend`` sends each message in two halves around the commit:

1. ``MAIL FROM``, ``RCPT TO``, ``DATA`` and the whole dot-stuffed body, without the
   final ``.`` line;
2. ``ledger.commit(key, ended)`` — the caller's conditional UPDATE, in its own
   transaction, recording this one message as *uncertain* (its dot is about to go);
3. the ``.`` line, in one ``send()`` right after; the next commit (or ``ledger.ended``
   at the end of the group) records that the dot was handed to the kernel: *sent*.

Killed before the commit: the server never saw the end of the data and throws the
message away, the delivery is not committed and the resume sends it. Killed between
the commit and the record of the dot: that one delivery stays *uncertain* — at most
one email arrived, and the edition lists it for a person to decide. Killed later: the
dot is in the kernel's hands, which deliver it even when the process dies.

To amortise round trips, messages still go out in *groups* over several connections:
every connection carries one message up to its last line (pipelined where the server
allows), then the messages are committed and ended **one at a time**, so at most one
message per sending process is ever uncertain. ``commit`` says whether this process
won the message: one another worker already settled is abandoned by dropping its
connection mid-DATA (RSET is not a command inside DATA), which makes the server discard
it. What is left is documented in docs/newsletter.md ("Sending").

Connection handling, STARTTLS, SSL and authentication are Django's
(``django.core.mail.backends.smtp.EmailBackend``); this class only adds the sending.
"""

import contextlib
import enum
import re
import smtplib
import socket
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

_EOL = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
END_OF_DATA = b".\r\n"
#: The replies MAIL, RCPT and DATA must get to go on.
EXPECTED = ((250,), (250, 251), (354,))


def wire_body(data: bytes, *, crlf: bool = False) -> bytes:
    """``data`` as it travels inside DATA: CRLF line ends, leading dots doubled, a final
    CRLF, and *without* the terminating ``.`` line. ``crlf``: the lines already end
    in CRLF and nothing else (spares a pass over the message)."""
    if not crlf:
        data = _EOL.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Result(enum.Enum):
    """What became of one message; the caller maps each to a delivery state."""

    #: The server accepted it (250 to the final dot). The database already says sent.
    ACCEPTED = "accepted"
    #: ``commit`` said someone else settled this delivery: nothing was sent.
    TAKEN = "taken"
    #: Refused for good before the commit (5xx to MAIL/RCPT/DATA): nothing was sent.
    REFUSED = "refused"
    #: Refused for now before the commit (4xx), or the connection failed before the
    #: commit: nothing was sent, it can be tried again.
    DEFERRED = "deferred"
    #: Committed, then the server answered the final dot with 5xx: not delivered.
    BOUNCED = "bounced"
    #: Committed, then the server answered the final dot with 4xx: not delivered, retry.
    DEFERRED_AFTER_COMMIT = "deferred after commit"
    #: Committed, then the connection broke while the dot went out or before its reply:
    #: the server may or may not have it. Never sent again on its own.
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire: ``data`` is the whole RFC 5322 message."""

    key: Hashable
    from_addr: str
    recipients: tuple[str, ...]
    data: bytes
    #: Every line of ``data`` ends in CRLF (``rendering.MessageFrame`` makes it so).
    crlf: bool = False


@dataclass(frozen=True)
class Outcome:
    result: Result
    code: int | None = None
    reason: str = ""

    @property
    def sent(self) -> bool:
        return self.result is Result.ACCEPTED


class _Refused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Ledger(Protocol):
    """Where the caller records the messages of a group, one at a time."""

    def commit(self, key: Hashable, ended: Sequence[Hashable]) -> bool:
        """Durably record ``key`` as about to be ended (uncertain) and ``ended`` — whose
        final dots went to the kernel since the last call — as sent, in one commit.
        False: ``key`` was settled elsewhere and must not be finished."""

    def ended(self, keys: Sequence[Hashable]) -> None:
        """Record ``keys`` as sent: their final dots went to the kernel."""


class _Callback:
    """A ``Ledger`` over ``commit(keys) -> keys won`` (``send_committed``, tests)."""

    def __init__(self, commit: Callable[[list[Hashable]], set[Hashable]]):
        self._commit = commit

    def commit(self, key, ended) -> bool:
        return key in self._commit([key])

    def ended(self, keys) -> None:
        pass


def _reason(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}".strip()


class CommittedSMTPBackend(EmailBackend):
    """Django's SMTP backend plus ``send_committed``: one message, or a group, each of
    whose ends of data goes out only after its own commit returned.

    ``connections`` (default ``NEWSLETTER_SMTP_CONNECTIONS``) is how many connections a
    group spreads over: how many messages wait, streamed up to their last line, for
    their turn to be committed and ended. Plain ``send_messages``
    still works as in Django, over the first connection.
    """

    def __init__(self, *args, connections: int | None = None, **kwargs):
        kwargs.setdefault("timeout", settings.NEWSLETTER_SMTP_TIMEOUT)
        super().__init__(*args, **kwargs)
        self.width = max(1, connections or settings.NEWSLETTER_SMTP_CONNECTIONS)
        self._lines: list[smtplib.SMTP | None] = [None] * self.width
        #: Messages each connection has carried to their end.
        self._used = [0] * self.width

    # --- Connections ----------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        """A new connection set up by Django's ``open()`` (TLS, login), then EHLO."""
        saved, self.connection = self.connection, None
        try:
            self.open()
            line, self.connection = self.connection, saved
        except BaseException:
            self.connection = saved
            raise
        if line is None:  # fail_silently swallowed the error
            raise smtplib.SMTPConnectError(-1, "could not connect")
        line.ehlo_or_helo_if_needed()
        # Small writes (the dot) must leave at once, not wait for an ACK (Nagle).
        line.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return line

    def _line(self, index: int) -> smtplib.SMTP:
        line = self._lines[index]
        if line is None:
            line = self._lines[index] = self._connect()
            self._used[index] = 0
        return line

    def _drop(self, index: int) -> None:
        """Close a connection without a word: mid-DATA, that makes the server discard
        the unfinished message."""
        line, self._lines[index] = self._lines[index], None
        self._used[index] = 0
        if line is not None:
            line.close()

    def abandon(self) -> None:
        """Drop every connection at once (nothing unfinished is delivered)."""
        for index in range(self.width):
            self._drop(index)

    def close(self):
        for index, line in enumerate(self._lines):
            if line is not None:
                self._lines[index] = None
                self._close_connection(line)
        super().close()

    # --- Sending ------------------------------------------------------------------------
    @staticmethod
    def outgoing(message, key: Hashable = None) -> Outgoing:
        """An ``Outgoing`` from a Django ``EmailMessage`` (its own MIME, as Django builds it)."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        return Outgoing(
            key=key,
            from_addr=sanitize_address(message.from_email, encoding),
            recipients=tuple(sanitize_address(a, encoding) for a in message.recipients()),
            data=message.message().as_bytes(linesep="\r\n"),
        )

    def send_committed(self, message, commit: Callable[[], bool]) -> Outcome:
        """Send one Django ``EmailMessage``; ``commit()`` records it as sent (True) or
        finds it already settled (False: nothing is sent)."""
        item = message if isinstance(message, Outgoing) else self.outgoing(message, key=0)
        ledger = _Callback(lambda keys: set(keys) if commit() else set())
        return self.send_committed_group([item], ledger)[item.key]

    def send_committed_group(
        self, messages: Sequence[Outgoing], ledger: "Ledger | Callable"
    ) -> dict[Hashable, Outcome]:
        """Send up to ``width`` messages, each committed on its own between its body
        and its final dot (``ledger``; a plain ``commit(keys) -> keys won`` callable
        works too). Every message gets an ``Outcome``.

        Connection failures before the commit only defer the message concerned; a
        failure to connect at all raises (``OSError``/``SMTPException``) with nothing
        committed. An exception from the ledger drops the connections (nothing
        unfinished is delivered) and propagates.
        """
        if len(messages) > self.width:
            raise ValueError(f"at most {self.width} messages per group, got {len(messages)}")
        if not hasattr(ledger, "ended"):
            ledger = _Callback(ledger)
        outcomes: dict[Hashable, Outcome] = {}
        ready: list[tuple[int, Outgoing]] = []
        waiting: list[tuple[int, Outgoing]] = []

        def attempt(index, item, step, then: list, *, again: bool = True) -> None:
            reused = self._used[index] > 0
            try:
                step(self._lines[index], item)
            except _Refused as refused:
                result = Result.DEFERRED if 400 <= refused.code < 500 else Result.REFUSED
                outcomes[item.key] = Outcome(result, refused.code, refused.reason)
                self._reset(index)
            except (OSError, smtplib.SMTPException) as error:
                self._drop(index)
                if again and reused:
                    # Servers close connections they have carried enough mail over, or
                    # that idled: one new connection, the plain sequence, no retry count.
                    self._line(index)
                    attempt(index, item, self._begin_in_turn, ready, again=False)
                    return
                outcomes[item.key] = Outcome(
                    Result.DEFERRED, None, f"Connection failed before sending: {error}"
                )
            else:
                then.append((index, item))

        # Where the server pipelines (RFC 2920), every connection's envelope goes out
        # before any reply is awaited, so the round trips overlap; then the bodies.
        for index, item in enumerate(messages):
            line = self._line(index)  # a server that cannot be reached at all: raise
            pipelining = line.does_esmtp and line.has_extn("pipelining")
            if pipelining:
                attempt(index, item, self._send_envelope, then=waiting)
            else:
                attempt(index, item, self._begin_in_turn, then=ready)
        for index, item in waiting:
            attempt(index, item, self._finish_envelope, then=ready)
        if not ready:
            return outcomes

        # One message at a time: commit it, then its dot and nothing else. The next
        # commit also records the dots that went out since, so at any moment at most
        # one message of this process is committed with its dot unrecorded.
        ending: list[tuple[int, Outgoing]] = []
        ended: list[Hashable] = []
        try:
            for index, item in ready:
                won = ledger.commit(item.key, ended)
                ended = []
                if not won:
                    outcomes[item.key] = Outcome(Result.TAKEN, None, "Already settled elsewhere.")
                    self._drop(index)
                    continue
                try:
                    self._lines[index].sock.sendall(END_OF_DATA)
                except OSError as error:
                    outcomes[item.key] = Outcome(
                        Result.UNCERTAIN, None, f"Connection lost while ending the message: {error}"
                    )
                    self._drop(index)
                else:
                    ended.append(item.key)
                    ending.append((index, item))
            ledger.ended(ended)
            ended = []
        except BaseException:
            if ended:  # what did go out is not left uncertain if it can be helped
                with contextlib.suppress(Exception):  # the first error is the one to raise
                    ledger.ended(ended)
            self.abandon()
            raise

        for index, item in ending:
            try:
                code, message = self._lines[index].getreply()
            except (OSError, smtplib.SMTPException) as error:
                outcomes[item.key] = Outcome(
                    Result.UNCERTAIN, None, f"No reply after the end of the message: {error}"
                )
                self._drop(index)
                continue
            self._used[index] += 1
            if code == 250:
                outcomes[item.key] = Outcome(Result.ACCEPTED, code)
            elif 400 <= code < 500:
                outcomes[item.key] = Outcome(
                    Result.DEFERRED_AFTER_COMMIT, code, _reason(code, message)
                )
            else:
                outcomes[item.key] = Outcome(Result.BOUNCED, code, _reason(code, message))
        return outcomes

    @staticmethod
    def _envelope(line: smtplib.SMTP, item: Outgoing) -> tuple[str, str]:
        if len(item.recipients) != 1:
            # One recipient per message: a partial RCPT refusal has no clean outcome.
            raise ValueError("a committed message has exactly one recipient")
        sender = _quote(item.from_addr)
        if not item.data.isascii() and line.has_extn("8bitmime"):
            sender += " BODY=8BITMIME"  # RFC 6152
        return sender, _quote(item.recipients[0])

    def _send_envelope(self, line: smtplib.SMTP, item: Outgoing) -> None:
        """MAIL, RCPT and DATA in one write; their replies are read by ``_finish_envelope``."""
        sender, recipient = self._envelope(line, item)
        line.send(f"MAIL FROM:{sender}\r\nRCPT TO:{recipient}\r\nDATA\r\n")

    def _finish_envelope(self, line: smtplib.SMTP, item: Outgoing) -> None:
        """The three replies, in order; then the body without its final dot."""
        replies = [line.getreply() for _ in range(3)]
        data_open = replies[2][0] == 354
        for (code, message), wanted in zip(replies, EXPECTED, strict=True):
            if code not in wanted:
                if data_open:
                    # DATA opened after a refused MAIL or RCPT (a server that does not
                    # follow RFC 2920): only dropping the connection ends it safely.
                    raise OSError(f"DATA opened after a refusal: {_reason(code, message)}")
                raise _Refused(code, _reason(code, message))
        line.send(wire_body(item.data, crlf=item.crlf))

    def _begin_in_turn(self, line: smtplib.SMTP, item: Outgoing) -> None:
        """MAIL, RCPT, DATA one reply at a time, then the body without its final dot."""
        sender, recipient = self._envelope(line, item)
        for command, wanted in zip(
            (f"MAIL FROM:{sender}", f"RCPT TO:{recipient}", "DATA"), EXPECTED, strict=True
        ):
            code, message = line.docmd(command)
            if code not in wanted:
                raise _Refused(code, _reason(code, message))
        line.send(wire_body(item.data, crlf=item.crlf))

    def _reset(self, index: int) -> None:
        try:
            self._lines[index].rset()
        except (OSError, smtplib.SMTPException):
            self._drop(index)


_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"]+@[^\s<>()\[\]\\,;:\"@]+")


def _quote(address: str) -> str:
    """``<address>`` for the envelope: smtplib's ``quoteaddr`` parses every address,
    which a plain ``local@domain`` does not need."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)
