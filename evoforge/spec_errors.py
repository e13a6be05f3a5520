"""The one error type a user's problem spec can raise."""


class SpecError(ValueError):
    """A problem spec is broken; the message names the file, the line and the fix."""
