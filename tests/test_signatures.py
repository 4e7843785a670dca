"""The code's signatures: values that travel together travel as one (a request, a plan, a search), so no
internal function takes more than 8 parameters; the CLI's commands and the public API's methods, whose
parameters are the user's options, aside; and their annotations name what travels (`Any` is rare)."""

import ast
import io
import tokenize
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


def any_counts() -> dict[str, tuple[int, int]]:
    """Per module: (`Any` names in its tokens, its lines)."""
    counts = {}
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        names = tokenize.generate_tokens(io.StringIO(text).readline)
        found = sum(1 for token in names if token.type == tokenize.NAME and token.string == "Any")
        counts[str(path.relative_to(ROOT.parent))] = (found, len(text.splitlines()))
    return counts


def test_annotations_say_what_travels_and_any_is_rare():
    """`Any` under 10 per 1,000 lines: a tensor is a `Tensor`, a run's manifest `JSON`, a network a `Network`
    (`forecaster/kinds.py`); what is left are values of truly mixed kinds (a config field's default, a
    hyperparameter's choices)."""
    counts = any_counts()
    found, lines = sum(n for n, _ in counts.values()), sum(n for _, n in counts.values())
    assert found > 0 and lines > 10_000  # the walk read the package
    assert 1000 * found / lines < 10, sorted(counts.items(), key=lambda item: -item[1][0])[:5]
