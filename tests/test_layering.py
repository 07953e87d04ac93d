"""The apps' layering, checked over every import (at the top of a module or inside a function)
and every model or module named by a string (`apps.get_model("routes", ...)`, `import_module`):
routes may use gateways, tenants and console; gateways may use tenants and console; tenants may
use console; console (the shell and the shared helpers) uses no app. What a lower app needs of a
higher one comes through a registration the higher one makes when it loads (gateways/bound_routes.py,
console/context_processors.py, console/reconcile.py's `register`)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAY_USE = {
    "console": set(),
    "tenants": {"console"},
    "gateways": {"tenants", "console"},
    "routes": {"gateways", "tenants", "console"},
}


def used_apps(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, app) of every app a module names: its imports, and the string arguments of
    get_model and import_module calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "get_model",
            "import_module",
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value.split(".")[0]))
    return [(line, app) for line, app in found if app in MAY_USE]


def crossings(app: str) -> list[str]:
    wrong = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for line, used in used_apps(ast.parse(path.read_text(), str(path))):
            if used != app and used not in MAY_USE[app]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} uses {used}")
    return wrong


@pytest.mark.parametrize("app", MAY_USE)
def test_each_app_uses_only_the_apps_below_it(app):
    assert crossings(app) == []


def test_the_check_sees_imports_inside_functions_and_models_named_by_strings():
    source = """
def f():
    from routes.models import Route
    import gateways.render
    apps.get_model("routes", "HostClaim")
    importlib.import_module("tenants.demo")
"""
    assert [app for _, app in used_apps(ast.parse(source))] == ["routes", "gateways", "routes", "tenants"]
