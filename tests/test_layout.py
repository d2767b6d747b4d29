"""The tests' own layout (tests/README.md): no test module imports another one, and every test
of the service sits in the directory of what it tests."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# The directories of tests/service/ that are no package of service/: the top-level modules'
# tests, grouped as CONVENTIONS.md's target layout groups the modules (tests/README.md).
GROUPS = {"runtime", "app"}


def _is_test_module(name: str) -> bool:
    """Whether the dotted module name is a test module or a conftest (what pytest collects or
    loads on its own), as opposed to a helper module."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> set[str]:
    """Every module the file imports (a relative import resolved against its package)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            # `from <a package> import test_x` imports the module test_x.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_test_module_imports_another() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in sorted(_imported(path))
        if module.split(".")[0] == "tests" and _is_test_module(module)
    ]
    assert offenders == [], "move the shared helpers to tests/factories.py or tests/helpers/"


def test_the_import_check_sees_what_it_should() -> None:
    source = TESTS / "service" / "tickets" / "test_tickets.py"
    assert "tests.factories" in _imported(source)
    assert _is_test_module("tests.service.tickets.test_tickets")
    assert _is_test_module("tests.web.conftest")
    assert not _is_test_module("tests.helpers.sandbox")


def test_each_service_test_sits_in_the_directory_of_what_it_tests() -> None:
    packages = {p.parent.name for p in (ROOT / "service").glob("*/__init__.py")}
    service_tests = TESTS / "service"
    misplaced = []
    for path in sorted(service_tests.rglob("test_*.py")):
        where = path.relative_to(service_tests).parts
        if len(where) == 1:
            misplaced.append(f"{path.name} is in no directory")
        elif len(where) != 2 or where[0] not in packages | GROUPS:
            misplaced.append(f"{'/'.join(where)}: no service/{where[0]}/ nor a group")
    assert misplaced == []


def test_every_test_directory_is_a_package() -> None:
    """Two test files of one name in two directories need their directories to be packages
    (pytest imports them by their dotted names, rooted at tests/)."""
    directories = {p.parent for p in TESTS.rglob("*.py")} - {TESTS}
    missing = [
        str(d.relative_to(ROOT))
        for d in sorted(directories)
        if not (d / "__init__.py").exists() and "__pycache__" not in d.parts
    ]
    assert missing == []
