"""The code's signatures: values that travel together travel as one (a request, a plan, a search), so no
internal function takes more than 8 parameters; the CLI's commands and the public API's methods, whose
parameters are the user's options, aside."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "forecaster"
FACES = ("forecaster/cli.py", "forecaster/api.py")  # a command's options, a public method's keywords
MOST = 8


def parameters(function: ast.FunctionDef) -> int:
    args = function.args
    names = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    count = len(names) + bool(args.vararg) + bool(args.kwarg)
    return count - (bool(names) and names[0].arg in ("self", "cls"))


def long_signatures() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        name = str(path.relative_to(ROOT.parent))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and parameters(node) > MOST:
                found.append((name, node.name, parameters(node)))
    return found


def test_the_long_signatures_are_the_users_options_only():
    found = long_signatures()
    assert found, "the CLI's evaluate takes more than 8 options: the walk must find it"
    internal = [(name, function, count) for name, function, count in found if name not in FACES]
    assert not internal
    public = [function for name, function, _ in found if name == "forecaster/api.py"]
    assert all(not function.startswith("_") for function in public)
