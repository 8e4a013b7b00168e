"""Every endpoint over real loopback HTTP: what goes on the wire, and how the answer is parsed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bot.edgex import client as edgex
from bot.edgex import signing
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.signing import InvalidRequest
from bot.edgex.wire import body_text
from tests.edgex.conftest import ACCOUNT_ID, ClientFactory
from tests.edgex.scripted_server import ScriptedServer, ok, verify_auth
from tests.edgex.vectors import vector_coin, vector_key, vectors

ID_A = "1054639949233524736"
ID_B = "1054639949233524737"
ETH = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
USDT_ERC20 = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
LP_KEY = vectors()["assumed_metadata"]["crossWithdrawL2Key"]
LP_ACCOUNT = vectors()["assumed_metadata"]["lpAccountId"]

METADATA: dict[str, Any] = {
    "global": {
        "appEnv": "testnet",
        "starkExChainId": "0xaa36a7",
        "starkExContractAddress": "0xa3Cb2622C5A5e1cd2A9a8A3b9E2C1D3e5C7f7F42",
        "starkExCollateralCoin": vectors()["assumed_metadata"]["coin"],
        "poolAccountId": LP_ACCOUNT,
        "poolAccountL2Key": LP_KEY,
        "someNewGlobalFlag": True,
    },
    "coinList": [
        vectors()["assumed_metadata"]["coin"],
        {"coinId": "1001", "coinName": "ETH", "starkExAssetId": None, "starkExResolution": None},
    ],
    "contractList": [{"contractId": "10000001", "quoteCoinId": "1000"}],
    "multiChain": {
        "coinId": "1000",
        "maxWithdraw": "1000000",
        "minWithdraw": "1",
        "minDeposit": "10",
        "chainList": [
            {
                "chain": "Ethereum",
                "chainId": 1,
                "contractAddress": "0xfAaE2946e846133af314d1Df13684c89fA7d83DD",
                "feeRate": "0.0001",
                "minFee": "2",
                "allowWithdraw": True,
                "gasLess": False,
                "feeLess": False,
                "tokenList": [
                    {
                        "tokenAddress": USDT_ERC20,
                        "decimals": "6",
                        "token": "USDT",
                        "withdrawEnable": True,
                        "iconUrl": "https://example.invalid/usdt.svg",
                    }
                ],
            }
        ],
    },
}

NORMAL_RECORD: dict[str, Any] = {
    "id": ID_A,
    "userId": "543429922866069763",
    "accountId": ACCOUNT_ID,
    "coinId": "1000",
    "amount": "1.000000",
    "ethAddress": ETH,
    "clientWithdrawId": "745410645654877",
    "l2Nonce": "2958869932",
    "l2ExpireTime": "482191",
    "l2Signature": {"r": "0x240dea", "s": "0x2711c3", "v": ""},
    "status": "NORMAL_WITHDRAW_PENDING_L1_CONFIRMING",
    "tradeWithdrawId": "0",
    "riskSignature": {"r": "", "s": "", "v": ""},
    "l1ConfirmedTx": {"hash": "0xabc", "index": 3, "time": "1734674600000", "blockHeight": "7"},
    "l1ConfirmedTime": "1734674600000",
    "l1CompletedTime": "0",
    "createdTime": "1734674558154",
    "updatedTime": "1734674600000",
}


def _only(server: ScriptedServer, path: str) -> Any:
    requests = server.to(path)
    assert len(requests) == 1
    return requests[0]


def test_server_time_and_metadata_are_public_and_unsigned(server: ScriptedServer) -> None:
    server.script(edgex.SERVER_TIME_PATH, ok({"timeMillis": 1734674558154}))
    server.script(edgex.METADATA_PATH, ok(METADATA))
    with EdgeXPublicClient(server.url) as public:
        assert public.get_server_time() == 1734674558154
        meta = public.get_metadata()
    for request in server.requests:
        assert request.method == "GET"
        assert "x-edgex-api-signature" not in request.headers
    assert meta.coin_list[0].to_coin_meta() == vector_coin()
    assert meta.coin_list[0].step_size == Decimal("0.000001")
    assert meta.coin_list[1].stark_ex_asset_id is None
    with pytest.raises(signing.InvalidField, match="1001"):
        meta.coin_list[1].to_coin_meta()
    assert meta.global_.pool_account_id == LP_ACCOUNT
    assert meta.global_.stark_ex_collateral_coin is not None
    assert meta.global_.model_extra == {"someNewGlobalFlag": True}
    assert meta.model_extra is not None
    assert "contractList" in meta.model_extra
    assert meta.multi_chain is not None
    assert meta.multi_chain.max_withdraw == Decimal(1000000)
    chain = meta.multi_chain.chain_list[0]
    assert chain.chain_id == "1"
    assert chain.fee_rate == Decimal("0.0001")
    assert chain.allow_withdraw is True
    assert chain.token_list[0].decimals == 6
    assert chain.token_list[0].withdraw_enable is True
    assert meta.model_dump(by_alias=True)["global"]["poolAccountL2Key"] == LP_KEY


def test_get_account_is_signed_and_synced_first(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(
        edgex.ACCOUNT_PATH,
        ok({"id": ACCOUNT_ID, "l2Key": vector_key().l2_key.replace("0x0", "0x"), "userId": 7}),
    )
    account = client.get_account()
    assert [r.path for r in server.requests] == [edgex.SERVER_TIME_PATH, edgex.ACCOUNT_PATH]
    request = _only(server, edgex.ACCOUNT_PATH)
    assert request.target == f"{edgex.ACCOUNT_PATH}?accountId={ACCOUNT_ID}"
    assert len(request.headers["x-edgex-api-signature"]) == 128
    assert account.id == ACCOUNT_ID
    assert account.user_id == "7"
    assert signing.l2_keys_equal(account.l2_key, vector_key().l2_key)


def test_withdraw_ids_travel_with_raw_commas(client: EdgeXClient, server: ScriptedServer) -> None:
    unknown_status = {**NORMAL_RECORD, "id": ID_B, "status": "NORMAL_WITHDRAW_NEW_STATE", "x": 1}
    server.script(edgex.NORMAL_BY_ID_PATH, ok([NORMAL_RECORD, unknown_status]))
    records = client.get_normal_withdraw_by_id([ID_A, ID_B])
    request = _only(server, edgex.NORMAL_BY_ID_PATH)
    assert request.raw_query == f"accountId={ACCOUNT_ID}&normalWithdrawIdList={ID_A},{ID_B}"
    assert "%2C" not in request.target.upper()
    first, second = records
    assert first.id == ID_A
    assert first.amount == Decimal("1.000000")
    assert first.client_withdraw_id == "745410645654877"
    assert first.l2_signature is not None
    assert first.l2_signature.r == "0x240dea"
    assert first.l1_confirmed_tx is not None
    assert first.l1_confirmed_tx.index == 3
    assert second.status == "NORMAL_WITHDRAW_NEW_STATE"
    assert second.model_extra == {"x": 1}


def test_empty_or_null_id_lists(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_BY_ID_PATH, ok([]))
    server.script(edgex.CROSS_BY_ID_PATH, ok(None))
    assert client.get_normal_withdraw_by_id([ID_A]) == ()
    assert client.get_cross_withdraw_by_id([ID_A]) == ()


def test_cross_withdraw_records(client: EdgeXClient, server: ScriptedServer) -> None:
    rejected = {
        "id": ID_A,
        "accountId": ACCOUNT_ID,
        "coinId": "1000",
        "amount": "25",
        "ethAddress": ETH,
        "erc20Address": USDT_ERC20,
        "lpAccountId": LP_ACCOUNT,
        "lpAccountL2Key": LP_KEY,
        "clientCrossWithdrawId": "9001",
        "fee": "2",
        "chainId": "1",
        "status": "CROSS_WITHDRAW_FAILED_L2_REJECTED",
        "censorTxId": "77",
        "censorFailCode": "",
        "l2RejectCode": "INSUFFICIENT",
        "l2RejectReason": "balance too low",
        "l1CompletedTx": {"hash": "0xdef"},
        "transferOutId": "5",
    }
    pending = {"id": ID_B, "status": "CROSS_WITHDRAW_PENDING_CENSORING"}
    server.script(edgex.CROSS_BY_ID_PATH, ok([rejected, pending]))
    first, second = client.get_cross_withdraw_by_id((ID_A, ID_B))
    assert _only(server, edgex.CROSS_BY_ID_PATH).raw_query == (
        f"accountId={ACCOUNT_ID}&crossWithdrawIdList={ID_A},{ID_B}"
    )
    assert first.fee == Decimal(2)
    assert first.l2_reject_code == "INSUFFICIENT"
    assert first.l2_reject_reason == "balance too low"
    assert first.lp_account_l2_key == LP_KEY
    assert first.l1_completed_tx is not None
    assert first.l1_completed_tx.hash == "0xdef"
    assert second.status == "CROSS_WITHDRAW_PENDING_CENSORING"
    assert second.l2_reject_code is None


def _normal_body() -> dict[str, str]:
    return dict(
        signing.build_normal_withdraw_body(
            vector_key(),
            account_id=ACCOUNT_ID,
            coin=vector_coin(),
            amount="12.5",
            eth_address=ETH,
            client_withdraw_id="745410645654877",
            expire_time_ms=1735887600000,
        )
    )


def test_normal_withdraw_submission_sends_the_signed_body(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    body = _normal_body()
    server.script(edgex.CREATE_NORMAL_PATH, ok({"withdrawId": "1054639949233524736"}))
    assert client.create_normal_withdraw(body) == "1054639949233524736"
    request = _only(server, edgex.CREATE_NORMAL_PATH)
    assert request.method == "POST"
    assert request.raw_query == ""
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == body


def test_a_stored_body_text_is_sent_byte_for_byte(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    body = _normal_body()
    stored = body_text(body)
    server.script(edgex.CREATE_NORMAL_PATH, ok({"withdrawId": "1054639949233524736"}))
    server.script(edgex.CREATE_NORMAL_PATH, ok({"withdrawId": "1054639949233524736"}))
    assert client.create_normal_withdraw(stored) == "1054639949233524736"
    assert client.create_normal_withdraw(body) == "1054639949233524736"
    sent = [r.body for r in server.requests if r.path == edgex.CREATE_NORMAL_PATH]
    # the text as stored, and a mapping serialised the same one way
    assert sent == [stored.encode("ascii"), stored.encode("ascii")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "not a JSON object"),
        ("{not json", "not ASCII JSON"),
        ('{"amount": "1"}', "no l2Signature"),
        ('{"accountId": "1", "l2Signature": "ab"}', "not this client's account"),
        ('{"ethAddress": "é"}', "not ASCII JSON"),
    ],
)
def test_a_body_text_is_checked_before_it_is_sent(
    client: EdgeXClient, server: ScriptedServer, text: str, problem: str
) -> None:
    with pytest.raises(InvalidRequest, match=problem):
        client.create_normal_withdraw(text)
    assert not [r for r in server.requests if r.path == edgex.CREATE_NORMAL_PATH]


def test_cross_withdraw_from_quote_to_submission(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(
        edgex.CROSS_SIGN_INFO_PATH,
        ok(
            {
                "lpAccountId": LP_ACCOUNT,
                "crossWithdrawL2Key": LP_KEY,
                "crossWithdrawMaxAmount": "48799.686154",
                "fee": "2",
            }
        ),
    )
    info = client.get_cross_withdraw_sign_info(amount="25.5", chain_id=1, token_address=USDT_ERC20)
    assert _only(server, edgex.CROSS_SIGN_INFO_PATH).raw_query == (
        f"amount=25.5&chainId=1&tokenAddress={USDT_ERC20}"
    )
    assert info.cross_withdraw_max_amount == Decimal("48799.686154")
    body = signing.build_cross_withdraw_body(
        vector_key(),
        account_id=ACCOUNT_ID,
        coin=vector_coin(),
        amount="25.5",
        eth_address=ETH,
        erc20_address=USDT_ERC20,
        chain_id=1,
        quote=info.to_quote(),
        client_cross_withdraw_id="9001",
        expire_time_ms=1735887600000,
    )
    server.script(edgex.CREATE_CROSS_PATH, ok({"crossWithdrawId": 1054639949233524999}))
    assert client.create_cross_withdraw(body) == "1054639949233524999"
    sent = json.loads(_only(server, edgex.CREATE_CROSS_PATH).body)
    assert sent == body
    assert sent["chainId"] == 1


def test_sign_info_without_token_address(client: EdgeXClient, server: ScriptedServer) -> None:
    quote = {"lpAccountId": "1", "crossWithdrawL2Key": "0x1", "crossWithdrawMaxAmount": "5"}
    server.script(edgex.CROSS_SIGN_INFO_PATH, ok({**quote, "fee": "0.5"}))
    assert client.get_cross_withdraw_sign_info(amount="3", chain_id="56").fee == "0.5"
    assert _only(server, edgex.CROSS_SIGN_INFO_PATH).raw_query == "amount=3&chainId=56"


def test_withdrawable_amount(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, ok({"amount": "0.000001"}))
    assert client.get_normal_withdrawable_amount(ETH).amount == Decimal("0.000001")
    assert _only(server, edgex.NORMAL_WITHDRAWABLE_PATH).raw_query == f"address={ETH}"


def test_all_orders_page(client: EdgeXClient, server: ScriptedServer) -> None:
    row = {
        "orderId": ID_A,
        "time": "1734674558",
        "type": "ORDER_TYPE_NORMAL_WITHDRAW",
        "status": 3,
        "amount": "1",
        "fee": "",
        "txId": "",
        "chain": "Sepolia - Testnet",
        "address": ETH,
        "coin": "USDT",
        "chainId": "11155111",
        "transferSenderAccountId": "0",
        "transferReceiverAccountId": "0",
    }
    server.script(
        edgex.ALL_ORDERS_PATH,
        ok({"dataList": [row], "nextPageOffsetData": "b3fa59aa-8b42-49a3-9729-d7e89d8d9c8d"}),
        ok({"dataList": [], "nextPageOffsetData": ""}),
    )
    page = client.get_all_orders_page(
        start_time_s=1734670000,
        end_time_s=1734680000,
        chain_id="11155111",
        type_list=["ORDER_TYPE_NORMAL_WITHDRAW", "ORDER_TYPE_CROSS_WITHDRAW"],
        size=50,
    )
    order = page.data_list[0]
    assert order.status == 3
    assert order.amount == Decimal(1)
    assert order.fee is None
    assert page.next_page_offset_data == "b3fa59aa-8b42-49a3-9729-d7e89d8d9c8d"
    last = client.get_all_orders_page(offset_data=page.next_page_offset_data)
    assert last.data_list == ()
    assert last.next_page_offset_data is None
    first_query, second_query = (r.raw_query for r in server.to(edgex.ALL_ORDERS_PATH))
    assert first_query == (
        f"accountId={ACCOUNT_ID}&chainId=11155111&endTime=1734680000&size=50&startTime=1734670000"
        "&typeList=ORDER_TYPE_NORMAL_WITHDRAW,ORDER_TYPE_CROSS_WITHDRAW"
    )
    assert second_query == (
        f"accountId={ACCOUNT_ID}&offsetData=b3fa59aa-8b42-49a3-9729-d7e89d8d9c8d&size=100"
    )


def test_192_hex_signature_option(make_client: ClientFactory, server: ScriptedServer) -> None:
    client = make_client(signature_with_public_y=True)
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, ok({"amount": "0"}))
    client.get_normal_withdrawable_amount(ETH)
    signature = _only(server, edgex.NORMAL_WITHDRAWABLE_PATH).headers["x-edgex-api-signature"]
    assert len(signature) == 192
    assert int(signature[128:], 16) == vector_key().public_y


def test_posts_go_out_on_fresh_connections(client: EdgeXClient, server: ScriptedServer) -> None:
    body = vectors()["normal_withdraw"][0]["request_body"]
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, ok({"amount": "0"}), ok({"amount": "0"}))
    server.script(edgex.CREATE_NORMAL_PATH, ok({"withdrawId": "1"}), ok({"withdrawId": "1"}))
    client.get_normal_withdrawable_amount(ETH)
    client.create_normal_withdraw(body)
    client.get_normal_withdrawable_amount(ETH)
    client.create_normal_withdraw(body)
    ports: dict[str, set[int]] = {}
    for request in server.requests:
        ports.setdefault(request.path, set()).add(request.client_port)
    assert len(ports[edgex.CREATE_NORMAL_PATH]) == 2
    assert len(ports[edgex.NORMAL_WITHDRAWABLE_PATH]) == 1  # GETs reuse their connection
    assert not ports[edgex.CREATE_NORMAL_PATH] & ports[edgex.NORMAL_WITHDRAWABLE_PATH]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.get_all_orders_page(offset_data="a b"), "characters other than"),
        (lambda c: c.get_all_orders_page(offset_data="x%2Cy"), "characters other than"),
        (lambda c: c.get_all_orders_page(offset_data="x=y&z"), "characters other than"),
        (lambda c: c.get_all_orders_page(offset_data="ü"), "characters other than"),
        (lambda c: c.get_all_orders_page(type_list=["A", "B C"]), "characters other than"),
        (lambda c: c.get_all_orders_page(type_list="ORDER_TYPE_X"), "type_list"),
        (lambda c: c.get_all_orders_page(size=0), "size"),
        (lambda c: c.get_all_orders_page(size=101), "size"),
        (lambda c: c.get_all_orders_page(start_time_s=-1), "start_time_s"),
        (lambda c: c.get_normal_withdraw_by_id([]), "non-empty"),
        (lambda c: c.get_normal_withdraw_by_id(ID_A), "non-empty"),
        (lambda c: c.get_normal_withdraw_by_id([ID_A, "1,2"]), "not a decimal id"),
        (lambda c: c.get_cross_withdraw_by_id(["12a"]), "not a decimal id"),
        (lambda c: c.get_cross_withdraw_sign_info(amount="1e3", chain_id=1), "amount"),
        (lambda c: c.get_cross_withdraw_sign_info(amount="1", chain_id="x"), "chain_id"),
        (
            lambda c: c.get_cross_withdraw_sign_info(amount="1", chain_id=1, token_address="0x1"),
            "token_address",
        ),
        (lambda c: c.get_normal_withdrawable_amount("0x12 34"), "address"),
    ],
)
def test_refused_query_values_raise_before_any_request(
    client: EdgeXClient, server: ScriptedServer, call: Any, match: str
) -> None:
    with pytest.raises(InvalidRequest, match=match):
        call(client)
    assert server.requests == []


def _signed_body() -> dict[str, Any]:
    body: dict[str, Any] = dict(vectors()["normal_withdraw"][0]["request_body"])
    return body


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"l2Signature": None}, "must be a string or an integer"),
        ({"accountId": "1"}, "not this client's account"),
        ({"amount": 1.5}, "must be a string or an integer"),
        ({"extra": {"nested": "x"}}, "must be a string or an integer"),
        ({"flag": True}, "must be a string or an integer"),
    ],
)
def test_refused_bodies_raise_before_any_request(
    client: EdgeXClient, server: ScriptedServer, change: dict[str, Any], match: str
) -> None:
    body = {**_signed_body(), **change}
    with pytest.raises(InvalidRequest, match=match):
        client.create_normal_withdraw(body)
    assert server.requests == []


def test_unsigned_body_is_refused(client: EdgeXClient, server: ScriptedServer) -> None:
    body = _signed_body()
    del body["l2Signature"]
    with pytest.raises(InvalidRequest, match="no l2Signature"):
        client.create_cross_withdraw(body)
    with pytest.raises(InvalidRequest, match="non-empty"):
        client.create_cross_withdraw({})
    assert server.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1", "http://127.0.0.1/api", "http://127.0.0.1/?a=1", "127.0.0.1:80"]
)
def test_base_url_must_be_an_origin(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        EdgeXPublicClient(url)


def test_account_id_must_be_decimal(server: ScriptedServer) -> None:
    with pytest.raises(ValueError, match="account_id"):
        EdgeXClient(server.url, key=vector_key(), account_id="0x12")


@pytest.mark.parametrize("case", vectors()["auth"], ids=lambda c: c["note"][:40])
def test_the_test_servers_verifier_is_edgex_s_rule(case: dict[str, Any]) -> None:
    """The verifier accepts the published vectors and rejects any change to what was signed."""
    query = case["query_params"] or {}
    raw_query = "&".join(f"{k}={v}" for k, v in query.items())
    body = json.dumps(case["json_body"]).encode() if case["json_body"] else b""
    headers = {k.lower(): v for k, v in case["headers"].items()}
    arguments: dict[str, Any] = {
        "method": case["method"],
        "path": case["path"],
        "raw_query": raw_query,
        "body": body,
        "headers": headers,
        "public_x": vector_key().public_x,
        "public_y": vector_key().public_y,
        "now_ms": int(case["timestamp_ms"]),
    }
    assert verify_auth(**arguments) is None
    java_style = case["alt_signature_r_s_y_192hex_docs_java_style"]
    with_y = {**headers, "x-edgex-api-signature": java_style}
    assert verify_auth(**{**arguments, "headers": with_y}) is None
    assert verify_auth(**{**arguments, "path": case["path"] + "x"}) == "signature does not verify"
    late = int(case["timestamp_ms"]) + 60_000
    assert "from server time" in str(verify_auth(**{**arguments, "now_ms": late}))
    if "," in raw_query:
        assert verify_auth(**{**arguments, "raw_query": raw_query.replace(",", "%2C")}) is not None
