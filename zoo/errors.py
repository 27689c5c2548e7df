"""Errors a user can cause and fix, and the command line's one way of reporting them."""

import functools
import signal
import sys
import threading


class ZooError(ValueError):
    """A bad value, file or combination: the command line prints it as one line and exits 2."""


UserError = ZooError  # the name most of the zoo raises


class Terminated(BaseException):
    """SIGTERM, raised where the process is (like KeyboardInterrupt for Ctrl-C): runs end KILLED."""


def _terminate(signum, frame):
    raise Terminated("terminated (SIGTERM)")


def command(main):
    """Wraps a command-line entry point `main(argv) -> exit code`: a ZooError raised anywhere below
    becomes one line on stderr (`error: ...`) and exit code 2; Ctrl-C and SIGTERM one line (how to
    resume, where a run was stopped) and exit codes 130 and 143. Programming errors keep their
    tracebacks."""

    @functools.wraps(main)
    def guarded(*args, **kwargs):
        handles_signals = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if handles_signals else None
        try:
            return main(*args, **kwargs)
        except ZooError as error:
            print(f"error: {str(error).splitlines()[0] if str(error) else type(error).__name__}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as error:
            print(f"interrupted: {str(error) or 'Ctrl-C'}", file=sys.stderr)
            return 130
        except Terminated as error:
            print(f"terminated: {error}", file=sys.stderr)
            return 143
        finally:
            if handles_signals:  # an in-process caller (a test, a notebook) gets its own handler back
                signal.signal(signal.SIGTERM, previous)

    return guarded
