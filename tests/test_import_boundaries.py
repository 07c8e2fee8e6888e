"""Who may import whom: the stack config never loads the policy pack, `helpers/` and `policies/` import
nothing of `stackconfig`, and the config modules import each other without a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_validating_config_loads_neither_the_pack_nor_pulumi_policy():
    script = (
        "import sys; import stackconfig; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('pulumi_policy', 'policies.webstack_guard', "
        "'webstack_guard'))); print(loaded)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute imports; `from x import y` counts as x)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_helpers_and_the_pack_import_nothing_of_stackconfig():
    files = sorted((ROOT / "helpers").glob("*.py")) + sorted((ROOT / "policies").rglob("*.py"))
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "stackconfig")
        for path in files
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_config_modules_import_each_other_without_a_circle():
    modules = {path.stem: path for path in (ROOT / "stackconfig").glob("*.py") if path.stem != "__init__"}
    imports = {name: {m.split(".")[1] for m in imported_modules(path) if m.startswith("stackconfig.")}
               for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, f"import circle: {' -> '.join(trail + (name,))}"
        if name not in done:
            for imported in sorted(imports.get(name, ())):
                visit(imported, trail + (name,))
            done.add(name)

    for name in sorted(modules):
        visit(name, ())


def test_the_pack_imports_nothing_of_the_project_root():
    """`pulumi policy publish` uploads policies/ alone (tests/policies/test_standalone_pack.py runs that copy)."""
    project = {path.name for path in ROOT.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    project |= {path.stem for path in ROOT.glob("*.py")} | {"policies"}
    offenders = {str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] in project)
                 for path in sorted((ROOT / "policies").rglob("*.py"))}
    assert {path: modules for path, modules in offenders.items() if modules} == {}
