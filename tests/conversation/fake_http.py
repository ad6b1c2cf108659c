"""What the conversation's fake networks share: a threaded HTTP server on 127.0.0.1 that
hands every GET and POST to the fake's ``handle(request)``, started and stopped by
``with``."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeNetwork:
    """Subclasses set up their world, then call ``super().__init__()``, and define
    ``handle(request)`` (a ``BaseHTTPRequestHandler``)."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.handle(self)

            def do_POST(self):
                server.handle(self)

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def handle(self, request) -> None:  # pragma: no cover - every fake defines it
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
