"""The command line: the app, built with only the command a run names, and its entry point.

Each command resolves its model through `models`, its question through `scenario`, asks the
core, and hands the result to `render` (Rich) or `formats` (JSON, CSV, Markdown). Domain
errors become one or two plain lines here. The commands live in `llmcalc/commands/` (one module
each), what they share in `options`.

A run imports and defines the one command it names (`_typer`); `llmcalc --help`, a name that is
no command, and `llmcalc.cli.app` (the tests') have them all. No `from __future__ import
annotations` in the commands: Typer would evaluate each string annotation of the built command
twice, which costs more than evaluating them once at import.
"""

import functools
import sys
from collections.abc import Iterable
from importlib import import_module
from typing import Annotated

import typer

from llmcalc import __version__
from llmcalc.errors import EXIT_INTERRUPTED, EXIT_TERMINATED

# Each command's name → its module in llmcalc/commands/ and function, in the order `llmcalc --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "params": ("params", "params"),
    "kvcache": ("kvcache", "kvcache"),
    "compare": ("compare", "compare"),
    "explain": ("explain", "explain"),
    "quant": ("quant", "quant"),
    "fit": ("fit", "fit"),
    "train": ("train", "train"),
    "gpus": ("gpus", "list_gpus"),
    "import": ("import_config", "import_config"),
    "verify": ("verify", "verify"),
    "presets": ("presets", "presets"),
}


def _typer(commands: Iterable[str]) -> typer.Typer:
    """The app with these commands (COMMANDS' names), each imported only now: a command's
    signature builds its options (Typer's OptionInfo objects), and a run needs one command's."""
    built = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="Exact parameter counts and memory sizes of transformer language models.",
    )
    built.callback()(root)
    for name in commands:
        module, function = COMMANDS[name]
        built.command(name)(getattr(import_module(f"llmcalc.commands.{module}"), function))
    return built


@functools.cache
def __getattr__(name: str) -> typer.Typer:
    """`llmcalc.cli.app`: the whole app, every command (what the tests and `--help` use)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _typer(COMMANDS)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"llmcalc {__version__}\n")
        raise typer.Exit()


def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Exact parameter counts and memory sizes of transformer language models."""


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("llmcalc: interrupted\n")
    sys.exit(EXIT_INTERRUPTED)


def _terminated(signum: int, frame: object) -> None:
    # An exception, not the default instant death: a file being written is cleaned up.
    sys.exit(EXIT_TERMINATED)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command the arguments name: Typer builds every command's Click
    objects from its signature at each start, and one is all a run uses. The whole app answers
    the overall --help and a name that is no command."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    if name in COMMANDS:
        return _typer([name])
    return _typer([] if args == ["--version"] else COMMANDS)  # the version alone needs no command


def main() -> None:
    import signal

    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError as ClickUsageError
    from typer.exceptions import Abort

    from llmcalc.streams import guard_stdout

    # Click would turn Ctrl-C into "Aborted!" and exit 1; the documented code is 130.
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _terminated)
    problem = guard_stdout()
    if problem is not None:
        sys.stderr.write(f"llmcalc: {problem}\n")
        sys.exit(1)
    try:
        # Not standalone: Click's own error display is a box of several lines; ours is one or two.
        code = _app_for(sys.argv[1:])(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # no command given: the help, and the usage code as before
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        code = exc.exit_code
    except ClickUsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "llmcalc"
        sys.stderr.write(f"llmcalc: {exc.format_message()}\nRun `{command} --help` for the options.\n")
        code = exc.exit_code
    except ClickException as exc:
        sys.stderr.write(f"llmcalc: {exc.format_message()}\n")
        code = exc.exit_code
    except Abort:  # end of input where Click asked for some
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
