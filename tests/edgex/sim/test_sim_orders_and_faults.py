"""Orders pagination and filters, injected transport faults, persistence and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient, RetryPolicy
from bot.edgex.errors import (
    EdgeXHTTPError,
    EdgeXMalformedResponse,
    EdgeXTimeout,
    EdgeXTransportError,
)
from bot.edgex.simulator import SimulatorServer
from tests.edgex.sim.conftest import ACCOUNT_ID, STEP_MS, Admin, normal_body
from tests.edgex.vectors import vector_key

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"
BY_ID = "/api/v1/private/assets/getNormalWithdrawById"


def test_pagination_over_250_orders(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    created = [
        client.create_normal_withdraw(normal_body(client, usdt, f"p-{i}", amount="1"))
        for i in range(250)
    ]
    seen: list[str] = []
    offset: str | None = None
    pages = 0
    while True:
        page = client.get_all_orders_page(size=100, offset_data=offset)
        pages += 1
        seen.extend(o.order_id for o in page.data_list)
        if not page.next_page_offset_data:
            break
        offset = page.next_page_offset_data
    assert pages == 3
    assert sorted(seen) == sorted(created)
    assert len(set(seen)) == 250
    assert seen == sorted(seen, key=int, reverse=True), "newest first, stable across pages"


def test_order_filters(client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin) -> None:
    early = client.create_normal_withdraw(normal_body(client, usdt, "t-1"))
    admin.post("advance", seconds=3600)
    late = client.create_normal_withdraw(normal_body(client, usdt, "t-2"))
    state = admin.state()["withdrawals"]
    cut = state[late]["created_ms"] // 1000
    before = client.get_all_orders_page(end_time_s=cut, size=10)
    after = client.get_all_orders_page(start_time_s=cut, size=10)
    assert [o.order_id for o in before.data_list] == [early]
    assert [o.order_id for o in after.data_list] == [late]
    none = client.get_all_orders_page(type_list=["ORDER_TYPE_NORMAL_DEPOSIT"], size=10)
    assert none.data_list == ()


def test_bad_page_requests(sim: SimulatorServer, admin: Admin) -> None:
    for query, code in (
        ((("size", "0"),), "INVALID_PARAMETER"),
        ((("size", "101"),), "INVALID_PARAMETER"),
    ):
        params = {"accountId": ACCOUNT_ID, **dict(query)}
        response = _signed_get(sim, "/api/v1/private/assets/getAllOrdersPage", params)
        assert response.json()["code"] == code
    bad_offset = {"accountId": ACCOUNT_ID, "size": "5", "offsetData": "garbage"}
    response = _signed_get(sim, "/api/v1/private/assets/getAllOrdersPage", bad_offset)
    assert response.json()["errorParam"] == {"field": "offsetData"}


def _signed_get(sim: SimulatorServer, path: str, query: dict[str, str]) -> httpx.Response:
    signed = signing.auth_headers(
        vector_key(), timestamp_ms=int(time.time() * 1000), method="GET", path=path, query=query
    )
    raw = "&".join(f"{k}={v}" for k, v in query.items())
    return httpx.get(f"{sim.url}{path}?{raw}", headers=signed.headers)


def test_5xx_and_429_are_retried_by_the_client(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, "r-1"))
    admin.post("faults", kind="http_error", path=BY_ID, status=502)
    admin.post("faults", kind="rate_limit", path=BY_ID, retryAfter="0")
    (record,) = client.get_normal_withdraw_by_id([withdraw_id])
    assert record.id == withdraw_id
    codes = [
        r["path"] for r in httpx.get(admin.http.base_url.join("/_sim/requests")).json()["requests"]
    ]
    assert codes.count(BY_ID) == 1, "faulted calls never reach the exchange"


def test_retries_exhausted_surface_the_last_error(client: EdgeXClient, admin: Admin) -> None:
    admin.post("faults", kind="http_error", path="/api/v1/private/account/getAccountById", count=3)
    with pytest.raises(EdgeXHTTPError) as err:
        client.get_account()
    assert err.value.status == 503
    assert err.value.attempts == 3


def test_slow_response_times_out(sim: SimulatorServer, admin: Admin) -> None:
    impatient = EdgeXClient(
        sim.url,
        key=vector_key(),
        account_id=ACCOUNT_ID,
        read_timeout=0.2,
        retry=RetryPolicy(max_attempts=1),
    )
    impatient.sync_time()
    admin.post("faults", kind="slow", seconds=1.0)
    with pytest.raises(EdgeXTimeout):
        impatient.get_account()
    impatient.close()


def test_dropped_connection_after_recording_leaves_outcome_unknown_and_resend_is_safe(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    body = normal_body(client, usdt, "drop-1")
    admin.post("faults", kind="drop_after_record", path=CREATE_NORMAL)
    with pytest.raises(EdgeXTransportError) as err:
        client.create_normal_withdraw(body)
    assert err.value.outcome_unknown
    (recorded,) = admin.state()["withdrawals"]
    assert client.create_normal_withdraw(body) == recorded, "the resend finds the same withdrawal"
    assert admin.balance() == ("99750", "250")


def test_drop_before_recording_records_nothing(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    admin.post("faults", kind="drop", path=CREATE_NORMAL)
    with pytest.raises(EdgeXTransportError) as err:
        client.create_normal_withdraw(normal_body(client, usdt, "drop-2"))
    assert err.value.outcome_unknown
    assert admin.state()["withdrawals"] == {}


def test_malformed_json_and_5xx_on_create(
    client: EdgeXClient, usdt: signing.CoinMeta, admin: Admin
) -> None:
    admin.post("faults", kind="malformed_json", path=CREATE_NORMAL)
    with pytest.raises(EdgeXMalformedResponse) as malformed:
        client.create_normal_withdraw(normal_body(client, usdt, "mal-1"))
    assert malformed.value.outcome_unknown
    admin.post("faults", kind="http_error", path=CREATE_NORMAL, status=500)
    with pytest.raises(EdgeXHTTPError) as server_error:
        client.create_normal_withdraw(normal_body(client, usdt, "mal-2"))
    assert server_error.value.outcome_unknown
    assert len(admin.state()["withdrawals"]) == 1, "the malformed answer hid a recorded withdrawal"


def test_bad_fault_specs_are_refused(admin: Admin) -> None:
    assert "fault kind" in admin.refuse("faults", kind="fire")["error"]
    assert "count" in admin.refuse("faults", kind="drop", count=0)["error"]
    assert admin.http.delete("/_sim/faults").json() == {"faults": []}


def test_state_file_survives_a_restart(tmp_path: Path, usdt: signing.CoinMeta) -> None:
    state = tmp_path / "sim.json"
    with SimulatorServer(state_path=state) as first:
        handle = Admin(first.url)
        handle.post("config", normalStepMs=STEP_MS)
        handle.post(
            "accounts", l2Key=vector_key().l2_key, accountId=ACCOUNT_ID, balances={"1000": "1000"}
        )
        client = EdgeXClient(first.url, key=vector_key(), account_id=ACCOUNT_ID)
        withdraw_id = client.create_normal_withdraw(normal_body(client, usdt, "keep-1"))
        client.close()
    with SimulatorServer(state_path=state) as second:
        client = EdgeXClient(second.url, key=vector_key(), account_id=ACCOUNT_ID)
        (record,) = client.get_normal_withdraw_by_id([withdraw_id])
        assert record.client_withdraw_id == "keep-1"
        assert client.create_normal_withdraw(normal_body(client, usdt, "keep-2")) != withdraw_id
        assert Admin(second.url).balance() == ("500", "500")
        client.close()


def test_cli_runs_the_simulator_on_a_free_port(tmp_path: Path) -> None:
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [
            sys.executable,
            "-m",
            "bot.cli",
            "simulator",
            "--port",
            "0",
            "--state",
            str(tmp_path / "s.json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"listening on (http://\S+)", process.stdout.readline())
        assert match, "the simulator says where it listens"
        response = httpx.get(match.group(1) + "/api/v1/public/meta/getServerTime", timeout=5)
        assert response.json()["code"] == "SUCCESS"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
