"""Loaded into a test's Celery worker (``-I tests.integration.flush_hooks``): the test,
not the clock, decides where the flusher stops.

``FLUSH_HOOK_DIR`` names a folder and ``FLUSH_HOOK_HOLD`` a step and a batch number
(``write:3``: inside the third batch's transaction, rows written and not committed;
``ack:2``: the second batch committed and not yet acknowledged). When the worker gets
there it writes ``held`` into the folder and waits; the test then kills it, so every
kill lands exactly in the window it names, on a fast machine as on a loaded one.
Without the variables nothing is changed.
"""

import os
import time
from pathlib import Path

from syndication.engagement import flush

HOLD_SECONDS = 120

folder = os.environ.get("FLUSH_HOOK_DIR")
step, _, number = os.environ.get("FLUSH_HOOK_HOLD", "").partition(":")
reached = {"write": 0, "ack": 0}


def hold_at(name: str, original):
    def held(*args, **kwargs):
        reached[name] += 1
        if name == "write":
            result = original(*args, **kwargs)  # the rows are written, uncommitted
        if reached[name] == int(number):
            Path(folder, "held").write_text(f"{name}:{number}")
            time.sleep(HOLD_SECONDS)  # the test kills the process meanwhile
            raise SystemExit(f"the test did not kill the worker held at {name}:{number}")
        return result if name == "write" else original(*args, **kwargs)

    return held


if folder and step in reached:
    if step == "write":
        flush.write_batch = hold_at("write", flush.write_batch)
    else:
        flush.acknowledge = hold_at("ack", flush.acknowledge)
