"""The whole run path on a CUDA GPU: train, evaluate, try the model; device, dtype and peak memory.

    .venv/bin/python bench/gpu_check.py [--base llama3-standin] [--steps 50] [--limit 8]

On a machine with a CUDA GPU (``HUBKIT_DEVICE`` picks which; default the
first) it trains ``--steps`` LoRA steps through ``hubkit.train.run``, lets the
platform's evaluation path score the run with ``--limit`` items per task,
generates 32 demo tokens, and reports the device, the dtype each part used and
the peak GPU memory of training next to the pre-flight estimate
(``hubkit.train.preflight``); then QLoRA (``bench/gpu_qlora.py``): the same base
trained with its weights unquantized, 8-bit and 4-bit. A stand-in base is built first if needed (a few
minutes); a real catalog id is used when its weights are in the Hugging Face
cache. Without a GPU it says so and exits 0, so it can run anywhere.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="llama3-standin", help="catalog key of the base model")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--limit", type=int, default=8, help="items per evaluation task")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("No CUDA GPU on this machine: nothing to check here (run it where `nvidia-smi` shows a GPU).")
        return 0
    home = Path(tempfile.mkdtemp(prefix="hubkit-gpu-check-"))
    os.environ["HUBKIT_HOME"] = str(home)
    os.environ.pop("HUBKIT_DB_URL", None)
    from hubkit.bootstrap import init_platform
    from hubkit.catalog import resolve
    from hubkit.devices import choose_device
    from hubkit.evaluate.worker import on_run_finished
    from hubkit.hub.demo import stream_generation
    from hubkit.train import preflight, run
    from hubkit.train.spec import TrainSpec

    device = choose_device()
    print(f"device: {device.torch_device} ({torch.cuda.get_device_name(device.index or 0)}), "
          f"inference dtype {device.dtype_name}")
    family, real = resolve(args.base)
    started = time.perf_counter()
    store = init_platform(build_models=False)
    if real is None:
        from hubkit.catalog import build_standins

        build_standins(home=home, families=[family.name])
    store.ensure_user("gpu-check", role="developer")
    spec = TrainSpec.parse({"base_model": args.base, "domain": "math", "name": "gpu check",
                            "dataset": {"example": "math", "example_rows": 400}, "max_steps": args.steps,
                            "batch_size": 8, "max_seq_len": 256, "lora_r": 16, "lora_alpha": 32,
                            "validation_fraction": 0, "precision": "auto"})
    estimate = preflight(spec, store=store, measure=False)
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = run(spec, store=store, owner="gpu-check")
    train_s = time.perf_counter() - t0
    peak_train = torch.cuda.max_memory_allocated()
    hardware = store.get_run(result.run_id).hardware
    print(f"training: {result.outcome} in {train_s:.1f} s, {result.steps} steps, final loss {result.final_loss}, "
          f"precision {hardware.get('precision')} on {hardware.get('kind')}:{hardware.get('index')}")
    print(f"  peak GPU memory {_gib(peak_train)} vs pre-flight estimate {_gib(estimate.estimated_peak_memory)} "
          f"(ratio {peak_train / max(1, estimate.estimated_peak_memory):.2f})")
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    report = on_run_finished(store, result.run_id, limit=args.limit)
    eval_s = time.perf_counter() - t0
    scored = [s for s in report.scores if s.status == "scored"] if report else []
    print(f"evaluation: {len(scored)} tasks scored in {eval_s:.1f} s (limit {args.limit}), "
          f"peak GPU memory {_gib(torch.cuda.max_memory_allocated())}")
    for s in scored:
        print(f"  {s.domain:12} {s.task:28} {s.metric} = {s.value:.3f}")
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    pieces = list(stream_generation(store=store, model=result.slug, viewer="gpu-check",
                                    prompt="What is 12 + 30?", max_new_tokens=32))
    demo_s = time.perf_counter() - t0
    from hubkit.hub import demo

    (net, _tok), = demo._cache.values()
    print(f"demo: {len(pieces)} pieces in {demo_s:.2f} s on {net.device} in {next(net.parameters()).dtype}, "
          f"peak GPU memory {_gib(torch.cuda.max_memory_allocated())}: {''.join(pieces)!r}")
    from bench.gpu_qlora import check_qlora

    store.ensure_user("bench", role="developer")
    qlora = check_qlora(store=store, base=args.base, steps=min(args.steps, 12))
    for line in qlora:
        print(f"qlora {line['quantization']:>4}: {line['outcome']} in {line['steps']} steps, "
              f"{line['quantized_layers']} bitsandbytes layers, peak {_gib(line['peak_bytes'])} vs estimate "
              f"{_gib(line['estimate_bytes'])}, final loss {line['final_loss']} "
              f"(unquantized {line['unquantized_final_loss']}){'' if line['ok'] else '  FAILED'}")
    print(f"total {time.perf_counter() - started:.0f} s; home {home}")
    ok = result.outcome == "success" and bool(scored) and str(net.device).startswith("cuda")
    ok = ok and all(line["ok"] for line in qlora)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
