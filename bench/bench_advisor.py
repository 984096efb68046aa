"""Config advisor benchmarks: refit time at 100,000 runs, accuracy on held-out sweep runs, recommendations.

    .venv/bin/python bench/bench_advisor.py            # heldout, then refit at 100,000 runs
    .venv/bin/python bench/bench_advisor.py refit [--runs 100000]
    .venv/bin/python bench/bench_advisor.py heldout
    .venv/bin/python bench/bench_advisor.py recommend --cells 20   # trains 4 configs per cell (HUBKIT_HOME)

``refit`` fits the advisor on a run table built from bench/synthetic_runs.py's
generator (the rows the research benchmarks load into a database) and times it,
wall-clock and process CPU. ``heldout`` fits on the committed sweep's training
share and measures on its held-out share (split by dataset): failure AUROC and
expected calibration error, in-domain gain Spearman and MAE, interval coverage,
each next to the base rate or a constant predictor. ``recommend`` trains, on
held-out (base, domain, dataset) cells, the advisor's recommendation, the quick
preset, the rule-of-thumb setting and the nearest past run's setting, all with
the same steps, and compares gain and forgetting.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _synthetic_table(n_runs: int) -> pd.DataFrame:
    """The advisor's run table straight from the synthetic generator (no database in between)."""
    from synthetic_runs import generate

    base_key: dict[int, str] = {}
    base_value: dict[tuple[int, str], float] = {}
    rows = []
    for table, batch in generate(n_runs, points=6):
        if table == "base_models":
            base_key = {b[0]: b[1] for b in batch}
        elif table == "evaluations":
            for e in batch:
                if e[1] is None:
                    base_value[(e[2], e[3])] = e[6]
        elif table == "models":
            for m in batch:
                config, scores, curve = json.loads(m[14]), json.loads(m[12]), json.loads(m[11])
                losses = [p["loss"] for p in curve if isinstance(p["loss"], float)]
                row = {"model_id": m[0], "slug": m[1], "name": m[2], "base_model": base_key[m[6]],
                       "base_family": base_key[m[6]].split("-")[0], "domain": m[5],
                       "dataset_fingerprint": str(m[7]), "dataset_rows": 200.0, "outcome": m[10],
                       "failure_class": m[16] or "", "duration_s": m[22],
                       "first_loss": losses[0] if losses else np.nan, "final_loss": losses[-1] if losses else np.nan,
                       **{k: config.get(k) for k in ("learning_rate", "lora_r", "lora_alpha", "lora_dropout",
                                                     "max_steps", "batch_size", "max_seq_len", "warmup_ratio",
                                                     "weight_decay", "max_grad_norm", "gradient_accumulation",
                                                     "num_epochs", "target_mlp", "use_rslora", "use_dora")},
                       "target_modules": ",".join(config.get("target_modules") or [])}
                for domain, tasks in scores.items():
                    for task in tasks.values():
                        row[f"gain.{domain}"] = 100 * (task["value"] - base_value[(m[6], domain)])
                rows.append(row)
    table = pd.DataFrame(rows)
    table["max_steps"] = table["max_steps"].astype(float)
    return table


def refit(args: argparse.Namespace) -> None:
    from hubkit.research.advisor.model import Advisor

    started = time.perf_counter()
    table = _synthetic_table(args.runs)
    print(f"synthetic run table: {len(table):,} runs in {time.perf_counter() - started:.1f} s")
    w, c = time.perf_counter(), time.process_time()
    advisor = Advisor().fit(table)
    print(f"refit at {len(table):,} runs: {time.perf_counter() - w:.1f} s wall, {time.process_time() - c:.1f} s CPU "
          f"(failure model on {len(advisor.table):,} runs, gain models on {advisor.gain_rows:,} rows)")
    row = table.iloc[0].to_dict()
    w = time.perf_counter()
    for lr in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2):
        advisor.advise({**row, "learning_rate": lr})
    print(f"one piece of advice: {(time.perf_counter() - w) / 5 * 1000:.0f} ms")


