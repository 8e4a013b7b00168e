"""``withdrawbot run`` as a real process: paper mode end to end, and a web-only process that
starts without ever reading the L2 key."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.edgex.simulator import SimulatorServer
from bot.slack.standin import SlackStandIn, sign
from tests.test_settings import ALL

POLICY = Path(__file__).resolve().parents[2] / "policy.example.toml"
SECRET = "process-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, slack: SlackStandIn, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ALL}
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        WITHDRAWBOT_CHANNEL="C0TREASURY",
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        WITHDRAWBOT_POLICY=str(tmp_path / "policy.toml"),
        **extra,
    )
    return env


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.workspace.add_person("U01REQUEST", "req")
        standin.workspace.add_channel("C0TREASURY", "treasury", members=["U01REQUEST"])
        standin.workspace.add_group("treasury-ops", [])
        standin.workspace.add_group("finance-leads", ["U02DAVE000"])
        yield standin


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    return subprocess.Popen(  # noqa: S603 - our own command line
        [*command, "run", *args], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the bot did not become healthy")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return err


def test_paper_mode_in_one_process(tmp_path: Path, slack: SlackStandIn) -> None:
    shutil.copyfile(POLICY, tmp_path / "policy.toml")
    port = _free_port()
    process = _start(_env(tmp_path, slack), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        body = urlencode(
            {
                "team_id": slack.workspace.team_id,
                "channel_id": "C0TREASURY",
                "user_id": "U01REQUEST",
                "command": "/withdraw",
                "text": "help",
                "trigger_id": "1.2",
                "response_url": slack.url + "/response/x",
            }
        ).encode()
        now = int(time.time())
        ack = httpx.post(
            f"{url}/slack/events",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": sign(SECRET, now, body),
            },
        )
        assert ack.status_code == 200
        assert ack.json()["text"].startswith("[PAPER]")
    finally:
        err = _stop(process)
    assert process.returncode == 0, err
    assert "[PAPER]" in err
    assert "run.started" in err
    assert (tmp_path / "bot.db.paper-edgex.json").exists()


def test_web_only_process_never_reads_the_key(tmp_path: Path, slack: SlackStandIn) -> None:
    shutil.copyfile(POLICY, tmp_path / "policy.toml")
    port = _free_port()
    with SimulatorServer() as sim:
        env = _env(
            tmp_path,
            slack,
            EDGEX_BASE_URL=sim.url,
            EDGEX_ACCOUNT_ID="551109015904453258",
            EDGEX_STARK_PRIVATE_KEY_FILE=str(tmp_path / "no-such-key"),
        )
        process = _start(env, "--no-worker", "--port", str(port))
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", process)
        finally:
            err = _stop(process)
    assert process.returncode == 0, err
    assert "no-such-key" not in err
    # The same settings refuse a process that would sign.
    refused = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "EDGEX_STARK_PRIVATE_KEY_FILE: cannot read" in refused.stderr
