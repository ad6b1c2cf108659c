"""A real SMTP server in this process: aiosmtpd on 127.0.0.1 recording every message it
accepts, with scripted replies and a reply held back on demand, for the tests that send
over a socket (the newsletter's, the send_edition command's, the workers')."""

import datetime
import email
import email.policy
import socket
import threading

from django.utils import timezone

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SMTPRecorder:
    """aiosmtpd on 127.0.0.1 keeping every message it accepts; replies can be scripted.

    ``rcpt_replies`` / ``data_replies`` map a recipient to the reply its RCPT or its
    final dot gets instead of 250. ``hold_next()`` makes the server sit on the reply to
    the next final dot (the message already recorded as accepted) until ``release()``.
    """

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}
        self.lock = threading.Lock()
        self._hold = False
        self.held = threading.Event()
        self.held_message = None
        self._released = threading.Event()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.data_replies.get(envelope.rcpt_tos[0])
        if reply:
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            hold, self._hold = self._hold, False
        if hold:
            self.held_message = message
            self.held.set()
            await server.loop.run_in_executor(None, self._released.wait, 120)
        return "250 Message accepted for delivery"

    def hold_next(self) -> threading.Event:
        self.held.clear()
        self._released.clear()
        with self.lock:
            self._hold = True
        return self.held

    def release(self) -> None:
        self._released.set()

    def by_recipient(self) -> dict[str, list]:
        found: dict[str, list] = {}
        with self.lock:
            for message in self.messages:
                found.setdefault(str(message["To"]), []).append(message)
        return found

    def __enter__(self):
        self.port = free_port()
        self.controller = Controller(self, hostname=HOST, port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.controller.stop()


def wait_until(predicate, timeout=5.0):
    deadline = timezone.now() + datetime.timedelta(seconds=timeout)
    while timezone.now() < deadline:
        if predicate():
            return True
        threading.Event().wait(0.02)
    return predicate()


def received(server, made) -> dict[str, int]:
    return {to: len(found) for to, found in server.by_recipient().items()}
