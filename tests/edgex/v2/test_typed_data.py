"""edgeX's typed data is checked field by field against the attempt before the wallet signs it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from bot.edgex.v2.typed_data import FIELD_MAX, Attempt, TypedDataRefused, check_typed_data
from bot.edgex.v2.wallet import InvalidWalletKey, SignatureMismatch, WalletKey, recover_signer

KEY = WalletKey("0x" + "42" * 32)
NOW = 1_796_169_600
WINDOW = 600
ATTEMPT = Attempt(
    user_address=KEY.address,
    source="spot",
    source_account="12345",
    token_address="0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c",
    amount="990",
    fee="10",
    destination="chain-3343",
    destination_account="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    client_withdraw_id="849849126827855872",
    expire_time=NOW + 300,
)
FIELDS = [
    ("userId", "string"),
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
]


def _server_answer() -> dict[str, Any]:
    """``getEIP712Data`` as the docs' example has it, for ATTEMPT."""
    message = {"userId": "12345", **{k: str(v) for k, v in ATTEMPT.wire().items()}}
    return {
        "types": {
            "EIP712Domain": {
                "fields": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "verifyingContract", "type": "address"},
                ]
            },
            "AssetFlowAttempt": {"fields": [{"name": n, "type": t} for n, t in FIELDS]},
        },
        "primaryType": "AssetFlowAttempt",
        "domain": {
            "name": "edgeX Asset Flow",
            "version": "1",
            "verifyingContract": "0x000000000000000000000000000000000000eD9E",
        },
        "messageJson": json.dumps(message),
    }


def _check(answer: dict[str, Any]) -> Any:
    return check_typed_data(answer, ATTEMPT, now_s=NOW, max_expiry_s=WINDOW)


def _with_message(**change: Any) -> dict[str, Any]:
    answer = _server_answer()
    message = json.loads(answer["messageJson"]) | change
    answer["messageJson"] = json.dumps({k: v for k, v in message.items() if v is not None})
    return answer


def test_the_docs_shape_is_accepted_and_signed_by_the_wallet() -> None:
    checked = _check(_server_answer())
    assert checked.verifying_contract == "0x000000000000000000000000000000000000eD9E"
    assert checked.user_id == "12345"
    signature = KEY.sign(checked)
    assert len(bytes.fromhex(signature[2:])) == 65
    assert recover_signer(checked, signature) == KEY.address


def test_the_sdk_normalisations_are_followed() -> None:
    """Bare field lists, no EIP712Domain (synthesised), ``message`` instead of ``messageJson``,
    a hex chainId (the Go SDK's test domain): the same checks, the same signer."""
    answer = _server_answer()
    answer["types"] = {"AssetFlowAttempt": answer["types"]["AssetFlowAttempt"]["fields"]}
    answer["domain"]["chainId"] = "0xd0f"
    answer["message"] = json.loads(answer.pop("messageJson"))
    checked = _check(answer)
    assert checked.full_message["domain"]["chainId"] == 3343
    assert [f["name"] for f in checked.full_message["types"]["EIP712Domain"]] == [
        "name",
        "version",
        "chainId",
        "verifyingContract",
    ]
    assert recover_signer(checked, KEY.sign(checked)) == KEY.address


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "991"}, "message.amount"),
        ({"fee": "9"}, "message.fee"),
        ({"tokenAddress": "0x5a4f218dcb4e257a4586159e9ee925b0fa1df610"}, "message.tokenAddress"),
        ({"destination": "chain-42161"}, "message.destination"),
        (
            {"destinationAccount": "0x9999999999999999999999999999999999999999"},
            "message.destinationAccount",
        ),
        ({"sourceAccount": "54321"}, "message.sourceAccount"),
        ({"source": "perpv2"}, "message.source"),
        ({"userAddress": "0x9999999999999999999999999999999999999999"}, "message.userAddress"),
        ({"privyAddress": "0x9999999999999999999999999999999999999999"}, "message.privyAddress"),
        ({"clientWithdrawId": "1"}, "message.clientWithdrawId"),
        ({"expireTime": str(NOW + 10 * 365 * 86400)}, "message.expireTime"),
        ({"amount": None}, "message.amount"),
        ({"memo": "also this"}, "message.memo"),
        ({"userId": "not-a-number"}, "message.userId"),
        ({"amount": 990}, "message.amount"),
    ],
)
def test_any_one_field_unlike_the_attempt_is_refused_by_name(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(TypedDataRefused) as refused:
        _check(_with_message(**change))
    assert refused.value.field == field


def test_addresses_are_compared_as_addresses_not_as_text() -> None:
    lower = _with_message(destinationAccount=ATTEMPT.destination_account.lower())
    assert _check(lower).user_id == "12345"


def test_our_own_expiry_must_be_within_our_window() -> None:
    late = Attempt(**{**_attempt_fields(), "expire_time": NOW + WINDOW + 1})
    answer = _server_answer()
    message = json.loads(answer["messageJson"]) | {"expireTime": str(late.expire_time)}
    answer["messageJson"] = json.dumps(message)
    with pytest.raises(TypedDataRefused) as refused:
        check_typed_data(answer, late, now_s=NOW, max_expiry_s=WINDOW)
    assert refused.value.field == "message.expireTime"
    with pytest.raises(TypedDataRefused):
        check_typed_data(_server_answer(), ATTEMPT, now_s=ATTEMPT.expire_time, max_expiry_s=WINDOW)


def _attempt_fields() -> dict[str, Any]:
    return {name: getattr(ATTEMPT, name) for name in Attempt.__dataclass_fields__}


def _edit(path: list[str], value: Any) -> dict[str, Any]:
    answer = copy.deepcopy(_server_answer())
    node = answer
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return answer


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["primaryType"], "Transfer", "primaryType"),
        (["primaryType"], None, "primaryType"),
        (["domain", "name"], "edgeX", "domain.name"),
        (["domain", "version"], "2", "domain.version"),
        (["domain", "verifyingContract"], "somewhere", "domain.verifyingContract"),
        (["domain", "salt"], "0x01", "domain.salt"),
        (["domain", "chainId"], "mainnet", "domain.chainId"),
        (["types", "Transfer"], {"fields": []}, "types.Transfer"),
        (
            ["types", "AssetFlowAttempt", "fields"],
            [{"name": n, "type": "uint256" if n == "amount" else t} for n, t in FIELDS],
            "types.AssetFlowAttempt.amount",
        ),
        (
            ["types", "AssetFlowAttempt", "fields"],
            [{"name": n, "type": t} for n, t in FIELDS if n != "fee"],
            "types.AssetFlowAttempt.fee",
        ),
        (
            ["types", "AssetFlowAttempt", "fields"],
            [*({"name": n, "type": t} for n, t in FIELDS), {"name": "memo", "type": "string"}],
            "types.AssetFlowAttempt.memo",
        ),
        (["types", "EIP712Domain", "fields"], [], "types.EIP712Domain"),
        (["messageJson"], "{not json", "messageJson"),
    ],
)
def test_another_shape_of_typed_data_is_refused_by_name(
    path: list[str], value: Any, field: str
) -> None:
    with pytest.raises(TypedDataRefused) as refused:
        _check(_edit(path, value))
    assert refused.value.field == field


