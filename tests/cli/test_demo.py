"""``withdrawbot demo`` as a real process: every step in the transcript within a minute, whatever
the caller's environment holds; ``--keep-running`` leaves a stack that answers what it prints; a
step that does not happen ends the demo with exit 1 and one line naming it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.test_settings import ALL

# What a developer's shell (or a .env in the working directory) might hold: none of it may
# reach the demo, which would otherwise use Socket Mode, a missing database or a 1 h poll.
HOSTILE = {
    "SLACK_BOT_TOKEN": "xoxb-from-the-shell",
    "SLACK_SIGNING_SECRET": "from-the-shell",
    "SLACK_APP_TOKEN": "xapp-from-the-shell",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "SLACK_TEAM_ID": "T0ELSEWHERE",
    "WITHDRAWBOT_CHANNEL": "C0ELSEWHERE",
    "EDGEX_BASE_URL": "http://127.0.0.1:9",
    "EDGEX_ACCOUNT_ID": "7",
    "EDGEX_STARK_PRIVATE_KEY": "0x" + "1" * 63,
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nothing",
    "WITHDRAWBOT_POLICY": "/nonexistent/policy.toml",
    "WITHDRAWBOT_POLL_INTERVAL": "3600",
}

# Each step of the script, as the transcript must show it happened.
STEPS = [
    " 1. alice drafts 250 USDT to an allowlisted address",
    "✓ posted in #treasury: PAPER · Withdrawal #1: 250 USDT to L1",
    " 2. bob approves #1",
    "✓ thread: 👍 @bob approved · needs 2 of treasury: 1/2 so far",
    " 3. alice tries to approve her own request #1 and is refused",
    "✓ only alice sees: 🚫 You drafted this request",
    " 4. carol approves #1",
    "✓ thread: 👍 @carol approved · the policy is met",
    " 5. #1 is signed, submitted and accepted by edgeX",
    "Submitted to edgeX · edgeX id",
    " 6. #1 walks through edgeX's statuses to completion",
    "PENDING_L1_WITHDRAWING → SUCCESS_L1_COMPLETED; Withdrawal #1: ✅ Completed",
    " 7. alice drafts a cross-chain 1000 USDT to Arbitrum; it shows its LP quote",
    "LP fee at most 2.5 USDT",
    "10. #2 is signed, submitted and accepted by edgeX",
    "11. #2 fails at edgeX's censor; the code and reason reach the thread",
    "edgeX says: CENSOR_DESTINATION_FLAGGED · the destination is on the LP's screening list",
    "12. alice drafts 1200 USDT to a wallet not on the allowlist",
    "13. bob rejects #3 with a reason",
    "✓ thread: 👎 @bob rejected: Unknown wallet: nobody on the team recognises it",
    "── #treasury · withdrawal #1 ─",
    "── #treasury · withdrawal #2 ─",
    "── #treasury · withdrawal #3 ─",
    "── summary ─",
    "All 13 steps happened",
]
SUMMARY = [
    r"#1  normal  250 USDT +0x5290…9EE7 L1 +bob, carol  completed\n +edgeX: "
    r"NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED",
    r"#2  cross   1,000 USDT +0x5290…9EE7 Arbitrum +bob, carol  failed\n +edgeX: "
    r"CROSS_WITHDRAW_FAILED_CENSORING",
    r"#3  normal  1,200 USDT +0x5aAe…eAed L1 +none +rejected\n +rejected by bob: Unknown wallet",
]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ALL}
    env.update(HOSTILE, TMPDIR=str(tmp_path), PYTHONIOENCODING="utf-8")
    (tmp_path / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in HOSTILE.items()), encoding="utf-8"
    )
    return env


def _demo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "demo", *args]


def test_the_demo_shows_every_step_and_exits_0_within_a_minute(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own command
        _demo_command(),
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < 60, f"the demo took {took:.0f}s"
    out = done.stdout
    flat = " ".join(out.split())  # the transcript wraps long lines at 100 columns
    position = 0
    for step in STEPS:
        found = flat.find(" ".join(step.split()), position)
        assert found >= 0, f"{step!r} is not in the transcript (in order):\n{out}"
        position = found
    for row in SUMMARY:
        assert re.search(row, out), f"no summary row like {row!r}:\n{out}"
    assert "demo: step" not in done.stderr
    assert "xoxb-" not in out
    assert "\x1b" not in out
    assert max(len(line) for line in out.splitlines()[2:]) <= 100
    assert list(tmp_path.glob("withdrawbot-demo-*")) == [], "the temporary directory is left"


def test_keep_running_leaves_a_stack_that_answers_what_it_prints(tmp_path: Path) -> None:
    env = _env(tmp_path)
    process = subprocess.Popen(  # noqa: S603 - our own command
        _demo_command("--keep-running"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while not any(line.startswith("  withdrawbot policy check") for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            line = process.stdout.readline()
            assert line, f"the demo ended early:\n{''.join(lines)}"
            lines.append(line)
        out = "".join(lines)
        assert "Ctrl-C stops it" in out
        bot = re.search(r"bot \(HTTP mode\) +(http://127\.0\.0\.1:\d+)/slack/events", out)
        calls = re.search(r"recorded calls: curl -s (\S+)", out)
        assert bot is not None, out
        assert calls is not None, out
        assert httpx.get(f"{bot[1]}/healthz").json() == {"ok": True}
        recorded = httpx.get(calls[1]).json()["calls"]
        assert {"chat.postMessage", "chat.update", "response_url"} <= {
            c["method"] for c in recorded
        }
        _paste_the_signed_curl(out)
        _run_the_printed_command(out, "withdrawbot audit verify", env, "audit log intact")
        keys = list(tmp_path.glob("withdrawbot-demo-*/*.paper-l2.key"))
        assert len(keys) == 1
        key = keys[0].read_text(encoding="utf-8").strip()
        assert key not in out
        assert key.lstrip("0") not in out
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert list(tmp_path.glob("withdrawbot-demo-*")) == []


def _paste_the_signed_curl(out: str) -> None:
    """The printed curl, sent as a shell would send it: alice's /withdraw list is answered."""
    joined = out.replace("\\\n", " ")
    line = next(
        line
        for line in joined.splitlines()
        if line.strip().startswith("curl -s") and "/slack/events" in line
    )
    words = shlex.split(line)
    url = words[2]
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    body = "&".join(words[i + 1] for i, w in enumerate(words) if w == "--data-binary")
    answer = httpx.post(url, content=body.encode("utf-8"), headers=headers)
    assert answer.status_code == 200, answer.text
    assert "No withdrawal request is open" in answer.text


