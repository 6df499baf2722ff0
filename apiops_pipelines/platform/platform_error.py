"""The error of a platform operation that cannot be done in the platform's current state."""


class PlatformError(RuntimeError):
    """The platform cannot do what was asked in its current state; the message says what to do."""
