"""``withdrawbot worker`` as an operator runs it: paper mode, a refused start, SIGTERM."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.edgex.signing import StarkKey
from tests.worker.processes import start_worker
from tests.worker.world import Sim, wait_for


def test_paper_mode_runs_marked_paper_and_stops_on_sigterm(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "home" / "withdrawbot.db"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    worker = start_worker(
        tmp_path / "home", database_url=f"sqlite:///{path}", edgex_url="paper", name="paper"
    )
    wait_for(lambda: "worker.started" in worker.output(), timeout=20)
    assert worker.terminate() == 0
    lines = [line for line in worker.output().splitlines() if "worker." in line]
    assert lines
    assert all("PAPER" in line for line in lines), lines
    assert (path.parent / "withdrawbot.db.paper-edgex.json").exists()


def test_an_account_the_key_does_not_belong_to_is_refused_in_one_line(
    tmp_path: Path, sqlite_template: Path, sim: Sim
) -> None:
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    sim.post("accounts", l2Key=StarkKey.from_int(12345).l2_key, accountId="777")
    worker = start_worker(
        tmp_path / "home",
        database_url=f"sqlite:///{path}",
        edgex_url=sim.url,
        name="wrong",
        account="777",
    )
    assert worker.process.wait(20) == 1
    [line] = [x for x in worker.output().splitlines() if x.startswith("withdrawbot worker:")]
    assert line == (
        "withdrawbot worker: EDGEX_STARK_PRIVATE_KEY is not the L2 key of edgeX account 777: "
        "edgeX refused its signature (AUTH_SIGNATURE_INVALID)"
    )
