"""Withdrawal validation as edgeX would do it, idempotency, and signed fields that cannot change."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import httpx
import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXAPIError
from bot.edgex.simulator import SimulatorServer
from tests.edgex.sim.conftest import (
    ARBITRUM_USDT,
    Admin,
    cross_body,
    normal_body,
)
from tests.edgex.vectors import vector_key

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"
CREATE_CROSS = "/api/v1/private/assets/createCrossWithdraw"


def post_raw(sim: SimulatorServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send a body exactly as given (even one our own signer would refuse), with valid auth."""
    signed = signing.auth_headers(
        vector_key(), timestamp_ms=int(time.time() * 1000), method="POST", path=path, body=body
    )
    response = httpx.post(sim.url + path, content=json.dumps(body), headers=signed.headers)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _resign_normal(body: dict[str, Any], coin: signing.CoinMeta) -> dict[str, Any]:
    msg = signing.normal_withdraw_message_hash(body, coin)
    return {**body, "l2Signature": vector_key().sign(msg).to_hex()}


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"coinId": "2000"}, "COIN_NOT_FOUND", "coinId"),
        ({"amount": "-5"}, "AMOUNT_INVALID", "field"),
        ({"amount": "0"}, "AMOUNT_INVALID", "field"),
        ({"amount": "1e3"}, "AMOUNT_INVALID", "field"),
        ({"amount": "0.0000001"}, "AMOUNT_STEP_SIZE_INVALID", "stepSize"),
        ({"amount": "100001"}, "BALANCE_NOT_ENOUGH", "available"),
        ({"ethAddress": "0x1234"}, "ETH_ADDRESS_INVALID", "field"),
        (
            {"ethAddress": "0x1Fb51aa234287C3CA1F957eA9AD0E148Bb814b7A"},
            "ETH_ADDRESS_INVALID",
            "field",
        ),
        ({"expireTime": "1735887600000"}, "EXPIRE_TIME_TOO_SHORT", "minExpireTime"),
        ({"expireTime": "soon"}, "INVALID_PARAMETER", "field"),
        ({"l2Signature": "abc"}, "L2_SIGNATURE_MALFORMED", "field"),
        ({"l2Signature": None}, "INVALID_PARAMETER", "field"),
        ({"clientWithdrawId": ""}, "INVALID_PARAMETER", "field"),
    ],
)
def test_each_violation_has_its_own_code(
    sim: SimulatorServer,
    client: EdgeXClient,
    usdt: signing.CoinMeta,
    admin: Admin,
    change: dict[str, Any],
    code: str,
    param: str,
) -> None:
    body = {**normal_body(client, usdt, "v-1"), **change}
    if "l2Signature" not in change:
        # A correct signature where one can be made, so only the violation itself is wrong.
        with contextlib.suppress(signing.SigningError):
            body = _resign_normal(body, usdt)
    result = post_raw(sim, CREATE_NORMAL, body)
    assert result["code"] == code, result
    assert param in (result["errorParam"] or {})
    assert admin.balance() == ("100000", "0")
    assert admin.state()["withdrawals"] == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "251"),
        ("ethAddress", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        ("clientWithdrawId", "v-2"),
        ("expireTime", None),
    ],
)
def test_any_altered_signed_field_is_rejected(
    sim: SimulatorServer,
    client: EdgeXClient,
    usdt: signing.CoinMeta,
    admin: Admin,
    field: str,
    value: str | None,
) -> None:
    body = normal_body(client, usdt, "v-1")
    # expireTime moves by one hour: still valid, but no longer what was signed.
    altered = str(int(body["expireTime"]) + 3_600_000) if value is None else value
    result = post_raw(sim, CREATE_NORMAL, {**body, field: altered})
    assert result["code"] == "L2_SIGNATURE_INVALID"
    assert admin.balance() == ("100000", "0")


def test_signature_by_another_key_is_rejected(
    sim: SimulatorServer, client: EdgeXClient, usdt: signing.CoinMeta
) -> None:
    body = normal_body(client, usdt, "v-1")
    stranger = signing.StarkKey.from_hex("0xabc")
    forged = stranger.sign(signing.normal_withdraw_message_hash(body, usdt)).to_hex()
    assert post_raw(sim, CREATE_NORMAL, {**body, "l2Signature": forged})["code"] == (
        "L2_SIGNATURE_INVALID"
    )


