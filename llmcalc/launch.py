"""The console script's entry: llmcalc's command line without the cyclic garbage collector, and
the interpreter's teardown skipped at exit.

The collector is off for the whole run. A run imports most of what it holds while it runs (each
command imports its own modules, Rich among them), and a collection then walks every object
those imports made: 2 to 4 ms of a table's run went to it (timed by `gc.callbacks`). What it
would have freed is next to nothing: 359 to 565 objects in cycles at the end of any command,
imports included, and no more for a `params` grid of 384 models than for one model (counted by
collecting at exit, with the collector off). Before exit everything is frozen (moved where the
collector does not look), so that if the interpreter does exit, its last collection has nothing
to walk.

At exit the interpreter would take every module apart and free every object one by one
(about 3 ms of a `--json` run and 6 of a table's, in interleaved runs with and without it), for a
process about to end. After the command, this does what the interpreter's exit does that anyone
can observe — runs the atexit handlers and flushes standard output and error — and ends the
process with the same exit status. Whenever it cannot be sure of the same outcome (a thread
still running, an exit "code" that is a message, a stream that fails to flush), it leaves the
exit to the interpreter.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    gc.disable()
    from llmcalc.cli import main as run

    try:
        run()
        code: str | int | None = None
    except SystemExit as request:
        code = request.code
    gc.freeze()
    if code is None or (type(code) is int and 0 <= code <= 255):
        _end_process(code or 0)
    sys.exit(code)


def _end_process(status: int) -> None:
    """End the process as the interpreter's exit would, without its teardown; returns (having
    changed nothing the interpreter's exit then does) when that cannot be promised."""
    import os

    threading = sys.modules.get("threading")
    if threading is not None and any(thread is not threading.main_thread() and not thread.daemon
                                     for thread in threading.enumerate()):
        return  # the interpreter waits for it
    import atexit

    atexit._run_exitfuncs()  # and forgets them, so they would not run twice
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:  # noqa: BLE001 - the interpreter's exit reports it and sets the status it sets
        return
    os._exit(status)
