"""SIGTERM in the middle of sends: ``run`` and ``worker`` finish the step, tidy up, exit 0.

Approved requests wait in the database; the simulator answers each create call only after a
pause, so when SIGTERM arrives a send is in flight. The process must let that send be answered
and recorded, start nothing new, give back every lease, log that it stopped, and exit 0 well
within Heroku's 30 seconds. Mid-send, the /metrics it serves (``run``'s HTTP port, ``worker
--metrics-port``) shows the send and the leases. Afterwards the database and the exchange agree:
no request is left in SUBMITTING, no lease is held, and every withdrawal edgeX created is a
SUBMITTED request.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from approvals.lifecycle import State
from bot.edgex.simulator import SimulatorServer
from bot.slack.standin import SlackStandIn
from storage.engine import Database, open_database
from storage.tables import RequestRow, SubmissionRow
from tests.test_settings import ALL
from tests.worker.processes import PRIVATE_KEY, slack_env
from tests.worker.world import ACCOUNT, POLICY_TEXT, Sim, approved, wait_for

ROOT = Path(__file__).resolve().parents[2]
CREATE = "/api/v1/private/assets/createNormalWithdraw"
SEND_SECONDS = 2.0
REQUESTS = 4


@pytest.fixture
def sim() -> Iterator[Sim]:
    with SimulatorServer() as server:
        admin = Sim(server.url)
        admin.setup(step_ms=600_000)  # withdrawals stay in flight at the exchange
        yield admin
        admin.close()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    command: str,
    home: Path,
    *,
    database_url: str,
    sim: Sim,
    slack: SlackStandIn,
) -> tuple[subprocess.Popen[bytes], str]:
    """``withdrawbot run`` or ``worker`` on the simulator and stand-in, and its /metrics URL.

    Output goes to out.log; the worker serves /metrics on ``--metrics-port``.
    """
    (home / "policy.toml").write_text(POLICY_TEXT)
    env = {name: value for name, value in os.environ.items() if name not in ALL}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        EDGEX_BASE_URL=sim.url,
        EDGEX_ACCOUNT_ID=ACCOUNT,
        EDGEX_STARK_PRIVATE_KEY=PRIVATE_KEY,
        WITHDRAWBOT_POLICY=str(home / "policy.toml"),
        WITHDRAWBOT_POLL_INTERVAL="0.2",
        SLACK_SIGNING_SECRET="shutdown-secret",
        **slack_env(slack),
    )
    port = free_port()
    args = ["run", "--port"] if command == "run" else ["worker", "--metrics-port"]
    with (home / "out.log").open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "bot.cli", *args, str(port)],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}/metrics"


# "<date> <time>,<ms> <LEVEL> <event> key=value ..." (values with spaces are JSON-quoted).
_LINE = re.compile(
    r"^\S+ \S+ [A-Z]+ ((?:run|worker|policy)\.[a-z_]+)((?: [a-z_]+=(?:\"[^\"]*\"|\S+))*)$"
)
_FIELD = re.compile(r' ([a-z_]+)=("[^"]*"|\S+)')


def _events(output: str) -> list[tuple[str, dict[str, str]]]:
    """The start, stop and policy lines, each of which must be ``event key=value ...``."""
    found = []
    for line in output.splitlines():
        if not re.search(
            r" (run|worker|policy)\.(started|stopping|stopped|config|signal|loaded)", line
        ):
            continue
        match = _LINE.match(line)
        assert match, f"not an event key=value line: {line}"
        found.append((match[1], dict(_FIELD.findall(match[2]))))
    return found


def _rows(database: Database) -> list[RequestRow]:
    with database.read() as session:
        return list(session.exec(select(RequestRow)).all())


def _submissions(database: Database) -> dict[int, str | None]:
    with database.read() as session:
        rows = session.exec(select(SubmissionRow)).all()
    return {row.request_id: row.exchange_withdraw_id for row in rows}


def _assert_consistent(database: Database, sim: Sim, ids: list[int]) -> None:
    """No lease held, nothing half-sent, and edgeX holds exactly the SUBMITTED withdrawals."""
    rows = _rows(database)
    assert [row.id for row in rows] == ids
    assert all(row.lease_owner is None and row.lease_until is None for row in rows), [
        (row.id, row.lease_owner, row.lease_until) for row in rows
    ]
    states = {row.id: State(row.state) for row in rows if row.id is not None}
    # The send in flight was answered and recorded; nothing new was started after SIGTERM.
    assert State.SUBMITTING not in states.values(), states
    assert set(states.values()) <= {State.SUBMITTED, State.APPROVED}, states
    submitted = {i for i, state in states.items() if state is State.SUBMITTED}
    assert submitted, "the send in flight was finished"
    assert len(submitted) < REQUESTS, "no new send started after SIGTERM"
    submissions = _submissions(database)
    assert set(submissions) == submitted
    assert {submissions[i] for i in submitted} == set(sim.state()["withdrawals"])


@pytest.mark.parametrize("command", ["run", "worker"])
def test_sigterm_mid_send_finishes_the_step_and_exits_cleanly(
    command: str, tmp_path: Path, database_url: str, sim: Sim, slack: SlackStandIn
) -> None:
    url = database_url
    database = open_database(url)
    try:
        ids = [approved(database).id for _ in range(REQUESTS)]
        sim.post("faults", kind="slow", path=CREATE, count=REQUESTS, seconds=SEND_SECONDS)
        process, metrics = start(command, tmp_path, database_url=url, sim=sim, slack=slack)
        log = tmp_path / "out.log"
        try:
            wait_for(lambda: "worker.signed" in log.read_text(), timeout=30)
            time.sleep(SEND_SECONDS / 4)  # the first send is now waiting for its answer
            # What the process serves on /metrics says so too.
            page = httpx.get(metrics, timeout=5).text
            assert "withdrawbot_submit_sends_total 1.0" in page
            assert 'withdrawbot_requests{state="submitting"} 1.0' in page
            assert re.search(r"^withdrawbot_leases_held [1-9]", page, re.MULTILINE)
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            time.sleep(SEND_SECONDS / 4)  # stopping, the send still in flight: supervisors
            process.send_signal(signal.SIGTERM)  # may repeat the signal, which changes nothing
            code = process.wait(30)
            took = time.monotonic() - stopped_at
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        output = log.read_text()
        assert code == 0, output
        assert took < 25, f"SIGTERM to exit took {took:.1f} s"
        assert "worker.stopped" in output
        assert "Traceback" not in output
        events = _events(output)
        names = [name for name, _ in events]
        # The policy's hash comes first, once every check passed; then the start; stopped last.
        assert names[0] == "policy.loaded", names
        assert re.fullmatch("[0-9a-f]{64}", events[0][1]["hash"])
        assert ("run.started" if command == "run" else "worker.started") in names
        assert names[-1] == ("run.stopped" if command == "run" else "worker.stopped"), names

        _assert_consistent(database, sim, ids)
    finally:
        database.dispose()
