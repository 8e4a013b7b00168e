"""The dependency rules of DESIGN.md, checked on the source so no refactor can quietly break them.

storage never imports bot; bot.edgex never imports storage or bot.slack (nor anything else of bot
outside bot.edgex); bot.worker never imports the runner (both are wired by bot.bootstrap), and no
module of ours imports, at module level, one that imports it back. approvals has its own,
stricter check in tests/approvals/test_import_rule.py (stdlib and eth-utils only, no clock reads).
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
# package directory -> modules of ours it must never import
FORBIDDEN = {
    "bot/worker": ("bot.runner",),
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


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_what_design_forbids(package: str) -> None:
    offences = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _ours(_imports(path))
        if _allowed(name, FORBIDDEN[package])
    }
    assert not offences, "\n".join(sorted(offences))


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of ours ``path`` imports when it is imported (not inside functions or
    ``if TYPE_CHECKING``), each name resolved to the longest module it names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        module = name
        while module and module not in modules:
            module = module.rpartition(".")[0]
        if module:
            found.add(module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph``, as the list of modules around it, or ``None``."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_level_import_cycle() -> None:
    files = [p for package in OURS for p in sorted((ROOT / package).rglob("*.py"))]
    modules = {_module_of(path) for path in files}
    graph = {
        _module_of(path): _top_level_imports(path, modules) - {_module_of(path)} for path in files
    }
    # A package's __init__ is imported with each of its modules: that edge is not a cycle.
    for module, imported in graph.items():
        graph[module] = {m for m in imported if not module.startswith(m + ".")}
    assert "bot.bootstrap" in graph["bot.runner"]  # the graph sees from-imports of members
    assert "bot.edgex.signing" in graph["bot.edgex.simulator.server"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
