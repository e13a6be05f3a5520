"""`python -m evoforge.agents.gguf_convert`: the embedded GGUF as a safetensors folder.

vLLM loads Hugging Face folders; the embedded model ships as a quantized GGUF.
transformers reads the GGUF, dequantizes it (`GgufConfig(dequantize=True)` is
what lets the loaded model be saved) and writes a plain bfloat16 folder once,
next to the GGUF in the evoforge cache. Prints the folder, so scripts can
capture it: `--model "$(python -m evoforge.agents.gguf_convert)"`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from evoforge.agents.embedded import EMBEDDED_MODEL_NAME, embedded_model_path

SETUP_COMMAND = "scripts/setup.sh"


def converted_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted folder lives (it need not exist yet)."""
    return embedded_model_path(cache_dir).with_name(f"{EMBEDDED_MODEL_NAME}-safetensors")


def convert_embedded_model(cache_dir: Path | None = None) -> Path:
    """The converted folder, written on first use (atomically: a half-written one is never seen)."""
    target = converted_model_dir(cache_dir)
    if (target / "config.json").is_file():
        return target
    gguf = embedded_model_path(cache_dir)
    if not gguf.is_file():
        raise SystemExit(f"the embedded model {gguf} is missing; run `{SETUP_COMMAND}` first.")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    partial = target.with_name(target.name + ".partial")
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    model.save_pretrained(partial)
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(partial)
    partial.replace(target)
    return target


def main() -> None:
    print(convert_embedded_model())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
