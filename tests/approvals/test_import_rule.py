"""The approvals room stays pure: nothing of ours, no I/O libraries, no clock reads.

DESIGN.md: ``approvals`` imports only the stdlib (plus eth-utils for EIP-55), never ``bot`` or
``storage``, and time is passed in. Checked on the source, so no refactor can quietly break it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "approvals"
MODULES = sorted(PACKAGE.rglob("*.py"))
# stdlib modules that would mean I/O, randomness or time inside the domain
FORBIDDEN_STDLIB = {
    "asyncio",
    "http",
    "random",
    "secrets",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "threading",
    "time",
    "urllib",
}
CLOCK_READS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _imported(tree: ast.AST) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_there_are_modules_to_check() -> None:
    assert {path.name for path in MODULES} >= {"policy.py", "lifecycle.py", "evaluation.py"}


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_imports_only_stdlib_eth_utils_and_itself(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for module, level in _imported(tree):
        top = module.split(".")[0]
        assert level == 0, f"{path.name}: relative import; use absolute imports"
        assert top not in {"bot", "storage"}, f"{path.name} imports {module}"
        assert top not in FORBIDDEN_STDLIB, f"{path.name} imports {module}"
        assert top in {"approvals", "eth_utils", "__future__"} or top in sys.stdlib_module_names, (
            f"{path.name} imports third-party {module}"
        )


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]
    assert not calls, f"{path.name} reads the clock: {calls}"


def test_the_check_would_see_an_offence() -> None:
    tree = ast.parse("import storage.tables\nfrom bot.edgex import signing\nfrom . import x\n")
    assert _imported(tree) == [("storage.tables", 0), ("bot.edgex", 0), ("", 1)]