def test_a_signature_from_another_key_is_caught() -> None:
    checked = _check(_server_answer())
    other = Account.from_key("0x" + "43" * 32)
    forged = other.sign_message(encode_typed_data(full_message=checked.full_message))
    assert recover_signer(checked, "0x" + forged.signature.hex().removeprefix("0x")) != KEY.address


def test_a_wallet_that_signs_for_another_address_never_lets_the_signature_out() -> None:
    checked = _check(_server_answer())
    wrong = WalletKey("0x" + "43" * 32)
    wrong.address = KEY.address  # a key that is not the account's, claiming to be
    with pytest.raises(SignatureMismatch):
        wrong.sign(checked)


@pytest.mark.parametrize("text", ["", "12", "0x" + "zz" * 32, "0x" + "00" * 32, "f" * 64])
def test_a_bad_wallet_key_is_refused_without_showing_it(text: str) -> None:
    with pytest.raises(InvalidWalletKey) as refused:
        WalletKey(text)
    if len(text) > 4:
        assert text[2:] not in str(refused.value)


def test_the_key_is_never_shown() -> None:
    assert "42" * 32 not in repr(KEY)
    assert "42" * 32 not in str(KEY)
    assert KEY.address in repr(KEY)


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ([1, 2], "data"),
        ("typed data", "data"),
        (None, "data"),
        ({**_server_answer(), "messageJson": "[" * 100_000 + "]" * 100_000}, "messageJson"),
        (_edit(["primaryType"], _deep(900)), "primaryType"),
        (_edit(["domain", "name"], "n" * 1_000_000), "domain.name"),
    ],
)
def test_what_edgex_sends_of_any_shape_or_size_is_refused_not_raised(
    answer: Any, field: str
) -> None:
    with pytest.raises(TypedDataRefused) as refused:
        _check(answer)
    assert refused.value.field == field
    assert len(str(refused.value)) < 300


@pytest.mark.parametrize(
    "answer",
    [
        _with_message(**{"k" * 100_000: "1"}),
        _edit(["types", "S" * 100_000], []),
        _edit(["domain", "d" * 100_000], "x"),
    ],
)
def test_a_field_name_the_server_makes_up_is_named_within_bounds(answer: Any) -> None:
    with pytest.raises(TypedDataRefused) as refused:
        _check(answer)
    assert len(refused.value.field) <= FIELD_MAX
    assert refused.value.field.endswith("…")
    assert len(str(refused.value)) < 300
