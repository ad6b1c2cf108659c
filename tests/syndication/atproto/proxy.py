"""A proxy in front of a PDS that forwards everything and can lose the answers to creates.

With ``drop_creates`` set, a ``com.atproto.repo.createRecord`` is forwarded, the PDS
writes the record and answers, and the proxy closes the client's connection without
passing the answer on: the "sent, answer lost" case exactly-once publishing is about.
With ``hold_creates`` (seconds), the answer is passed on that much later: past the
client's timeout, the same case seen from a client that stopped waiting. With
``fail_creates`` (a count), that many creates are answered 502 by the proxy itself and
never reach the PDS: a gateway error, nothing written.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CREATE = "/xrpc/com.atproto.repo.createRecord"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class LossyProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.drop_creates = False
        self.hold_creates = 0.0
        self.fail_creates = 0
        #: (method, path, status, whether a create's answer was being held meanwhile)
        self.forwarded: list[tuple[str, str, int, bool]] = []
        self.holding = 0
        self.dropped = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                proxy.forward(self)

            def do_POST(self):
                proxy.forward(self)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        while_held = self.holding > 0
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        if self.fail_creates and handler.path.split("?", 1)[0] == CREATE:
            self.fail_creates -= 1
            self.forwarded.append((handler.command, CREATE, 502, while_held))
            handler.send_response(502)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=30
        )
        try:
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        path = handler.path.split("?", 1)[0]
        self.forwarded.append((handler.command, path, answer.status, while_held))
        if self.drop_creates and path == CREATE:
            # Written on the PDS; the answer goes nowhere.
            self.dropped += 1
            handler.close_connection = True
            handler.connection.close()
            return
        if self.hold_creates and path == CREATE:
            self.holding += 1
            time.sleep(self.hold_creates)
            self.holding -= 1
        handler.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
