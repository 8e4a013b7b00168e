"""A running simulator with one funded account, an admin handle and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient, RetryPolicy
from bot.edgex.models import MetaData
from bot.edgex.simulator import SimulatorServer
from bot.edgex.simulator.admin import SimulatorAdmin
from tests.edgex.vectors import vector_key, vectors

ACCOUNT_ID: str = vectors()["assumed_metadata"]["accountId"]
DESTINATION = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
ARBITRUM = "42161"
ARBITRUM_USDT = "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"
# Long steps: a walk only moves when a test advances the lifecycle clock.
STEP_MS = 60_000


class Admin(SimulatorAdmin):
    """The simulator's /_sim/ API (any refusal raises and fails the test), plus test reads."""

    def refuse(self, route: str, /, **spec: Any) -> Any:
        """Post a spec the simulator must refuse; returns its error."""
        response = self.http.post(f"/_sim/{route}", json=spec)
        assert response.status_code == 400, response.text
        return response.json()

    def steps(self, count: int) -> None:
        self.post("advance", seconds=count * STEP_MS / 1000)

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self.get("state")
        return data

    def balance(self, account_id: str = ACCOUNT_ID) -> tuple[str, str]:
        account = self.state()["accounts"][account_id]
        return account["available"].get("1000", "0"), account["reserved"].get("1000", "0")


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def admin(sim: SimulatorServer) -> Iterator[Admin]:
    handle = Admin(sim.url)
    handle.post("config", normalStepMs=STEP_MS, crossStepMs=STEP_MS)
    handle.post(
        "accounts", l2Key=vector_key().l2_key, accountId=ACCOUNT_ID, balances={"1000": "100000"}
    )
    yield handle
    handle.http.close()


@pytest.fixture
def client(sim: SimulatorServer, admin: Admin) -> Iterator[EdgeXClient]:
    edgex = EdgeXClient(
        sim.url,
        key=vector_key(),
        account_id=ACCOUNT_ID,
        read_timeout=2.0,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
    )
    yield edgex
    edgex.close()


@pytest.fixture
def metadata(client: EdgeXClient) -> MetaData:
    return client.get_metadata()


@pytest.fixture
def usdt(metadata: MetaData) -> signing.CoinMeta:
    return metadata.coin_list[0].to_coin_meta()


def normal_body(
    client: EdgeXClient, coin: signing.CoinMeta, client_id: str, **change: Any
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "account_id": ACCOUNT_ID,
        "coin": coin,
        "amount": "250",
        "eth_address": DESTINATION,
        "client_withdraw_id": client_id,
        "expire_time_ms": signing.hour_aligned_expire_time(client.server_time_ms()),
    }
    args.update(change)
    return dict(signing.build_normal_withdraw_body(vector_key(), **args))


def cross_body(
    client: EdgeXClient, coin: signing.CoinMeta, client_id: str, amount: str = "100", **change: Any
) -> dict[str, Any]:
    quote = client.get_cross_withdraw_sign_info(amount=amount, chain_id=ARBITRUM).to_quote()
    args: dict[str, Any] = {
        "account_id": ACCOUNT_ID,
        "coin": coin,
        "amount": amount,
        "eth_address": DESTINATION,
        "erc20_address": ARBITRUM_USDT,
        "chain_id": int(ARBITRUM),
        "quote": quote,
        "client_cross_withdraw_id": client_id,
        "expire_time_ms": signing.hour_aligned_expire_time(client.server_time_ms()),
    }
    args.update(change)
    return dict(signing.build_cross_withdraw_body(vector_key(), **args))
