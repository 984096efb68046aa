"""``hubkit train``: train a LoRA adapter from a spec file or a preset, with a progress bar.

Every `TrainSpec` setting is also a flag (``--lora-r``, ``--learning-rate``,
``--packing/--no-packing`` ...) whose help text is the field's own, so the
command line never drifts from the spec.
"""
from __future__ import annotations

import argparse
import getpass
import sys
import typing
from pathlib import Path
from typing import Any

import yaml

from hubkit.errors import ValidationError
from hubkit.train.presets import list_presets, preset_names, spec_from_preset
from hubkit.train.spec import TrainSpec, field_help

# Settings given their own flags below (the data source) or not settable from here.
_SPECIAL = {"dataset", "base_model"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_spec_flags(parser: argparse.ArgumentParser) -> None:
    helps = field_help()
    group = parser.add_argument_group("training settings (override the spec file or preset)")
    for name, info in TrainSpec.model_fields.items():
        if name in _SPECIAL:
            continue
        entry = helps[name]
        text = entry["help"] + (f" [{entry['level']}]" if entry["level"] == "guided" else "")
        annotation = info.annotation
        args = typing.get_args(annotation)
        kind = next((a for a in args if a is not type(None)), annotation) if args else annotation
        if kind is bool:
            group.add_argument(_flag(name), dest=name, action=argparse.BooleanOptionalAction, default=None,
                               help=text)
        elif typing.get_origin(kind) is list:
            group.add_argument(_flag(name), dest=name, nargs="+", default=None, metavar="NAME", help=text)
        elif entry.get("choices"):
            group.add_argument(_flag(name), dest=name, choices=entry["choices"], default=None, help=text)
        else:
            group.add_argument(_flag(name), dest=name, type=kind if kind in (int, float) else str,
                               default=None, help=text)


class TqdmProgress:
    """The `Progress` hook as a terminal progress bar."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar: Any = None

    def on_step(self, step: int, total: int, point: dict[str, Any]) -> None:
        if self.bar is None:
            self.bar = self._tqdm(total=total, unit="step", desc="training", file=sys.stderr)
        self.bar.n = step
        shown = {k: f"{point[k]:.4g}" for k in ("loss", "eval_loss") if isinstance(point.get(k), float)}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.refresh()

    def on_status(self, text: str) -> None:
        if self.bar is not None and text.startswith(("Saving", "Finished")):
            self.bar.close()
            self.bar = None
        self._tqdm.write(text, file=sys.stderr)


def read_spec_file(path: Path) -> dict[str, Any]:
    """A spec file's settings, or a sentence naming the file when it is unreadable or not a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"The spec file {path} could not be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"The spec file {path} must hold a mapping of settings.")
    return data


def build_spec(args: argparse.Namespace) -> TrainSpec:
    """Spec file or preset, then data flags, then every setting flag given."""
    data = read_spec_file(Path(args.spec)) if args.spec else {}
    choices: dict[str, Any] = {}
    if args.base:
        choices["base_model"] = args.base
    source = {"example": args.example} if args.example else {"path": args.data} if args.data else None
    if source:
        if args.format:
            source["format"] = args.format
        if args.rows and args.example:
            source["example_rows"] = args.rows
        choices["dataset"] = source
    if args.example and args.domain is None and "domain" not in data:
        choices["domain"] = args.example
    for name in TrainSpec.model_fields:
        value = getattr(args, name, None)
        if value is not None and name not in _SPECIAL:
            choices[name] = value
    if args.preset:
        return spec_from_preset(args.preset, **{**data, **choices})
    return TrainSpec.parse({**data, **choices}, source=args.spec or "command line")


def _run(args: argparse.Namespace) -> int:
    import torch

    from hubkit.config import load_settings
    from hubkit.store import open_store
    from hubkit.train import preflight, run
    from hubkit.train.runner import resume

    if args.list_presets:
        for preset in list_presets():
            print(f"{preset.name:10} {preset.trades}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    store = open_store(settings=load_settings())
    owner = args.owner or getpass.getuser()
    store.ensure_user(owner)
    progress = TqdmProgress()
    if args.resume is not None:
        result = resume(args.resume, store=store, owner=owner, progress=progress)
    else:
        spec = build_spec(args)
        if args.check:
            report = preflight(spec, store=store)
            print(report.sentence)
            for warning in report.warnings:
                print(f"  warning: {warning}")
            print(f"  parameters {report.parameters:,}, trainable {report.trainable_parameters:,}; "
                  f"{report.total_steps} steps; time {report.time_method}")
            return 0
        result = run(spec, store=store, owner=owner, progress=progress, executed_by=args.executed_by,
                     parent_model_id=args.fork, relation="fork" if args.fork is not None else None)
    print(f"run {result.run_id} ({result.slug}): {result.outcome}"
          + (f" [{result.failure_class}]" if result.failure_class else ""))
    if result.message:
        print(result.message)
    if "adapter" in result.artifacts:
        print(f"adapter: {result.adapter_dir} (archived as {result.artifacts['adapter']})")
        _evaluate(store, result.run_id, skip=args.no_eval, limit=args.eval_limit)
    return 0 if result.outcome == "success" else 1


def _evaluate(store: Any, run_id: int, *, skip: bool, limit: int | None) -> None:
    """Score the new model here, unless a platform service does it (an ``ApiStore``) or ``--no-eval``."""
    from tqdm import tqdm

    from hubkit.config import load_settings
    from hubkit.evaluate.worker import on_run_finished
    from hubkit.store import LocalStore

    if not isinstance(store, LocalStore):
        print("The platform's evaluation worker will score it on every domain; its profile shows the scores.")
        return
    if skip:
        print("Not evaluated now (--no-eval): 'hubkit serve eval-worker' scores it when it runs.")
        return
    limit = limit if limit is not None else load_settings().eval_limit
    with tqdm(unit="domain", desc="evaluating", file=sys.stderr) as bar:
        def progress(p: Any) -> None:
            bar.total = p.total
            bar.n = p.done
            bar.set_postfix_str(p.message, refresh=True)

        report = on_run_finished(store, run_id, limit=limit or None, progress=progress)
    if report is None:
        print("Another evaluation worker has already taken this run; its profile shows the scores.")
        return
    scored = [s for s in report.scores if s.status == "scored"]
    print(f"evaluated on {len({s.domain for s in scored})} domains in {report.duration_s:.0f} s:")
    for s in scored:
        print(f"  {s.domain:12} {s.task:28} {s.metric} = {s.value:.3f}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune a base model with LoRA; every attempt is recorded",
                       description="Fine-tune a base model with LoRA from a spec file or a preset. "
                                   "The outcome, whatever it is, lands in the run database.")
    p.add_argument("--spec", help="YAML file with TrainSpec settings")
    p.add_argument("--preset", choices=preset_names(), help="start from a guided preset")
    p.add_argument("--list-presets", action="store_true", help="show the presets and what each trades")
    p.add_argument("--base", help="base model catalog key, e.g. llama3-standin")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--example", help="train on the built-in example data of a domain (math, code, ...)")
    data.add_argument("--data", help="a local data file (JSONL, JSON, CSV, Parquet, TXT)")
    p.add_argument("--format", choices=["text", "instruction", "prompt_completion", "chat"],
                   help="data layout (detected when left out)")
    p.add_argument("--rows", type=int, help="rows of example data to use")
    p.add_argument("--owner", help="who the run belongs to (default: your user name)")
    p.add_argument("--executed-by", choices=["platform", "user"], default="platform",
                   help="who ran it: the platform (default) or a user's own code")
    p.add_argument("--fork", type=int, metavar="RUN_ID", help="start from this model's adapter")
    p.add_argument("--resume", type=int, metavar="RUN_ID", help="resume this run from its last checkpoint")
    p.add_argument("--check", action="store_true", help="only estimate memory and time, and show warnings")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--no-eval", action="store_true",
                   help="do not score the new model after training (an evaluation worker scores it later)")
    p.add_argument("--eval-limit", type=int, metavar="N",
                   help="items per evaluation task (default HUBKIT_EVAL_LIMIT; 0 = every item)")
    _add_spec_flags(p)
    p.set_defaults(func=_run)
