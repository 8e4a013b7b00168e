"""``withdrawbot worker`` with Slack settings also runs the notifier and the sweep.

That is the worker process of the Procfile split: the web process (``run --no-worker``) leaves
the outbox to it (tests/slack/e2e/test_web_only.py).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from approvals.decisions import Decision
from approvals.lifecycle import State
from approvals.membership import resolve_membership
from approvals.policy import parse_policy
from bot.edgex.simulator import SimulatorServer
from bot.slack.standin import SlackStandIn
from storage import outbox, transactions
from storage.engine import open_database
from storage.outbox import pending
from tests.worker.processes import expected_keys, slack_env, start_worker, thread_keys
from tests.worker.world import (
    APPROVER,
    EXCHANGE,
    POLICY_TEXT,
    REQUESTER,
    Sim,
    approved,
    normal,
    state_of,
    wait_for,
)


def test_the_worker_posts_every_transition_to_the_thread_once(
    tmp_path: Path, sqlite_template: Path, simulator: SimulatorServer, sim: Sim
) -> None:
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    database = open_database(f"sqlite:///{path}")
    stored = approved(database)
    with SlackStandIn() as slack:
        worker = start_worker(
            tmp_path / "home",
            database_url=f"sqlite:///{path}",
            edgex_url=sim.url,
            name="slack",
            slack=slack_env(slack),
        )
        try:
            wait_for(lambda: state_of(database, stored.id) is State.COMPLETED, timeout=20)
            wait_for(lambda: not pending(database), timeout=10)
        finally:
            assert worker.terminate() == 0, worker.output()
        root = outbox.root_message(database, request_id=stored.id)
        assert root is not None
        assert thread_keys(slack, root) == expected_keys(database, stored.id)
    database.dispose()
    [config] = [line for line in worker.output().splitlines() if "worker.config" in line]
    assert "notifier" in config
    assert "sweep" in config


def test_a_missing_slack_setting_refuses_the_start_one_line_each(
    tmp_path: Path, sqlite_template: Path, sim: Sim
) -> None:
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    worker = start_worker(
        tmp_path / "home",
        database_url=f"sqlite:///{path}",
        edgex_url=sim.url,
        name="refused",
        slack={"SLACK_BOT_TOKEN": "not-a-token"},
    )
    assert worker.process.wait(20) == 1
    lines = [x for x in worker.output().splitlines() if x.startswith("withdrawbot worker:")]
    assert lines == [
        "withdrawbot worker: SLACK_BOT_TOKEN does not look like a xoxb-... token",
        "withdrawbot worker: WITHDRAWBOT_CHANNEL is not set (the channel id, e.g. C0123ABCD)",
    ]


def test_with_slack_the_worker_resolves_user_groups_before_signing(
    tmp_path: Path, sqlite_template: Path, simulator: SimulatorServer, sim: Sim
) -> None:
    """A policy naming @ops: the re-check before signing asks Slack who is in it."""
    text = POLICY_TEXT.replace(f'treasury = ["{APPROVER}", "UT2"]', 'treasury = ["@ops"]')
    assert text != POLICY_TEXT
    pol = parse_policy(text)
    members = resolve_membership(pol, {"ops": [APPROVER, "UT2"]})
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    database = open_database(f"sqlite:///{path}")
    now = datetime.now(UTC)
    stored = transactions.draft(
        database,
        draft=normal(),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=members,
        now=now,
    )
    transactions.decide(
        database,
        request_id=stored.id,
        approver=APPROVER,
        decision=Decision.APPROVE,
        policy=pol,
        membership=members,
        now=now,
    )
    with SlackStandIn() as slack:
        slack.workspace.add_group("ops", [APPROVER, "UT2"])
        worker = start_worker(
            tmp_path / "home",
            database_url=f"sqlite:///{path}",
            edgex_url=sim.url,
            name="groups",
            slack=slack_env(slack),
            policy_text=text,
        )
        try:
            wait_for(lambda: state_of(database, stored.id) is State.COMPLETED, timeout=20)
        finally:
            assert worker.terminate() == 0, worker.output()
        assert slack.calls_to("usergroups.list"), "membership came from Slack"
    database.dispose()
