"""The one error type a user sees: a clear line saying what is wrong and what to do."""

import re

MAX_QUOTED = 80  # characters of a quoted name (an id, a column, a value) an error line shows
# a quoted name: its opening quote follows no letter (so the apostrophe of "series'" opens nothing), and its
# closing quote is followed by none
_QUOTED = re.compile(
    rf"(?<![\w'\"])'[^'\n]{{{MAX_QUOTED - 1},}}'(?!\w)|(?<![\w'\"])\"[^\"\n]{{{MAX_QUOTED - 1},}}\"(?!\w)"
)


def _brief(match: re.Match[str]) -> str:
    text = match.group(0)
    return f"{text[: MAX_QUOTED - 4]}...{text[-1]}"


DISTRIBUTION = "forecaster-lstm"  # the name on the package index; the command and the import stay `forecaster`


def install_line(extra: str) -> str:
    """How to install an optional part (`dask`, `onnx`, ...) of this project, from the index or a checkout."""
    return f"pip install '{DISTRIBUTION}[{extra}]' (in a checkout: pip install -e '.[{extra}]')"


class ForecasterError(ValueError):
    """A user error (bad input, bad option, bad run directory); the CLI prints it and exits 2. A quoted
    name longer than MAX_QUOTED characters (a 5,000-character id) is shortened, so the line stays a line."""

    def __init__(self, message: object = "") -> None:
        super().__init__(_QUOTED.sub(_brief, one_line(str(message))))


def one_line(text: str) -> str:
    """`text` with its line breaks and other control characters written as escapes (a path holding a newline
    is `a\\nb.csv`), so an error stays one line."""
    return "".join(char if char.isprintable() or char == " " else repr(char)[1:-1] for char in text)


class DataError(ForecasterError):
    """The data cannot be used as given: a file, column, row or series is named, and what to do."""


class SettingsError(ForecasterError):
    """An option, a config-file value or a combination of them is refused, before any work."""


class DamagedRunError(ForecasterError):
    """A run directory is damaged, tampered with or incomplete: retrain it."""


class OutputError(ForecasterError):
    """An output cannot go where asked (a folder forecaster did not make, the input itself, a full disk);
    nothing was changed there."""


class TrainingError(ForecasterError):
    """Training or a search could not finish on these data and settings (a loss that diverged, trials that
    all failed)."""
