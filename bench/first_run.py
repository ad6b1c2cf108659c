"""A newcomer's first run: a fresh clone, ``make run``, seconds until the site answers 200.

    .venv/bin/python bench/first_run.py [--repo PATH] [--timeout SECONDS] [--keep]

Clones the repository's committed ``HEAD`` (``--repo``, this checkout by default) into a
temporary folder and runs ``make run`` there as someone who just cloned it would: no
``DATABASE_URL``, ``REDIS_URL`` or ``STORYLOOM_VAR_DIR`` (SQLite and the file broker under
the clone's ``var/``), free ports for the site and the demo network. Packages come from
the machine's warm package cache (pip's cache, its ``find-links``), as on a second clone.

Every line ``make run`` prints is timed, so the report splits the total into its steps
(the virtual environment, installing, migrating, the demo, the processes starting) and
says how long after the start ``/`` first answered 200, with the CPU time all of it
took (the wall clock depends on who else is using the machine: the load average is
reported too). Then it stops everything as
Ctrl-C does (SIGINT to the process group; SIGKILL only for what is left 30 s later) and
says whether that was clean. Nothing is kept unless ``--keep``.
"""

import argparse
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

#: Steps of ``make run``, each known by the first line it prints.
STEPS = [
    ("virtual environment", "-m venv"),
    ("install", "pip install"),
    ("migrate", "manage.py migrate"),
    ("load_demo", "manage.py load_demo"),
    ("processes start", "honcho -f Procfile.dev start"),
]
STOP_SECONDS = 30


class Transcript:
    """``make run``'s output, each line with the seconds since the start."""

    def __init__(self, stream, started: float, path: Path):
        self.lines: list[tuple[float, str]] = []
        self.started = started
        self._file = path.open("w")
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            at = time.monotonic() - self.started
            self.lines.append((at, line))
            self._file.write(f"{at:7.1f} {line}\n")
            self._file.flush()

    def first(self, marker: str) -> float | None:
        return next((at for at, line in self.lines if marker in line), None)

    def close(self):
        self._thread.join(timeout=5)
        self._file.close()


def answers_200(port: int) -> bool:
    connection = http.client.HTTPConnection(common.HOST, port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((common.HOST, port)) == 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen, ports: list[int]) -> dict:
    """Ctrl-C for the whole process group; what was left after ``STOP_SECONDS``."""
    began = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    ends = began + STOP_SECONDS
    # poll() first: ``make`` is this process's child, a zombie in its group until reaped.
    while time.monotonic() < ends and (process.poll() is None or group_alive(process.pid)):
        time.sleep(0.2)
    clean = not group_alive(process.pid)
    if not clean:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return {
        "stopped_cleanly": clean,
        "stop_seconds": round(time.monotonic() - began, 1),
        "ports_left_open": [port for port in ports if port_open(port)],
    }


def run(args) -> dict:
    repo = Path(args.repo).resolve()
    folder = Path(tempfile.mkdtemp(prefix="storyloom-first-run-"))
    clone = folder / "storyloom"
    process = None
    try:
        subprocess.run(
            ["git", "clone", "--quiet", str(repo), str(clone)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        head = subprocess.run(
            ["git", "-C", str(clone), "log", "-1", "--format=%h"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port, demo_port = common.free_port(), common.free_port()
        env = common.inherited_env(
            [*common.STRIPPED_ENV, "STORYLOOM_VAR_DIR", "VIRTUAL_ENV", "PAGE_CACHE_ENABLED"]
        )
        env["PYTHONUNBUFFERED"] = "1"
        common.log(f"make run in {clone} (HEAD {head}), site on port {port}")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = before.ru_utime + before.ru_stime
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}", f"DEMO_NETWORK_PORT={demo_port}"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        transcript = Transcript(process.stdout, started, folder / "make-run.log")
        first_200 = None
        while time.monotonic() - started < args.timeout:
            if process.poll() is not None:
                break
            if answers_200(port):
                first_200 = time.monotonic() - started
                break
            time.sleep(0.25)
        stopped = stop(process, [port, demo_port])
        transcript.close()
        # Every process make run started has ended and been waited for: their CPU time,
        # which says more than the wall clock on a machine others are using too.
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = round(used.ru_utime + used.ru_stime - cpu_before, 1)
        load = os.getloadavg()[0]
        if first_200 is None:
            sys.stderr.write("\n".join(line for _, line in transcript.lines[-40:]) + "\n")
            raise common.BenchError(
                f"no 200 from / within {args.timeout:.0f}s (make exited with {process.returncode})"
                if process.returncode is not None
                else f"no 200 from / within {args.timeout:.0f}s"
            )
        marks = [(name, transcript.first(marker)) for name, marker in STEPS]
        marks = [(name, at) for name, at in marks if at is not None]
        steps = {}
        for (name, at), following in zip(marks, [*marks[1:], ("", first_200)], strict=True):
            steps[name] = round(following[1] - at, 1)
        report = {
            "commit": head,
            "first_200_seconds": round(first_200, 1),
            "steps_seconds": steps,
            "before_first_step_seconds": round(marks[0][1], 1) if marks else None,
            "cpu_seconds": cpu,
            "load_average_1m": [round(load_before, 1), round(load, 1)],
            "cpus": os.cpu_count(),
            **stopped,
        }
        rows = [("commit", head), ("first 200 (s)", report["first_200_seconds"])]
        rows += [(f"  {name} (s)", seconds) for name, seconds in steps.items()]
        rows += [
            ("CPU, all processes (s)", cpu),
            ("load average, start/end", f"{load_before:.1f} / {load:.1f} on {os.cpu_count()} CPUs"),
            ("stopped cleanly", stopped["stopped_cleanly"]),
            ("ports left open", stopped["ports_left_open"] or "none"),
        ]
        common.print_measures(rows)
        print(json.dumps(report))
        if args.keep:
            common.log(f"kept {folder} (make-run.log has the timed transcript)")
        return report
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(common.ROOT), help="the repository to clone")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for a 200")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its log")
    args = parser.parse_args()
    return common.run_main("first_run.py", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
