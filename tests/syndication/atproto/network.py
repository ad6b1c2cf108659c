"""The AT Protocol reference network (``@atproto/dev-env``) as a child process.

``tests/atproto/network.js`` starts a PLC directory, a PDS and an AppView (with the
Ozone moderation service dev-env always adds) and prints one JSON line describing them.
The AppView keeps its tables in PostgreSQL, in schemas named after this run, dropped
when the network stops; the PDS keeps SQLite files under a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import string
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "tests" / "atproto"
START_TIMEOUT = 120.0
#: dev-env's schemas must be letters and underscores only.
_SCHEMA_LETTERS = string.ascii_lowercase


def database_url() -> str:
    """Where dev-env keeps its tables: ``ATPROTO_DATABASE_URL``, else the server of
    ``DATABASE_URL`` (when PostgreSQL) with a database of its own, ``storyloom_atproto``."""
    explicit = os.environ.get("ATPROTO_DATABASE_URL")
    if explicit:
        return explicit
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(url)._replace(path="/storyloom_atproto"))


def ensure_database(url: str) -> str:
    """Create the database of ``url`` when missing; "" when it is there, else why not."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=3) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} ({error.__class__.__name__})"
    return ""


def drop_schemas(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as connection:
        for prefix in ("appview", "ozone"):
            connection.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{schema}" CASCADE')


def schema_name() -> str:
    """``storyloom_<pid>_<random>``, the pid of this test run in letters (dev-env allows
    only letters and underscores), so a later run can tell a run that was killed."""
    suffix = "".join(secrets.choice(_SCHEMA_LETTERS) for _ in range(6))
    return f"storyloom_{_letters(os.getpid())}_{suffix}"


def drop_abandoned_schemas(url: str) -> None:
    """Drop the schemas of runs on this machine whose process is gone (killed before
    they could drop their own)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as connection:
        names = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'appview_storyloom_%'"
        ).fetchall()
    for (name,) in names:
        schema = name.removeprefix("appview_")
        parts = schema.split("_")
        if len(parts) == 3 and not _alive(_number(parts[1])):
            drop_schemas(url, schema)


def _letters(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 26)
        digits = _SCHEMA_LETTERS[digit] + digits
        if not number:
            return digits


def _number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + _SCHEMA_LETTERS.index(letter)
    return number


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def missing_tools() -> str:
    """Why the network cannot start here ("" when it can)."""
    if not shutil.which("node"):
        return "Node.js (node, 18 or newer)"
    if not (PACKAGE / "node_modules" / "@atproto" / "dev-env").is_dir():
        return "@atproto/dev-env (make test installs it: npm ci --prefix tests/atproto)"
    return ""


@dataclass
class DevNetwork:
    pds: str
    plc: str
    appview: str
    accounts: dict
    started_in: float
    process: subprocess.Popen = field(repr=False)
    database_url: str = field(repr=False)
    schema: str = field(repr=False)

    def process_all(self, timeout: float = 30.0) -> None:
        """Have the AppView index everything the PDS has written so far."""
        self.process.stdin.write("process\n")
        self.process.stdin.flush()
        line = _read_line(self.process, timeout)
        if line.strip() != "processed":
            raise AssertionError(f"dev-env could not process its events: {line!r}")

    def stop(self) -> None:
        """Close stdin (the script closes every server), then signal, then kill."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        drop_schemas(self.database_url, self.schema)


def start(*, redis_host: str, tmp: Path, log: Path) -> DevNetwork:
    url = database_url()
    drop_abandoned_schemas(url)
    schema = schema_name()
    env = {
        **os.environ,
        "DB_POSTGRES_URL": url,
        "DB_POSTGRES_SCHEMA": schema,
        "REDIS_HOST": redis_host,
        # The PDS's SQLite files and blobs go here, removed with pytest's temporary files.
        "TMPDIR": str(tmp),
        "LOG_ENABLED": "false",
        "NODE_NO_WARNINGS": "1",
    }
    started = time.monotonic()
    with log.open("w") as errors:
        process = subprocess.Popen(
            ["node", "network.js"],
            cwd=PACKAGE,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
    try:
        info = json.loads(_read_line(process, START_TIMEOUT))
    except (AssertionError, ValueError) as error:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        drop_schemas(url, schema)
        raise AssertionError(
            f"dev-env did not start: {error}\n{log.read_text()[-3000:]}"
        ) from error
    return DevNetwork(
        pds=info["pds"],
        plc=info["plc"],
        appview=info["appview"],
        accounts=info["accounts"],
        started_in=time.monotonic() - started,
        process=process,
        database_url=url,
        schema=schema,
    )


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no answer from dev-env within {timeout:g} s")
    line = process.stdout.readline()
    if not line:
        raise AssertionError(f"dev-env exited (status {process.poll()})")
    return line
