"""The response models read exactly the API's field names and stay lenient where it is safe."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from bot.edgex import models
from bot.edgex.wire import _envelope

# Field lists of the edgeX API docs (AssetsPrivateApi data models) and the protocol notes.
NORMAL_WITHDRAW_FIELDS = [
    "id",
    "userId",
    "accountId",
    "coinId",
    "amount",
    "ethAddress",
    "clientWithdrawId",
    "l2Nonce",
    "l2ExpireTime",
    "l2Signature",
    "status",
    "tradeWithdrawId",
    "riskSignature",
    "l1ConfirmedTx",
    "l1ConfirmedTime",
    "l1CompletedTime",
    "createdTime",
    "updatedTime",
]
CROSS_WITHDRAW_FIELDS = [
    "id",
    "userId",
    "accountId",
    "coinId",
    "amount",
    "ethAddress",
    "erc20Address",
    "lpAccountId",
    "lpAccountL2Key",
    "clientCrossWithdrawId",
    "fee",
    "chainId",
    "l2Nonce",
    "l2ExpireTime",
    "l2Signature",
    "extraType",
    "extraDataJson",
    "status",
    "collateralTransactionId",
    "censorTxId",
    "censorTime",
    "censorFailCode",
    "censorFailReason",
    "l2TxId",
    "l2HandleTime",
    "l2RejectCode",
    "l2RejectReason",
    "l1ConfirmedTx",
    "l1ConfirmedTime",
    "l1CompletedTx",
    "l1CompletedEthAddress",
    "l1CompletedTime",
    "l1RejectedReasonCode",
    "l1RejectedReasonMsg",
    "riskSignature",
    "transferOutId",
    "createdTime",
    "updatedTime",
]
# The cross record's failure and L1 fields, which both kinds read (edgeX may send them on either).
SHARED_FAILURE_FIELDS = [
    "censorTxId",
    "censorTime",
    "censorFailCode",
    "censorFailReason",
    "l2TxId",
    "l2HandleTime",
    "l2RejectCode",
    "l2RejectReason",
    "l1CompletedTx",
    "l1CompletedEthAddress",
    "l1RejectedReasonCode",
    "l1RejectedReasonMsg",
]
ASSET_ORDER_FIELDS = [
    "orderId",
    "time",
    "type",
    "status",
    "amount",
    "fee",
    "txId",
    "chain",
    "address",
    "coin",
    "chainId",
    "transferSenderAccountId",
    "transferReceiverAccountId",
]
CHAIN_FIELDS = [
    "chain",
    "chainId",
    "contractAddress",
    "feeRate",
    "minFee",
    "allowWithdraw",
    "gasLess",
    "feeLess",
    "tokenList",
]


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize(
    ("model", "documented"),
    [
        (models.NormalWithdraw, NORMAL_WITHDRAW_FIELDS + SHARED_FAILURE_FIELDS),
        (models.CrossWithdraw, CROSS_WITHDRAW_FIELDS),
        (models.AssetOrder, ASSET_ORDER_FIELDS),
        (models.Chain, CHAIN_FIELDS),
        (models.Token, ["tokenAddress", "decimals", "token", "withdrawEnable"]),
        (models.MetaData, ["global", "coinList", "multiChain"]),
        (
            models.CrossWithdrawSignInfo,
            ["lpAccountId", "crossWithdrawL2Key", "crossWithdrawMaxAmount", "fee"],
        ),
        (
            models.Envelope,
            ["code", "data", "msg", "errorParam", "requestTime", "responseTime", "traceId"],
        ),
    ],
)
def test_aliases_are_the_documented_names(model: type[BaseModel], documented: list[str]) -> None:
    assert _aliases(model) == set(documented)


def test_minimal_records_parse_and_unknowns_are_kept() -> None:
    record = models.CrossWithdraw.model_validate(
        {"id": 12, "status": "CROSS_WITHDRAW_SOMETHING_NEW", "brandNewField": {"a": 1}}
    )
    assert record.id == "12"
    assert record.status == "CROSS_WITHDRAW_SOMETHING_NEW"
    assert record.model_extra == {"brandNewField": {"a": 1}}
    assert record.model_dump(by_alias=True, exclude_none=True) == {
        "id": "12",
        "status": "CROSS_WITHDRAW_SOMETHING_NEW",
        "brandNewField": {"a": 1},
    }


@pytest.mark.parametrize("amount", [0.1, True])
def test_money_never_comes_from_a_float_or_bool(amount: object) -> None:
    with pytest.raises(ValidationError):
        models.WithdrawableAmount.model_validate({"amount": amount})


def test_json_numbers_are_read_as_exact_decimals() -> None:
    envelope = _envelope(b'{"code":"SUCCESS","data":{"amount":0.1}}')
    assert envelope is not None
    parsed = models.WithdrawableAmount.model_validate(envelope.data)
    assert parsed.amount == Decimal("0.1")


@pytest.mark.parametrize("bad", ["", "-1", "1.0", "0x1f", "1" * 21])
def test_created_ids_are_strict(bad: str) -> None:
    with pytest.raises(ValidationError):
        models.NormalWithdrawCreated.model_validate({"withdrawId": bad})


@pytest.mark.parametrize("fee", ["1E-7", "-1", "", 2.5])
def test_quoted_fee_must_be_a_plain_decimal_string(fee: object) -> None:
    quote = {"lpAccountId": "1", "crossWithdrawL2Key": "0x1", "crossWithdrawMaxAmount": "9"}
    with pytest.raises(ValidationError):
        models.CrossWithdrawSignInfo.model_validate({**quote, "fee": fee})


def test_models_are_immutable() -> None:
    record = models.NormalWithdraw.model_validate({"id": "1", "status": "X"})
    with pytest.raises(ValidationError):
        record.status = "Y"  # type: ignore[misc]


def test_blank_optional_money_and_null_lists_do_not_break_metadata() -> None:
    chain = models.Chain.model_validate(
        {"chainId": "56", "feeRate": "", "minFee": None, "tokenList": None}
    )
    assert (chain.fee_rate, chain.min_fee, chain.token_list) == (None, None, ())
    page = models.AssetOrdersPage.model_validate({"dataList": None, "nextPageOffsetData": ""})
    assert (page.data_list, page.next_page_offset_data) == ((), None)
