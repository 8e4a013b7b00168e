"""Every input the signer refuses, each with its specific error and message."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.edgex import signing
from tests.edgex.vectors import vector_coin, vector_key, vectors

SECRET = vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"]
GOOD: dict[str, Any] = {
    "account_id": "551109015904453258",
    "amount": "12.5",
    "eth_address": "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
    "client_withdraw_id": "745410645654877",
    "expire_time_ms": "1735887600000",
}
QUOTE = signing.CrossWithdrawQuote(
    lp_account_id="542076087396467085",
    cross_withdraw_l2_key="0x03bf794b4433e0a8b353da361bb7284c670914d27ed04698e6abed0bf1198028",
    fee="0.35",
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("0x", "not hexadecimal"),
        ("0xzz12", "not hexadecimal"),
        (SECRET + "g", "not hexadecimal"),
        ("0", "is zero"),
        ("0x000", "is zero"),
        (hex(signing.EC_ORDER), "not below the STARK curve order"),
        ("f" * 64, "not below the STARK curve order"),
        ("-1", "not hexadecimal"),
    ],
)
def test_bad_private_keys(text: str, message: str) -> None:
    with pytest.raises(signing.InvalidPrivateKey, match=message) as err:
        signing.StarkKey.from_hex(text)
    assert SECRET not in str(err.value)


def test_key_forms_accepted_and_never_shown() -> None:
    with_prefix = signing.StarkKey.from_hex("0x" + SECRET)
    odd_length = signing.StarkKey.from_hex(SECRET.lstrip("0"))
    padded = signing.StarkKey.from_hex(f"  {SECRET.upper()}\n")
    assert with_prefix.public_x == odd_length.public_x == padded.public_x == vector_key().public_x
    shown = repr(with_prefix) + str(with_prefix)
    assert SECRET.lstrip("0") not in shown
    assert str(int(SECRET, 16)) not in shown
    assert with_prefix.l2_key == vectors()["key"]["l2Key_public_x"]


def test_key_never_reaches_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = signing.StarkKey.from_hex(SECRET)
    logging.getLogger("test").info("key loaded key=%s repr=%r", key, key)
    with pytest.raises(signing.InvalidPrivateKey):
        signing.StarkKey.from_hex(SECRET + "x")
    assert SECRET.lstrip("0") not in caplog.text
    assert str(int(SECRET, 16)) not in caplog.text


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "greater than zero"),
        ("0.000000", "greater than zero"),
        ("-1", "not a plain positive decimal"),
        ("+1", "not a plain positive decimal"),
        ("1e3", "not a plain positive decimal"),
        ("1E-6", "not a plain positive decimal"),
        ("NaN", "not a plain positive decimal"),
        ("Infinity", "not a plain positive decimal"),
        ("1,000", "not a plain positive decimal"),
        (" 1", "not a plain positive decimal"),
        ("1.", "not a plain positive decimal"),
        (".5", "not a plain positive decimal"),
        ("", "not a plain positive decimal"),
        ("1.0000001", r"at most 6 decimal places"),
        ("18446744073709.551616", "too large"),
        ("\uff11\uff12", "not a plain positive decimal"),
    ],
)
def test_bad_amounts(amount: str, message: str) -> None:
    with pytest.raises(signing.InvalidAmount, match=message):
        signing.amount_to_quantums(amount, "0xf4240")


def test_amount_must_be_a_string_never_a_float() -> None:
    with pytest.raises(signing.InvalidAmount, match="never a float"):
        signing.amount_to_quantums(1.005, "0xf4240")  # type: ignore[arg-type]


def test_the_sdk_float_bug_cannot_happen() -> None:
    # The v1 SDK signs 1004999 quantums for "1.005" (int(float("1.005") * 10**6)).
    assert signing.amount_to_quantums("1.005", "0xf4240") == 1_005_000
    assert signing.amount_to_quantums("18446744073709.551615", "0xf4240") == 2**64 - 1


def test_non_decimal_resolution_has_no_decimal_hint() -> None:
    with pytest.raises(signing.InvalidAmount, match=r"smallest unit$"):
        signing.amount_to_quantums("0.5", "0x3")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"account_id": "0"}, signing.InvalidField, "accountId must not be zero"),
        ({"account_id": "-5"}, signing.InvalidField, "accountId must be a non-negative"),
        ({"account_id": str(2**64)}, signing.InvalidField, "does not fit in 64 bits"),
        ({"account_id": "12a"}, signing.InvalidField, "accountId must be a non-negative"),
        ({"eth_address": "1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"}, signing.InvalidField, "0x"),
        ({"eth_address": "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7"}, signing.InvalidField, "40"),
        (
            {"eth_address": "0x1Fb51aa234287C3CA1F957eA9AD0E148Bb814b7A"},
            signing.InvalidField,
            "wrong EIP-55 checksum",
        ),
        (
            {"eth_address": "0xZZB51aa234287C3CA1F957eA9AD0E148Bb814b7A"},
            signing.InvalidField,
            "hex",
        ),
        ({"client_withdraw_id": ""}, signing.InvalidField, "clientWithdrawId must be 1-64"),
        ({"client_withdraw_id": "a&b=c"}, signing.InvalidField, "clientWithdrawId must be 1-64"),
        ({"client_withdraw_id": "x" * 65}, signing.InvalidField, "clientWithdrawId must be 1-64"),
        ({"expire_time_ms": "0"}, signing.InvalidField, "expireTime must not be zero"),
        ({"expire_time_ms": "1000"}, signing.InvalidField, "out of the signable range"),
        ({"expire_time_ms": str(2**32 * 3_600_000)}, signing.InvalidField, "signable range"),
        ({"expire_time_ms": "17358876e5"}, signing.InvalidField, "expireTime must be"),
        ({"amount": "12.3456789"}, signing.InvalidAmount, "decimal places"),
    ],
)
def test_bad_normal_withdraw_fields(
    change: dict[str, Any], error: type[signing.SigningError], message: str
) -> None:
    with pytest.raises(error, match=message):
        signing.build_normal_withdraw_body(vector_key(), coin=vector_coin(), **{**GOOD, **change})


@pytest.mark.parametrize(
    ("coin", "message"),
    [
        (signing.CoinMeta("1000", "0x", "0xf4240"), "starkExAssetId must be a hex"),
        (signing.CoinMeta("1000", "0x" + "f" * 63, "0xf4240"), "starkExAssetId .* out of range"),
        (signing.CoinMeta("1000", "0x33bd", "f4240x"), "starkExResolution must be a hex"),
        (signing.CoinMeta("1000", "0x33bd", "0x0"), "starkExResolution 0x0 is out of range"),
        (signing.CoinMeta("USDT", "0x33bd", "0xf4240"), "coinId must be a non-negative"),
    ],
)
def test_bad_coin_metadata(coin: signing.CoinMeta, message: str) -> None:
    with pytest.raises(signing.SigningError, match=message):
        signing.build_normal_withdraw_body(vector_key(), coin=coin, **GOOD)


def _cross(**change: Any) -> dict[str, str | int]:
    args: dict[str, Any] = {
        "account_id": GOOD["account_id"],
        "amount": "100",
        "eth_address": GOOD["eth_address"],
        "erc20_address": "0xdAC17F958D2ee523a2206206994597C13D831ec7",
        "chain_id": 42161,
        "quote": QUOTE,
        "client_cross_withdraw_id": "c-1",
        "expire_time_ms": GOOD["expire_time_ms"],
    }
    return signing.build_cross_withdraw_body(vector_key(), coin=vector_coin(), **{**args, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"erc20_address": "0xdac17f958d2ee523a2206206994597c13d831ec"}, "erc20Address must be"),
        ({"chain_id": 0}, "chainId must not be zero"),
        ({"chain_id": "0x1"}, "chainId must be a non-negative"),
        ({"chain_id": True}, "chainId must be a decimal string"),
        ({"quote": signing.CrossWithdrawQuote("0", QUOTE.cross_withdraw_l2_key, "1")}, "lpAccount"),
        ({"quote": signing.CrossWithdrawQuote("5", "not-a-key", "1")}, "l2Key must be a hex"),
        ({"quote": signing.CrossWithdrawQuote("5", "0x0", "1")}, "l2Key is out of range"),
        ({"quote": signing.CrossWithdrawQuote("5", hex(signing.FIELD_PRIME), "1")}, "out of range"),
        ({"quote": signing.CrossWithdrawQuote("5", "0x1", "-0.1")}, "fee '-0.1' is not a plain"),
        ({"quote": signing.CrossWithdrawQuote("5", "0x1", "1e-3")}, "fee '1e-3' is not a plain"),
        ({"client_cross_withdraw_id": "has space"}, "clientCrossWithdrawId must be 1-64"),
    ],
)
def test_bad_cross_withdraw_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(signing.InvalidField, match=message):
        _cross(**change)


def test_body_naming_another_coin_is_refused() -> None:
    body = signing.build_normal_withdraw_body(vector_key(), coin=vector_coin(), **GOOD)
    with pytest.raises(signing.InvalidField, match="coinId '1001' does not match"):
        signing.normal_withdraw_message_hash({**body, "coinId": "1001"}, vector_coin())
    with pytest.raises(signing.InvalidField, match="amount is missing or not a string"):
        signing.normal_withdraw_message_hash({**body, "amount": 12.5}, vector_coin())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "PATCH", "path": "/p"}, "unsupported HTTP method"),
        ({"method": "GET", "path": "https://pro.edgex.exchange/p"}, "bare URI path"),
        ({"method": "GET", "path": "/p?a=1"}, "bare URI path"),
        ({"method": "GET", "path": "p"}, "bare URI path"),
        ({"method": "GET", "path": "/p", "query": {"a": "x y"}}, "characters other than"),
        ({"method": "GET", "path": "/p", "query": {"a": "1&b=2"}}, "characters other than"),
        ({"method": "GET", "path": "/p", "query": {"a": "é"}}, "characters other than"),
        ({"method": "GET", "path": "/p", "query": {"a=": "1"}}, "characters other than"),
        ({"method": "GET", "path": "/p", "query": {"a": True}}, "string or integer"),
        ({"method": "GET", "path": "/p", "query": {"a": 1.5}}, "string or integer"),
        ({"method": "GET", "path": "/p", "body": {"a": "1"}}, "only POST and PUT"),
        ({"method": "POST", "path": "/p", "body": ["a"]}, "must be an object"),
        ({"method": "POST", "path": "/p", "body": {"a": object()}}, "cannot sign a value"),
    ],
)
def test_unsignable_requests(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(signing.InvalidRequest, match=message):
        signing.auth_headers(vector_key(), timestamp_ms=1, **kwargs)


def test_l2_keys_compare_as_integers() -> None:
    assert signing.l2_keys_equal("0x03bf794b", "0x3bf794b")
    assert signing.l2_keys_equal("3BF794B", 0x3BF794B)
    assert not signing.l2_keys_equal("0x03bf794b", "0x03bf794c")
    with pytest.raises(signing.InvalidField, match="l2Key must be a hex"):
        signing.l2_keys_equal("0x", "0x1")


@pytest.mark.parametrize(
    ("now_ms", "days", "expected"),
    [
        (1_735_542_383_256, 14, 1_735_545_600_000 + 14 * 86_400_000),
        (1_735_545_600_000, 14, 1_735_545_600_000 + 14 * 86_400_000),
        (1_735_545_600_001, 1, 1_735_549_200_000 + 86_400_000),
    ],
)
def test_expire_time_is_hour_aligned_and_at_least_a_day_ahead(
    now_ms: int, days: int, expected: int
) -> None:
    value = signing.hour_aligned_expire_time(now_ms, days=days)
    assert value == expected
    assert value % 3_600_000 == 0
    assert value >= now_ms + 86_400_000


@pytest.mark.parametrize(("now_ms", "days"), [(1, 0), (1, -3), (0, 14), (-5, 14)])
def test_expire_time_refuses_short_or_nonsense_windows(now_ms: int, days: int) -> None:
    with pytest.raises(signing.InvalidField):
        signing.hour_aligned_expire_time(now_ms, days=days)


def test_signer_refuses_unsignable_message_hashes() -> None:
    with pytest.raises(ValueError, match="message hash must be in"):
        vector_key().sign(0)
    with pytest.raises(ValueError, match="message hash must be in"):
        vector_key().sign(2**251)
