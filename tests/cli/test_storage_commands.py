"""`withdrawbot migrate`, `audit verify` / `audit export`, `freeze` / `unfreeze` on both engines."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage import audit
from storage.engine import open_database
from storage.freeze import freeze_state
from storage.migrations import head_revision
from tests.approvals.helpers import T1
from tests.storage.databases import allow_tampering
from tests.storage.world import approve, store

NOT_MIGRATED = "is not migrated (run: withdrawbot migrate)"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env of the developer's, and no stray settings, leak into the commands."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "WITHDRAWBOT_POLL_INTERVAL", "WITHDRAWBOT_POLL_BATCH"):
        monkeypatch.delenv(name, raising=False)


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "command",
    [
        ("audit", "verify"),
        ("audit", "export"),
        ("freeze", "--by", "alice"),
        ("unfreeze", "--by", "alice"),
    ],
)
def test_unmigrated_database_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unmigrated_url: str,
    command: tuple[str, ...],
) -> None:
    code, out, err = run(capsys, monkeypatch, unmigrated_url, *command)
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].endswith(NOT_MIGRATED)
    assert lines[0].startswith(f"withdrawbot {command[0]}: the database at ")


def test_migrate_freeze_unfreeze_verify(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, unmigrated_url: str
) -> None:
    url = unmigrated_url.replace("postgresql://", "postgres://", 1)  # Heroku's spelling works too
    code, out, err = run(capsys, monkeypatch, url, "migrate")
    assert (code, err) == (0, "")
    assert out.startswith("the database at ")
    assert out.strip().endswith(f"is migrated (revision {head_revision()})")
    assert run(capsys, monkeypatch, url, "migrate")[0] == 0

    code, out, _ = run(capsys, monkeypatch, url, "freeze", "--by", "alice", "--reason", "incident")
    assert code == 0
    assert out == "withdrawals are frozen by alice: incident; nothing will be submitted\n"
    code, out, _ = run(capsys, monkeypatch, url, "freeze", "--by", "bob")
    assert code == 0
    assert out.startswith("withdrawals were already frozen by alice since ")
    database = open_database(unmigrated_url)
    try:
        assert freeze_state(database).frozen
        code, out, _ = run(capsys, monkeypatch, url, "unfreeze", "--by", "carol")
        assert (code, out) == (0, "withdrawals are unfrozen by carol\n")
        assert not freeze_state(database).frozen
        verdict = audit.verify(database)
    finally:
        database.dispose()
    code, out, err = run(capsys, monkeypatch, url, "audit", "verify")
    assert (code, err) == (0, "")
    assert out == f"audit log intact: 2 rows, head hash {verdict.head_hash}\n"


def test_verify_names_an_edited_row(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    database = open_database(database_url)
    try:
        request = store(database)
        approve(database, request.id, T1)
        allow_tampering(database)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("UPDATE audit_log SET actor = 'UT2' WHERE seq = 2")
            connection.commit()
    finally:
        database.dispose()
    code, out, err = run(capsys, monkeypatch, database_url, "audit", "verify")
    assert (code, out) == (1, "")
    assert err == (
        "withdrawbot audit verify: audit row 2 was edited: its content does not match its hash\n"
    )


def test_export_to_stdout_and_to_a_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,
) -> None:
    database = open_database(database_url)
    try:
        request = store(database)
        approve(database, request.id, T1)
    finally:
        database.dispose()
    code, exported, err = run(capsys, monkeypatch, database_url, "audit", "export")
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["seq"], r["action"], r["actor"]) for r in rows] == [
        ("1", "draft_stored", "UREQ1"),
        ("2", "approve", T1),
    ]
    target = tmp_path / "audit.csv"
    code, out, _ = run(capsys, monkeypatch, database_url, "audit", "export", "--out", str(target))
    assert (code, out) == (0, f"wrote 2 audit rows to {target}\n")
    assert target.read_text(encoding="utf-8") == exported
    missing = tmp_path / "no" / "such" / "dir.csv"
    code, _, err = run(capsys, monkeypatch, database_url, "audit", "export", "--out", str(missing))
    assert code == 1
    assert err == f"withdrawbot audit export: {missing}: No such file or directory\n"


def test_unreachable_database_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        capsys, monkeypatch, "postgresql://nobody@127.0.0.1:9/none", "audit", "verify"
    )
    assert (code, out) == (1, "")
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("withdrawbot audit: the database cannot be used: ")


def test_the_real_command_prints_only_its_line(tmp_path: Path) -> None:
    """As a separate process (logging configured): no Alembic chatter around the one line."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"withdrawbot audit: the database at {tmp_path / 'x.db'} {NOT_MIGRATED}\n"
    )
