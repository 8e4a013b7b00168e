"""Paper mode: an embedded simulator whose book and key survive restarts, and PAPER everywhere."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper


@pytest.mark.parametrize(
    ("url", "state", "key"),
    [
        (
            "sqlite:////var/lib/wb/bot.db",
            "/var/lib/wb/bot.db.paper-edgex.json",
            "/var/lib/wb/bot.db.paper-l2.key",
        ),
        (
            "sqlite:///withdrawbot.db",
            "withdrawbot.db.paper-edgex.json",
            "withdrawbot.db.paper-l2.key",
        ),
        ("postgresql+psycopg://u@db/x", "withdrawbot.paper-edgex.json", "withdrawbot.paper-l2.key"),
        ("sqlite://", "withdrawbot.paper-edgex.json", "withdrawbot.paper-l2.key"),
    ],
)
def test_paper_files_sit_beside_the_database(url: str, state: str, key: str) -> None:
    assert PaperFiles.beside(url) == PaperFiles(Path(state), Path(key))


def test_paper_account_is_funded_and_its_key_is_private(tmp_path: Path) -> None:
    files = PaperFiles.beside(f"sqlite:///{tmp_path}/bot.db")
    with PaperExchange(files) as paper:
        client = EdgeXClient(paper.base_url, key=paper.key, account_id=paper.account_id)
        account = client.get_account()
        assert account.id == PAPER_ACCOUNT_ID
        assert signing.l2_keys_equal(account.l2_key, paper.key.l2_key)
        client.close()
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_a_restart_keeps_the_key_and_the_book(tmp_path: Path) -> None:
    files = PaperFiles.beside(f"sqlite:///{tmp_path}/bot.db")
    with PaperExchange(files) as first:
        client = EdgeXClient(first.base_url, key=first.key, account_id=first.account_id)
        coin = client.get_metadata().coin_list[0].to_coin_meta()
        body = signing.build_normal_withdraw_body(
            first.key,
            account_id=first.account_id,
            coin=coin,
            amount="10",
            eth_address="0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
            client_withdraw_id="paper-1",
            expire_time_ms=signing.hour_aligned_expire_time(client.server_time_ms()),
        )
        withdraw_id = client.create_normal_withdraw(body)
        client.close()
    with PaperExchange(files) as second:
        assert second.key.public_x == first.key.public_x
        client = EdgeXClient(second.base_url, key=second.key, account_id=second.account_id)
        (record,) = client.get_normal_withdraw_by_id([withdraw_id])
        assert record.client_withdraw_id == "paper-1"
        client.close()


def test_paper_processes_mark_every_log_line() -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("withdrawbot.paper-test")
    logger.propagate = False
    logger.addHandler(handler)
    mark_logs_as_paper(logger)
    mark_logs_as_paper(logger)  # idempotent: one marker, not two
    logger.warning("submit request=%s", 7)
    assert lines == ["[PAPER] submit request=7"]
