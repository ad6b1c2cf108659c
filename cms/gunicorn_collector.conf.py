"""gunicorn settings for the event collector (Procfile's ``collector``).

The web process's settings (``gunicorn.conf.py``), then what differs: ``cms.asgi``
answers ``POST /e/`` on an event loop (``syndication.engagement.asgi``), so each
worker is a uvicorn one and one per core is enough; more would only take turns.
Environment overrides each.
"""

import os
import runpy
from pathlib import Path

web = runpy.run_path(str(Path(__file__).with_name("gunicorn.conf.py")))
globals().update((name, value) for name, value in web.items() if not name.startswith("__"))

wsgi_app = "cms.asgi:application"
bind = os.environ.get("COLLECTOR_BIND", "0.0.0.0:" + os.environ.get("COLLECTOR_PORT", "8001"))
worker_class = "uvicorn_worker.UvicornWorker"
workers = int(os.environ.get("COLLECTOR_CONCURRENCY") or web["cores"]())
threads = 1
