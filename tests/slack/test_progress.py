"""The progress track for every edgeX status of both families."""

from __future__ import annotations

import pytest

from bot.edgex.statuses import CROSS_WALK, FAILURES, NORMAL_WALK, SUCCESS
from bot.slack.progress import progress_track, status_phrase

NORMAL_TRACKS = {
    "NORMAL_WITHDRAW_PENDING_RISK_CHECKING": "risk check …  L2 ○  L1 ○  done ○",
    "NORMAL_WITHDRAW_PENDING_TRADE_PROCESSING": "risk check ✓  L2 processing …  L1 ○  done ○",
    "NORMAL_WITHDRAW_PENDING_L2_APPROVING": "risk check ✓  L2 approving …  L1 ○  done ○",
    "NORMAL_WITHDRAW_PENDING_L1_CONFIRMING": "risk check ✓  L2 ✓  L1 confirming …  done ○",
    "NORMAL_WITHDRAW_PENDING_L1_WITHDRAWING": "risk check ✓  L2 ✓  L1 withdrawing …  done ○",
    "NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED": "risk check ✓  L2 ✓  L1 ✓  done ✓",
}
CROSS_TRACKS = {
    "CROSS_WITHDRAW_PENDING_RISK_CHECKING": "risk check …  L2 ○  L1 ○  done ○",
    "CROSS_WITHDRAW_PENDING_CHECKING": "risk check …  L2 ○  L1 ○  done ○",
    "CROSS_WITHDRAW_SUCCESS_SUBMIT_CENSOR": "risk check ✓  L2 censor submitted …  L1 ○  done ○",
    "CROSS_WITHDRAW_PENDING_CENSOR_CHECKING_ACCOUNT": (
        "risk check ✓  L2 censor checking account …  L1 ○  done ○"
    ),
    "CROSS_WITHDRAW_PENDING_CENSORING": "risk check ✓  L2 censoring …  L1 ○  done ○",
    "CROSS_WITHDRAW_PENDING_L2_APPROVING": "risk check ✓  L2 approving …  L1 ○  done ○",
    "CROSS_WITHDRAW_PENDING_L1_SUBMIT": "risk check ✓  L2 ✓  L1 submitting …  done ○",
    "CROSS_WITHDRAW_PENDING_L1_CONFIRMING": "risk check ✓  L2 ✓  L1 confirming …  done ○",
    "CROSS_WITHDRAW_SUCCESS": "risk check ✓  L2 ✓  L1 ✓  done ✓",
}


@pytest.mark.parametrize(("status", "track"), sorted({**NORMAL_TRACKS, **CROSS_TRACKS}.items()))
def test_track_of_each_status_on_the_walks(status: str, track: str) -> None:
    assert progress_track(status) == track


def test_every_walk_status_has_a_track_entry() -> None:
    assert set(NORMAL_WALK) == set(NORMAL_TRACKS)
    assert set(CROSS_WALK) == set(CROSS_TRACKS)


@pytest.mark.parametrize("status", sorted(FAILURES))
def test_failures_mark_the_stage_they_failed_in(status: str) -> None:
    stage = FAILURES[status].stage
    marks = [part.split(" ")[-1] for part in progress_track(status).split("  ")]
    assert marks == ["✓"] * stage + ["✗"] + ["○"] * (3 - stage)
    assert status_phrase(status).startswith("failed at ")


def test_known_failure_tracks_read_as_intended() -> None:
    assert progress_track("CROSS_WITHDRAW_FAILED_CENSORING") == "risk check ✓  L2 ✗  L1 ○  done ○"
    assert (
        progress_track("NORMAL_WITHDRAW_FAILED_RISK_CHECK_FAILURE")
        == "risk check ✗  L2 ○  L1 ○  done ○"
    )
    assert progress_track("CROSS_WITHDRAW_FAILED_L1_REJECTED") == "risk check ✓  L2 ✓  L1 ✗  done ○"


def test_nothing_heard_yet_and_unknown_statuses() -> None:
    assert progress_track(None) == "risk check ○  L2 ○  L1 ○  done ○"
    assert progress_track("UNRECOGNIZED") == (
        "risk check ○  L2 ○  L1 ○  done ○  (edgeX status UNRECOGNIZED)"
    )
    assert status_phrase("NORMAL_WITHDRAW_SOMETHING_NEW") == "NORMAL_WITHDRAW_SOMETHING_NEW"
    assert all(status_phrase(s) == "done" for s in SUCCESS)
