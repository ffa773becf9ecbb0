"""The core is fenced off from the UI, as harlequin fences its core with import contracts.

The domain (model, loading, times, store, sync...) and the session (``session.py``,
``marks.py``, ``live.py``) import nothing from textual or rich, nor any of tripdash's
UI modules (app, screens, widgets, messages, commands); the CLI verbs load no textual.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOMAIN = REPO / "src" / "tripdash" / "domain"

CORE = [
    *sorted(DOMAIN.glob("*.py")),
    *(REPO / "src" / "tripdash" / n for n in ("session.py", "marks.py", "live.py", "reminding.py")),
]
#: Packages and modules the core may never import.
FORBIDDEN = (
    "textual",
    "rich",
    "tripdash.app",
    "tripdash.screens",
    "tripdash.widgets",
    "tripdash.messages",
    "tripdash.commands",
)

PROBE = (
    "import tripdash.domain.loader, tripdash.domain.schedule, tripdash.domain.agenda, "
    "tripdash.domain.times, tripdash.domain.model, tripdash.session, tripdash.cli; import sys; "
    "assert not any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules), "
    "sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))[:5]"
)


def test_importing_the_domain_and_cli_loads_no_textual(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_the_probe_can_fail(tmp_path: Path) -> None:
    # The same check notices textual once it is imported: the test above is not vacuous.
    proc = subprocess.run(
        [sys.executable, "-c", "import textual; " + PROBE],
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "AssertionError" in proc.stderr


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def forbidden_imports(source: str) -> list[str]:
    """Every import of a forbidden module in ``source``: statements anywhere (also inside
    functions and ``if TYPE_CHECKING:``) and ``importlib.import_module(...)``/``__import__``
    calls with a literal name."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                found += [n for n in names[:1] if _forbidden(n)] or [
                    n for n in names[1:] if _forbidden(n)
                ]
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _forbidden(first.value)
            ):
                found.append(first.value)
    return found


def test_the_core_imports_no_ui() -> None:
    names = {f.name for f in CORE}
    assert {"model.py", "loader.py", "times.py", "schedule.py", "store.py", "session.py"} <= names
    offenders = {f.name: forbidden_imports(f.read_text(encoding="utf-8")) for f in CORE}
    assert {name: hits for name, hits in offenders.items() if hits} == {}


def test_the_scanner_finds_forbidden_imports() -> None:
    assert forbidden_imports("import textual\n")
    assert forbidden_imports("from textual.app import App\n")
    assert forbidden_imports("def f():\n    import textual.widgets as w\n")
    assert forbidden_imports("import importlib\nimportlib.import_module('textual.app')\n")
    assert forbidden_imports("from rich.text import Text\n")
    assert forbidden_imports("from tripdash import messages\n")
    assert forbidden_imports("from tripdash.screens.dashboard import DashboardScreen\n")
    assert forbidden_imports("if TYPE_CHECKING:\n    from tripdash.app import TripDashApp\n")
    assert not forbidden_imports("import textwrap\nimport richard\n")
    assert not forbidden_imports("from tripdash.domain import times\nimport tripdash.session\n")
    assert not forbidden_imports('"""Nothing in here imports textual."""\n')


def domain_imports() -> dict[str, set[str]]:
    """Which domain modules each domain module imports, anywhere in it (functions too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(DOMAIN.glob("*.py")):
        name = path.stem
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "tripdash.domain":
                    found.update(a.name for a in node.names)
                elif node.module.startswith("tripdash.domain."):
                    found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found.update(
                    a.name.split(".")[2]
                    for a in node.names
                    if a.name.startswith("tripdash.domain.")
                )
        graph[name] = found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the modules along it."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    found.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_the_domain_has_no_import_cycles_not_even_through_function_level_imports() -> None:
    assert cycles(domain_imports()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
