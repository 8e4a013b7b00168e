"""Real ``withdrawbot worker`` processes for the crash and replica tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.slack.standin import SlackStandIn
from storage.engine import Database
from storage.outbox import outbox_key
from tests.edgex.vectors import vectors
from tests.worker.world import ACCOUNT, POLICY_TEXT, outbox

PRIVATE_KEY: str = vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"]
CHANNEL = "C0TREASURY"


def slack_env(standin: SlackStandIn) -> dict[str, str]:
    """A worker's Slack settings pointing at ``standin``, whose ``CHANNEL`` it creates."""
    standin.workspace.add_channel(CHANNEL, "treasury")
    return {
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_API_URL": standin.api_url,
        "WITHDRAWBOT_CHANNEL": CHANNEL,
    }


def thread_keys(standin: SlackStandIn, root_ts: str) -> list[str]:
    """The outbox key of each message of the request's thread, root first."""
    return [
        str(message["metadata"]["event_payload"]["key"])
        for message in standin.workspace.thread(CHANNEL, root_ts)
    ]


def expected_keys(database: Database, request_id: int) -> list[str]:
    """The outbox key of each of the request's events, in order: what its thread must show."""
    return [
        outbox_key(client_withdraw_id=event["client_withdraw_id"], seq=event["seq"])
        for event in outbox(database, request_id)
    ]


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
    slack: Mapping[str, str] | None = None,
    policy_text: str = POLICY_TEXT,
    exchange: Mapping[str, str] | None = None,
) -> WorkerProcess:
    """A worker in its own process and working directory (so no stray .env is read).

    ``slack`` are its Slack settings (``slack_env``); without them it runs no notifier.
    ``exchange`` replaces the V1 key settings (``flow_env`` for an edgeX V2 worker).
    """
    home.mkdir(parents=True, exist_ok=True)
    policy = home / "policy.toml"
    policy.write_text(policy_text)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EDGEX_", "WITHDRAWBOT_", "SLACK_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=database_url,
        EDGEX_BASE_URL=edgex_url,
        EDGEX_ACCOUNT_ID=account,
        WITHDRAWBOT_POLICY=str(policy),
        WITHDRAWBOT_POLL_INTERVAL=str(poll),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    env.update(exchange or {"EDGEX_STARK_PRIVATE_KEY": PRIVATE_KEY})
    env.update(slack or {})
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


def flow_env(url: str, keys: Mapping[str, str], wallet_hex: str) -> dict[str, str]:
    """An edgeX V2 worker's settings for the simulator at ``url`` (both hosts)."""
    return {
        "EDGEX_API": "v2",
        "EDGEX_V2_ASSET_URL": url,
        "EDGEX_V2_API_KEY": keys["apiKey"],
        "EDGEX_V2_API_SECRET": keys["apiSecret"],
        "EDGEX_V2_PASSPHRASE": keys["passphrase"],
        "EDGEX_V2_WALLET_PRIVATE_KEY": wallet_hex,
    }
