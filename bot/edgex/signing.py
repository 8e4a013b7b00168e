"""edgeX V1 (StarkEx) signing: keys, message hashes, signed withdrawal bodies, request auth.

Every function here reproduces the official edgeX SDK's math (edgex-protocol.md sections 2, 3, 5
and 6) but refuses what the SDK silently gets wrong: floats, amounts that are not a whole number of
quantums, out-of-range fields that would wrap inside the packed words, ambiguous query strings.
Nothing here reads the clock or does I/O; time is passed in.

Errors (all subclasses of ``ValueError`` so callers can show ``str(err)`` to a person)::

    SigningError
     ├── InvalidPrivateKey      the L2 key is malformed or out of range (the key is never echoed)
     ├── InvalidAmount          not a positive decimal that is a whole number of quantums < 2**64
     ├── InvalidField           any other field: account ids, addresses, ids, expiry, metadata
     └── InvalidRequest         auth sign-content inputs: method, path, query values, body

``stark_ecdsa.SigningFailure`` (a ``RuntimeError``) means our signer and starknet-py disagreed;
it is a bug, never a user error, and the signature is discarded.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from Crypto.Hash import keccak
from eth_utils.address import is_checksum_address
from starknet_py.hash.utils import pedersen_hash

from bot.edgex import stark_ecdsa
from bot.edgex.stark_ecdsa import EC_ORDER, ECDSA_BOUND, FIELD_PRIME, Signature

__all__ = [
    "EC_ORDER",
    "FIELD_PRIME",
    "CoinMeta",
    "CrossWithdrawQuote",
    "InvalidAmount",
    "InvalidField",
    "InvalidPrivateKey",
    "InvalidRequest",
    "Signature",
    "SignedRequest",
    "SigningError",
    "StarkKey",
    "amount_to_quantums",
    "auth_headers",
    "auth_message_hash",
    "build_cross_withdraw_body",
    "build_normal_withdraw_body",
    "cross_withdraw_message_hash",
    "expiration_hours",
    "hour_aligned_expire_time",
    "l2_keys_equal",
    "nonce_from_client_id",
    "normal_withdraw_message_hash",
    "parse_l2_key",
    "sign_content",
    "sign_value",
    "transfer_message_hash",
    "withdrawal_message_hash",
]

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR
WITHDRAWAL_TO_ADDRESS = 7
TRANSFER = 4
# [ASSUMED] cross withdraw = StarkEx transfer; the fee asset and max fee are 0 (edgeX docs'
# "Transfer Signature" defaults) and the fee position is the sender's (dYdX/starkex-lib
# convention). None of this is confirmed by a live server: see README "What is assumed".
CROSS_ASSET_ID_FEE = 0
CROSS_MAX_AMOUNT_FEE = 0

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_UINT = re.compile(r"[0-9]+")
_HEX = re.compile(r"(0x)?[0-9a-fA-F]+")
_ETH_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Query keys/values are signed raw but sent URL-encoded by HTTP clients; only characters that
# both leave alone keep the signed string and the wire string identical (protocol notes sec. 2).
_QUERY_SAFE = re.compile(r"[A-Za-z0-9,._-]*")
_PATH = re.compile(r"/[A-Za-z0-9/._-]*")


class SigningError(ValueError):
    """Base of every input refused by the signer; the message is fit to show a person."""


class InvalidPrivateKey(SigningError):
    """The L2 private key is malformed or out of range."""


class InvalidAmount(SigningError):
    """The amount cannot be signed exactly."""


class InvalidField(SigningError):
    """A signed field other than the amount is malformed or out of its packed range."""


class InvalidRequest(SigningError):
    """An API request cannot be signed unambiguously."""


@dataclass(frozen=True, slots=True)
class StarkKey:
    """An L2 private key with its public point, derived and cross-checked once.

    The private scalar is excluded from ``repr`` and equality so it cannot reach a log line or an
    exception message by accident.
    """

    _private: int = field(repr=False, compare=False)
    public_x: int
    public_y: int = field(repr=False)

    @classmethod
    def from_hex(cls, text: str) -> StarkKey:
        """Parse a hex key with or without ``0x``; odd lengths are fine, whitespace is trimmed."""
        if not isinstance(text, str):
            raise InvalidPrivateKey("the L2 private key must be a hex string")
        cleaned = text.strip()
        if not cleaned:
            raise InvalidPrivateKey("the L2 private key is empty")
        if not _HEX.fullmatch(cleaned) or cleaned.lower() == "0x":
            raise InvalidPrivateKey(
                "the L2 private key is not hexadecimal (expected up to 64 hex digits, 0x optional)"
            )
        return cls.from_int(int(cleaned, 16))

    @classmethod
    def from_int(cls, private: int) -> StarkKey:
        """Accept only 0 < key < EC order; the SDK's silent reduction would sign for another key."""
        if private <= 0:
            raise InvalidPrivateKey("the L2 private key is zero")
        if private >= EC_ORDER:
            raise InvalidPrivateKey("the L2 private key is not below the STARK curve order")
        x, y = stark_ecdsa.public_key(private)
        if x != stark_ecdsa.stark_key_of(private):
            raise stark_ecdsa.SigningFailure("public key derivation disagrees with starknet-py")
        return cls(private, x, y)

    @property
    def l2_key(self) -> str:
        """The public key as edgeX writes it (``0x`` + 64 hex digits)."""
        return f"0x{self.public_x:064x}"

    def sign(self, msg_hash: int) -> Signature:
        """Deterministic, independently verified signature of a message hash."""
        return stark_ecdsa.sign(msg_hash, self._private, self.public_x)


