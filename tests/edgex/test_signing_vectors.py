"""Every public vector reproduced bit for bit (shared/edgex-public-vectors.json)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.edgex import signing
from tests.edgex.vectors import vector_coin, vector_key, vectors

NORMAL = vectors()["normal_withdraw"]
AUTH = vectors()["auth"]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c.get("note") or c["inputs"]["clientWithdrawId"] for c in cases]


def test_public_key_matches_vector() -> None:
    key = vector_key()
    assert key.public_x == int(vectors()["key"]["l2Key_public_x"], 16)
    assert key.public_y == int(vectors()["key"]["public_y"], 16)
    assert signing.l2_keys_equal(key.l2_key, vectors()["key"]["sdk_get_public_key_output"])


@pytest.mark.parametrize("case", NORMAL, ids=_ids(NORMAL))
def test_normal_withdraw_derived_values(case: dict[str, Any]) -> None:
    inputs, derived = case["inputs"], case["derived"]
    assert signing.nonce_from_client_id(inputs["clientWithdrawId"]) == int(derived["nonce"])
    assert signing.expiration_hours(inputs["expireTime_ms"]) == int(derived["expiration_hours"])
    quantums = signing.amount_to_quantums(inputs["amount"], inputs["starkExResolution"])
    assert quantums == int(derived["amount_quantums"])
    packed = (
        (((7 << 64 | int(inputs["accountId"])) << 32 | int(derived["nonce"])) << 64 | quantums)
        << 32
        | int(derived["expiration_hours"])
    ) << 49
    assert packed == int(derived["packed_word"], 16)
    msg = signing.withdrawal_message_hash(
        asset_id=int(inputs["starkExAssetId"], 16),
        position_id=int(inputs["accountId"]),
        eth_address=int(inputs["ethAddress"], 16),
        nonce=int(derived["nonce"]),
        amount_quantums=quantums,
        expiration_hours=int(derived["expiration_hours"]),
    )
    assert msg == int(case["msg_hash"], 16)


@pytest.mark.parametrize("case", NORMAL, ids=_ids(NORMAL))
def test_normal_withdraw_signature_and_body(case: dict[str, Any]) -> None:
    inputs = case["inputs"]
    signature = vector_key().sign(int(case["msg_hash"], 16))
    assert (signature.r, signature.s) == (int(case["r"], 16), int(case["s"], 16))
    assert signature.to_hex() == case["l2Signature"]
    body = signing.build_normal_withdraw_body(
        vector_key(),
        account_id=inputs["accountId"],
        coin=vector_coin(),
        amount=inputs["amount"],
        eth_address=inputs["ethAddress"],
        client_withdraw_id=inputs["clientWithdrawId"],
        expire_time_ms=inputs["expireTime_ms"],
    )
    assert body == case["request_body"]
    assert list(body) == list(case["request_body"])


@pytest.mark.parametrize("case", AUTH, ids=_ids(AUTH))
def test_auth_vectors(case: dict[str, Any]) -> None:
    ts = int(case["timestamp_ms"])
    content = signing.sign_content(
        ts, case["method"], case["path"], query=case["query_params"], body=case["json_body"]
    )
    assert content == case["sign_content"]
    assert signing.auth_message_hash(content) == int(case["msg_hash_mod_ec_order"], 16)
    signed = signing.auth_headers(
        vector_key(),
        timestamp_ms=ts,
        method=case["method"],
        path=case["path"],
        query=case["query_params"],
        body=case["json_body"],
    )
    assert signed.headers == case["headers"]
    assert signed.timestamp_ms == ts
    long_form = signing.auth_headers(
        vector_key(),
        timestamp_ms=ts,
        method=case["method"],
        path=case["path"],
        query=case["query_params"],
        with_public_y=True,
    )
    assert (
        long_form.headers["X-edgeX-Api-Signature"]
        == case["alt_signature_r_s_y_192hex_docs_java_style"]
    )
