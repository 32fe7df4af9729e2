"""One convention per concern, checked on the source tree (AST walks, no imports of the services).

- imports are absolute (as a reader finds the module);
- a service's core imports neither its schemas nor FastAPI/Starlette (schemas may import core types);
- a service's routers are listed once, as `routers` in `services/<name>/api/__init__.py`, and main.py
  mounts exactly that list.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT

SERVICES = sorted(p.parent.name for p in (PROJECT_ROOT / "services").glob("*/main.py"))


def _modules(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (PROJECT_ROOT / root).rglob("*.py"))


def _imported(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import in `path`; level > 0 is a relative import."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
        elif isinstance(node, ast.Import):
            found.extend((0, alias.name) for alias in node.names)
    return found


def _name(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def test_conventions_imports_are_absolute_everywhere() -> None:
    relative = [
        _name(p) for p in _modules("services", "shared", "tests") if any(lvl for lvl, _ in _imported(p))
    ]
    assert relative == []


@pytest.mark.parametrize("service", SERVICES)
def test_conventions_core_imports_no_schemas_and_no_fastapi(service: str) -> None:
    offending = []
    for path in _modules(f"services/{service}/core"):
        for _, module in _imported(path):
            schemas = module == f"services.{service}.schemas"
            web = module.split(".")[0] in ("fastapi", "starlette")
            if schemas or web:
                offending.append(f"{_name(path)} imports {module}")
    assert offending == []


@pytest.mark.parametrize("service", SERVICES)
def test_conventions_main_mounts_the_api_packages_routers_list(service: str) -> None:
    hub = ast.parse((PROJECT_ROOT / f"services/{service}/api/__init__.py").read_text())
    assert any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "routers" for t in node.targets)
        for node in hub.body
    ), f"services/{service}/api/__init__.py defines no `routers` list"

    main = ast.parse((PROJECT_ROOT / f"services/{service}/main.py").read_text())
    imports_hub = any(
        isinstance(node, ast.ImportFrom)
        and node.module == f"services.{service}.api"
        and any(alias.name == "routers" for alias in node.names)
        for node in main.body
    )
    mounted = [
        keyword.value
        for node in ast.walk(main)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "routers"
    ]
    assert imports_hub, f"services/{service}/main.py does not import `routers` from its api package"
    assert [ast.unparse(value) for value in mounted] == ["routers"]
