"""Real ``withdrawbot worker`` processes for the crash and replica tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.edgex.vectors import vectors
from tests.worker.world import ACCOUNT, POLICY_TEXT

PRIVATE_KEY: str = vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"]


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """kill -9: no cleanup of any kind, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(
    home: Path,
    *,
    database_url: str,
    edgex_url: str,
    name: str,
    poll: float = 0.1,
    account: str = ACCOUNT,
) -> WorkerProcess:
    """A worker in its own process and working directory (so no stray .env is read)."""
    home.mkdir(parents=True, exist_ok=True)
    policy = home / "policy.toml"
    policy.write_text(POLICY_TEXT)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EDGEX_", "WITHDRAWBOT_", "SLACK_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=database_url,
        EDGEX_BASE_URL=edgex_url,
        EDGEX_ACCOUNT_ID=account,
        EDGEX_STARK_PRIVATE_KEY=PRIVATE_KEY,
        WITHDRAWBOT_POLICY=str(policy),
        WITHDRAWBOT_POLL_INTERVAL=str(poll),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    log = home / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "bot.cli", "worker", "--lease", "1", "--name", name],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(process, log)
