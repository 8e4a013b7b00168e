"""GET retries: what is retried, how long it waits, that it stops, that each try is re-signed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.edgex import client as edgex
from bot.edgex.client import EdgeXClient, RetryPolicy
from bot.edgex.errors import EdgeXHTTPError, EdgeXTimeout
from tests.edgex.conftest import ClientFactory
from tests.edgex.scripted_server import Reply, ScriptedServer, api_error, ok

ETH = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
PATH = edgex.NORMAL_WITHDRAWABLE_PATH
BUSY = Reply(status=503, body=b"busy")


class FakeTime:
    """A wall clock that only moves when the client sleeps, so no test really waits."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self._extra = 0.0

    def clock(self) -> float:
        return time.time() + self._extra

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._extra += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def test_transient_failures_then_success_each_attempt_signed_afresh(
    make_client: ClientFactory, server: ScriptedServer, fake_time: FakeTime
) -> None:
    client = make_client(clock=fake_time.clock, sleep=fake_time.sleep)
    server.script(PATH, BUSY, Reply(drop=True), ok({"amount": "2"}))
    assert client.get_normal_withdrawable_amount(ETH).amount == 2
    attempts = server.to(PATH)
    assert len(attempts) == 3
    assert fake_time.slept == pytest.approx([0.075, 0.15])  # 0.1 * 2**n, equal jitter at 0.5
    stamps = [int(r.headers["x-edgex-api-timestamp"]) for r in attempts]
    assert stamps[0] + 75 <= stamps[1]
    assert stamps[1] + 150 <= stamps[2]
    assert len({r.headers["x-edgex-api-signature"] for r in attempts}) == 3


def test_read_timeout_then_success(client: EdgeXClient, server: ScriptedServer) -> None:
    server.script(PATH, Reply(json={"code": "SUCCESS", "data": {"amount": "9"}}, delay=0.5))
    server.script(PATH, ok({"amount": "1"}))
    assert client.get_normal_withdrawable_amount(ETH).amount == 1


def test_retry_exhaustion_raises_the_last_error(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script(PATH, BUSY, BUSY, Reply(status=504, body=b"gateway timeout"))
    with pytest.raises(EdgeXHTTPError) as caught:
        client.get_normal_withdrawable_amount(ETH)
    assert caught.value.status == 504
    assert caught.value.attempts == 3
    assert len(server.to(PATH)) == 3
    assert sleeps == pytest.approx([0.075, 0.15])


def test_timeouts_exhaust_too(make_client: ClientFactory, server: ScriptedServer) -> None:
    client = make_client(read_timeout=0.1)
    slow = Reply(json={"code": "SUCCESS", "data": {"amount": "9"}}, delay=0.3)
    server.script(PATH, slow, slow, slow)
    started = time.monotonic()
    with pytest.raises(EdgeXTimeout) as caught:
        client.get_normal_withdrawable_amount(ETH)
    assert caught.value.attempts == 3
    assert time.monotonic() - started < 1.0  # three 0.1 s read timeouts, no real backoff sleep


def test_retry_after_seconds_is_honoured(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script(
        PATH, Reply(status=429, body=b"", headers={"Retry-After": "2"}), ok({"amount": "1"})
    )
    client.get_normal_withdrawable_amount(ETH)
    assert sleeps == [2.0]


def test_retry_after_date_is_honoured(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    server.script(PATH, Reply(status=503, body=b"", headers={"Retry-After": when}))
    server.script(PATH, ok({"amount": "1"}))
    client.get_normal_withdrawable_amount(ETH)
    assert len(sleeps) == 1
    assert 3.0 <= sleeps[0] <= 5.0


def test_short_retry_after_never_shortens_the_backoff(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script(
        PATH, Reply(status=429, body=b"", headers={"Retry-After": "0"}), ok({"amount": "1"})
    )
    client.get_normal_withdrawable_amount(ETH)
    assert sleeps == pytest.approx([0.075])


def test_unreadable_retry_after_falls_back_to_backoff(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script(
        PATH, Reply(status=429, body=b"", headers={"Retry-After": "soon"}), ok({"amount": "1"})
    )
    client.get_normal_withdrawable_amount(ETH)
    assert sleeps == pytest.approx([0.075])


def test_retry_after_beyond_the_cap_gives_up_at_once(
    make_client: ClientFactory, server: ScriptedServer, sleeps: list[float]
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=5, base_delay=0.1, max_retry_after=30))
    server.script(PATH, Reply(status=429, body=b"", headers={"Retry-After": "120"}))
    with pytest.raises(EdgeXHTTPError) as caught:
        client.get_normal_withdrawable_amount(ETH)
    assert caught.value.retry_after == 120
    assert caught.value.retryable
    assert sleeps == []


def test_backoff_is_capped(
    make_client: ClientFactory, server: ScriptedServer, sleeps: list[float]
) -> None:
    client = make_client(
        retry=RetryPolicy(max_attempts=6, base_delay=0.1, max_delay=0.3), jitter=lambda: 1.0
    )
    server.script(PATH, *[BUSY] * 5, ok({"amount": "1"}))
    client.get_normal_withdrawable_amount(ETH)
    assert sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3])


def test_no_retry_on_api_errors_or_4xx(
    client: EdgeXClient, server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script(PATH, api_error("FAILED"))
    server.script(edgex.NORMAL_BY_ID_PATH, Reply(status=404, body=b"not found"))
    with pytest.raises(Exception, match="FAILED"):
        client.get_normal_withdrawable_amount(ETH)
    with pytest.raises(EdgeXHTTPError):
        client.get_normal_withdraw_by_id(["1"])
    assert sleeps == []


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"base_delay": -1.0},
        {"base_delay": 2.0, "max_delay": 1.0},
    ],
)
def test_retry_policy_bounds(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(**options)  # type: ignore[arg-type]
