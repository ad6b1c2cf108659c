"""The demo network: the Mastodon test server (``syndication.testing``) on a fixed port
of 127.0.0.1, its state kept in ``var/demo-network.json`` so it survives restarts.

``make run`` serves it (``manage.py demo_network``, a line of ``Procfile.dev``);
``load_demo`` starts it in its own process for the moment it needs it (connecting the
demo brand account, publishing, the audience's replies) when nothing else holds the
port. Its title and the brand account's display name say plainly what it is, so the
admin never passes it off as a real server.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
import socket
from collections import defaultdict
from pathlib import Path

from django.conf import settings

from syndication.testing.mastodon_server import MastodonTestServer

LABEL = "Demo network (local, not a real server)"
DEFAULT_PORT = 8020
BRAND = "larkspur"
BRAND_NAME = f"Larkspur Mutual · {LABEL}"

logger = logging.getLogger(__name__)


def port() -> int:
    """The fixed port (``STORYLOOM_DEMO_NETWORK_PORT``, else ``DEMO_NETWORK_PORT``); 0 in
    tests: any free port, and nothing kept on disk."""
    value = os.environ.get("STORYLOOM_DEMO_NETWORK_PORT")
    if value is None or value == "":
        return int(getattr(settings, "DEMO_NETWORK_PORT", DEFAULT_PORT))
    return int(value)


def url() -> str:
    return f"http://127.0.0.1:{port()}"


def state_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-network.json"


def port_in_use(number: int | None = None) -> bool:
    number = port() if number is None else number
    if not number:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", number)) == 0


class DemoNetwork(MastodonTestServer):
    """The test server with a memory: every change is written to ``path`` (atomically)."""

    _KEPT = ("_apps", "_accounts", "_tokens", "_statuses", "_media")

    def __init__(self, path: Path | None = None, *, bind: int | None = None):
        bind = port() if bind is None else bind
        # On a fixed port the state is kept; on any free one (tests) it lives in memory.
        self.path = Path(path or state_path()) if bind or path else None
        super().__init__(title=LABEL, usernames=(), port=bind)
        if self.path is not None and self.path.exists():
            self._restore()
        if not any(a["username"] == BRAND for a in self._accounts.values()):
            self.create_account(BRAND, BRAND_NAME)
        # Connecting from the admin signs in as the brand, no consent page to click.
        self.auto_approve, self.approve_as = True, BRAND
        self.save()

    # --- Keeping the state ---------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            state = {name: _plain(getattr(self, name)) for name in self._KEPT}
            state["_favourites"] = {k: list(map(list, v)) for k, v in self._favourites.items()}
            state["_reblogs"] = {k: list(map(list, v)) for k, v in self._reblogs.items()}
        return state

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.snapshot()))
        partial.replace(self.path)

    def _restore(self) -> None:
        """Load the kept state; an unreadable file (cut short, edited by hand, another
        version's shape) is set aside as ``*.unreadable`` and the network starts empty,
        rather than stopping ``make run`` at every start."""
        try:
            self._load(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            kept = self.path.with_suffix(".unreadable")
            self.path.replace(kept)
            logger.warning(
                "demo network: %s was unreadable (%s); set aside as %s", self.path, exc, kept
            )
            self._load({})

    def _load(self, state: dict) -> None:
        with self.lock:
            self._apps = state.get("_apps", {})
            self._accounts = state.get("_accounts", {})
            self._tokens = {
                token: {**data, "scopes": set(data["scopes"])}
                for token, data in state.get("_tokens", {}).items()
            }
            self._statuses = state.get("_statuses", {})
            self._media = {
                key: _bytes_back(record) for key, record in state.get("_media", {}).items()
            }
            for name in ("_favourites", "_reblogs"):
                table = defaultdict(list)
                table.update({k: [tuple(row) for row in v] for k, v in state.get(name, {}).items()})
                setattr(self, name, table)
            # Counters carry on after the largest id kept.
            self._account_ids = itertools.count(_after(self._accounts, 1))
            self._status_ids = itertools.count(_after(self._statuses, 113_000_000_000_000_001))
            self._media_ids = itertools.count(_after(self._media, 110_000_000_000_000_001))
            rows = [
                row[0]
                for table in (self._favourites, self._reblogs)
                for v in table.values()
                for row in v
            ]
            self._ordinals = itertools.count(max(rows, default=0) + 1)

    def handle(self, request):
        reply = super().handle(request)
        if request.method == "POST":
            self.save()
        return reply


def _after(table: dict, first: int) -> int:
    return max((int(key) for key in table), default=first - 1) + 1


def _plain(value):
    """JSON-ready: sets as lists, bytes as base64 (media kept by the server)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, set | tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    return value


def _bytes_back(record):
    if isinstance(record, dict):
        if set(record) == {"__bytes__"}:
            return base64.b64decode(record["__bytes__"])
        return {key: _bytes_back(item) for key, item in record.items()}
    if isinstance(record, list):
        return [_bytes_back(item) for item in record]
    return record


@contextlib.contextmanager
def running(path: Path | None = None, *, bind: int | None = None):
    """The demo network served from this process while the block runs, saved after."""
    network = DemoNetwork(path, bind=bind)
    network.start()
    try:
        yield network
    finally:
        network.save()
        network.stop()
