"""``GET /metrics`` over real HTTP after real flows: what Prometheus would scrape.

The database-derived numbers must be exact for what happened; the counters of the process's own
sends and polls are process-wide, so they are compared before and after.
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from approvals.lifecycle import State
from bot.slack.ids import ActionId, Field
from storage import transactions
from tests.slack.e2e.conftest import LISTED, World, wait_for

CREATE = "/api/v1/private/assets/createNormalWithdraw"
STATUS = "/api/v1/private/assets/getNormalWithdrawById"
Key = tuple[str, frozenset[tuple[str, str]]]


def _scrape(world: World) -> dict[Key, float]:
    page = httpx.get(f"{world.url}/metrics", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(page.text)
        for sample in family.samples
    }


def _value(page: dict[Key, float], name: str, **labels: str) -> float:
    return page[(name, frozenset(labels.items()))]


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


def _approve(world: World, request_id: int) -> None:
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)


def _reject(world: World, request_id: int) -> None:
    world.click(world.bob, request_id, ActionId.REJECT)
    view = world.slack.workspace.modals.open_views(world.bob.user_id)[-1]
    world.platform.submit(world.bob, view_id=view["id"], values={Field.REJECT_REASON.value: "no"})


def _complete(world: World, request_id: int) -> None:
    def done() -> bool:
        world.admin.steps(1)
        return _state(world, request_id) is State.COMPLETED

    wait_for(done, timeout=30)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_metrics_after_a_completed_a_refused_a_rejected_and_a_pending_request(
    world_with_worker: World,
) -> None:
    world = world_with_worker
    before = _scrape(world)

    # 1: the first send meets a 503 and is resent; a poll cycle fails; then it completes.
    completed = world.draft()
    world.admin.post("faults", kind="http_error", path=CREATE, status=503, count=1)
    _approve(world, completed)
    wait_for(lambda: _state(world, completed) is State.SUBMITTED, timeout=20)
    world.admin.post("faults", kind="http_error", path=STATUS, status=503, count=2)
    wait_for(
        lambda: (
            _value(_scrape(world), "withdrawbot_poll_errors_total")
            > _value(before, "withdrawbot_poll_errors_total")
        ),
        timeout=20,
    )
    _complete(world, completed)
    # 2: edgeX refuses the first send outright.
    refused = world.draft()
    world.admin.post("faults", kind="http_error", path=CREATE, status=400, count=1)
    _approve(world, refused)
    wait_for(lambda: _state(world, refused) is State.FAILED, timeout=20)
    # 3: rejected; 4: still waiting for approvers.
    rejected = world.draft()
    _reject(world, rejected)
    wait_for(lambda: _state(world, rejected) is State.REJECTED)
    world.draft()
    world.flush()
    wait_for(lambda: _value(_scrape(world), "withdrawbot_leases_held") == 0)

    after = _scrape(world)
    by_state = {state: _value(after, "withdrawbot_requests", state=state.value) for state in State}
    assert {s: n for s, n in by_state.items() if n} == {
        State.COMPLETED: 1,
        State.FAILED: 1,
        State.REJECTED: 1,
        State.PENDING_APPROVAL: 1,
    }
    assert _value(after, "withdrawbot_decisions_total", decision="approve") == 4
    assert _value(after, "withdrawbot_decisions_total", decision="reject") == 1
    assert _value(after, "withdrawbot_submissions_total") == 2
    assert _value(after, "withdrawbot_submit_outcomes_total", outcome="accepted") == 1
    assert _value(after, "withdrawbot_submit_outcomes_total", outcome="refused") == 1
    assert _value(after, "withdrawbot_submit_outcomes_total", outcome="unknown") == 0
    assert _value(after, "withdrawbot_outbox_backlog") == 0
    assert _value(after, "withdrawbot_outbox_oldest_age_seconds") == 0

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - before.get((name, frozenset(labels.items())), 0)

    assert grew("withdrawbot_submit_sends_total") == 3  # 503 + resend, then the refused one
    assert grew("withdrawbot_submit_send_errors_total", error="EdgeXHTTPError") == 2
    assert grew("withdrawbot_poll_errors_total") >= 1


def test_backlog_and_its_age_while_slack_is_down(world: World) -> None:
    world.slack.fail_next("chat.postMessage", status=503, count=10_000)
    for amount in (250, 300):
        world.say(world.alice, f"{amount} USDT to {LISTED} rent")
    wait_for(lambda: _value(_scrape(world), "withdrawbot_outbox_backlog") >= 2)
    page = _scrape(world)
    assert _value(page, "withdrawbot_outbox_oldest_age_seconds") > 0


def test_a_web_only_process_shows_no_worker_counters(web_only_world: World) -> None:
    """Its numbers come from the database; sends and polls happen in the worker process."""
    page = httpx.get(f"{web_only_world.url}/metrics", timeout=10).text
    assert "withdrawbot_requests{" in page
    assert "withdrawbot_decisions_total{" in page
    assert "withdrawbot_submit_sends_total" not in page
    assert "withdrawbot_poll_errors_total" not in page
