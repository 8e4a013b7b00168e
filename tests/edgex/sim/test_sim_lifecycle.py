"""Status walks of both kinds to success and to every scripted failure, with their fields."""

from __future__ import annotations

import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.simulator.catalog import OUTCOMES
from bot.edgex.statuses import WALKS
from bot.edgex.statuses import WithdrawKind as Kind
from tests.edgex.sim.conftest import DESTINATION, Admin, cross_body, normal_body


def test_normal_walk_visits_every_status_in_order(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, "walk-n"))
    seen = []
    for _ in WALKS[Kind.NORMAL]:
        (record,) = client.get_normal_withdraw_by_id([withdraw_id])
        seen.append(record.status)
        admin.steps(1)
    assert tuple(seen) == WALKS[Kind.NORMAL]
    assert record.trade_withdraw_id
    assert record.l1_confirmed_tx is not None
    assert record.l1_completed_time is not None
    assert int(record.updated_time or 0) > int(record.created_time or 0)


def test_cross_walk_visits_every_status_in_order(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    withdraw_id = client.create_cross_withdraw(cross_body(client, usdt, "walk-c"))
    seen = []
    for _ in WALKS[Kind.CROSS]:
        (record,) = client.get_cross_withdraw_by_id([withdraw_id])
        seen.append(record.status)
        admin.steps(1)
    assert tuple(seen) == WALKS[Kind.CROSS]
    assert record.l1_completed_eth_address == DESTINATION


FAILURES = [
    (kind, name)
    for name, outcome in OUTCOMES.items()
    for kind in (Kind.NORMAL, Kind.CROSS)
    if kind in outcome.failed_status
]


@pytest.mark.parametrize(("kind", "outcome"), FAILURES, ids=[f"{k}-{o}" for k, o in FAILURES])
def test_each_failure_ends_in_its_status_with_its_reason(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin, kind: Kind, outcome: str
) -> None:
    client_id = f"f-{outcome}"[:60]
    admin.post("fates", clientId=client_id, outcome=outcome, code="C-42", reason="why it failed")
    if kind is Kind.NORMAL:
        withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, client_id))
    else:
        withdraw_id = client.create_cross_withdraw(cross_body(client, usdt, client_id))
    admin.steps(len(WALKS[kind]))
    fields = admin.state()["withdrawals"][withdraw_id]
    records = (
        client.get_normal_withdraw_by_id([withdraw_id])
        if kind is Kind.NORMAL
        else client.get_cross_withdraw_by_id([withdraw_id])
    )
    (record,) = records
    assert record.status == OUTCOMES[outcome].failed_status[kind]
    detail = OUTCOMES[outcome].detail
    reason = {
        "censor": (record.censor_fail_code, record.censor_fail_reason),
        "l2": (record.l2_reject_code, record.l2_reject_reason),
        "l1": (record.l1_rejected_reason_code, record.l1_rejected_reason_msg),
    }
    if detail is not None:
        assert reason[detail] == ("C-42", "why it failed")
    assert all(pair == (None, None) for name, pair in reason.items() if name != detail)
    assert fields["settled"] is True
    assert admin.balance() == ("100000", "0"), "a failed withdrawal gives the reservation back"


def test_fate_for_the_next_withdrawal_and_by_id(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    admin.post("fates", outcome="risk_check_failure")
    first = client.create_normal_withdraw(normal_body(client, usdt, "next-1"))
    second = client.create_normal_withdraw(normal_body(client, usdt, "next-2"))
    admin.post("fates", withdrawId=second, outcome="l2_rejected")
    admin.steps(6)
    statuses = {r.id: r.status for r in client.get_normal_withdraw_by_id([first, second])}
    assert statuses == {
        first: "NORMAL_WITHDRAW_FAILED_RISK_CHECK_FAILURE",
        second: "NORMAL_WITHDRAW_FAILED_L2_REJECTED",
    }


def test_unknown_or_impossible_fates_are_refused(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    assert "unknown outcome" in admin.refuse("fates", outcome="meteor")["error"]
    withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, "imp-1"))
    refused = admin.refuse("fates", withdrawId=withdraw_id, outcome="l1_rejected")
    assert "cannot happen to a normal withdrawal" in refused["error"]


def test_completed_to_another_address_is_reported(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    other = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    admin.post("fates", clientId="odd-1", outcome="success", l1CompletedEthAddress=other)
    withdraw_id = client.create_cross_withdraw(cross_body(client, usdt, "odd-1"))
    admin.steps(9)
    (record,) = client.get_cross_withdraw_by_id([withdraw_id])
    assert record.status == "CROSS_WITHDRAW_SUCCESS"
    assert record.l1_completed_eth_address == other


def test_withdrawable_amount_counts_completed_normal_withdrawals_only(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    client.create_normal_withdraw(normal_body(client, usdt, "w-1", amount="10"))
    admin.post("fates", clientId="w-2", outcome="censor_failure")
    client.create_normal_withdraw(normal_body(client, usdt, "w-2", amount="20"))
    client.create_cross_withdraw(cross_body(client, usdt, "w-3"))
    assert client.get_normal_withdrawable_amount(DESTINATION).amount == 0
    admin.steps(9)
    assert client.get_normal_withdrawable_amount(DESTINATION.lower()).amount == 10
    assert admin.balance() == ("99890", "0")
