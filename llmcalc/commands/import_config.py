"""`llmcalc import`."""

import sys
from typing import Annotated, Optional

import typer

from llmcalc.options import AssumeOption, reports_errors, warn


@reports_errors
def import_config(
    config: Annotated[str, typer.Argument(help="A config.json, or a model folder holding one.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Preset name \\[default: from the config].")] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output",
                                                  help="Write to this file instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")] = False,
    assume: AssumeOption = None,
) -> None:
    """Turn a Hugging Face config.json into an equivalent preset YAML.

    Examples:

      llmcalc import ./Llama-3.2-1B/config.json --name llama3.2-1b

      llmcalc import ./Llama-3.2-1B -o ~/.config/llmcalc/presets/llama3.2-1b.yaml
    """
    from llmcalc.files import user_path, write_preset
    from llmcalc.models import import_preset

    text, warnings = import_preset(config, name, assume)
    warn(warnings)
    if output is None:
        sys.stdout.write(text)
        return
    target = user_path(output)
    write_preset(target, text, force)
    sys.stderr.write(f"llmcalc: wrote {target}\n")