@dataclass(frozen=True, slots=True)
class CoinMeta:
    """The metadata fields a withdrawal signature depends on (``getMetaData.coinList[]``)."""

    coin_id: str
    stark_ex_asset_id: str
    stark_ex_resolution: str


@dataclass(frozen=True, slots=True)
class CrossWithdrawQuote:
    """The LP quote from ``getCrossWithdrawSignInfo`` that a cross withdrawal is signed against."""

    lp_account_id: str
    cross_withdraw_l2_key: str
    fee: str


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """Auth headers plus the exact timestamp used (it may be bumped, see :func:`auth_headers`)."""

    headers: dict[str, str]
    timestamp_ms: int


# --- field parsing -------------------------------------------------------------------------


def _uint(value: object, name: str, bits: int, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidField(f"{name} must be a decimal string")
    text = str(value)
    if not _UINT.fullmatch(text):
        raise InvalidField(f"{name} must be a non-negative whole number, got {text[:40]!r}")
    number = int(text)
    if number == 0 and not allow_zero:
        raise InvalidField(f"{name} must not be zero")
    if number >= 1 << bits:
        raise InvalidField(f"{name} {text} does not fit in {bits} bits")
    return number


def _hex_field(value: object, name: str, bound: int) -> int:
    if not isinstance(value, str) or not _HEX.fullmatch(value) or value.lower() == "0x":
        raise InvalidField(f"{name} must be a hex string, got {str(value)[:70]!r}")
    number = int(value, 16)
    if not 0 < number < bound:
        raise InvalidField(f"{name} {value} is out of range")
    return number


def _eth_address(value: object, name: str) -> int:
    """Parse a 20-byte address; mixed case must carry a valid EIP-55 checksum (typo guard)."""
    if not isinstance(value, str) or not _ETH_ADDRESS.fullmatch(value):
        raise InvalidField(f"{name} must be 0x followed by 40 hex digits, got {str(value)[:50]!r}")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise InvalidField(f"{name} {value} has a wrong EIP-55 checksum (mistyped?)")
    return int(digits, 16)


def _client_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise InvalidField(f"{name} must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


def parse_l2_key(value: str | int) -> int:
    """Parse an l2Key as written by the API, with or without leading zeros or ``0x``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _HEX.fullmatch(value.strip()) and value.lower() != "0x":
        number = int(value.strip(), 16)
    else:
        raise InvalidField(f"l2Key must be a hex string, got {str(value)[:70]!r}")
    if not 0 < number < FIELD_PRIME:
        raise InvalidField("l2Key is out of range")
    return number


def l2_keys_equal(a: str | int, b: str | int) -> bool:
    """Compare l2Keys as integers: the API writes the same key with and without leading zeros."""
    return parse_l2_key(a) == parse_l2_key(b)


# --- the pieces of a withdrawal message ----------------------------------------------------


def nonce_from_client_id(client_id: str) -> int:
    """The StarkEx nonce: the first 32 bits of sha256 over the client id."""
    return int.from_bytes(hashlib.sha256(client_id.encode()).digest()[:4], "big")


def amount_to_quantums(amount: str, resolution_hex: str) -> int:
    """Exact ``amount * resolution`` for a plain decimal string; never through float."""
    if not isinstance(amount, str):
        raise InvalidAmount("the amount must be a decimal string such as 12.5, never a float")
    if not _DECIMAL.fullmatch(amount):
        raise InvalidAmount(
            f"the amount {amount[:40]!r} is not a plain positive decimal (digits and at most one "
            "point; no sign, exponent, spaces or separators)"
        )
    resolution = _hex_field(resolution_hex, "starkExResolution", 1 << 64)
    quantums = Decimal(amount) * resolution
    if quantums == 0:
        raise InvalidAmount("the amount must be greater than zero")
    if quantums != quantums.to_integral_value():
        decimals = round(math.log10(resolution)) if resolution > 1 else 0
        hint = f" (at most {decimals} decimal places)" if 10**decimals == resolution else ""
        raise InvalidAmount(
            f"the amount {amount} is not a whole number of the coin's smallest unit{hint}"
        )
    if quantums >= 1 << 64:
        raise InvalidAmount(f"the amount {amount} is too large to sign (2**64 quantums or more)")
    return int(quantums)


def expiration_hours(expire_time_ms: str | int) -> int:
    """StarkEx expiry in hours (floor) from edgeX's millisecond ``expireTime``."""
    return _uint(expire_time_ms, "expireTime", 64) // MS_PER_HOUR


def hour_aligned_expire_time(now_ms: int, *, days: int = 14) -> int:
    """An hour-aligned expireTime ``ceil_to_hour(now) + days``, never less than 24 h ahead.

    Hour alignment makes the millisecond value and the signed hours agree however the server
    rounds (protocol notes sec. 5).
    """
    if isinstance(now_ms, bool) or not isinstance(now_ms, int) or now_ms <= 0:
        raise InvalidField("now_ms must be a positive integer of Unix milliseconds")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidField("a withdrawal must stay valid for at least one whole day (24 h)")
    return -(-now_ms // MS_PER_HOUR) * MS_PER_HOUR + days * MS_PER_DAY


def _check_hours(hours: int) -> int:
    if not 0 < hours < 1 << 32:
        raise InvalidField("expireTime is out of the signable range")
    return hours


def withdrawal_message_hash(
    *,
    asset_id: int,
    position_id: int,
    eth_address: int,
    nonce: int,
    amount_quantums: int,
    expiration_hours: int,
) -> int:
    """StarkEx WITHDRAWAL_TO_ADDRESS message (``get_withdrawal_to_address_msg``)."""
    _bounded(asset_id, 250, "asset id")
    _bounded(eth_address, 160, "eth address")
    _bounded(position_id, 64, "position id")
    _bounded(nonce, 32, "nonce")
    _bounded(amount_quantums, 64, "amount")
    _bounded(expiration_hours, 32, "expiration")
    packed = WITHDRAWAL_TO_ADDRESS
    packed = (packed << 64) | position_id
    packed = (packed << 32) | nonce
    packed = (packed << 64) | amount_quantums
    packed = (packed << 32) | expiration_hours
    packed <<= 49
    return int(pedersen_hash(pedersen_hash(asset_id, eth_address), packed))


def transfer_message_hash(
    *,
    asset_id: int,
    asset_id_fee: int,
    receiver_public_key: int,
    sender_position_id: int,
    receiver_position_id: int,
    fee_position_id: int,
    nonce: int,
    amount_quantums: int,
    max_amount_fee: int,
    expiration_hours: int,
) -> int:
    """StarkEx TRANSFER message (SDK ``calc_transfer_hash``); used for cross withdrawals."""
    _bounded(asset_id, 250, "asset id")
    _bounded(asset_id_fee, 250, "fee asset id")
    if not 0 <= receiver_public_key < FIELD_PRIME:
        raise InvalidField("receiver public key is out of range")
    for value, name in (
        (sender_position_id, "sender position id"),
        (receiver_position_id, "receiver position id"),
        (fee_position_id, "fee position id"),
        (amount_quantums, "amount"),
        (max_amount_fee, "max fee"),
    ):
        _bounded(value, 64, name)
    _bounded(nonce, 32, "nonce")
    _bounded(expiration_hours, 32, "expiration")
    head = pedersen_hash(pedersen_hash(asset_id, asset_id_fee), receiver_public_key)
    p0 = (((sender_position_id << 64 | receiver_position_id) << 64 | fee_position_id) << 32) | nonce
    p1 = (
        (((TRANSFER << 64 | amount_quantums) << 64 | max_amount_fee) << 32) | expiration_hours
    ) << 81
    return int(pedersen_hash(pedersen_hash(head, p0), p1))


def _bounded(value: int, bits: int, name: str) -> None:
    if not 0 <= value < 1 << bits:
        raise InvalidField(f"{name} does not fit in {bits} bits")


# --- complete signed bodies ----------------------------------------------------------------
#
# The message hash is always recomputed from the very strings of the body that will be sent, so
# what is signed and what the server re-derives can never drift apart; the simulator verifies
# incoming bodies with the same two functions.


def _body_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidField(f"{name} is missing or not a string")
    return value


def _coin_fields(body: Mapping[str, Any], coin: CoinMeta) -> tuple[int, int]:
    """Asset id and quantums, after checking the body names the coin the metadata describes."""
    if _body_str(body, "coinId") != coin.coin_id:
        raise InvalidField(f"coinId {body.get('coinId')!r} does not match the coin metadata")
    _uint(coin.coin_id, "coinId", 64, allow_zero=True)
    asset_id = _hex_field(coin.stark_ex_asset_id, "starkExAssetId", 1 << 250)
    return asset_id, amount_to_quantums(_body_str(body, "amount"), coin.stark_ex_resolution)


def normal_withdraw_message_hash(body: Mapping[str, Any], coin: CoinMeta) -> int:
    """The StarkEx message a ``createNormalWithdraw`` body commits to."""
    asset_id, quantums = _coin_fields(body, coin)
    client_id = _client_id(body.get("clientWithdrawId"), "clientWithdrawId")
    return withdrawal_message_hash(
        asset_id=asset_id,
        position_id=_uint(_body_str(body, "accountId"), "accountId", 64),
        eth_address=_eth_address(body.get("ethAddress"), "ethAddress"),
        nonce=nonce_from_client_id(client_id),
        amount_quantums=quantums,
        expiration_hours=_check_hours(expiration_hours(_body_str(body, "expireTime"))),
    )


def cross_withdraw_message_hash(
    body: Mapping[str, Any], coin: CoinMeta, cross_withdraw_l2_key: str | int
) -> int:
    """The [ASSUMED] StarkEx transfer a ``createCrossWithdraw`` body commits to.

    The LP key is not part of the body, so it comes from the quote the body was built on.
    """
    asset_id, quantums = _coin_fields(body, coin)
    sender = _uint(_body_str(body, "accountId"), "accountId", 64)
    _eth_address(body.get("ethAddress"), "ethAddress")
    _eth_address(body.get("erc20Address"), "erc20Address")
    _uint(body.get("chainId"), "chainId", 64)
    fee = body.get("fee")
    if not isinstance(fee, str) or not _DECIMAL.fullmatch(fee):
        raise InvalidField(f"the quoted fee {str(fee)[:40]!r} is not a plain decimal")
    client_id = _client_id(body.get("clientCrossWithdrawId"), "clientCrossWithdrawId")
    return transfer_message_hash(
        asset_id=asset_id,
        asset_id_fee=CROSS_ASSET_ID_FEE,
        receiver_public_key=parse_l2_key(cross_withdraw_l2_key),
        sender_position_id=sender,
        receiver_position_id=_uint(_body_str(body, "lpAccountId"), "lpAccountId", 64),
        fee_position_id=sender,
        nonce=nonce_from_client_id(client_id),
        amount_quantums=quantums,
        max_amount_fee=CROSS_MAX_AMOUNT_FEE,
        expiration_hours=_check_hours(expiration_hours(_body_str(body, "expireTime"))),
    )


def build_normal_withdraw_body(
    key: StarkKey,
    *,
    account_id: str,
    coin: CoinMeta,
    amount: str,
    eth_address: str,
    client_withdraw_id: str,
    expire_time_ms: str | int,
) -> dict[str, str]:
    """The complete ``createNormalWithdraw`` JSON body, signed and verified.

    The amount and address go out exactly as given (the server re-derives the signed quantities
    from these strings); every field is validated before anything is signed.
    """
    body = {
        "accountId": account_id,
        "coinId": coin.coin_id,
        "amount": amount,
        "ethAddress": eth_address,
        "clientWithdrawId": client_withdraw_id,
        "expireTime": _ms_string(expire_time_ms),
    }
    body["l2Signature"] = key.sign(normal_withdraw_message_hash(body, coin)).to_hex()
    return body


def build_cross_withdraw_body(
    key: StarkKey,
    *,
    account_id: str,
    coin: CoinMeta,
    amount: str,
    eth_address: str,
    erc20_address: str,
    chain_id: int | str,
    quote: CrossWithdrawQuote,
    client_cross_withdraw_id: str,
    expire_time_ms: str | int,
) -> dict[str, str | int]:
    """The complete ``createCrossWithdraw`` JSON body, signed and verified.

    [ASSUMED] the message is a StarkEx transfer of the gross ``amount`` from the account to the
    LP account and LP key of the quote (protocol notes sec. 6); ``chainId`` goes out as a JSON
    number as in a captured testnet call (it signs the same either way).
    """
    body: dict[str, str | int] = {
        "accountId": account_id,
        "coinId": coin.coin_id,
        "amount": amount,
        "ethAddress": eth_address,
        "erc20Address": erc20_address,
        "lpAccountId": quote.lp_account_id,
        "clientCrossWithdrawId": client_cross_withdraw_id,
        "expireTime": _ms_string(expire_time_ms),
        "fee": quote.fee,
        "chainId": _uint(chain_id, "chainId", 64),
    }
    msg = cross_withdraw_message_hash(body, coin, quote.cross_withdraw_l2_key)
    body["l2Signature"] = key.sign(msg).to_hex()
    return body


def _ms_string(value: str | int) -> str:
    return str(_uint(value, "expireTime", 64))


# --- private API request authentication ---------------------------------------------------


def sign_value(value: Any) -> str:
    """The SDK's canonical string of a JSON value (sorted keys, ``&``-joined, recursive)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "&".join(sign_value(item) for item in value)
    if isinstance(value, Mapping):
        return "&".join(f"{k}={sign_value(value[k])}" for k in sorted(value))
    raise InvalidRequest(f"cannot sign a value of type {type(value).__name__}")


def sign_content(
    timestamp_ms: int,
    method: str,
    path: str,
    *,
    query: Mapping[str, str | int] | None = None,
    body: Mapping[str, Any] | None = None,
) -> str:
    """``timestamp + METHOD + path + tail``, the string whose keccak edgeX verifies."""
    if method.upper() not in {"GET", "POST", "PUT", "DELETE"}:
        raise InvalidRequest(f"unsupported HTTP method {method[:10]!r}")
    if not _PATH.fullmatch(path):
        raise InvalidRequest(f"the path {path[:80]!r} must be a bare URI path (no host or query)")
    if body is not None and not isinstance(body, Mapping):
        raise InvalidRequest("the JSON body must be an object")
    if body:
        if method.upper() not in {"POST", "PUT"}:
            raise InvalidRequest("only POST and PUT requests carry a signed JSON body")
        tail = sign_value(body)
    elif query:
        tail = "&".join(f"{k}={_query_value(k, query[k])}" for k in sorted(query))
    else:
        tail = ""
    return f"{timestamp_ms}{method.upper()}{path}{tail}"


def _query_value(name: str, value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRequest(f"query parameter {name} must be a string or integer")
    text = str(value)
    if not _QUERY_SAFE.fullmatch(name) or not _QUERY_SAFE.fullmatch(text):
        raise InvalidRequest(
            f"query parameter {name[:40]}={text[:40]!r} has characters other than "
            "A-Z a-z 0-9 , . _ - (they would be signed differently from how they are sent)"
        )
    return text


def auth_message_hash(content: str) -> int:
    """keccak256 of the sign-content, reduced modulo the curve order."""
    digest = keccak.new(digest_bits=256, data=content.encode()).digest()
    return int.from_bytes(digest, "big") % EC_ORDER


def auth_headers(
    key: StarkKey,
    *,
    timestamp_ms: int,
    method: str,
    path: str,
    query: Mapping[str, str | int] | None = None,
    body: Mapping[str, Any] | None = None,
    with_public_y: bool = False,
) -> SignedRequest:
    """``X-edgeX-Api-Timestamp`` / ``X-edgeX-Api-Signature`` for a private API call.

    About 2**-55 of digests reduce to a value StarkEx cannot sign (>= 2**251, or 0); then the
    timestamp is bumped by 1 ms and signed again, so the returned ``timestamp_ms`` is the one to
    send.
    ``with_public_y`` adds the public key's y (r||s||y, 192 hex), the docs' Java-style form.
    """
    while True:
        msg = auth_message_hash(sign_content(timestamp_ms, method, path, query=query, body=body))
        if 0 < msg < ECDSA_BOUND:
            break
        timestamp_ms += 1
    signature = key.sign(msg).to_hex()
    if with_public_y:
        signature += f"{key.public_y:064x}"
    return SignedRequest(
        headers={
            "X-edgeX-Api-Timestamp": str(timestamp_ms),
            "X-edgeX-Api-Signature": signature,
        },
        timestamp_ms=timestamp_ms,
    )
