"""``withdrawbot run`` against what strangers and broken senders post: no 500, no traceback,
one short log line each, whatever the body.

The process is real (paper mode, HTTP, its log on a file), as are the requests: signed exactly as
Slack signs them where the case is "signed but malformed", forged where it is not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.standin import SlackStandIn, sign
from tests.cli.test_run_process import POLICY, SECRET, _env, _free_port, _wait_healthy

FORM = "application/x-www-form-urlencoded"


@dataclass
class Running:
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    team_id: str

    def post(
        self,
        body: bytes,
        *,
        signed: bool = True,
        content_type: str = FORM,
        timestamp: str | None = None,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        now = int(time.time())
        headers = {"Content-Type": content_type}
        if signed:
            headers["X-Slack-Request-Timestamp"] = timestamp or str(now)
            headers["X-Slack-Signature"] = sign(SECRET, now, body)
        elif timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        poster = client or httpx
        return poster.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp_path = tmp_path_factory.mktemp("hostile")
    shutil.copyfile(POLICY, tmp_path / "policy.toml")
    with SlackStandIn() as slack:
        slack.workspace.add_person("U01REQUEST", "req")
        slack.workspace.add_channel("C0TREASURY", "treasury", members=["U01REQUEST"])
        slack.workspace.add_group("treasury-ops", [])
        slack.workspace.add_group("finance-leads", ["U02DAVE000"])
        env = _env(tmp_path, slack)
        command = [sys.executable, "-m", "bot.cli"]
        subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        port = _free_port()
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own command line
                [*command, "run", "--port", str(port)], env=env, stderr=out, stdout=out
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)  # type: ignore[arg-type]
            yield Running(url, log, process, slack.workspace.team_id)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _action_payload(team_id: str, **changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "type": "block_actions",
        "team": {"id": team_id},
        "user": {"id": "U01REQUEST", "team_id": team_id},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "request.approve", "value": "x", "block_id": "b"}],
    }
    payload.update(changes)
    return payload


def _form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


MALFORMED_SIGNED = {
    "not_utf8": (b"\xff\xfe\xfa" * 100, FORM),
    "payload_not_json": (b"payload=%7Bnot+json", FORM),
    "payload_array": (_form([1, 2, 3]), FORM),
    "payload_string": (_form("hello"), FORM),
    "payload_null": (_form(None), FORM),
    "payload_deep": (urlencode({"payload": "[" * 5000 + "]" * 5000}).encode(), FORM),
    "payload_deep_object": (
        urlencode({"payload": '{"a":' * 5000 + "1" + "}" * 5000}).encode(),
        FORM,
    ),
    "json_array": (b"[1, 2]", "application/json"),
    "json_null": (b"null", "application/json"),
    "json_not_json": (b"{{{", "application/json"),
    "event_without_event": (b'{"type": "event_callback", "event_id": "Ev1"}', "application/json"),
    "no_type": (_form({"user": {"id": "U1"}}), FORM),
    "command_without_user": (b"command=%2Fwithdraw&text=help&trigger_id=1", FORM),
    "empty_form": (b"", FORM),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_SIGNED))
def test_signed_but_malformed_bodies_get_400_and_one_line(running: Running, case: str) -> None:
    body, content_type = MALFORMED_SIGNED[case]
    before = running.log.stat().st_size
    answer = running.post(body, content_type=content_type)
    assert answer.status_code == 400, (case, answer.text)
    time.sleep(0.05)
    added = running.log.read_bytes()[before:].decode("utf-8", "replace")
    assert "Traceback" not in added
    lines = [line for line in added.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "slack.bad_request status=400 reason=" in lines[0]


@pytest.mark.parametrize(
    "changes",
    [{"actions": []}, {"actions": "approve"}, {"actions": [1]}, {"user": "U01REQUEST"}],
    ids=["actions_empty", "actions_not_a_list", "action_not_an_object", "user_not_an_object"],
)
def test_signed_actions_of_the_wrong_shape_get_400(
    running: Running, changes: dict[str, object]
) -> None:
    answer = running.post(_form(_action_payload(running.team_id, **changes)))
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [("soon", "bad_timestamp"), ("12.5", "bad_timestamp"), ("1", "stale_timestamp")],
)
def test_badly_timed_requests_get_401(running: Running, timestamp: str, reason: str) -> None:
    body = b"command=%2Fwithdraw&text=help&user_id=U1&trigger_id=1"
    answer = running.post(body, signed=False, timestamp=timestamp)
    assert (answer.status_code, answer.text) == (401, reason)


def test_unsigned_requests_get_401_whatever_the_body(running: Running) -> None:
    for body, _ in MALFORMED_SIGNED.values():
        assert running.post(body, signed=False).status_code == 401


def test_too_large_bodies_are_refused_unread(running: Running) -> None:
    answer = running.post(b"x" * (1024 * 1024 + 1), signed=False)
    assert answer.status_code == 413


def test_a_thousand_forged_megabytes_grow_the_log_by_well_under_a_megabyte(
    running: Running,
) -> None:
    body = b"payload=" + b"A" * (1024 * 1024 - 8)
    before = running.log.stat().st_size
    with httpx.Client(timeout=30) as client:
        for _ in range(1000):
            forged = running.post(
                body, signed=False, timestamp=str(int(time.time())), client=client
            )
            assert forged.status_code == 401
    time.sleep(0.2)
    grown = running.log.stat().st_size - before
    assert grown < 200_000, f"the log grew by {grown} bytes"
    assert running.process.poll() is None


def test_slacks_own_rate_limit_notice_is_not_refused(running: Running) -> None:
    notice = {
        "token": "legacy",
        "type": "app_rate_limited",
        "team_id": running.team_id,
        "minute_rate_limited": 1518467820,
        "api_app_id": "A0WITHDRAWBOT",
    }
    before = running.log.stat().st_size
    answer = running.post(json.dumps(notice).encode(), content_type="application/json")
    # Past the front; Bolt answers 404 for a kind no listener handles, as for any other.
    assert answer.status_code == 404, answer.text
    time.sleep(0.05)
    assert "slack.bad_request" not in running.log.read_bytes()[before:].decode("utf-8", "replace")
