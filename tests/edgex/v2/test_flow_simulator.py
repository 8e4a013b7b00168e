"""The V2 client against the V2 simulator over loopback HTTP: the whole flow, and every refusal.

Real HMAC headers, real typed data checked by ``check_typed_data``, real eth-account signatures
recovered by the simulator. What the simulator refuses here is what the notes say edgeX
refuses; its ASSUMED choices (idempotent clientWithdrawId, the queryAssetFlows schema) are
tested as the simulator's, not as edgeX's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.edgex.errors import EdgeXAPIError
from bot.edgex.simulator import SimulatorServer
from bot.edgex.simulator.admin import AdminRefused, SimulatorAdmin
from bot.edgex.statuses import FLOW_WALK
from bot.edgex.v2.flow_client import FlowClient
from bot.edgex.v2.hmac_auth import hmac_headers
from bot.edgex.v2.typed_data import Attempt, check_typed_data
from bot.edgex.v2.wallet import WalletKey

KEY = WalletKey("0x" + "4c" * 32)
OTHER = WalletKey("0x" + "5d" * 32)
USDC = "0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def account(sim: SimulatorServer) -> dict[str, Any]:
    with SimulatorAdmin(sim.url) as admin:
        made: dict[str, Any] = admin.post(
            "v2/accounts", walletAddress=KEY.address, balances={"USDC": "5000"}
        )
        admin.post("config", flowStepMs=50)
    return made


@pytest.fixture
def client(sim: SimulatorServer, account: dict[str, Any]) -> Iterator[FlowClient]:
    made = FlowClient(
        sim.url,
        rest_url=sim.url,
        account_id=account["accountId"],
        api_key=account["apiKey"],
        api_secret=account["apiSecret"],
        passphrase=account["passphrase"],
    )
    yield made
    made.close()


def attempt_for(account: dict[str, Any], *, client_id: str = "849849126827855872") -> Attempt:
    return Attempt(
        user_address=KEY.address,
        source="spot",
        source_account=account["accountId"],
        token_address=USDC,
        amount="1000000000",
        fee="0",
        destination="chain-3343",
        destination_account=KEY.address,
        client_withdraw_id=client_id,
        expire_time=int(time.time()) + 300,
    )


def priced(client: FlowClient, attempt: Attempt) -> Attempt:
    fee = client.fee(attempt.wire())
    return replace(attempt, fee=fee, amount=str(int(attempt.amount) - int(fee)))


def signed_body(client: FlowClient, attempt: Attempt, key: WalletKey = KEY) -> str:
    typed = check_typed_data(
        client.typed_data(attempt.wire()), attempt, now_s=int(time.time()), max_expiry_s=600
    )
    return json.dumps(
        {
            "attempt": attempt.wire(),
            "userSignature": key.sign(typed),
            "extraData": "",
            "privyIdentityToken": "",
        },
        separators=(",", ":"),
    )


def test_draft_to_done_through_every_step(client: FlowClient, account: dict[str, Any]) -> None:
    attempt = priced(client, attempt_for(account))
    assert attempt.fee == "1000000"
    flow_id = client.submit(signed_body(client, attempt))
    (record,) = client.flows(flow_ids=[flow_id])
    assert record.status == FLOW_WALK[0]
    assert record.client_withdraw_id == attempt.client_withdraw_id
    deadline = time.monotonic() + 5
    while record.status != FLOW_WALK[-1] and time.monotonic() < deadline:
        time.sleep(0.05)
        (record,) = client.flows(client_withdraw_ids=[attempt.client_withdraw_id])
    assert record.status == FLOW_WALK[-1]
    assert record.tx_hash


def test_the_typed_data_comes_in_three_shapes_and_each_checks(
    client: FlowClient, account: dict[str, Any]
) -> None:
    attempt = priced(client, attempt_for(account))
    seen = set()
    for _ in range(3):
        answer = client.typed_data(attempt.wire())
        seen.add(
            (
                "chainId" in answer["domain"],
                "messageJson" in answer,
                "EIP712Domain" in answer["types"],
            )
        )
        check_typed_data(answer, attempt, now_s=int(time.time()), max_expiry_s=600)
    assert len(seen) == 3


def test_a_resubmit_of_the_same_attempt_is_the_same_flow_and_another_is_refused(
    client: FlowClient, account: dict[str, Any]
) -> None:
    attempt = priced(client, attempt_for(account))
    body = signed_body(client, attempt)
    assert client.submit(body) == client.submit(body)
    later = replace(attempt, expire_time=attempt.expire_time + 60)
    with pytest.raises(EdgeXAPIError) as refused:
        client.submit(signed_body(client, later))
    assert refused.value.code == "CLIENT_WITHDRAW_ID_DUPLICATE"


def test_a_signature_by_another_wallet_is_refused(
    client: FlowClient, account: dict[str, Any]
) -> None:
    attempt = priced(client, attempt_for(account))
    with pytest.raises(EdgeXAPIError) as refused:
        client.submit(signed_body(client, attempt, OTHER))
    assert refused.value.code == "SIGNATURE_INVALID"


def test_an_attempt_without_issued_typed_data_or_past_its_expiry_is_refused(
    sim: SimulatorServer, client: FlowClient, account: dict[str, Any]
) -> None:
    attempt = priced(client, attempt_for(account))
    body = json.loads(signed_body(client, attempt))
    body["attempt"]["destinationAccount"] = OTHER.address
    with pytest.raises(EdgeXAPIError) as refused:
        client.submit(json.dumps(body))
    assert refused.value.code == "ATTEMPT_NOT_ISSUED"
    brief = replace(attempt, expire_time=int(time.time()) + 1)
    text = signed_body(client, brief)
    time.sleep(max(0.0, brief.expire_time - time.time()) + 0.05)
    with pytest.raises(EdgeXAPIError) as expired:
        client.submit(text)
    assert expired.value.code == "ATTEMPT_EXPIRED"


def test_a_fee_that_eats_the_amount_is_refused(client: FlowClient, account: dict[str, Any]) -> None:
    tiny = replace(attempt_for(account), amount="1000000")
    with pytest.raises(EdgeXAPIError) as refused:
        client.fee(tiny.wire())
    assert refused.value.code == "AMOUNT_TOO_SMALL"


def test_a_scripted_failure_ends_the_walk_with_its_code(
    sim: SimulatorServer, client: FlowClient, account: dict[str, Any]
) -> None:
    attempt = priced(client, attempt_for(account, client_id="77"))
    with SimulatorAdmin(sim.url) as admin:
        admin.post(
            "fates",
            outcome="payout_failed",
            code="CHAIN_REVERT",
            reason="out of gas",
            clientId="77",
        )
    flow_id = client.submit(signed_body(client, attempt))
    deadline = time.monotonic() + 5
    (record,) = client.flows(flow_ids=[flow_id])
    while record.status in FLOW_WALK and time.monotonic() < deadline:
        time.sleep(0.05)
        (record,) = client.flows(flow_ids=[flow_id])
    assert record.status == "ASSET_FLOW_FAILED"
    assert (record.fail_code, record.fail_reason) == ("CHAIN_REVERT", "out of gas")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"api_secret": "wrong"}, "AUTH_SIGNATURE_INVALID"),
        ({"passphrase": "wrong"}, "AUTH_API_KEY_INVALID"),
        ({"api_key": "unknown"}, "AUTH_API_KEY_INVALID"),
        ({"timestamp_ms": 0}, "AUTH_TIMESTAMP_EXPIRED"),
    ],
)
def test_hmac_headers_that_do_not_verify_are_refused(
    sim: SimulatorServer, account: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    path = "/api/v1/private/unified-asset/queryAssetFlows"
    query = {"accountId": account["accountId"], "flowIdList": "1"}
    options: dict[str, Any] = {
        "api_key": account["apiKey"],
        "api_secret": account["apiSecret"],
        "passphrase": account["passphrase"],
        "timestamp_ms": int(time.time() * 1000),
        **change,
    }
    headers = hmac_headers(method="GET", path=path, query=query, **options)
    answer = httpx.get(f"{sim.url}{path}", params=query, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == code


def test_the_draft_documentation_header_names_are_not_enough(
    sim: SimulatorServer, account: dict[str, Any]
) -> None:
    path = "/api/v1/private/unified-asset/queryAssetFlows"
    query = {"accountId": account["accountId"], "flowIdList": "1"}
    headers = hmac_headers(
        method="GET",
        path=path,
        query=query,
        api_key=account["apiKey"],
        api_secret=account["apiSecret"],
        passphrase=account["passphrase"],
        timestamp_ms=int(time.time() * 1000),
    )
    renamed = {
        k.replace("X-edgeX-", "X-edgeX-Api-") if "Sig" in k or "Time" in k else k: v
        for k, v in headers.items()
    }
    answer = httpx.get(f"{sim.url}{path}", params=query, headers=renamed)
    assert answer.json()["code"] == "AUTH_HEADER_MISSING"


def test_a_flow_already_submitted_can_be_given_its_fate(
    sim: SimulatorServer, client: FlowClient, account: dict[str, Any]
) -> None:
    flow_id = client.submit(signed_body(client, priced(client, attempt_for(account))))
    with SimulatorAdmin(sim.url) as admin:
        with pytest.raises(AdminRefused, match="cannot happen"):
            admin.post("v2/fates", outcome="censor_failure", flowId=flow_id)
        admin.post("v2/fates", outcome="risk_check_failure", code="RISK_9", flowId=flow_id)
        assert admin.get("state")["pending_fates"] == []
    deadline = time.monotonic() + 5
    (record,) = client.flows(flow_ids=[flow_id])
    while record.status in FLOW_WALK and time.monotonic() < deadline:
        time.sleep(0.05)
        (record,) = client.flows(flow_ids=[flow_id])
    assert (record.status, record.fail_code) == ("ASSET_FLOW_REJECTED", "RISK_9")
