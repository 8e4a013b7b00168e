"""Log lines are ``event key=value`` and never carry the key, an auth signature or l2Signature."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bot.edgex import client as edgex
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXError
from tests.edgex.scripted_server import Reply, ScriptedServer, api_error, ok
from tests.edgex.vectors import vector_key, vectors

ETH = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
BODY: dict[str, Any] = vectors()["normal_withdraw"][0]["request_body"]
_LINE = re.compile(r'edgex\.[a-z_]+( [a-z_]+=("[^"]*"|\S+))*')


def _exercise(client: EdgeXClient, server: ScriptedServer) -> None:
    """Every path that logs: sync, retried GET, ids, POST success and each kind of failure."""
    server.script(edgex.NORMAL_BY_ID_PATH, Reply(status=503, body=b"busy"), ok([]))
    client.get_normal_withdraw_by_id(["1", "2"])
    server.script(edgex.CREATE_NORMAL_PATH, ok({"withdrawId": "7"}))
    client.create_normal_withdraw(BODY)
    failures = [
        api_error("INVALID_SIGNATURE", "bad", error_param={"l2Signature": BODY["l2Signature"]}),
        Reply(drop=True),
        Reply(json={"code": "SUCCESS", "data": {"withdrawId": "1"}}, delay=0.4),
        Reply(body=BODY["l2Signature"].encode()),
    ]
    for reply in failures:
        server.script(edgex.CREATE_NORMAL_PATH, reply)
        with pytest.raises(EdgeXError):
            client.create_normal_withdraw(BODY)


def test_no_secret_reaches_any_log_record(
    client: EdgeXClient, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    _exercise(client, server)
    signatures = {r.headers["x-edgex-api-signature"] for r in server.requests if r.private}
    assert len(signatures) >= 6
    secrets = {
        vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"].lower().removeprefix("0x"),
        f"{vector_key()._private:x}",
        BODY["l2Signature"],
        BODY["l2Signature"][:64],
        BODY["l2Signature"][64:],
    }
    for signature in signatures:
        secrets |= {signature, signature[:64], signature[64:128]}
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage().lower() + repr(record.args).lower()
        if record.exc_text:
            text += record.exc_text.lower()
        leaked = [s for s in secrets if s.lower() in text]
        assert leaked == [], f"{record.name}: {record.getMessage()[:120]}"


def test_client_log_lines_are_event_key_value(
    client: EdgeXClient, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.edgex")
    _exercise(client, server)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.edgex")]
    assert {line.split(" ")[0] for line in lines} >= {
        "edgex.time_sync",
        "edgex.response",
        "edgex.retry",
        "edgex.submit",
        "edgex.submit_failed",
        "edgex.transport_error",
    }
    for line in lines:
        assert _LINE.fullmatch(line), line
    failed = [line for line in lines if line.startswith("edgex.submit_failed")]
    assert any("outcome_unknown=True" in line for line in failed)
    assert any("outcome_unknown=False" in line for line in failed)
    assert all("client_id=745410645654877" in line for line in failed)
