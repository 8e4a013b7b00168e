"""The after-ack runner: one thread, in order, stepping aside while acks are being answered."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.slack.deferred import AfterAck


def test_work_runs_in_the_order_it_was_handed_over() -> None:
    runner = AfterAck()
    done: list[int] = []
    for n in range(20):
        runner.submit(lambda n=n: done.append(n))  # type: ignore[misc]
    runner.close()
    assert done == list(range(20))


def test_work_waits_while_an_ack_is_being_answered() -> None:
    runner = AfterAck(patience=30)
    ran = threading.Event()
    with runner.acking():
        handed = runner.submit(ran.set)
        assert not ran.wait(0.3), "after-ack work ran while an ack was being answered"
    handed.result(timeout=5)
    assert ran.is_set()
    runner.close()


def test_a_stream_of_acks_cannot_starve_the_work() -> None:
    runner = AfterAck(patience=0.2)
    with runner.acking():
        runner.submit(lambda: None).result(timeout=5)
    runner.close()


def test_a_failure_is_logged_and_the_next_work_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = AfterAck()

    def broken() -> None:
        raise RuntimeError("database gone")

    with caplog.at_level(logging.ERROR, logger="bot.slack.deferred"):
        runner.submit(broken).result(timeout=5)
        after = runner.submit(lambda: None)
        after.result(timeout=5)
    runner.close()
    assert "slack.after_ack_failed" in caplog.text
    assert "database gone" in caplog.text


def test_close_finishes_what_was_handed_over() -> None:
    runner = AfterAck()
    gate = threading.Event()
    done: list[str] = []

    def blocked() -> None:
        gate.wait()

    runner.submit(blocked)
    runner.submit(lambda: done.append("second"))
    threading.Timer(0.2, gate.set).start()
    runner.close()
    assert done == ["second"]
