"""The AT Protocol reference network, started once per test session.

Missing Node.js, the npm package, PostgreSQL or Redis skips these tests on a developer's
machine and fails them under CI=true (``tests.conftest.require_service``).
"""

import logging

import pytest

from tests.conftest import require_service
from tests.integration.conftest import redis_is_up, redis_url

from . import network

logger = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def atproto_network(tmp_path_factory):
    missing = network.missing_tools()
    require_service(not missing, missing)
    database = network.database_url()
    unreachable = network.ensure_database(database)
    require_service(not unreachable, unreachable)
    redis = redis_url()
    require_service(redis_is_up(redis), f"Redis at {redis}")
    parts = redis.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    folder = tmp_path_factory.mktemp("atproto")
    started = network.start(redis_host=parts, tmp=folder, log=folder / "network.log")
    logger.warning("dev-env started in %.1f s", started.started_in)
    yield started
    started.stop()


@pytest.fixture
def atproto(atproto_network, settings):
    """The network, with Storyloom's settings pointed at it: its PLC directory, and its
    PDS asked to resolve the ``.test`` handles no public DNS knows."""
    settings.BLUESKY_PLC_URL = atproto_network.plc
    settings.BLUESKY_HANDLE_RESOLVER = atproto_network.pds
    return atproto_network
