"""The console script's launcher ends the process without the interpreter's teardown: what anyone
can observe of an exit must be what the interpreter's own exit gives — the status, the atexit
handlers, every byte of output, threads still running, a reader that went away. Each case runs
`llmcalc.launch.main` in a fresh interpreter, as the console script does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TIME_LIMIT = 20  # seconds: far above any answer, far below a hang


def launch(args: list[str], before: str = "", **options: object) -> subprocess.CompletedProcess[str]:
    """`llmcalc ARGS` through the launcher, after running `before` in the same process."""
    script = f"import sys\n{before}\nsys.argv = ['llmcalc', *{args!r}]\nfrom llmcalc.launch import main\nmain()\n"
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([sys.executable, "-c", script], text=True, timeout=TIME_LIMIT,
                          **streams)  # type: ignore[call-overload]


@pytest.mark.parametrize(("args", "status"), [
    (["params", "gpt2", "--json"], 0),
    (["params", "no-such-folder/config.json"], 1),  # a file that cannot be read
    (["params", "no-such-model"], 2),  # a name that is no model: usage
    (["params", "gpt2", "--no-such-flag"], 2),  # usage
    ([], 2),  # no command: the help, and the usage code
])
def test_the_exit_status_is_the_commands(args: list[str], status: int) -> None:
    assert launch(args).returncode == status


def test_atexit_handlers_run_once_after_the_output() -> None:
    before = "import atexit\natexit.register(lambda: print('atexit handler', file=sys.stderr))"
    result = launch(["params", "gpt2", "--json"], before)
    assert result.returncode == 0
    assert result.stderr.count("atexit handler") == 1
    assert json.loads(result.stdout)["total_params"] == 124_439_808  # GPT2LMHeadModel, transformers


@pytest.mark.parametrize("args", [
    ["params", "gpt2", "--json"],  # less than the buffer: written only at exit
    ["quant", "llama3.1-8b", "--format", "q4_k_m", "--json"],  # several buffers' worth
])
def test_every_byte_reaches_a_file(tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "out.json"
    with target.open("w") as stream:
        result = launch(args, stdout=stream)
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    assert text.endswith("}\n")
    assert json.loads(text)["model"] == args[1]


FAILING_FLUSH = """
class FailingFlush:
    def __init__(self, stream): self.stream = stream
    def write(self, text): return self.stream.write(text)
    def flush(self): raise OSError(5, 'flush failed')
    def __getattr__(self, name): return getattr(self.stream, name)
"""


def test_a_stream_that_fails_to_flush_at_exit_is_the_interpreters_to_report() -> None:
    """The status and the report are the interpreter's own exit's, found by letting a plain
    script exit with the same stream."""
    install = "sys.stdout = FailingFlush(sys.stdout)"
    plain = subprocess.run([sys.executable, "-c", f"import sys\n{FAILING_FLUSH}\n{install}\nprint('x')"],
                           capture_output=True, text=True, timeout=TIME_LIMIT)
    result = launch(["params", "gpt2", "--json"], f"{FAILING_FLUSH}\n{install}")
    assert plain.returncode == 120 and "OSError: [Errno 5] flush failed" in plain.stderr  # what Python does
    assert result.returncode == plain.returncode
    assert result.stderr.startswith("Exception ignored in: <__main__.FailingFlush object")  # not raised by us
    assert result.stderr.splitlines()[-1] == plain.stderr.splitlines()[-1]


@pytest.mark.parametrize(("args", "status"), [(["params", "gpt2", "--json"], 0), (["params", "--no-such-flag"], 2)])
def test_a_thread_still_running_is_waited_for(args: list[str], status: int) -> None:
    """The interpreter waits for a non-daemon thread before it exits; so does the launcher."""
    before = ("import threading, time\n"
              "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done', file=sys.stderr))).start()")
    result = launch(args, before)
    assert result.returncode == status
    assert "thread done" in result.stderr


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    """The reader closes the pipe before the output is written: the status and the silence
    of Click's handling of a broken pipe (1, nothing on stderr), as without the launcher."""
    script = ("import sys\nsys.argv = ['llmcalc', 'quant', 'llama3.1-8b', '--format', 'q4_k_m', '--json']\n"
              "from llmcalc.launch import main\nmain()\n")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    status = process.wait(timeout=TIME_LIMIT)
    assert (status, process.stderr.read()) == (1, b"")


@pytest.mark.parametrize("args", [["params", "gpt2", "--json"], ["explain", "gpt2"], ["quant", "llama3.1-8b"]])
def test_the_collector_never_runs_during_a_command(args: list[str]) -> None:
    """The collector is off from the launcher's start to the end (collections walked every object
    the command's imports made, for next to nothing to free); counted by its own callbacks."""
    script = ("import atexit, gc, sys\nfrom llmcalc.launch import main\nruns = []\n"
              "gc.callbacks.append(lambda phase, info: runs.append(phase))\n"
              "atexit.register(lambda: print('collections', runs.count('start'), file=sys.stderr))\n"
              f"sys.argv = ['llmcalc', *{args!r}]\nmain()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIME_LIMIT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("collections 0\n")
