"""The dependency rules of DESIGN.md, checked on the source so no refactor can quietly break them.

storage never imports bot; bot.edgex never imports storage or bot.slack (nor anything else of bot
outside bot.edgex). approvals has its own, stricter check in tests/approvals/test_import_rule.py
(stdlib and eth-utils only, no clock reads).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "approvals", "storage")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from bot import slack" imports bot.slack: record the module and each member.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use absolute imports")
    return names


def _ours(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in OURS}


# package directory -> the packages of ours its modules may import
RULES = {
    "storage": ("approvals", "storage"),
    "bot/edgex": ("bot.edgex",),
}


def _allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_only_what_design_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found under {package}"
    offences = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _ours(_imports(path))
        if not _allowed(name, RULES[package])
    }
    assert not offences, "\n".join(sorted(offences))


def test_the_check_sees_imports() -> None:
    names = _ours(_imports(ROOT / "bot" / "edgex" / "simulator" / "server.py"))
    assert "bot.edgex.signing" in names
    assert "bot.edgex.simulator.books.Exchange" in names
    assert not _allowed("bot.slack.app", RULES["bot/edgex"])
    assert not _allowed("storage.tables", RULES["bot/edgex"])
    assert not _allowed("bot.edgexfoo", RULES["bot/edgex"])
