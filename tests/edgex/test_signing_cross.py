"""Cross withdrawals ([ASSUMED] StarkEx transfer) and POST sign-values against the SDK's code."""

from __future__ import annotations

from typing import Any

import pytest
from starknet_py.hash.utils import verify_message_signature

from bot.edgex import signing
from tests.edgex.vectors import sdk_derived, vector_coin, vector_key

TRANSFERS = sdk_derived()["transfer"]
ERC20 = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
DESTINATION = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"


def _msg(inputs: dict[str, Any], derived: dict[str, Any]) -> int:
    return signing.transfer_message_hash(
        asset_id=int(inputs["starkExAssetId"], 16),
        asset_id_fee=0,
        receiver_public_key=int(inputs["crossWithdrawL2Key"], 16),
        sender_position_id=int(inputs["accountId"]),
        receiver_position_id=int(inputs["lpAccountId"]),
        fee_position_id=int(inputs["accountId"]),
        nonce=int(derived["nonce"]),
        amount_quantums=int(derived["amount_quantums"]),
        max_amount_fee=0,
        expiration_hours=int(derived["expiration_hours"]),
    )


@pytest.mark.parametrize("case", TRANSFERS, ids=[t["inputs"]["amount"] for t in TRANSFERS])
def test_transfer_hash_matches_sdk(case: dict[str, Any]) -> None:
    inputs, derived = case["inputs"], case["derived"]
    assert signing.nonce_from_client_id(inputs["clientCrossWithdrawId"]) == int(derived["nonce"])
    assert signing.amount_to_quantums(inputs["amount"], inputs["starkExResolution"]) == int(
        derived["amount_quantums"]
    )
    assert signing.expiration_hours(inputs["expireTime_ms"]) == int(derived["expiration_hours"])
    assert _msg(inputs, derived) == int(case["msg_hash"], 16)


@pytest.mark.parametrize("case", TRANSFERS, ids=[t["inputs"]["amount"] for t in TRANSFERS])
def test_cross_withdraw_body(case: dict[str, Any]) -> None:
    inputs = case["inputs"]
    body = signing.build_cross_withdraw_body(
        vector_key(),
        account_id=inputs["accountId"],
        coin=vector_coin(),
        amount=inputs["amount"],
        eth_address=DESTINATION,
        erc20_address=ERC20,
        chain_id=42161,
        quote=signing.CrossWithdrawQuote(
            lp_account_id=inputs["lpAccountId"],
            cross_withdraw_l2_key=inputs["crossWithdrawL2Key"],
            fee="0.35",
        ),
        client_cross_withdraw_id=inputs["clientCrossWithdrawId"],
        expire_time_ms=inputs["expireTime_ms"],
    )
    assert body == {
        "accountId": inputs["accountId"],
        "coinId": "1000",
        "amount": inputs["amount"],
        "ethAddress": DESTINATION,
        "erc20Address": ERC20,
        "lpAccountId": inputs["lpAccountId"],
        "clientCrossWithdrawId": inputs["clientCrossWithdrawId"],
        "expireTime": inputs["expireTime_ms"],
        "l2Signature": case["l2Signature"],
        "fee": "0.35",
        "chainId": 42161,
    }
    r, s = int(case["r"], 16), int(case["s"], 16)
    assert verify_message_signature(int(case["msg_hash"], 16), [r, s], vector_key().public_x)


@pytest.mark.parametrize(
    "case", sdk_derived()["sign_value"], ids=["flat", "lists-bools-null", "nested"]
)
def test_post_sign_value_matches_sdk(case: dict[str, Any]) -> None:
    assert signing.sign_value(case["body"]) == case["sign_value"]
    content = signing.sign_content(1760000000000, "post", "/api/v1/private/x", body=case["body"])
    assert content == "1760000000000POST/api/v1/private/x" + case["sign_value"]


def test_post_body_takes_precedence_over_query_like_the_sdk() -> None:
    content = signing.sign_content(1, "POST", "/p", query={"a": "1"}, body={"b": "2"})
    assert content == "1POST/pb=2"


def test_empty_body_signs_query_or_nothing() -> None:
    assert signing.sign_content(5, "POST", "/p", body={}) == "5POST/p"
    assert signing.sign_content(5, "GET", "/p", query={}) == "5GET/p"
    assert signing.sign_content(5, "GET", "/p", query={"b": 2, "a": "x"}) == "5GET/pa=x&b=2"
