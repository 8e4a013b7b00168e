"""The client's whole surface against the simulator over real HTTP: every endpoint, both kinds."""

from __future__ import annotations

from decimal import Decimal

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.models import MetaData
from tests.edgex.sim.conftest import (
    ACCOUNT_ID,
    ARBITRUM,
    ARBITRUM_USDT,
    DESTINATION,
    Admin,
    cross_body,
    normal_body,
)
from tests.edgex.vectors import vector_key


def test_public_endpoints(client: EdgeXClient, metadata: MetaData) -> None:
    assert abs(client.get_server_time() - client.server_time_ms()) < 5_000
    usdt = metadata.coin_list[0]
    assert (usdt.coin_id, usdt.stark_ex_resolution) == ("1000", "0xf4240")
    assert metadata.multi_chain is not None
    chains = {c.chain_id: c for c in metadata.multi_chain.chain_list}
    assert chains[ARBITRUM].token_list[0].token_address == ARBITRUM_USDT
    assert chains["56"].allow_withdraw is False


def test_account_l2_key_matches_the_signing_key(client: EdgeXClient) -> None:
    account = client.get_account()
    assert account.id == ACCOUNT_ID
    assert signing.l2_keys_equal(account.l2_key, vector_key().l2_key)


def test_normal_withdrawal_round_trip(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, "n-1"))
    (record,) = client.get_normal_withdraw_by_id([withdraw_id, "42"])
    assert record.id == withdraw_id
    assert record.status == "NORMAL_WITHDRAW_PENDING_RISK_CHECKING"
    assert record.amount == Decimal("250")
    assert record.client_withdraw_id == "n-1"
    assert admin.balance() == ("99750", "250")
    admin.steps(5)
    (done,) = client.get_normal_withdraw_by_id([withdraw_id])
    assert done.status == "NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED"
    assert done.l1_confirmed_tx is not None
    assert (done.l1_confirmed_tx.hash or "").startswith("0x")
    assert admin.balance() == ("99750", "0")
    assert client.get_normal_withdrawable_amount(DESTINATION).amount == Decimal("250")


def test_cross_withdrawal_round_trip(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    quote = client.get_cross_withdraw_sign_info(amount="100", chain_id=ARBITRUM)
    assert quote.lp_account_id == "542076087396467085"
    assert quote.fee == "2"
    withdraw_id = client.create_cross_withdraw(cross_body(client, usdt, "c-1"))
    admin.steps(8)
    (record,) = client.get_cross_withdraw_by_id([withdraw_id])
    assert record.status == "CROSS_WITHDRAW_SUCCESS"
    assert record.lp_account_id == quote.lp_account_id
    assert signing.l2_keys_equal(record.lp_account_l2_key or "", quote.cross_withdraw_l2_key)
    assert record.l1_completed_eth_address == DESTINATION
    assert record.l1_completed_tx is not None
    assert record.censor_tx_id
    assert record.l2_tx_id


def test_orders_page_lists_both_kinds(client: EdgeXClient, usdt: signing.CoinMeta) -> None:
    normal = client.create_normal_withdraw(normal_body(client, usdt, "n-2"))
    cross = client.create_cross_withdraw(cross_body(client, usdt, "c-2"))
    page = client.get_all_orders_page(size=10)
    assert {o.order_id for o in page.data_list} == {normal, cross}
    assert page.next_page_offset_data in (None, "")
    only_cross = client.get_all_orders_page(type_list=["ORDER_TYPE_CROSS_WITHDRAW"], size=10)
    assert [o.order_id for o in only_cross.data_list] == [cross]
    on_arbitrum = client.get_all_orders_page(chain_id=ARBITRUM, size=10)
    assert [o.order_id for o in on_arbitrum.data_list] == [cross]
