"""The domain (model, loading, time arithmetic) and the CLI verbs import nothing from textual."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOMAIN = REPO / "src" / "tripdash" / "domain"

PROBE = (
    "import tripdash.domain.loader, tripdash.domain.schedule, tripdash.domain.agenda, "
    "tripdash.domain.times, tripdash.domain.model, tripdash.cli; import sys; "
    "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)"
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


_TEXTUAL_LINE = re.compile(r"^\s*(import\s+textual\b|from\s+textual\b)", re.MULTILINE)


def textual_imports(source: str) -> list[str]:
    """Every import of textual in ``source``: statements anywhere (also inside functions)
    and ``importlib.import_module("textual...")``/``__import__`` calls with a literal name."""
    found = [m.group(0).strip() for m in _TEXTUAL_LINE.finditer(source)]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "textual"]
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] == "textual" and node.level == 0:
                found.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.split(".")[0] == "textual"
            ):
                found.append(first.value)
    return found


def test_domain_sources_do_not_import_textual() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    names = {f.name for f in files}
    assert {"model.py", "loader.py", "tomlpos.py", "times.py", "schedule.py", "agenda.py"} <= names
    offenders = {f.name: textual_imports(f.read_text(encoding="utf-8")) for f in files}
    assert {name: hits for name, hits in offenders.items() if hits} == {}


def test_the_scanner_finds_textual_imports() -> None:
    assert textual_imports("import textual\n")
    assert textual_imports("from textual.app import App\n")
    assert textual_imports("def f():\n    import textual.widgets as w\n")
    assert textual_imports("import importlib\nimportlib.import_module('textual.app')\n")
    assert not textual_imports("import textwrap\nfrom tripdash.domain import times\n")
    assert not textual_imports('"""Nothing in here imports textual."""\n')
