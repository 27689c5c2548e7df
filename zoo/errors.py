"""Errors a user can cause and fix, and the command line's one way of reporting them."""

import functools
import sys


class ZooError(ValueError):
    """A bad value, file or combination: the command line prints it as one line and exits 2."""


UserError = ZooError  # the name most of the zoo raises


def command(main):
    """Wraps a command-line entry point `main(argv) -> exit code`: a ZooError raised anywhere below
    becomes one line on stderr (`error: ...`) and exit code 2. Programming errors keep their
    tracebacks."""

    @functools.wraps(main)
    def guarded(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except ZooError as error:
            print(f"error: {str(error).splitlines()[0] if str(error) else type(error).__name__}", file=sys.stderr)
            return 2

    return guarded
