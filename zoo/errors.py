"""Errors a user can cause and fix."""


class UserError(ValueError):
    """A bad value, file or combination: the command line prints it as one line and exits 2."""
