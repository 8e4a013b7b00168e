"""The shape rules of the product packages, checked on the source so they stay true.

No class over 300 lines and no function over 100 (a module that grows past them is doing two
things), and one module per file name, so a name in a traceback or an import says which module
it is (``exchange.py`` three times over was how this began).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.test_import_rules import OURS, ROOT

MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 100


def _product_modules() -> list[Path]:
    return [
        path
        for package in OURS
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def _too_long(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
            if lines > limit:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_class_over_300_lines_and_no_function_over_100() -> None:
    modules = _product_modules()
    assert len(modules) > 50
    offences = [line for path in modules for line in _too_long(path)]
    assert not offences, "\n".join(offences)


def test_one_module_per_name() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in _product_modules():
        if path.name != "__init__.py":
            by_name[path.name].append(str(path.relative_to(ROOT)))
    shared = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not shared, shared


def test_the_shape_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(f"def long() -> None:\n{body}\n")
    assert _too_long(sample, tmp_path) == [f"sample.py:1 long ({MAX_FUNCTION_LINES + 1} lines)"]
