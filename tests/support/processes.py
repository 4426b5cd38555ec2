"""Helpers for tests that run the CLI as a real process."""

from __future__ import annotations

import sys

_INTERRUPTIBLE = ("import runpy, signal, sys; "
                  "signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "sys.argv[0] = 'entra-backup'; "
                  "runpy.run_module('entra_backup.cli.main', run_name='__main__')")


def interruptible_cli(*args: str) -> list[str]:
    """The argv of ``entra-backup ARGS`` that acts on SIGINT in any case.

    A process started with SIGINT ignored (a background job, ``nohup``) passes that on,
    and Python then never raises KeyboardInterrupt: the CLI would ignore the test's
    Ctrl+C. Setting Python's own handler first makes it act as in a terminal. (Not a
    ``preexec_fn``: forking a process that runs threads, as the in-process emulators do,
    is unsafe.)
    """
    return [sys.executable, "-c", _INTERRUPTIBLE, *args]
