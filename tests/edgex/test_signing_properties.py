"""Property tests: every signed body verifies, and no signed field can change unnoticed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starknet_py.hash.utils import (
    message_signature,
    private_to_stark_key,
    verify_message_signature,
)

from bot.edgex import signing, stark_ecdsa
from tests.edgex.vectors import vector_coin, vector_key

ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
ACCOUNT_IDS = st.integers(min_value=1, max_value=2**63 - 1).map(str)
CLIENT_IDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=1,
    max_size=64,
)
AMOUNTS = st.integers(min_value=1, max_value=2**64 - 1).map(
    lambda q: format(Decimal(q) / 1_000_000, "f")
)
EXPIRES = st.integers(min_value=3_600_000, max_value=(2**32 - 1) * 3_600_000).map(str)


def _verifies(msg: int, body: dict[str, Any]) -> bool:
    sig = body["l2Signature"]
    return bool(
        verify_message_signature(msg, [int(sig[:64], 16), int(sig[64:], 16)], vector_key().public_x)
    )


MUTATIONS: dict[str, Any] = {
    "accountId": ACCOUNT_IDS,
    "amount": AMOUNTS,
    "ethAddress": ADDRESSES,
    "clientWithdrawId": CLIENT_IDS,
    "expireTime": EXPIRES,
}


@settings(max_examples=60, deadline=None)
@given(
    account=ACCOUNT_IDS,
    amount=AMOUNTS,
    address=ADDRESSES,
    client_id=CLIENT_IDS,
    expire=EXPIRES,
    data=st.data(),
)
def test_normal_body_verifies_and_every_field_is_bound(
    account: str, amount: str, address: str, client_id: str, expire: str, data: st.DataObject
) -> None:
    body = signing.build_normal_withdraw_body(
        vector_key(),
        account_id=account,
        coin=vector_coin(),
        amount=amount,
        eth_address=address,
        client_withdraw_id=client_id,
        expire_time_ms=expire,
    )
    original = signing.normal_withdraw_message_hash(body, vector_coin())
    assert _verifies(original, body)
    name = data.draw(st.sampled_from(sorted(MUTATIONS)))
    changed = {**body, name: data.draw(MUTATIONS[name])}
    msg = signing.normal_withdraw_message_hash(changed, vector_coin())
    same = _signed_value(name, changed[name]) == _signed_value(name, body[name])
    assert _verifies(msg, changed) == same
    assert (msg == original) == same


def _signed_value(name: str, value: str) -> object:
    """What of a field the signature commits to (an address's case and ms within the hour not)."""
    if name in {"ethAddress", "erc20Address"}:
        return value.lower()
    if name == "expireTime":
        return signing.expiration_hours(value)
    if name == "amount":
        return Decimal(value)
    if name in {"clientWithdrawId", "clientCrossWithdrawId"}:
        return signing.nonce_from_client_id(value)
    return value


CROSS_MUTATIONS: dict[str, Any] = {
    "accountId": ACCOUNT_IDS,
    "amount": AMOUNTS,
    "lpAccountId": ACCOUNT_IDS,
    "clientCrossWithdrawId": CLIENT_IDS,
    "expireTime": EXPIRES,
}


@settings(max_examples=40, deadline=None)
@given(
    account=ACCOUNT_IDS,
    lp_account=ACCOUNT_IDS,
    lp_key=st.integers(min_value=1, max_value=signing.FIELD_PRIME - 1),
    amount=AMOUNTS,
    client_id=CLIENT_IDS,
    expire=EXPIRES,
    data=st.data(),
)
def test_cross_body_verifies_and_every_signed_field_is_bound(
    account: str,
    lp_account: str,
    lp_key: int,
    amount: str,
    client_id: str,
    expire: str,
    data: st.DataObject,
) -> None:
    quote = signing.CrossWithdrawQuote(lp_account, hex(lp_key), "1.5")
    body = signing.build_cross_withdraw_body(
        vector_key(),
        account_id=account,
        coin=vector_coin(),
        amount=amount,
        eth_address="0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
        erc20_address="0xdAC17F958D2ee523a2206206994597C13D831ec7",
        chain_id="42161",
        quote=quote,
        client_cross_withdraw_id=client_id,
        expire_time_ms=expire,
    )
    original = signing.cross_withdraw_message_hash(body, vector_coin(), hex(lp_key))
    assert _verifies(original, body)
    other_key = data.draw(st.integers(min_value=1, max_value=signing.FIELD_PRIME - 1))
    if other_key != lp_key:
        assert not _verifies(
            signing.cross_withdraw_message_hash(body, vector_coin(), other_key), body
        )
    name = data.draw(st.sampled_from(sorted(CROSS_MUTATIONS)))
    changed = {**body, name: data.draw(CROSS_MUTATIONS[name])}
    msg = signing.cross_withdraw_message_hash(changed, vector_coin(), hex(lp_key))
    same = _signed_value(name, str(changed[name])) == _signed_value(name, str(body[name]))
    assert _verifies(msg, changed) == same
    assert (msg == original) == same


@settings(max_examples=40, deadline=None)
@given(private=st.integers(min_value=1, max_value=signing.EC_ORDER - 1))
def test_public_key_derivation_agrees_with_starknet_py(private: int) -> None:
    key = signing.StarkKey.from_int(private)
    assert key.public_x == private_to_stark_key(private)
    x, y = key.public_x, key.public_y
    assert (y * y - (x**3 + x + stark_ecdsa.BETA)) % signing.FIELD_PRIME == 0


@settings(max_examples=6, deadline=None)
@given(
    msg=st.integers(min_value=1, max_value=2**251 - 1),
    private=st.integers(min_value=1, max_value=signing.EC_ORDER - 1),
)
def test_signature_is_bit_identical_to_starknet_py_seed_none(msg: int, private: int) -> None:
    """Slow reference (~150 ms each): a handful of examples pins RFC 6979 equality."""
    ours = signing.StarkKey.from_int(private).sign(msg)
    assert (ours.r, ours.s) == tuple(message_signature(msg, private, seed=None))


@settings(max_examples=40, deadline=None)
@given(
    ts=st.integers(min_value=1, max_value=2**45),
    query=st.dictionaries(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=12),
        st.text(alphabet="abcXYZ0123456789,._-", max_size=30),
        max_size=5,
    ),
)
def test_auth_headers_verify_for_any_query(ts: int, query: dict[str, str]) -> None:
    signed = signing.auth_headers(
        vector_key(), timestamp_ms=ts, method="GET", path="/api/v1/private/x", query=query
    )
    content = signing.sign_content(signed.timestamp_ms, "GET", "/api/v1/private/x", query=query)
    sig = signed.headers["X-edgeX-Api-Signature"]
    assert len(sig) == 128
    assert verify_message_signature(
        signing.auth_message_hash(content),
        [int(sig[:64], 16), int(sig[64:], 16)],
        vector_key().public_x,
    )