def _ece(prob: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (prob >= lo) & ((prob < hi) if hi < 1 else (prob <= hi))
        if inside.any():
            total += inside.mean() * abs(prob[inside].mean() - truth[inside].mean())
    return float(total)


def heldout(args: argparse.Namespace) -> None:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from hubkit.research.advisor import features as F
    from hubkit.research.advisor import load_sweep
    from hubkit.research.advisor.model import Advisor, failure_label

    sweep = load_sweep()
    train, test = sweep[~sweep["held_out"]], sweep[sweep["held_out"]]
    print(f"sweep: {len(sweep)} runs; training share {len(train)}, held-out {len(test)} "
          f"({test['dataset_group'].nunique()} held-out datasets)")
    advisor = Advisor().fit(train.reset_index(drop=True))
    pred = advisor.predict_frame(F.table_features(test.reset_index(drop=True)))
    labels = np.array([failure_label(o, c, a, b) for o, c, a, b in
                       zip(test["outcome"], test["failure_class"], test["first_loss"], test["final_loss"])], dtype=object)
    keep = np.array([lab is not None for lab in labels])
    failed = (labels[keep] != "ok").astype(float)
    risk = pred["risk"].to_numpy()[keep]
    print(f"held-out failures: {int(failed.sum())} of {len(failed)}")
    if 0 < failed.sum() < len(failed):
        print(f"failure AUROC {roc_auc_score(failed, risk):.3f} (target >= 0.90); "
              f"ECE {_ece(risk, failed):.3f} (target <= 0.05); base-rate ECE {_ece(np.full_like(risk, advisor.base_rate), failed):.3f}")
    else:
        print("failure AUROC: not measurable (the held-out share has only one class)")
    real = np.array([r[f"gain.{r['domain']}"] for _, r in test.iterrows()], dtype=float)
    ok = np.isfinite(real) & pred["gain_q50"].notna().to_numpy()
    if ok.sum() >= 3:
        p50 = pred["gain_q50"].to_numpy()[ok]
        rho = spearmanr(p50, real[ok]).statistic
        mae = float(np.mean(np.abs(p50 - real[ok])))
        const = float(np.mean(np.abs(np.median(train_gains(train)) - real[ok])))
        inside = float(np.mean((pred["gain_q10"].to_numpy()[ok] <= real[ok]) & (real[ok] <= pred["gain_q90"].to_numpy()[ok])))
        print(f"in-domain gain on {int(ok.sum())} scored held-out runs: Spearman {rho:.3f} (target >= 0.8), "
              f"MAE {mae:.2f} points (constant median predictor {const:.2f}), 10-90% interval holds {inside:.0%}")
        print(f"real in-domain gains: mean {real[ok].mean():+.2f}, sd {real[ok].std():.2f}, "
              f"distinct values {len(set(np.round(real[ok], 3)))}")


def train_gains(train: pd.DataFrame) -> np.ndarray:
    gains = np.array([r[f"gain.{r['domain']}"] for _, r in train.iterrows()], dtype=float)
    return gains[np.isfinite(gains)]


def _arms(advisor, cell: dict, steps: int, sweep_train: pd.DataFrame) -> dict[str, dict]:
    """The four settings compared on one cell, each as sweep knobs."""
    from hubkit.research.advisor import features as F
    from hubkit.research.advisor.recommendation import recommend
    from hubkit.train import load_preset

    quick = load_preset("quick").settings
    base = {**cell, "max_steps": steps, "lora_dropout": 0.05, "targets": "attention"}
    knobs = {"base_model": cell["base_model"], "base_family": cell["base_model"].split("-")[0].replace("qwen2.5", "qwen2"),
             "domain": cell["domain"], "dataset_rows": cell["example_rows"], "max_steps": steps, "batch_size": 4,
             "max_seq_len": 128}
    from hubkit.catalog import resolve

    knobs["base_family"] = resolve(cell["base_model"])[0].name
    rec = recommend(advisor, knobs, steps=(steps,))
    arms = {"default": {**base, "learning_rate": quick["learning_rate"], "lora_r": quick["lora_r"],
                        "lora_alpha": float(quick["lora_alpha"]), "lora_dropout": quick["lora_dropout"]},
            "rule_of_thumb": {**base, "learning_rate": 2e-4, "lora_r": 16, "lora_alpha": 32.0, "targets": "all_linear"}}
    if rec.found:
        s = rec.settings
        target = next(t for t in ("attention_qv", "attention", "all_linear")
                      if _targets(cell["base_model"], t) == list(s["target_modules"]))
        arms["recommended"] = {**base, "learning_rate": s["learning_rate"], "lora_r": s["lora_r"],
                               "lora_alpha": float(s["lora_alpha"]), "lora_dropout": s["lora_dropout"], "targets": target}
    same = sweep_train[(sweep_train["base_model"] == cell["base_model"]) & (sweep_train["domain"] == cell["domain"])]
    pool = same if len(same) else sweep_train[sweep_train["domain"] == cell["domain"]]
    if len(pool):
        frame = F.table_features(pool.reset_index(drop=True))
        me = F.frame_of([F.knob_features({**knobs, "learning_rate": 2e-4, "lora_r": 8})])
        dist = np.abs(frame["log2_rows"].to_numpy() - me["log2_rows"].iloc[0])
        near = pool.iloc[int(np.argmin(dist))]
        target = next((t for t in ("attention_qv", "attention", "all_linear")
                       if ",".join(_targets(cell["base_model"], t)) == near["target_modules"]), "attention")
        arms["nearest_run"] = {**base, "learning_rate": float(near["learning_rate"]), "lora_r": int(near["lora_r"]),
                               "lora_alpha": float(near["lora_alpha"]), "lora_dropout": float(near["lora_dropout"]),
                               "targets": target}
    return arms


def _targets(base: str, choice: str) -> list[str]:
    from hubkit.research.sweep import targets_for

    return targets_for(base, choice)


def recommend_cells(args: argparse.Namespace) -> None:
    from hubkit.bootstrap import init_platform
    from hubkit.research.advisor import load_sweep
    from hubkit.research.advisor.model import Advisor
    from hubkit.research.advisor.table import run_table
    from hubkit.research.sweep import SweepPoint, make_spec, point_key, run_points

    sweep = load_sweep()
    train = sweep[~sweep["held_out"]].reset_index(drop=True)
    advisor = Advisor().fit(train)
    held = sweep[sweep["held_out"]].drop_duplicates(["base_model", "domain", "data_seed"])
    cells = [{"base_model": r.base_model, "domain": r.domain, "data_seed": int(r.data_seed), "example_rows": 64}
             for r in held.itertuples()][: args.cells]
    store = init_platform(build_models=True)
    owner = "advisor-bench"
    results = []
    for i, cell in enumerate(cells, 1):
        steps = math.ceil(cell["example_rows"] * 0.9 / 4)  # one pass over the data at batch 4, as the quick preset
        arms = _arms(advisor, cell, steps, train)
        points = {}
        for arm, knobs in arms.items():
            spec = make_spec(**knobs)
            key = point_key(spec)
            spec["name"], spec["description"] = f"bench {key}", f"advisor bench: {arm} on {cell}"
            points[arm] = SweepPoint(index=-1, key=key, spec=spec, group=f"{cell['domain']}/seed{cell['data_seed']}",
                                     held_out=True)
        run_points(points=list(points.values()), store=store, owner=owner, say=lambda t: print("   ", t, flush=True))
        table = run_table(store=store, owner=None)
        for arm, point in points.items():
            row = table[table["name"] == f"bench {point.key}"].iloc[-1]
            own = row.get(f"gain.{cell['domain']}")
            others = [row.get(f"gain.{d}") for d in advisor.domains if d != cell["domain"]]
            others = [o for o in others if o is not None and np.isfinite(o)]
            results.append({"cell": i, **cell, "arm": arm, "outcome": row["outcome"], "gain": own,
                            "forgetting": float(np.mean(others)) if others else np.nan})
        pd.DataFrame(results).to_csv(args.out, index=False)
        print(f"cell {i}/{len(cells)} {cell}: " + ", ".join(
            f"{r['arm']} {r['gain']:+.1f}" for r in results if r["cell"] == i and r["gain"] == r["gain"]), flush=True)
    summarise(args.out)


def summarise(path: str) -> None:
    frame = pd.read_csv(path)
    print(f"{frame['cell'].nunique()} cells trained, {len(frame)} runs")
    wide = frame.pivot_table(index="cell", columns="arm", values=["gain", "forgetting"])
    for other in ("default", "rule_of_thumb", "nearest_run"):
        if ("gain", "recommended") in wide and ("gain", other) in wide:
            both = wide[[("gain", "recommended"), ("gain", other)]].dropna()
            wins = (both[("gain", "recommended")] > both[("gain", other)]).mean() if len(both) else float("nan")
            ties = (both[("gain", "recommended")] == both[("gain", other)]).mean() if len(both) else float("nan")
            f = wide[[("forgetting", "recommended"), ("forgetting", other)]].dropna().mean()
            print(f"recommended vs {other}: wins {wins:.0%}, ties {ties:.0%} of {len(both)} cells; mean change elsewhere "
                  f"{f.iloc[0]:+.2f} vs {f.iloc[1]:+.2f} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what")
    p = sub.add_parser("refit")
    p.add_argument("--runs", type=int, default=100_000)
    p.set_defaults(func=refit)
    p = sub.add_parser("heldout")
    p.set_defaults(func=heldout)
    p = sub.add_parser("recommend")
    p.add_argument("--cells", type=int, default=20)
    p.add_argument("--out", default="bench/out/advisor_recommend.csv")
    p.set_defaults(func=recommend_cells)
    p = sub.add_parser("summary")
    p.add_argument("--out", default="bench/out/advisor_recommend.csv")
    p.set_defaults(func=lambda a: summarise(a.out))
    args = parser.parse_args()
    if args.what is None:  # `make bench`: the two measurements that train nothing
        heldout(args)
        refit(argparse.Namespace(runs=100_000))
        return
    args.func(args)


if __name__ == "__main__":
    main()
