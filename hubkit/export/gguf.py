"""GGUF files made by llama.cpp's own converter and quantizer, from Hugging Face folders.

Nothing here writes GGUF itself: ``convert_hf_to_gguf.py`` and
``convert_lora_to_gguf.py`` of the pinned llama.cpp source run unchanged in a
child process, and quantized files come from ``llama_model_quantize``. The
chat template, BOS/EOS and stop tokens travel in the file because the
converter reads them from the tokenizer files; the licence travels through
the converter's own ``--metadata`` override (merged model) or model card
(adapter).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hubkit.errors import ExportError
from hubkit.export.tools import converter_dir


@dataclass(frozen=True)
class Quantization:
    name: str
    ftype: str | None  # llama.cpp's llama_ftype, applied to the f16 file; None keeps the f16
    label: str


QUANTIZATIONS: dict[str, Quantization] = {q.name: q for q in (
    Quantization("f16", None, "16-bit floats: as exact as the runtime gets, largest"),
    Quantization("q8_0", "LLAMA_FTYPE_MOSTLY_Q8_0", "8-bit: nearly exact, about half the size"),
    Quantization("q4_k_m", "LLAMA_FTYPE_MOSTLY_Q4_K_M", "4-bit (k-quant, medium): smallest, slightly less exact"),
)}


def check_quantization(name: str) -> Quantization:
    """The quantization called ``name``, or a sentence listing the ones llama.cpp is asked for here."""
    try:
        return QUANTIZATIONS[name.strip().lower()]
    except KeyError:
        raise ExportError(
            f"llama.cpp has no quantization called {name!r} here; choose one of {', '.join(QUANTIZATIONS)}.",
        ) from None


def _run(args: list[str], *, what: str) -> None:
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # the converter uses the gguf-py of its own source
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]),
                                                     env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "hubkit.export._llama_child", *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ExportError(f"llama.cpp could not {what}.", detail=tail)


def convert_model(*, hf_dir: Path, dest: Path, quantization: str, metadata: Mapping[str, str],
                  pre_tokenizer: str | None) -> Path:
    """``hf_dir`` (a full model) → ``dest`` GGUF at ``quantization``, through an f16 file."""
    quant = check_quantization(quantization)
    f16 = dest if quant.ftype is None else dest.with_name(dest.stem + ".f16.gguf")
    meta = dest.with_name(dest.stem + ".metadata.json")
    meta.write_text(json.dumps(dict(metadata)), encoding="utf-8")
    args = ["convert"] + (["--pre", pre_tokenizer] if pre_tokenizer else [])
    args += [str(converter_dir() / "convert_hf_to_gguf.py"), "--", "--outfile", str(f16), "--outtype", "f16", "--metadata", str(meta), str(hf_dir)]
    try:
        _run(args, what="convert this model to GGUF")
        if quant.ftype is not None:
            _run(["quantize", str(f16), str(dest), quant.ftype], what=f"quantize this model to {quant.name}")
    finally:
        meta.unlink(missing_ok=True)
        if f16 != dest:
            f16.unlink(missing_ok=True)
    return dest


def convert_adapter(*, adapter_dir: Path, base_dir: Path, dest: Path) -> Path:
    """A PEFT LoRA folder → a GGUF LoRA adapter for the base in ``base_dir`` (f16)."""
    _run(["convert", str(converter_dir() / "convert_lora_to_gguf.py"), "--", "--outfile", str(dest),
          "--outtype", "f16", "--base", str(base_dir), str(adapter_dir)],
         what="convert this LoRA adapter to GGUF")
    return dest
