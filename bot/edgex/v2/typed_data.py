"""The V2 withdrawal attempt, and the check of edgeX's typed data against it before signing.

edgeX answers ``getEIP712Data`` with the EIP-712 typed data the wallet key is to sign. A wallet
signature is a bearer instrument: whatever the typed data says is what the signature authorises.
So the server's typed data is treated as untrusted input and compared, field by field, with the
attempt withdrawbot built from the approved content (:func:`check_typed_data`); any difference
is a :class:`TypedDataRefused` naming the field, and nothing is signed::

    primaryType          AssetFlowAttempt, nothing else
    types                AssetFlowAttempt has exactly the attempt's fields plus the server's
                         userId, each of the expected type; no other struct is referenced
    domain               name "edgeX Asset Flow", version "1"; verifyingContract an address
                         (shown to approvers, not pinned: edgeX publishes none); chainId, if
                         present, a number
    message              each attempt field equal to ours (addresses compared as addresses),
                         userId a decimal account number, no field missing or extra,
                         expireTime ours and within (now, now + the window we allow]

The shape follows the official SDKs' normalisation (``build_typed_data_from_server_response``,
notes section 2.4): ``types[name]`` may be ``{"fields": [...]}`` or a bare list, an absent
``EIP712Domain`` is synthesised from the domain's keys, ``messageJson`` is preferred over
``message``. Field names and the domain values are from the docs' example (ASSUMED: edgeX
documents no schema beyond it).
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.edgex.v2.hmac_auth import JsonValue

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "FIELD_MAX",
    "PRIMARY_TYPE",
    "Attempt",
    "CheckedTypedData",
    "TypedDataRefused",
    "check_typed_data",
]

PRIMARY_TYPE = "AssetFlowAttempt"
FIELD_MAX = 48
DOMAIN_NAME = "edgeX Asset Flow"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x" + "0" * 40
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL_ID = re.compile(r"[0-9]{1,20}")
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlist, _SHOWN.maxdict = 2, 60, 60, 4, 4

# The attempt's fields (wire name, EIP-712 type) in the docs' order, then the server's userId.
_ATTEMPT_FIELDS = (
    ("userAddress", "address"),
    ("privyAddress", "address"),
    ("source", "string"),
    ("sourceAccount", "string"),
    ("tokenAddress", "string"),
    ("amount", "string"),
    ("fee", "string"),
    ("destination", "string"),
    ("destinationAccount", "string"),
    ("clientWithdrawId", "string"),
    ("expireTime", "string"),
)
_TYPED_FIELDS = {"userId": "string", **dict(_ATTEMPT_FIELDS)}
_ADDRESS_FIELDS = frozenset({"userAddress", "privyAddress", "tokenAddress", "destinationAccount"})
_DOMAIN_TYPES = {
    "name": "string",
    "version": "string",
    "chainId": "uint256",
    "verifyingContract": "address",
}


class TypedDataRefused(ValueError):
    """edgeX's typed data does not say what was approved; ``field`` names where it differs.

    Field names can come from the server (an extra struct, domain or message key), so the name
    is cut to ``FIELD_MAX`` characters: it goes into log lines and alert keys.
    """

    def __init__(self, field: str, message: str) -> None:
        if len(field) > FIELD_MAX:
            field = field[: FIELD_MAX - 1] + "…"
        super().__init__(f"edgeX's typed data is refused at {field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Attempt:
    """A unified-asset withdraw attempt as sent (notes section 2.4, step 1).

    ``amount`` and ``fee`` are raw token units (integers as text); ``destination`` is
    ``chain-<id>``; ``expire_time`` is Unix seconds.
    """

    user_address: str
    source: str
    source_account: str
    token_address: str
    amount: str
    fee: str
    destination: str
    destination_account: str
    client_withdraw_id: str
    expire_time: int
    privy_address: str = ZERO_ADDRESS

    def wire(self) -> dict[str, JsonValue]:
        """The attempt's JSON object, as the fee, typed-data and submit calls take it."""
        return {
            "userAddress": self.user_address,
            "privyAddress": self.privy_address,
            "source": self.source,
            "sourceAccount": self.source_account,
            "tokenAddress": self.token_address,
            "amount": self.amount,
            "fee": self.fee,
            "destination": self.destination,
            "destinationAccount": self.destination_account,
            "clientWithdrawId": self.client_withdraw_id,
            "expireTime": self.expire_time,
        }


@dataclass(frozen=True, slots=True)
class CheckedTypedData:
    """Typed data that says exactly what the attempt says, ready for ``encode_typed_data``.

    ``verifying_contract`` is what approvers are shown; ``user_id`` is the account number edgeX
    put in the message.
    """

    full_message: dict[str, Any]
    verifying_contract: str
    user_id: str


def check_typed_data(
    response: Mapping[str, Any], attempt: Attempt, *, now_s: int, max_expiry_s: int
) -> CheckedTypedData:
    """The server's typed data, refused at the first field that is not the attempt's."""
    if not isinstance(response, Mapping):
        raise TypedDataRefused("data", f"{_shown(response)} is not an object")
    if response.get("primaryType") != PRIMARY_TYPE:
        raise TypedDataRefused(
            "primaryType", f"{_shown(response.get('primaryType'))} is not {PRIMARY_TYPE}"
        )
    types = _types(response.get("types"))
    domain = _domain(response.get("domain"), types)
    message = _message(response)
    user_id = _check_message(message, attempt, now_s=now_s, max_expiry_s=max_expiry_s)
    full = {"types": types, "primaryType": PRIMARY_TYPE, "domain": domain, "message": message}
    return CheckedTypedData(full, str(domain["verifyingContract"]), user_id)


