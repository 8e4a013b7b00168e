"""``/_sim/quote`` with ``refuse``: getCrossWithdrawSignInfo answers an edgeX error for a chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXAPIError
from bot.edgex.simulator import SimulatorServer
from tests.edgex.sim.conftest import ARBITRUM_USDT, Admin


def test_a_refused_chain_answers_the_scripted_error_until_lifted(
    client: EdgeXClient, admin: Admin
) -> None:
    admin.post("quote", chainId="42161", refuse={"code": "LP_UNAVAILABLE", "msg": "no LP today"})
    with pytest.raises(EdgeXAPIError) as refused:
        client.get_cross_withdraw_sign_info(
            amount="100", chain_id=42161, token_address=ARBITRUM_USDT
        )
    assert refused.value.code == "LP_UNAVAILABLE"
    assert refused.value.msg == "no LP today"
    assert refused.value.error_param == {"chainId": "42161"}
    assert not refused.value.retryable
    admin.post("quote", chainId="42161", refuse=None)
    quote = client.get_cross_withdraw_sign_info(amount="100", chain_id=42161)
    assert quote.lp_account_id


def test_a_refusal_for_every_chain_and_a_malformed_one(client: EdgeXClient, admin: Admin) -> None:
    admin.post("quote", refuse={"code": "CROSS_WITHDRAW_PAUSED"})
    with pytest.raises(EdgeXAPIError, match="CROSS_WITHDRAW_PAUSED"):
        client.get_cross_withdraw_sign_info(amount="100", chain_id=42161)
    error = admin.refuse("quote", refuse="yes")
    assert "refuse must be" in str(error)


def test_a_refusal_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    with SimulatorServer(state_path=state) as first:
        admin = Admin(first.url)
        admin.post("quote", chainId="1", refuse={"code": "LP_UNAVAILABLE"})
        admin.http.close()
    with SimulatorServer(state_path=state) as second:
        books = second.exchange.books
        assert books.quote_refusals["1"]["code"] == "LP_UNAVAILABLE"
