"""Request authentication as edgeX checks it: every bad header is an error code, never a 500."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXAPIError
from bot.edgex.simulator import SimulatorServer
from tests.edgex.sim.conftest import ACCOUNT_ID, Admin
from tests.edgex.vectors import vector_key

PATH = "/api/v1/private/account/getAccountById"
QUERY = {"accountId": ACCOUNT_ID}
OTHER_KEY = signing.StarkKey.from_hex("0x1234567890abcdef")


def _headers(key: signing.StarkKey = OTHER_KEY, skew_ms: int = 0, **kw: object) -> dict[str, str]:
    signed = signing.auth_headers(
        key,
        timestamp_ms=int(time.time() * 1000) + skew_ms,
        method="GET",
        path=PATH,
        query=QUERY,
        **kw,  # type: ignore[arg-type]
    )
    return signed.headers


def _get(
    sim: SimulatorServer, headers: dict[str, str], url: str = PATH + "?accountId=" + ACCOUNT_ID
) -> httpx.Response:
    return httpx.get(sim.url + url, headers=headers)


def test_valid_128_and_192_hex_signatures_pass(sim: SimulatorServer, admin: Admin) -> None:
    for with_y in (False, True):
        response = _get(sim, _headers(vector_key(), with_public_y=with_y))
        assert response.status_code == 200
        assert response.json()["code"] == "SUCCESS"


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda h: {}, "AUTH_HEADER_MISSING"),
        (lambda h: {"X-edgeX-Api-Timestamp": h["X-edgeX-Api-Timestamp"]}, "AUTH_HEADER_MISSING"),
        (lambda h: {**h, "X-edgeX-Api-Timestamp": "yesterday"}, "AUTH_TIMESTAMP_INVALID"),
        (lambda h: {**h, "X-edgeX-Api-Signature": "zz" * 64}, "AUTH_SIGNATURE_MALFORMED"),
        (lambda h: {**h, "X-edgeX-Api-Signature": "ab" * 50}, "AUTH_SIGNATURE_MALFORMED"),
        (lambda h: {**h, "X-edgeX-Api-Signature": "0" * 128}, "AUTH_SIGNATURE_INVALID"),
        (lambda h: {**h, "X-edgeX-Api-Signature": "f" * 128}, "AUTH_SIGNATURE_INVALID"),
    ],
    ids=["none", "no-signature", "timestamp-text", "non-hex", "wrong-length", "zero", "huge"],
)
def test_malformed_headers_are_refused(
    sim: SimulatorServer, admin: Admin, mangle: object, code: str
) -> None:
    response = _get(sim, mangle(_headers(vector_key())))  # type: ignore[operator]
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_stale_and_future_timestamps_are_refused(sim: SimulatorServer, admin: Admin) -> None:
    for skew in (-120_000, 120_000):
        body = _get(sim, _headers(vector_key(), skew_ms=skew)).json()
        assert body["code"] == "AUTH_TIMESTAMP_EXPIRED"
        assert body["errorParam"]["serverTime"].isdigit()


def test_another_key_cannot_act_for_the_account(sim: SimulatorServer, admin: Admin) -> None:
    response = _get(sim, _headers(OTHER_KEY))
    assert response.json()["code"] == "AUTH_SIGNATURE_INVALID"


def test_signature_over_another_query_is_refused(sim: SimulatorServer, admin: Admin) -> None:
    response = _get(sim, _headers(vector_key()), url=PATH + f"?accountId={ACCOUNT_ID}&x=1")
    assert response.json()["code"] == "AUTH_SIGNATURE_INVALID"


def test_unknown_account_is_named(sim: SimulatorServer, admin: Admin) -> None:
    response = _get(sim, _headers(), url=PATH + "?accountId=77")
    assert response.json()["code"] == "ACCOUNT_NOT_FOUND"


def test_post_body_is_what_is_signed(sim: SimulatorServer, admin: Admin) -> None:
    path = "/api/v1/private/assets/createNormalWithdraw"
    body = {"accountId": ACCOUNT_ID, "coinId": "1000", "amount": "1"}
    signed = signing.auth_headers(
        vector_key(), timestamp_ms=int(time.time() * 1000), method="POST", path=path, body=body
    )
    tampered = json.dumps({**body, "amount": "2"})
    response = httpx.post(sim.url + path, content=tampered, headers=signed.headers)
    assert response.json()["code"] == "AUTH_SIGNATURE_INVALID"
    garbage = httpx.post(sim.url + path, content=b"{not json", headers=signed.headers)
    assert garbage.status_code == 400
    assert garbage.json()["code"] == "INVALID_JSON"


def test_client_sees_auth_errors_as_api_errors(sim: SimulatorServer, admin: Admin) -> None:
    stranger = EdgeXClient(sim.url, key=OTHER_KEY, account_id=ACCOUNT_ID)
    with pytest.raises(EdgeXAPIError) as err:
        stranger.get_account()
    assert err.value.code == "AUTH_SIGNATURE_INVALID"
    assert err.value.http_status == 401
    assert not err.value.retryable
    stranger.close()


def test_unknown_route_is_404_with_envelope(sim: SimulatorServer) -> None:
    response = httpx.get(sim.url + "/api/v1/private/assets/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