def _types(raw: object) -> dict[str, list[dict[str, str]]]:
    if not isinstance(raw, Mapping):
        raise TypedDataRefused("types", "missing or not an object")
    types: dict[str, list[dict[str, str]]] = {}
    for name, entry in raw.items():
        fields = entry.get("fields") if isinstance(entry, Mapping) else entry
        if not isinstance(fields, list) or not all(
            isinstance(f, Mapping)
            and isinstance(f.get("name"), str)
            and isinstance(f.get("type"), str)
            for f in fields
        ):
            raise TypedDataRefused(f"types.{name}", "not a list of {name, type} fields")
        types[str(name)] = [{"name": f["name"], "type": f["type"]} for f in fields]
    extra = set(types) - {PRIMARY_TYPE, "EIP712Domain"}
    if extra:
        raise TypedDataRefused(f"types.{sorted(extra)[0]}", "a struct the attempt does not have")
    fields = {f["name"]: f["type"] for f in types.get(PRIMARY_TYPE, [])}
    if len(fields) != len(types.get(PRIMARY_TYPE, [])):
        raise TypedDataRefused(f"types.{PRIMARY_TYPE}", "a field is listed twice")
    for name, kind in _TYPED_FIELDS.items():
        if name not in fields:
            raise TypedDataRefused(f"types.{PRIMARY_TYPE}.{name}", "missing")
        if fields[name] != kind:
            raise TypedDataRefused(
                f"types.{PRIMARY_TYPE}.{name}", f"typed {_shown(fields[name])}, not {kind}"
            )
    for name in fields:
        if name not in _TYPED_FIELDS:
            raise TypedDataRefused(f"types.{PRIMARY_TYPE}.{name}", "a field the attempt has not")
    return types


def _domain(raw: object, types: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TypedDataRefused("domain", "missing or not an object")
    if raw.get("name") != DOMAIN_NAME:
        raise TypedDataRefused("domain.name", f"{_shown(raw.get('name'))} is not {DOMAIN_NAME!r}")
    if str(raw.get("version")) != DOMAIN_VERSION:
        raise TypedDataRefused(
            "domain.version", f"{_shown(raw.get('version'))} is not {DOMAIN_VERSION!r}"
        )
    contract = raw.get("verifyingContract")
    if not isinstance(contract, str) or not _ADDRESS.fullmatch(contract):
        raise TypedDataRefused("domain.verifyingContract", f"{_shown(contract)} is no address")
    domain: dict[str, Any] = {"name": DOMAIN_NAME, "version": DOMAIN_VERSION}
    chain = raw.get("chainId")
    if chain not in (None, ""):
        domain["chainId"] = _chain_id(chain)
    domain["verifyingContract"] = contract
    extra = set(raw) - set(_DOMAIN_TYPES)
    if extra:
        raise TypedDataRefused(f"domain.{sorted(extra)[0]}", "a domain field edgeX never sends")
    if "EIP712Domain" not in types:
        types["EIP712Domain"] = [{"name": k, "type": _DOMAIN_TYPES[k]} for k in domain]
    declared = {f["name"]: f["type"] for f in types["EIP712Domain"]}
    if declared != {k: _DOMAIN_TYPES[k] for k in domain}:
        raise TypedDataRefused("types.EIP712Domain", "does not declare the domain it comes with")
    return domain


def _chain_id(value: object) -> int:
    text = str(value)
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise TypedDataRefused("domain.chainId", f"{_shown(value)} is not a number") from None


def _message(response: Mapping[str, Any]) -> dict[str, Any]:
    raw = response.get("messageJson")
    if raw is not None:
        if not isinstance(raw, str):
            raise TypedDataRefused("messageJson", "not text")
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            raise TypedDataRefused("messageJson", "not JSON") from None
    else:
        message = response.get("message")
    if not isinstance(message, dict):
        raise TypedDataRefused("message", "missing or not an object")
    return message


def _check_message(
    message: dict[str, Any], attempt: Attempt, *, now_s: int, max_expiry_s: int
) -> str:
    ours = attempt.wire()
    for name in _TYPED_FIELDS:
        if name not in message:
            raise TypedDataRefused(f"message.{name}", "missing")
    for name in message:
        if name not in _TYPED_FIELDS:
            raise TypedDataRefused(f"message.{name}", "a field the attempt has not")
    for name, value in message.items():
        if not isinstance(value, str):
            raise TypedDataRefused(f"message.{name}", f"{_shown(value)} is not text")
    user_id = message["userId"]
    if not _DECIMAL_ID.fullmatch(user_id):
        raise TypedDataRefused("message.userId", f"{_shown(user_id)} is not an account number")
    for name, _ in _ATTEMPT_FIELDS:
        said, approved = message[name], str(ours[name])
        same = (
            _ADDRESS.fullmatch(said) is not None and said.lower() == approved.lower()
            if name in _ADDRESS_FIELDS
            else said == approved
        )
        if not same:
            raise TypedDataRefused(
                f"message.{name}", f"{_shown(said)} where the attempt has {approved!r}"
            )
    expire = int(message["expireTime"])
    if not now_s < expire <= now_s + max_expiry_s:
        raise TypedDataRefused(
            "message.expireTime", f"{expire} is not within the next {max_expiry_s} s"
        )
    return str(user_id)


def _shown(value: object) -> str:
    """A server value in a refusal: short, however long or deeply nested it is."""
    return _SHOWN.repr(value)
