"""The error types a user's mistakes raise; the CLI prints their message as one sentence, exit 2."""


class UserError(ValueError):
    """A mistake in what the user asked for (an option, a path); the message says what to do."""


class SpecError(UserError):
    """A problem spec is broken; the message names the file, the line and the fix."""


class RunError(UserError):
    """A run directory cannot be used as asked (in use, finished, damaged); the message says what to do."""
