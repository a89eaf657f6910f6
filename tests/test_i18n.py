"""Chinese (and any other language) output: complete catalogs, nothing left in English on the
translated pages, the same numbers as the English output, JSON unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc import i18n
from llmcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

PAGES = [
    ("explain", "mistral-7b"), ("explain", "qwen2.5-3b", "--check", "3.16G"), ("explain", "mistral-7b", "--check", "9.9B"),
    ("explain", "mixtral-8x7b"), ("explain", "deepseek-v3"), ("explain", "gpt2", "--topic", "estimate"),
    ("explain", "rwkv-4-169m"), ("explain", "jamba-1.5-mini"), ("explain", "openelm-270m"),
    ("explain", "t5-base", "--format", "markdown"),
    ("params", "qwen2.5-3b", "--estimate"), ("params", "gemma3-27b"), ("params", "bert-base-cased"),
    ("params", "mixtral-8x7b", "--layers", "16,32", "--estimate"),
    ("kvcache", "mistral-7b", "--seq", "8k"), ("kvcache", "deepseek-v2-lite"), ("kvcache", "gpt-oss-20b"),
    ("kvcache", "qwen3-next-80b-a3b"), ("kvcache", "bert-base-cased"), ("kvcache", "llama2-70b", "--seq", "1k,4k,32k"),
    ("compare", "llama2-7b", "llama2-70b"), ("compare", "mistral-7b", "mixtral-8x7b", "deepseek-v3"),
    ("explain", "gemma2-9b", "--topic", "kvcache", "--seq", "8k"), ("explain", "jamba-1.5-mini", "--topic", "kvcache"),
    ("explain", "llama2-70b", "--topic", "gqa"), ("explain", "gpt-oss-20b", "--topic", "quant"),
    ("explain", "deepseek-v3", "--topic", "quant", "--quant", "gptq-int4"),
    ("explain", "llama3.1-70b", "--topic", "fit", "--gpu", "h100", "--gpus", "4", "--seq", "8k"),
    ("explain", "qwen3-32b", "--topic", "fit", "--gpu", "rtx-4090", "--quant", "q4_k_m", "--seq", "8k"),
    ("explain", "mixtral-8x7b", "--topic", "train", "--gpus", "8"),
    ("quant", "llama3.1-8b"), ("quant", "gpt-oss-20b", "--format", "q4_k_m"), ("quant", "qwen3-32b", "--format", "awq-int4"),
    ("fit", "llama3.1-70b", "--gpu", "h100", "--seq", "4k"), ("fit", "qwen3-32b", "--gpu", "rtx-4090", "--format", "q4_k_m",
                                                               "--gpus", "2"),
    ("fit", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--seq", "8k"), ("fit", "llama3.1-8b", "--gpu", "m4-max"),
    ("train", "llama3.1-8b", "--gpus", "8", "--zero", "3", "--recompute", "selective"),
    ("train", "qwen3-32b", "--qlora", "--lora-rank", "64", "--gpu", "rtx-4090"),
    ("train", "llama3.1-70b", "--gpus", "512", "--tp", "8", "--pp", "4", "--tokens", "15e12", "--gpu", "h100"),
    ("gpus",),
]


def render(args: tuple[str, ...], lang: str) -> str:
    result = runner.invoke(app, [*args, "--lang", lang], env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_message_is_translated_and_every_catalog_compiled():
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "build_catalogs.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("lang", ["zh", "zh-Hant"])
@pytest.mark.parametrize("args", PAGES, ids=" ".join)
def test_no_english_label_is_left_on_a_translated_page(args, lang):
    i18n.MISSES.clear()
    render(args, lang)
    assert not i18n.MISSES, sorted(i18n.MISSES)


NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


@pytest.mark.parametrize("args", PAGES[:6] + PAGES[10:15] + PAGES[19:], ids=" ".join)
def test_the_chinese_page_holds_the_same_numbers(args):
    english, chinese = render(args, "en"), render(args, "zh")
    assert Counter(NUMBER.findall(english)) == Counter(NUMBER.findall(chinese))
    assert re.search(r"[\u4e00-\u9fff]", chinese)


def test_json_does_not_change_with_the_language():
    english = runner.invoke(app, ["explain", "mistral-7b", "--json"]).stdout
    assert runner.invoke(app, ["explain", "mistral-7b", "--json", "--lang", "zh"]).stdout == english


def test_language_from_the_environment():
    assert "参数量" in runner.invoke(app, ["params", "gpt2"], env={"LLMCALC_LANG": "zh", "COLUMNS": "200"}).stdout
    assert "參數量" in runner.invoke(app, ["params", "gpt2"], env={"LLMCALC_LANG": "", "LANG": "zh_TW.UTF-8",
                                                                   "COLUMNS": "200"}).stdout
    english = runner.invoke(app, ["params", "gpt2"], env={"LLMCALC_LANG": "", "LANGUAGE": "", "LC_ALL": "",
                                                         "LC_MESSAGES": "", "LANG": "de_DE.UTF-8", "COLUMNS": "200"})
    assert "parameters" in english.stdout


def test_an_unknown_language_is_a_usage_error():
    result = runner.invoke(app, ["params", "gpt2", "--lang", "klingon"])
    assert result.exit_code == 2 and "zh-Hant" in result.stderr


def test_traditional_uses_the_notes_terms():
    # The notes' comparison table (config-fields.md) writes 注意力頭數, 隱藏層大小, 前饋神經網路.
    page = render(("compare", "llama2-7b", "llama2-70b"), "zh-Hant")
    assert "注意力頭數" in page and "隱藏層大小" in page and "前饋網路" in page
