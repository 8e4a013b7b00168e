from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.edgex.client import EdgeXClient, RetryPolicy
from tests.edgex.scripted_server import ScriptedServer
from tests.edgex.vectors import vector_key, vectors

ACCOUNT_ID: str = vectors()["assumed_metadata"]["accountId"]

ClientFactory = Callable[..., EdgeXClient]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted edgeX that fails the test on an unscripted call or an invalid signature.

    A test that provokes an auth failure on purpose empties ``server.requests`` itself.
    """
    key = vector_key()
    scripted = ScriptedServer(public_x=key.public_x, public_y=key.public_y)
    scripted.start()
    yield scripted
    scripted.stop()
    assert scripted.unscripted == [], "the client made calls the test did not script"
    assert scripted.auth_failures() == [], "the server rejected the client's auth headers"


@pytest.fixture
def sleeps() -> list[float]:
    """Every delay the client asked to sleep (tests never really sleep between retries)."""
    return []


@pytest.fixture
def make_client(server: ScriptedServer, sleeps: list[float]) -> Iterator[ClientFactory]:
    clients: list[EdgeXClient] = []

    def factory(**overrides: Any) -> EdgeXClient:
        options: dict[str, Any] = {
            "key": vector_key(),
            "account_id": ACCOUNT_ID,
            "connect_timeout": 1.0,
            "read_timeout": 0.2,
            "retry": RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=1.0),
            "sleep": sleeps.append,
            "jitter": lambda: 0.5,
        }
        options.update(overrides)
        client = EdgeXClient(options.pop("base_url", server.url), **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> EdgeXClient:
    return make_client()
