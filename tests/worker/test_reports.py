"""The pure parts: what a status tells the thread, and how a reconciliation match is chosen."""

from __future__ import annotations

from bot.edgex.models import AssetOrder, NormalWithdraw
from bot.edgex.statuses import FAILURES
from bot.worker.backend import Candidate
from bot.worker.order_search import choose_match
from bot.worker.reports import failure_note, status_detail

DESTINATION = "0x52908400098527886E0F7030069857D2E4169EE7"


def record(status: str, **fields: object) -> NormalWithdraw:
    return NormalWithdraw.model_validate({"id": "9", "status": status, **fields})


def order(order_id: str) -> AssetOrder:
    return AssetOrder.model_validate({"orderId": order_id})


def named(candidates: list[AssetOrder], client_ids: dict[str, str | None]) -> list[Candidate]:
    return [Candidate(o.order_id, client_ids[o.order_id], {}, "") for o in candidates]


def test_codes_are_read_on_a_normal_withdrawal_too() -> None:
    status = "NORMAL_WITHDRAW_FAILED_L2_REJECTED"
    detail = status_detail(
        record(status, l2RejectCode="E7", l2RejectReason="bad nonce", censorFailCode="C1"),
        destination=DESTINATION,
    )
    failure = detail["failure"]
    assert failure["code"] == "E7"
    assert failure["reason"] == "bad nonce"
    assert failure["code_field"] == "l2RejectCode"
    assert failure["codes"] == {
        "l2RejectCode": "E7",
        "l2RejectReason": "bad nonce",
        "censorFailCode": "C1",
    }
    assert failure["cause"] == FAILURES[status].cause
    note = failure_note(detail)
    assert note is not None
    assert note.startswith(FAILURES[status].cause)
    assert "l2RejectCode E7" in note


def test_without_codes_the_fixed_explanation_stands_alone() -> None:
    status = "NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE"
    detail = status_detail(record(status), destination=DESTINATION)
    assert detail["failure"]["code"] is None
    assert detail["failure"]["codes"] == {}
    assert failure_note(detail) == FAILURES[status].cause


def test_success_carries_the_l1_hash_and_checks_the_payout_address() -> None:
    done = "NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED"
    same = status_detail(
        record(done, l1ConfirmedTx={"hash": "0xaa"}, l1CompletedEthAddress=DESTINATION.lower()),
        destination=DESTINATION,
    )
    assert same["l1_tx_hash"] == "0xaa"
    assert same["alerts"] == []
    assert same["stage_name"] == "done"
    other = status_detail(
        record(done, l1CompletedEthAddress="0x" + "1" * 40), destination=DESTINATION
    )
    assert [a["kind"] for a in other["alerts"]] == ["destination_mismatch"]
    assert status_detail(record("SOMETHING_NEW"), destination=DESTINATION)["terminal"] is False


def test_a_match_is_one_order_with_our_client_id_or_one_look_alike() -> None:
    a, b, c = order("1"), order("2"), order("3")
    assert choose_match(named([a, b], {"1": "other", "2": "ours"}), "ours").exchange_id == "2"
    assert choose_match(named([a], {"1": None}), "ours").exchange_id == "1"
    assert choose_match(named([a], {"1": "other"}), "ours").candidates == ()
    unclear = choose_match(named([a, b, c], {"1": None, "2": None, "3": "other"}), "ours")
    assert unclear.exchange_id is None
    assert unclear.candidates == ("1", "2")
    assert choose_match(named([a, b], {"1": None, "2": "ours"}), "ours").exchange_id == "2"
