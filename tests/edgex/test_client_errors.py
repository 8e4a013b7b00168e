"""Each error class from a real answer (or non-answer), with the flags a caller acts on."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from bot.edgex import client as edgex
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.errors import (
    EdgeXAPIError,
    EdgeXError,
    EdgeXHTTPError,
    EdgeXMalformedResponse,
    EdgeXTimeout,
    EdgeXTransportError,
)
from tests.edgex.conftest import ClientFactory
from tests.edgex.scripted_server import Reply, ScriptedServer, api_error, ok
from tests.edgex.vectors import vectors

ETH = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
BODY: dict[str, Any] = vectors()["normal_withdraw"][0]["request_body"]
SECRET_HEX: str = vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"]
HTML_502 = Reply(status=502, body=b"<html><body><h1>502 Bad Gateway</h1></body></html>")
SLOW_CREATED = Reply(json={"code": "SUCCESS", "data": {"withdrawId": "1"}}, delay=0.5)
RATE_LIMITED = Reply(status=429, body=b"slow down", headers={"Retry-After": "3"})


def _withdrawable(client: EdgeXClient) -> Any:
    return client.get_normal_withdrawable_amount(ETH)


def _assert_no_secrets(err: BaseException, server: ScriptedServer) -> None:
    text = f"{err!s} {err!r} {vars(err)!r}"
    assert SECRET_HEX.lower().removeprefix("0x").lstrip("0") not in text.lower()
    assert BODY["l2Signature"] not in text
    for request in server.requests:
        signature = request.headers.get("x-edgex-api-signature")
        if signature:
            assert signature not in text
            assert signature[:64] not in text


def test_api_error_keeps_code_msg_param_and_trace(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(
        edgex.NORMAL_WITHDRAWABLE_PATH,
        api_error(
            "INVALID_ADDRESS",
            "address is not valid",
            error_param={"address": ETH},
            trace_id="9e3bfe2b9e1ef825",
        ),
    )
    with pytest.raises(EdgeXAPIError) as caught:
        _withdrawable(client)
    err = caught.value
    assert (err.code, err.msg, err.error_param, err.trace_id) == (
        "INVALID_ADDRESS",
        "address is not valid",
        {"address": ETH},
        "9e3bfe2b9e1ef825",
    )
    assert err.http_status == 200
    assert not err.retryable
    assert not err.outcome_unknown
    assert err.attempts == 1
    assert len(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)) == 1  # API errors are not retried
    assert str(err) == (
        "GET /api/v1/private/assets/getNormalWithdrawableAmount: edgeX error INVALID_ADDRESS: "
        f"address is not valid (errorParam={{'address': '{ETH}'}}) "
        "[HTTP 200, traceId=9e3bfe2b9e1ef825]"
    )


def test_api_error_echoing_a_signature_is_redacted(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(
        edgex.CREATE_NORMAL_PATH,
        api_error("INVALID_SIGNATURE", "bad", error_param={"l2Signature": BODY["l2Signature"]}),
    )
    with pytest.raises(EdgeXAPIError) as caught:
        client.create_normal_withdraw(BODY)
    assert "<hex redacted>" in str(caught.value)
    assert not caught.value.outcome_unknown
    _assert_no_secrets(caught.value, server)


def test_api_error_on_a_non_200(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, api_error("BAD_REQUEST", "no", status=400))
    with pytest.raises(EdgeXAPIError) as caught:
        _withdrawable(client)
    assert caught.value.http_status == 400
    assert not caught.value.retryable
    assert len(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)) == 1


def test_5xx_with_an_envelope_is_retried(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(
        edgex.NORMAL_WITHDRAWABLE_PATH,
        api_error("SYSTEM_BUSY", status=503),
        ok({"amount": "1"}),
    )
    assert _withdrawable(client).amount == 1
    assert len(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)) == 2


def test_non_200_without_envelope(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, HTML_502, HTML_502, HTML_502)
    with pytest.raises(EdgeXHTTPError) as caught:
        _withdrawable(client)
    err = caught.value
    assert err.status == 502
    assert err.body_excerpt == "<html><body><h1>502 Bad Gateway</h1></body></html>"
    assert err.retryable
    assert err.attempts == 3
    assert "HTTP 502" in str(err)
    assert "after 3 attempts" in str(err)


def test_4xx_without_envelope_is_final(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, Reply(status=403, body=b"Forbidden" * 100))
    with pytest.raises(EdgeXHTTPError) as caught:
        _withdrawable(client)
    assert caught.value.status == 403
    assert not caught.value.retryable
    assert len(caught.value.body_excerpt) <= 201
    assert len(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not an edgeX JSON envelope"),
        (b"[1, 2]", "not an edgeX JSON envelope"),
        (b'{"data": {}}', "not an edgeX JSON envelope"),
        (b'{"code": 1}', "not an edgeX JSON envelope"),
        (b'{"code": "SUCCESS", "data": {"amount": NaN}}', "not an edgeX JSON envelope"),
        (b"\xff\xfe", "not an edgeX JSON envelope"),
        (b"", "not an edgeX JSON envelope"),
    ],
)
def test_malformed_answers(
    client: EdgeXClient, server: ScriptedServer, body: bytes, reason: str
) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, Reply(body=body))
    with pytest.raises(EdgeXMalformedResponse, match=reason) as caught:
        _withdrawable(client)
    assert not caught.value.retryable
    assert not caught.value.outcome_unknown  # a GET cannot have done anything
    assert len(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "lots"}, "amount"),
        ({"amount": [1]}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({}, "amount"),
        (None, "data"),
        ([{"amount": "1"}], "data"),
    ],
)
def test_wrong_shaped_data(
    client: EdgeXClient, server: ScriptedServer, data: Any, field: str
) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, ok(data))
    with pytest.raises(EdgeXMalformedResponse) as caught:
        _withdrawable(client)
    message = str(caught.value)
    assert "withdrawable amount" in message
    assert f"({field}" in message
    assert "lots" not in message  # field names, never the values
    assert caught.value.trace_id == "trace-0001"


def test_wrong_shaped_records_name_the_failing_record(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(edgex.NORMAL_BY_ID_PATH, ok([{"id": "1", "status": "X"}, {"id": "2"}]))
    with pytest.raises(EdgeXMalformedResponse, match=r"\(1\.status: Field required"):
        client.get_normal_withdraw_by_id(["1", "2"])


def test_read_timeout_on_get(make_client: ClientFactory, server: ScriptedServer) -> None:
    client = make_client(read_timeout=0.1)
    slow = Reply(json={"code": "SUCCESS", "data": {"amount": "1"}}, delay=0.3)
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, slow, slow, slow)
    with pytest.raises(EdgeXTimeout) as caught:
        _withdrawable(client)
    err = caught.value
    assert err.request_sent
    assert err.retryable
    assert not err.outcome_unknown
    assert err.attempts == 3
    assert "ReadTimeout" in str(err)


def test_connection_refused(make_client: ClientFactory, sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = EdgeXPublicClient(f"http://127.0.0.1:{port}", sleep=sleeps.append)
    with pytest.raises(EdgeXTransportError) as caught:
        client.get_metadata()
    client.close()
    assert type(caught.value) is EdgeXTransportError
    assert not caught.value.request_sent
    assert caught.value.attempts == 4  # the default policy
    assert len(sleeps) == 3


# --- POST: never retried, and honest about what may have happened ----------------------------


@pytest.mark.parametrize(
    ("reply", "error", "unknown", "retryable"),
    [
        (Reply(drop=True), EdgeXTransportError, True, True),
        (SLOW_CREATED, EdgeXTimeout, True, True),
        (HTML_502, EdgeXHTTPError, True, True),
        (RATE_LIMITED, EdgeXHTTPError, True, True),
        (Reply(status=504, json={"code": "GATEWAY", "data": None}), EdgeXAPIError, True, True),
        (Reply(status=201, body=b"created?"), EdgeXHTTPError, True, False),
        (Reply(body=b"<html>ok</html>"), EdgeXMalformedResponse, True, False),
        (ok({"withdrawId": "not-an-id"}), EdgeXMalformedResponse, True, False),
        (ok(None), EdgeXMalformedResponse, True, False),
        (Reply(status=400, body=b"bad request"), EdgeXHTTPError, False, False),
        (Reply(status=404, body=b""), EdgeXHTTPError, False, False),
        (api_error("INSUFFICIENT_BALANCE", "not enough"), EdgeXAPIError, False, False),
        (api_error("INVALID_PARAM", "bad", status=400), EdgeXAPIError, False, False),
    ],
)  # fmt: skip
def test_post_failures_are_never_retried(
    client: EdgeXClient,
    server: ScriptedServer,
    sleeps: list[float],
    reply: Reply,
    error: type[EdgeXError],
    unknown: bool,
    retryable: bool,
) -> None:
    server.script(edgex.CREATE_NORMAL_PATH, reply)
    with pytest.raises(error) as caught:
        client.create_normal_withdraw(BODY)
    err = caught.value
    assert type(err) is error
    assert err.outcome_unknown is unknown
    assert err.retryable is retryable
    assert ("outcome unknown" in str(err)) is unknown
    assert len(server.to(edgex.CREATE_NORMAL_PATH)) == 1
    assert sleeps == []
    _assert_no_secrets(err, server)
    # httpx's exception holds the signed request: it must not ride along in the chain.
    assert not isinstance(err.__context__, httpx.HTTPError)
    assert err.__cause__ is None


def test_post_on_a_refused_connection_was_never_sent(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    client.sync_time()
    server.stop()
    with pytest.raises(EdgeXTransportError) as caught:
        client.create_normal_withdraw(BODY)
    assert not caught.value.request_sent
    assert not caught.value.outcome_unknown
    assert caught.value.retryable
    assert server.to(edgex.CREATE_NORMAL_PATH) == []


def test_failed_clock_sync_sends_nothing_private(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(edgex.SERVER_TIME_PATH, HTML_502, HTML_502, HTML_502)
    with pytest.raises(EdgeXHTTPError) as caught:
        client.create_normal_withdraw(BODY)
    assert caught.value.path == edgex.SERVER_TIME_PATH
    assert not caught.value.outcome_unknown  # the withdrawal was never sent
    assert [r.path for r in server.requests] == [edgex.SERVER_TIME_PATH] * 3