def _run_the_printed_command(out: str, command: str, env: dict[str, str], expect: str) -> None:
    exports = dict(
        shlex.split(line.strip().removeprefix("export "))[0].split("=", 1)
        for line in out.splitlines()
        if line.strip().startswith("export ")
    )
    assert set(exports) == {"DATABASE_URL", "WITHDRAWBOT_POLICY"}
    assert f"  {command}" in out.splitlines()
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "bot.cli", *shlex.split(command)[1:]],
        env={**env, **exports},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout


# The demo function's hidden hook breaks one step, as a regression in the bot would.
BROKEN = """
import sys
from bot.demo import demo

def meddle(stage, step):
    if step == {step}:
{action}

sys.exit(demo(sys.stdout, sys.stderr, meddle=meddle, patience={patience}))
"""


def _broken_demo(
    tmp_path: Path, *, step: int, action: str, patience: float = 1.0
) -> tuple[int, str, str]:
    script = BROKEN.format(step=step, action=f"        {action}", patience=patience)
    done = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_a_withdrawal_that_fails_instead_of_completing_stops_the_demo_at_its_step(
    tmp_path: Path,
) -> None:
    code, out, err = _broken_demo(
        tmp_path,
        step=1,
        action=(
            'stage.admin.post("fates", outcome="l2_rejected", code="L2_DEMO", '
            'reason="broken on purpose")'
        ),
    )
    assert code == 1
    said = [line for line in err.splitlines() if line.startswith("demo:")]
    assert len(said) == 1, err
    assert said[0].startswith(
        "demo: step 6 (#1 walks through edgeX's statuses to completion) did not happen: thread:"
    )
    assert "L2_DEMO" in said[0]
    assert "── #treasury · withdrawal #1 ─" in out, "the threads so far are still shown"
    assert "All 13 steps happened" not in out


def test_a_refusal_nobody_sees_stops_the_demo_after_its_deadline(tmp_path: Path) -> None:
    code, _, err = _broken_demo(
        tmp_path,
        step=3,
        action=(
            'stage.slack.fail_next("response_url", status=503, count=50); '
            'stage.slack.fail_next("chat.postEphemeral", status=503, count=50)'
        ),
        patience=0.3,
    )
    assert code == 1
    said = [line for line in err.splitlines() if line.startswith("demo:")]
    assert said == [
        "demo: step 3 (alice tries to approve her own request #1 and is refused) did not happen "
        "within 3s: alice was shown: nothing"
    ], err


V2_SUMMARY = [
    r"#1  flow  250 USDC +0x5290…9EE7 Edge +bob, carol  completed\n +edgeX: ASSET_FLOW_SUCCESS",
    r"#2  flow  1,000 USDC +0x5290…9EE7 Edge +bob, carol  failed\n +edgeX: ASSET_FLOW_FAILED",
    r"#3  flow  1,200 USDC +0x5aAe…eAed Edge +none +rejected\n +rejected by bob: Unknown wallet",
]


def test_the_demo_plays_the_same_morning_on_edgex_v2(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own command
        _demo_command("--api", "v2"),
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    flat = " ".join(out.split())
    assert "verifyingContract is `0x000000000000000000000000000000000000eD9E`" in flat
    assert "EIP-712 signer recovered" in flat
    assert "failCode PAYOUT_REVERTED" in flat
    assert "All 13 steps happened" in flat
    for row in V2_SUMMARY:
        assert re.search(row, out), f"no summary row like {row!r}:\n{out}"
    assert "xoxb-" not in out
    assert max(len(line) for line in out.splitlines()[2:]) <= 100
