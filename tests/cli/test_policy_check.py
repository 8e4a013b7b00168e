"""`withdrawbot policy check`: the example passes; a broken file fails in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "policy.example.toml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "bot.cli", "policy", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_example_policy_passes_and_is_described() -> None:
    result = _run(str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Policy ")
    assert "treasury" in result.stdout
    assert result.stderr == ""


def test_broken_policy_fails_with_one_line_naming_the_field(tmp_path: Path) -> None:
    broken = tmp_path / "policy.toml"
    broken.write_text(
        EXAMPLE.read_text().replace(
            '{ group = "treasury", count = 1 }', '{ group = "treasury", count = 0 }'
        )
    )
    result = _run(str(broken))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "coins.USDT.tiers[0].require[0].count" in lines[0]
    assert result.stdout == ""


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nope.toml"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope.toml" in result.stderr
