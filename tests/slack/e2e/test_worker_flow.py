"""With the worker in the process: an approved request is sent, and edgeX's progress reaches
the thread and the root message's progress track, down to a failure's code and reason."""

from __future__ import annotations

import time

import pytest

from approvals.lifecycle import State
from bot.slack.actions import ActionId
from storage import transactions
from tests.slack.e2e.conftest import LISTED, World, ack_text, wait_for


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_an_approved_request_walks_to_completion_in_its_thread(world_with_worker: World) -> None:
    world = world_with_worker
    request_id = world.draft()
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)
    wait_for(lambda: _state(world, request_id) is State.SUBMITTED)
    for _ in range(8):
        world.admin.steps(1)
        if _state(world, request_id) is State.COMPLETED:
            break
        time.sleep(0.3)
    wait_for(lambda: _state(world, request_id) is State.COMPLETED, timeout=20)
    world.flush()
    root = ack_text(world.root(request_id))
    assert "Completed" in root
    assert "done ✓" in root
    thread = "\n".join(ack_text(r) for r in world.replies(request_id))
    assert "Submitted to edgeX" in thread
    assert "edgeX: " in thread
    assert "Audit log head" in thread
    assert world.replies(request_id)[-1].get("subtype") == "thread_broadcast"


def test_a_censor_failure_reaches_the_thread_with_its_code(world_with_worker: World) -> None:
    world = world_with_worker
    world.admin.post("fates", outcome="censor_failure", code="CENSOR_X", reason="risk <b>rule</b>")
    world.say(world.alice, f"cross 100 USDT to {LISTED} chain 42161 bridge")
    world.flush()
    world.click(world.bob, 1, ActionId.APPROVE)
    world.click(world.carol, 1, ActionId.APPROVE)
    wait_for(lambda: _state(world, 1) is State.SUBMITTED, timeout=20)
    for _ in range(10):
        if _state(world, 1) is State.FAILED:
            break
        world.admin.steps(1)
        time.sleep(0.3)
    wait_for(lambda: _state(world, 1) is State.FAILED, timeout=20)
    world.flush()
    thread = "\n".join(ack_text(r) for r in world.replies(1))
    assert "CENSOR_X" in thread
    assert "risk &lt;b&gt;rule&lt;/b&gt;" in thread
    assert "Failed" in ack_text(world.root(1))
