"""With the worker in the process: an approved request is sent, and edgeX's progress reaches
the thread and the root message's progress track, down to a failure's code and reason."""

from __future__ import annotations

import time

import pytest

from approvals.lifecycle import State
from bot.slack.ids import ActionId
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


def _walk_until(world: World, request_id: int, state: State) -> None:
    for _ in range(10):
        if _state(world, request_id) is state:
            break
        world.admin.steps(1)
        time.sleep(0.3)
    wait_for(lambda: _state(world, request_id) is state, timeout=20)
    world.flush()


def test_a_hostile_edgex_is_shown_verbatim_and_delivery_goes_on(world_with_worker: World) -> None:
    """Unknown statuses, extra and missing fields, a 12,000-character reason full of markup:
    the reason reaches the thread clipped and readable, and the next request completes."""
    world = world_with_worker
    world.admin.post("config", shape="hostile")
    reason = "&<>*_~`<!channel>" * 700
    world.admin.post("fates", outcome="censor_failure", code="CENSOR_&<X>", reason=reason)
    first = world.draft()
    world.click(world.bob, first, ActionId.APPROVE)
    world.click(world.carol, first, ActionId.APPROVE)
    wait_for(lambda: _state(world, first) is State.SUBMITTED, timeout=20)
    world.admin.steps(1)
    wait_for(lambda: "STAGE_NOT_IN_ANY_ENUM" in "\n".join(map(ack_text, world.replies(first))))
    _walk_until(world, first, State.FAILED)
    thread = "\n".join(ack_text(r) for r in world.replies(first))
    assert "CENSOR_&amp;&lt;X&gt;" in thread
    assert "&amp;&lt;&gt;*_~`&lt;!channel&gt;" in thread
    assert "<!channel>" not in thread
    assert "Failed" in ack_text(world.root(first))

    second = world.draft(text=f"300 USDT to {LISTED} next")
    world.click(world.bob, second, ActionId.APPROVE)
    world.click(world.carol, second, ActionId.APPROVE)
    wait_for(lambda: _state(world, second) is State.SUBMITTED, timeout=20)
    _walk_until(world, second, State.COMPLETED)
    assert "Completed" in ack_text(world.root(second))
