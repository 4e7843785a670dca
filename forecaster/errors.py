"""The one error type a user sees: a clear line saying what is wrong and what to do."""


class ForecasterError(ValueError):
    """A user error (bad input, bad option, bad run directory); the CLI prints it and exits 2."""
