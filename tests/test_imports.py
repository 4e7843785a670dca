"""How the code depends on itself, as its imports say: every import of the project's own modules counted,
at a module's top, inside a function, or through `forecaster.lazy.lazy_module`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "forecaster"
STAGES = ["base", "io", "data", "models", "scoring", "training", "serving", "top"]
BASE = ("errors", "config", "settings", "lazy", "version", "kinds")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] in STAGES:
        return parts[1]
    return "base" if len(parts) > 1 and parts[1] in BASE else "top"


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(imported module, inside a function) for each import of the project's own modules in `path`; a
    `from package import name` counts as importing the module `package.name` where that is one."""
    tree = ast.parse(path.read_text())
    inside = {id(node) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) for node in ast.walk(fn)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("forecaster"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(name if name in MODULES else node.module, id(node) in inside) for name in names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, id(node) in inside) for alias in node.names if alias.name.startswith("forecaster")]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_module":
            found.append((node.args[0].value, id(node) in inside))
    return found


GRAPH = {module: {imported for imported, _ in imports_of(path)} - {module} for module, path in MODULES.items()}


def test_the_graph_was_read():
    assert len(MODULES) > 50 and sum(map(len, GRAPH.values())) > 200
    assert "forecaster.serving.predict" in GRAPH["forecaster.api"]  # through lazy_module
    assert all(imported in MODULES for edges in GRAPH.values() for imported in edges)


def test_the_code_imports_one_way_down_the_stages():
    """base -> io -> data -> models -> scoring -> training -> serving -> api/cli: no module imports from a later
    stage, wherever the import is."""
    upward = [
        f"{module} imports {imported}"
        for module, edges in GRAPH.items()
        for imported in edges
        if STAGES.index(stage(imported)) > STAGES.index(stage(module))
    ]
    assert not upward


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle():
    assert not circles(GRAPH)


@pytest.mark.parametrize(
    "graph",
    [{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, {"a": {"b"}, "b": {"a"}, "c": set()}],
)
def test_a_circle_is_found(graph):
    assert circles(graph) and all(len(circle) >= 2 for circle in circles(graph))


def test_imports_sit_at_the_top_of_their_module():
    """Fewer than 2 imports of the project's own modules inside functions per 1,000 lines: a module names what
    it depends on at its top (`forecaster.lazy.lazy_module` where loading must wait)."""
    lines = sum(len(path.read_text().splitlines()) for path in MODULES.values())
    inside = [(module, imported) for module, path in MODULES.items() for imported, fn in imports_of(path) if fn]
    assert 1000 * len(inside) / lines < 2, inside
