"""Dev-time cross-check: every config.json fixture against transformers built from that file.

For each `tests/fixtures/configs/*.json` whose model_type transformers implements,
builds the class named by `architectures` (BertModel for BERT, as llmcalc counts it;
the causal LM of `text_config` for a multimodal config) from the very same file on the meta device and compares `num_parameters()` with
llmcalc's count. `--write` records the transformers counts in
`tests/fixtures/configs/expected.json`, which the test suite checks against; entries
whose source is not transformers (remote-code models) are kept as they are.

    PYTHONPATH=. /tmp/xcheck/bin/python tools/xcheck_configs.py [--write]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "configs"
EXPECTED = FIXTURES / "expected.json"
CLASS_FOR = {"bert": "BertModel", "t5": "T5ForConditionalGeneration"}


def transformers_count(data: dict) -> tuple[str, int] | None:
    import torch
    import transformers

    from llmcalc.hf_config import READERS

    model_type = {"kimi_k2": "deepseek_v3"}.get(data.get("model_type"), data.get("model_type"))  # remote code
    if "text_config" in data and model_type not in READERS:
        # A multimodal config: llmcalc counts its language model, so build that from text_config.
        data, model_type = data["text_config"], data["text_config"].get("model_type")
    try:
        config_class = transformers.AutoConfig.for_model(model_type).__class__
    except ValueError:
        return None  # remote code: not in transformers
    config = config_class.from_dict(data)
    name = CLASS_FOR.get(model_type) or (data.get("architectures") or [""])[0]
    model_class = getattr(transformers, name, None) or transformers.AutoModelForCausalLM
    with torch.device("meta"):
        model = model_class(config) if model_class is not transformers.AutoModelForCausalLM \
            else model_class.from_config(config)
    return type(model).__name__, model.num_parameters()


def main(write: bool) -> int:
    import transformers

    from llmcalc.hf_config import load_config
    from llmcalc.params import count_params

    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    failures = 0
    for path in sorted(FIXTURES.rglob("*.json")):
        if path == EXPECTED:
            continue
        key = path.relative_to(FIXTURES).as_posix()  # presets/NAME.json: the config a preset was imported from
        data = json.loads(path.read_text())
        ours = count_params(load_config(path)[0]).total
        result = transformers_count(data)
        if result is None:
            recorded = expected.get(key, {})
            theirs, source = recorded.get("params"), recorded.get("source", "no independent count recorded")
        else:
            name, theirs = result
            recorded = expected.get(key, {})
            if recorded and not recorded.get("source", "").startswith("transformers"):
                # A published count deliberately recorded instead (e.g. Flan-T5: transformers 5
                # ties every T5 head, unlike the checkpoint): compare with that.
                theirs = recorded["params"]
            elif write:
                source = f"transformers {transformers.__version__} {name} from this file on the meta device"
                expected[key] = {"params": theirs, "source": source}
        status = "ok" if ours == theirs else "DIFF"
        failures += ours != theirs
        print(f"{key:34} {str(data.get('model_type')):12} ours {ours:>16,}  ref {theirs or 0:>16,}  {status}")
    if write:
        EXPECTED.write_text(json.dumps(dict(sorted(expected.items())), indent=1) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main("--write" in sys.argv[1:]))
