"""The error types a user's input can raise; the CLI turns each into one sentence and exit code 2."""


class SpecError(ValueError):
    """A problem spec is broken; the message names the file, the line and the fix."""


class RunError(ValueError):
    """A run directory cannot be used as asked (in use, finished, damaged); the message says what to do."""
