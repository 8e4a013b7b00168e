from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.edgex.simulator import SimulatorServer
from bot.worker.loop import Worker
from storage.engine import Database
from tests.storage.databases import (  # noqa: F401 - fixtures
    database_url,
    db,
    engine_name,
    postgres_server,
    postgres_template,
    sqlite_db,
    sqlite_template,
)
from tests.worker.world import Sim, worker


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def sim(simulator: SimulatorServer) -> Iterator[Sim]:
    admin = Sim(simulator.url)
    admin.setup()
    yield admin
    admin.close()


@pytest.fixture
def running(sqlite_db: Database, sim: Sim) -> Iterator[Worker]:  # noqa: F811
    """A started in-process worker on a SQLite file."""
    started = worker(sqlite_db, sim.url)
    started.start()
    yield started
    started.stop()
    started.exchange.client.close()


@pytest.fixture
def idle(sqlite_db: Database, sim: Sim) -> Iterator[Worker]:  # noqa: F811
    """A worker whose steps the test calls itself, one at a time."""
    built = worker(sqlite_db, sim.url)
    yield built
    built.exchange.client.close()
