"""Domain errors. The CLI turns each into one or two plain lines and an exit code."""

from __future__ import annotations

EXIT_MODEL_ERROR = 1  # a model or file that is wrong
EXIT_USAGE = 2  # unknown model name, bad option value
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class LlmcalcError(Exception):
    exit_code = EXIT_MODEL_ERROR


class SpecError(LlmcalcError):
    """A model description that is wrong: names where it came from and which key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class InvalidPart(ValueError):
    """A part of a ModelSpec whose own invariants do not hold; `build_spec` names the source."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


class ModelFileError(LlmcalcError):
    """A file that cannot be read or parsed: names the file, and the line where there is one."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


class UsageError(LlmcalcError):
    exit_code = EXIT_USAGE


class UnknownModelError(UsageError):
    def __init__(self, name: str, suggestions: list[str], detail: str = "") -> None:
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        more = detail or ("Run `llmcalc presets` for the list, or give a preset YAML, a config.json "
                          "or a model folder.")
        super().__init__(f"unknown model {name!r}{hint}\n{more}")
