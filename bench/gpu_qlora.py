"""QLoRA on a lent GPU: a stand-in trained with its base loaded 4-bit and 8-bit by bitsandbytes.

For each setting the check trains a few steps through ``hubkit.train.run`` (the
run is recorded like any other) and reports: the outcome, whether the base's
linear layers really are bitsandbytes layers, the peak GPU memory of the run
next to the pre-flight estimate, and the final loss next to an unquantized run
of the same spec. ``bench/gpu_check.py`` calls ``check_qlora()`` on its own hub;
run alone it prints one JSON line per setting and exits non-zero on a failed
check (and refuses without a GPU).

    .venv/bin/python bench/gpu_qlora.py [--steps 12]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_train import set_up, spec_for


def _quantized_layers(model: Any) -> int:
    import bitsandbytes as bnb

    return sum(isinstance(m, bnb.nn.Linear4bit | bnb.nn.Linear8bitLt) for m in model.modules())


def check_qlora(*, store: Any, base: str = "llama3-standin", steps: int = 12) -> list[dict[str, Any]]:
    """Train ``base`` with quantization none, 8bit and 4bit on the GPU; one result per setting.

    ``store`` knows ``base`` (its stand-in built, or its weights in the cache) and a user "bench"."""
    import torch

    from hubkit.train import preflight, run

    if not torch.cuda.is_available():
        raise RuntimeError("the QLoRA check needs a CUDA GPU")
    results = []
    baseline_loss = None
    for bits in ("none", "8bit", "4bit"):
        spec = spec_for(steps, base_model=base, quantization=bits)
        estimate = preflight(spec, store=store, measure=False).estimated_peak_memory
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        result = run(spec, store=store, owner="bench")
        peak = torch.cuda.max_memory_allocated()
        layers = _quantized_layers(result.model.base_model.model) if result.model is not None else 0
        if bits == "none":
            baseline_loss = result.final_loss
        ok = result.ok and (layers > 0) == (bits != "none") and peak <= 1.5 * estimate
        results.append({"quantization": bits, "ok": ok, "outcome": result.outcome, "steps": result.steps,
                        "quantized_layers": layers, "peak_bytes": peak, "estimate_bytes": estimate,
                        "final_loss": result.final_loss, "unquantized_final_loss": baseline_loss,
                        "failure": result.message})
        del result
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    store = set_up(Path(tempfile.mkdtemp(prefix="hubkit-qlora-")))
    results = check_qlora(store=store, steps=args.steps)
    for line in results:
        print(json.dumps(line))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
