"""The status catalogue: complete, consistent with the simulator, and honest about unknowns."""

from __future__ import annotations

import pytest

from bot.edgex import statuses
from bot.edgex.simulator.catalog import OUTCOMES


def test_every_failure_the_simulator_can_script_is_explained_and_vice_versa() -> None:
    scripted = {status for o in OUTCOMES.values() for status in o.failed_status.values()}
    assert scripted == set(statuses.FAILURES)


@pytest.mark.parametrize("walk", statuses.WALKS.values(), ids=[k.value for k in statuses.WALKS])
def test_every_walk_status_has_a_stage_in_order(walk: tuple[str, ...]) -> None:
    stages = [statuses.stage_index(s) for s in walk]
    assert all(stage is not None for stage in stages)
    assert stages == sorted(stages, key=lambda stage: stage or 0)
    assert stages[0] == 0
    assert stages[-1] == len(statuses.STAGES) - 1
    assert statuses.is_terminal(walk[-1])
    assert not any(statuses.is_terminal(s) for s in walk[:-1])


@pytest.mark.parametrize("failure", statuses.FAILURES.values(), ids=list(statuses.FAILURES))
def test_failures_are_terminal_with_kind_stage_and_words(failure: statuses.Failure) -> None:
    assert statuses.is_terminal(failure.status)
    assert failure.status.startswith(("NORMAL_WITHDRAW_", "CROSS_WITHDRAW_", "ASSET_FLOW_"))
    assert 0 <= failure.stage < len(statuses.STAGES) - 1
    assert failure.cause.endswith(".")
    assert failure.next_step.endswith(".")
    assert (failure.code_field is None) == (failure.reason_field is None)


@pytest.mark.parametrize("status", ["UNKNOWN", "UNRECOGNIZED", "NORMAL_WITHDRAW_UNKNOWN", ""])
def test_unknown_statuses_are_never_terminal(status: str) -> None:
    assert not statuses.is_terminal(status)
    assert statuses.stage_index(status) is None