def test_same_body_twice_is_one_withdrawal_reserved_once(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    body = normal_body(client, usdt, "same-1")
    first = client.create_normal_withdraw(body)
    again = client.create_normal_withdraw(dict(reversed(list(body.items()))))
    assert first == again
    assert admin.balance() == ("99750", "250")
    assert list(admin.state()["withdrawals"]) == [first]


def test_same_client_id_with_another_body_is_a_conflict(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    first = client.create_normal_withdraw(normal_body(client, usdt, "same-2"))
    with pytest.raises(EdgeXAPIError) as err:
        client.create_normal_withdraw(normal_body(client, usdt, "same-2", amount="251"))
    assert err.value.code == "CLIENT_ID_CONFLICT"
    assert err.value.error_param == {"clientWithdrawId": "same-2", "withdrawId": first}
    assert admin.balance() == ("99750", "250")


def test_cross_same_body_is_idempotent(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    body = cross_body(client, usdt, "cs-1")
    assert client.create_cross_withdraw(body) == client.create_cross_withdraw(body)
    assert admin.balance() == ("99900", "100")


@pytest.mark.parametrize(
    ("quote", "change", "code"),
    [
        ({}, {"chainId": 10}, "CHAIN_NOT_SUPPORTED"),
        (
            {},
            {"chainId": 56, "erc20Address": "0x55d398326f99059fF775485246999027B3197955"},
            "CHAIN_WITHDRAW_DISABLED",
        ),
        (
            {},
            {"erc20Address": "0xdAC17F958D2ee523a2206206994597C13D831ec7"},
            "ERC20_ADDRESS_MISMATCH",
        ),
        ({}, {"amount": "0.5"}, "AMOUNT_BELOW_MIN"),
        ({}, {"amount": "1000001"}, "AMOUNT_ABOVE_MAX"),
        ({}, {"amount": "50000"}, "AMOUNT_ABOVE_CROSS_MAX"),
        ({}, {"lpAccountId": "1"}, "LP_ACCOUNT_MISMATCH"),
        ({}, {"fee": "1.5"}, "FEE_MISMATCH"),
        ({}, {"amount": "101"}, "L2_SIGNATURE_INVALID"),
        ({"crossWithdrawL2Key": "0x1234"}, {}, "L2_SIGNATURE_INVALID"),
    ],
    ids=[
        "chain",
        "disabled",
        "erc20",
        "below-min",
        "above-max",
        "above-quote-max",
        "lp",
        "fee",
        "amount-altered",
        "lp-key-changed",
    ],
)
def test_cross_violations(
    sim: SimulatorServer,
    client: EdgeXClient,
    usdt: signing.CoinMeta,
    admin: Admin,
    quote: dict[str, str],
    change: dict[str, Any],
    code: str,
) -> None:
    body = cross_body(client, usdt, "cv-1")
    if quote:
        admin.post("quote", chainId="*", **quote)
    result = post_raw(sim, CREATE_CROSS, {**body, **change})
    assert result["code"] == code, result
    assert admin.balance() == ("100000", "0")


def test_cross_over_balance(sim: SimulatorServer, usdt: signing.CoinMeta, admin: Admin) -> None:
    admin.post("accounts", l2Key=vector_key().l2_key, accountId="9", balances={"1000": "5"})
    poor = EdgeXClient(sim.url, key=vector_key(), account_id="9")
    quote = poor.get_cross_withdraw_sign_info(amount="10", chain_id=42161).to_quote()
    body = signing.build_cross_withdraw_body(
        vector_key(),
        account_id="9",
        coin=usdt,
        amount="10",
        eth_address="0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
        erc20_address=ARBITRUM_USDT,
        chain_id=42161,
        quote=quote,
        client_cross_withdraw_id="poor-1",
        expire_time_ms=signing.hour_aligned_expire_time(poor.server_time_ms()),
    )
    with pytest.raises(EdgeXAPIError) as err:
        poor.create_cross_withdraw(body)
    assert err.value.code == "BALANCE_NOT_ENOUGH"
    assert err.value.error_param == {"available": "5", "amount": "10"}
    poor.close()


def test_body_for_another_account_is_refused(
    sim: SimulatorServer, client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    admin.post("accounts", l2Key="0x" + "2" * 60, accountId="77", balances={"1000": "5"})
    body = _resign_normal({**normal_body(client, usdt, "x-1"), "accountId": "77"}, usdt)
    # Signed with our key, but account 77 has another key: the auth check names it.
    signed = signing.auth_headers(
        vector_key(),
        timestamp_ms=int(time.time() * 1000),
        method="POST",
        path=CREATE_NORMAL,
        body=body,
    )
    response = httpx.post(sim.url + CREATE_NORMAL, content=json.dumps(body), headers=signed.headers)
    assert response.json()["code"] == "AUTH_SIGNATURE_INVALID"
