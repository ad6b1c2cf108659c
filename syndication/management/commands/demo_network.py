"""Serve the demo network in the foreground (``make run`` starts it; Procfile.dev)."""

import signal
import threading

from django.core.management.base import BaseCommand

from syndication.demo import network as demo_network


class Command(BaseCommand):
    help = (
        "Serve the demo network: the Mastodon test server on a fixed 127.0.0.1 port "
        "(STORYLOOM_DEMO_NETWORK_PORT, default 8020), its state kept in "
        "var/demo-network.json. Local and for the demo only: not a real server."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        network = demo_network.DemoNetwork()
        try:
            network.start()
        except OSError as exc:
            # Idle rather than exit: honcho would stop the web server and workers with it.
            self.stderr.write(
                f"The demo network could not listen on {demo_network.url()} ({exc}); "
                "set DEMO_NETWORK_PORT (make run) or STORYLOOM_DEMO_NETWORK_PORT to a free one."
            )
            stop.wait()
            return
        self.stdout.write(
            f"{demo_network.LABEL} on {network.url}: the demo brand is @{demo_network.BRAND} "
            f"({network.url}/@{demo_network.BRAND})."
        )
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            network.save()
            network.stop()
