"""Signed timestamps follow the exchange's clock however wrong the local one is."""

from __future__ import annotations

import time

import pytest

from bot.edgex import client as edgex
from bot.edgex.client import EdgeXClient
from tests.edgex.conftest import ClientFactory
from tests.edgex.scripted_server import Reply, ScriptedServer, envelope, ok

ETH = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
HOUR = 3600.0


class SkewedClock:
    """The real time shifted by ``skew`` seconds, plus whatever a test advances it by."""

    def __init__(self, skew: float) -> None:
        self.skew = skew

    def __call__(self) -> float:
        return time.time() + self.skew

    def advance(self, seconds: float) -> None:
        self.skew += seconds


def _withdrawable(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(edgex.NORMAL_WITHDRAWABLE_PATH, ok({"amount": "0"}))
    client.get_normal_withdrawable_amount(ETH)


@pytest.mark.parametrize("skew_hours", [-3.0, 5.0, 0.0])
def test_skewed_local_clock_still_signs_server_time(
    make_client: ClientFactory, server: ScriptedServer, skew_hours: float
) -> None:
    client = make_client(clock=SkewedClock(skew_hours * HOUR))
    _withdrawable(client, server)  # the server fixture checks the timestamp window and signature
    stamp = int(server.to(edgex.NORMAL_WITHDRAWABLE_PATH)[0].headers["x-edgex-api-timestamp"])
    assert abs(stamp - time.time() * 1000) < 2_000
    assert abs(client.server_time_ms() - time.time() * 1000) < 2_000


def test_without_the_offset_the_server_would_refuse(server: ScriptedServer) -> None:
    """Guards the guard: the scripted server really rejects a timestamp hours off."""
    from bot.edgex import signing
    from tests.edgex.scripted_server import verify_auth
    from tests.edgex.vectors import vector_key

    skewed = int((time.time() - 3 * HOUR) * 1000)
    headers = signing.auth_headers(
        vector_key(), timestamp_ms=skewed, method="GET", path=edgex.ACCOUNT_PATH
    ).headers
    reason = verify_auth(
        method="GET",
        path=edgex.ACCOUNT_PATH,
        raw_query="",
        body=b"",
        headers={k.lower(): v for k, v in headers.items()},
        public_x=vector_key().public_x,
        public_y=vector_key().public_y,
        now_ms=server.now_ms(),
    )
    assert reason is not None
    assert "from server time" in reason


def test_sync_is_lazy_and_periodic(make_client: ClientFactory, server: ScriptedServer) -> None:
    clock = SkewedClock(-2 * HOUR)
    server_clock = SkewedClock(0.0)
    server.clock = server_clock

    def pass_time(seconds: float) -> None:
        clock.advance(seconds)
        server_clock.advance(seconds)

    client = make_client(clock=clock, time_sync_interval=600.0)
    assert server.requests == []  # constructing the client calls nothing
    _withdrawable(client, server)
    _withdrawable(client, server)
    pass_time(599)
    _withdrawable(client, server)
    assert len(server.to(edgex.SERVER_TIME_PATH)) == 1
    pass_time(2)  # 601 s since the sync: measure again
    _withdrawable(client, server)
    assert len(server.to(edgex.SERVER_TIME_PATH)) == 2
    clock.advance(-3 * HOUR)  # the local clock is stepped back, far beyond the interval
    _withdrawable(client, server)
    assert len(server.to(edgex.SERVER_TIME_PATH)) == 3
    paths = [r.path for r in server.requests]
    assert paths[0] == edgex.SERVER_TIME_PATH
    assert paths.count(edgex.NORMAL_WITHDRAWABLE_PATH) == 5


def test_offset_is_taken_at_the_midpoint_of_the_round_trip(
    make_client: ClientFactory, server: ScriptedServer
) -> None:
    """The server stamps its time on arrival and answers 0.3 s later.

    Taking our clock at the request would measure about 0 ms, at the answer about -300 ms; the
    midpoint measures about -150 ms (exactly -150 on a symmetric network).
    """
    client = make_client(clock=SkewedClock(-HOUR), read_timeout=2.0)
    stamped = int(time.time() * 1000)
    server.script(
        edgex.SERVER_TIME_PATH, Reply(json=envelope({"timeMillis": str(stamped)}), delay=0.3)
    )
    started = time.time()
    offset = client.sync_time()
    elapsed_ms = (time.time() - started) * 1000
    request_time = started - HOUR
    expected = stamped - round((request_time * 1000) + elapsed_ms / 2)
    assert abs(offset - expected) < 60
    assert 3_600_000 - 260 < offset < 3_600_000 - 40


def test_server_time_endpoint_with_string_millis(
    client: EdgeXClient, server: ScriptedServer
) -> None:
    server.script(edgex.SERVER_TIME_PATH, ok({"timeMillis": "1734674558154"}))
    assert client.get_server_time() == 1734674558154
